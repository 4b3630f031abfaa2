//! What every scenario shares: where the repository and the release
//! binary are, the scratch directory, the sizes and repetitions, and how a
//! measured `provisio` command is run and checked.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::data::{LDAP_PW_VAR, TOKEN_VAR};
use crate::peers::{Counts, LDAP_READER_PW};
use crate::process::{Measured, run_measured};
use crate::stats::Series;

/// Sizes, repetitions and switches of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Repetitions of each scenario.
    pub runs: usize,
    /// Users of the sandbox (engine ceiling) scenarios.
    pub users: usize,
    /// Users of the target-bound scenario (scim2-server).
    pub target_users: usize,
    /// Entries of the LDAP scenarios.
    pub ldap_users: usize,
    /// Repetitions of the LDAP scenarios.
    pub ldap_runs: usize,
    /// Max Threads of the channel into the sandbox.
    pub sandbox_threads: usize,
    /// Max Threads of the channel into scim2-server, and wrk's connections.
    pub target_threads: usize,
    /// Take the profiles (see `main.rs`, `profiles`).
    pub profile: bool,
    /// Scenario groups to run (connectors, target, sandbox, ldap); empty: all.
    pub only: Vec<String>,
}

impl Options {
    pub fn wants(&self, group: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == group)
    }
}

/// The run's context.
pub struct Ctx {
    pub repo: PathBuf,
    pub provisio: PathBuf,
    /// Scratch directory of this run (removed at the end).
    pub work: PathBuf,
    pub opts: Options,
    /// The bearer token every SCIM target of the run requires.
    pub token: String,
}

impl Ctx {
    /// A fresh directory under the scratch directory.
    pub fn dir(&self, name: &str) -> Result<PathBuf, String> {
        let d = self.work.join(name);
        if d.exists() {
            std::fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(d)
    }

    /// `provisio ARGS` with `--config dir/provisio.toml` (when `config`), the
    /// secrets in the environment, and nothing inherited that would change
    /// what it loads or logs.
    pub fn provisio(&self, config: Option<&Path>, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.provisio);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
            if let Some(dir) = c.parent() {
                cmd.current_dir(dir);
            }
        }
        cmd.args(args)
            .env(TOKEN_VAR, &self.token)
            .env(LDAP_PW_VAR, LDAP_READER_PW)
            .env("NO_COLOR", "1")
            .env_remove("PROVISIO_CONNECTOR_DIR")
            .env_remove("PROVISIO_CONFIG")
            .env_remove("PROVISIO_LOG");
        cmd
    }

    /// Run `provisio ARGS` measured, killed past `limit`; an error unless it succeeds.
    pub fn run(&self, config: Option<&Path>, args: &[&str], label: &str, limit: Duration) -> Result<Measured, String> {
        let dir = config.and_then(Path::parent).unwrap_or(&self.work);
        let m = run_measured(self.provisio(config, args), dir, label, limit)?;
        m.ok(&format!("provisio {}", args.join(" ")))
    }

    /// The last cycle's summary of the (only) channel, from `channels list --json`.
    pub fn last_summary(&self, config: &Path) -> Result<serde_json::Value, String> {
        let m = self.run(Some(config), &["channels", "list", "--json"], "channels-list", Duration::from_secs(120))?;
        let v: serde_json::Value =
            serde_json::from_str(&m.stdout).map_err(|e| format!("channels list --json: {e}: {}", m.stdout))?;
        let summary = v.get(0).and_then(|c| c.pointer("/last_cycle/summary")).cloned();
        summary.ok_or_else(|| format!("no last cycle in {v}"))
    }
}

/// `summary[field]` as a number.
pub fn count(summary: &serde_json::Value, field: &str) -> u64 {
    summary.get(field).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// Fail unless the last cycle did exactly what was expected.
pub fn expect_summary(summary: &serde_json::Value, expected: &[(&str, u64)], what: &str) -> Result<(), String> {
    for field in ["failed", "created", "updated", "linked", "disabled", "deleted", "enabled", "skipped"] {
        let want = expected.iter().find(|(f, _)| *f == field).map_or(0, |(_, n)| *n);
        let got = count(summary, field);
        if got != want {
            return Err(format!("{what}: the cycle's summary has {field} = {got}, expected {want}: {summary}"));
        }
    }
    if let Some(e) = summary.get("error").and_then(|e| e.as_str()) {
        return Err(format!("{what}: the cycle failed: {e}"));
    }
    Ok(())
}

/// One figure of a scenario: a label, its unit, the values of the runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Figure {
    /// Stable key used by the goals ("ceiling.rate", ...).
    pub id: String,
    pub label: String,
    pub unit: String,
    pub decimals: usize,
    pub series: Series,
}

/// A scenario's figures, in the order they are reported.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Section {
    pub title: String,
    /// What was run, in a sentence or two.
    pub intro: String,
    pub figures: Vec<Figure>,
    /// Observations of the run (not figures): checks that passed, request mixes.
    pub notes: Vec<String>,
    /// Set when the scenario could not run; the reason is reported instead.
    pub not_measured: Option<String>,
}

impl Section {
    pub fn new(title: &str, intro: String) -> Section {
        Section { title: title.to_owned(), intro, ..Section::default() }
    }

    /// Add a figure (or a value to an existing one).
    pub fn add(&mut self, id: &str, label: &str, unit: &'static str, decimals: usize, value: f64) {
        match self.figures.iter_mut().find(|f| f.id == id) {
            Some(f) => f.series.push(value),
            None => {
                let mut series = Series::new();
                series.push(value);
                self.figures.push(Figure {
                    id: id.to_owned(),
                    label: label.to_owned(),
                    unit: unit.to_owned(),
                    decimals,
                    series,
                });
            }
        }
    }

    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }

    pub fn figure(&self, id: &str) -> Option<&Series> {
        self.figures.iter().find(|f| f.id == id).map(|f| &f.series)
    }
}

/// CPU time used around a measured run: by this process (the in-process
/// sandbox) and by the whole machine.
pub struct Probe {
    own: f64,
    busy: f64,
}

/// What a [`Probe`] saw.
#[derive(Debug, Clone, Copy)]
pub struct Used {
    /// CPU seconds of this process (the sandbox).
    pub own: f64,
    /// CPU seconds of the whole machine (every process, every core).
    pub busy: f64,
}

impl Probe {
    pub fn start() -> Probe {
        Probe { own: own_cpu(), busy: machine_busy() }
    }

    pub fn finish(&self) -> Used {
        Used { own: own_cpu() - self.own, busy: machine_busy() - self.busy }
    }
}

/// CPU seconds the machine's processes have used since boot (all cores;
/// user, nice and system time of /proc/stat: interrupts, which loopback
/// traffic of the run itself causes, and the hypervisor's steal are left out).
pub fn machine_busy() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else { return 0.0 };
    let busy: f64 = line.split_whitespace().skip(1).take(3).filter_map(|x| x.parse::<f64>().ok()).sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    busy / if hz > 0.0 { hz } else { 100.0 }
}

/// Requests of a measured run at the target, with what the run's process
/// took, the CPU time the (in-process) sandbox used meanwhile, and what the
/// rest of the machine used (other processes; `peer_cpu` is a peer's own,
/// e.g. slapd's, not counted as other).
pub fn add_process(section: &mut Section, prefix: &str, m: &Measured, counts: &Counts, used: Used, peer_cpu: f64) {
    let id = |what: &str| format!("{prefix}.{what}");
    section.add(&id("wall"), "wall time", "s", 2, m.wall_s());
    section.add(&id("requests"), "requests received by the target", "", 0, counts.total() as f64);
    section.add(&id("rss"), "peak memory (RSS) of provisio", "MB", 1, m.rss_mb());
    section.add(&id("cpu"), "CPU time of provisio (user + system)", "s", 2, m.cpu.as_secs_f64());
    section.add(
        &id("util"),
        "provisio CPU use: CPU s / wall s (2 cores: at most 2)",
        "",
        2,
        m.cpu.as_secs_f64() / m.wall_s(),
    );
    section.add(&id("sandbox_cpu"), "CPU time of the sandbox meanwhile", "s", 2, used.own);
    let others = (used.busy - m.cpu.as_secs_f64() - used.own - peer_cpu).max(0.0);
    section.add(&id("others"), "CPU time of other processes on the machine meanwhile", "s", 2, others);
}

/// CPU seconds this process (and so the in-process sandbox) has used.
pub fn own_cpu() -> f64 {
    crate::process::proc_cpu_seconds(std::process::id()).unwrap_or(0.0)
}

/// A bound on one provisio run of `users` users at no less than `min_rate` users/s.
pub fn bound(users: usize, min_rate: f64) -> Duration {
    Duration::from_secs_f64(60.0 + users as f64 / min_rate)
}
