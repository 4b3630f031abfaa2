//! CPU profiles of the provisio process with `perf record`, for the
//! scenarios whose goals the run's medians miss.
//!
//! Call graphs are unwound with DWARF (`--call-graph dwarf`): the release
//! build has no frame pointers, but it keeps `.eh_frame` (panics unwind), so
//! perf can walk the stacks and attribute time to the engine's functions
//! inclusively. The sampling rate is chosen from the scenario's measured CPU
//! time to keep a few thousand samples. The report gives, per profile:
//! the share of each thread (the engine's cycle runs on the main thread;
//! the runtime's workers drive the HTTP connections), the engine functions
//! by inclusive time, and the functions by self time.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::process::run_measured;

/// One profile.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Its key in bench/findings.md: `ceiling`, `nochange`, `single`, `ldap-nochange`.
    #[serde(default)]
    pub key: String,
    pub title: String,
    /// The goal it explains.
    pub why: String,
    pub command: String,
    pub wall_s: f64,
    pub samples: String,
    /// "main thread 74.5 %, 2 other threads 25.5 %".
    pub threads: String,
    /// Engine functions by inclusive time (`  41.20 %  provisio_source::read_file`).
    pub engine: Vec<String>,
    /// The same on the main thread only (where the cycle runs), with SQLite's entry points.
    pub main_thread: Vec<String>,
    /// Functions by self time (`  9.22 %  libc.so.6  malloc`).
    pub top: Vec<String>,
    pub error: Option<String>,
}

/// Frames that only wrap the cycle: left out of the leaders.
const WRAPPERS: [&str; 6] = ["run_inner", "Engine::cycle", "cli::", "::main", "ChannelRun::run", "block_on"];

impl Profile {
    fn new(title: &str, why: &str, command: String) -> Profile {
        Profile {
            key: String::new(),
            title: title.to_owned(),
            why: why.to_owned(),
            command,
            wall_s: 0.0,
            samples: String::new(),
            threads: String::new(),
            engine: Vec::new(),
            main_thread: Vec::new(),
            top: Vec::new(),
            error: None,
        }
    }

    /// The first `n` engine functions by inclusive time, as "`name` x %".
    pub fn leaders(&self, n: usize) -> String {
        let mut seen = std::collections::HashSet::new();
        self.engine
            .iter()
            .filter_map(|l| l.trim().split_once(" %  ").map(|(p, name)| (p.to_owned(), name.to_owned())))
            .filter(|(_, name)| !WRAPPERS.iter().any(|w| name.contains(w)))
            // One entry per function name: `StateStore::upsert_user` and the
            // `Tx::upsert_user` it wraps are the same time.
            .filter(|(_, name)| {
                let last = short(name).rsplit("::").next().unwrap_or_default().to_owned();
                seen.insert(last)
            })
            .take(n)
            .map(|(pct, name)| format!("`{}` {pct} %", short(&name)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "### {}\n\n{}\n\nCommand: `{}`", self.title, self.why, self.command);
        if let Some(e) = &self.error {
            let _ = writeln!(out, "\n**The profile could not be taken:** {}\n", e.replace('\n', " "));
            return;
        }
        let _ = writeln!(out, " ({:.2} s under perf; {}).\n", self.wall_s, self.samples);
        let _ = writeln!(out, "CPU samples by thread: {}.\n", self.threads);
        let _ = writeln!(
            out,
            "provisio's functions by inclusive time (the function and what it calls; ≥ 1 % of the samples):\n\n```text\n{}\n```\n",
            self.engine.join("\n")
        );
        if !self.main_thread.is_empty() {
            let _ = writeln!(
                out,
                "The main thread alone (where the cycle runs and the state is written), in percent of all the samples above (≥ 1 %):\n\n```text\n{}\n```\n",
                self.main_thread.join("\n")
            );
        }
        let _ = writeln!(out, "Functions by self time (≥ 0.8 %):\n\n```text\n{}\n```\n", self.top.join("\n"));
    }
}

/// A function name without trailing closures, and `<A as Trait>::f` as `A::f`.
pub fn short(name: &str) -> String {
    let n = name.trim_end_matches("::{{closure}}");
    let mut out = n.to_owned();
    if let Some(inner) = n.strip_prefix('<') {
        let mut depth = 1;
        for (i, c) in inner.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        let ty = inner[..i].split_once(" as ").map_or(&inner[..i], |(a, _)| a);
                        out = format!("{ty}{}", &inner[i + 1..]);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out.chars().take(90).collect()
}

fn perf_report(data: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("perf")
        .args(["report", "--stdio", "--no-inline", "-g", "none", "-i"])
        .arg(data)
        .args(args)
        .output()
        .map_err(|e| format!("perf report: {e}"))?;
    if !out.status.success() {
        return Err(format!("perf report {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn rows(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty())
}

/// A report line as `  12.34 %  dso  symbol` (self time) or
/// `  12.34 %  symbol` (inclusive), without perf's padding, the self column
/// of a children report, the `[.]` marker and trailing placeholder columns.
fn tidy(line: &str, children: bool) -> Option<String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    while words.last().is_some_and(|w| *w == "-") {
        words.pop();
    }
    let pct = words.first()?.strip_suffix('%')?;
    let marker = |w: &&str| w.len() == 3 && w.starts_with('[') && w.ends_with(']');
    if children {
        // pct, self pct, [.], symbol words
        let symbol: Vec<&str> = words.get(2..)?.iter().copied().filter(|w| !marker(w)).collect();
        Some(format!("{pct:>6} %  {}", symbol.join(" ")))
    } else {
        // pct, dso, [.], symbol words
        let dso = words.get(1)?;
        let symbol: Vec<&str> = words.get(2..)?.iter().copied().filter(|w| !marker(w)).collect();
        Some(format!("{pct:>6} %  {dso}  {}", symbol.join(" ")).trim_end().to_owned())
    }
}

/// The lowest thread id of a `--sort pid` report: the main thread.
fn main_tid(text: &str) -> Option<u64> {
    rows(text).filter_map(|l| l.split_whitespace().nth(1)?.split(':').next()?.parse().ok()).min()
}

/// The threads' shares: the main thread is the lowest thread id.
fn threads(text: &str) -> String {
    let mut shares: Vec<(u64, f64)> = rows(text)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let pct = w.next()?.strip_suffix('%')?.parse().ok()?;
            let tid = w.next()?.split(':').next()?.parse().ok()?;
            Some((tid, pct))
        })
        .collect();
    shares.sort_by_key(|(tid, _)| *tid);
    match shares.split_first() {
        Some(((_, main), [])) => format!("main thread {main:.1} % (no other thread sampled)"),
        Some(((_, main), others)) => {
            let rest: f64 = others.iter().map(|(_, p)| p).sum::<f64>() + 0.0;
            format!("main thread {main:.1} %, {} other thread(s) {rest:.1} %", others.len())
        }
        None => "unknown".into(),
    }
}

/// Run `provisio --config CONFIG ARGS` under `perf record` and summarise it.
/// `cpu_s` is the scenario's measured CPU time (it sets the sampling rate).
#[allow(clippy::too_many_arguments)]
pub fn take(
    ctx: &Ctx,
    title: &str,
    why: &str,
    config: &Path,
    args: &[&str],
    label: &str,
    cpu_s: f64,
    limit: Duration,
) -> Profile {
    let freq = (6000.0 / cpu_s.max(0.1)).clamp(49.0, 997.0).round() as u32;
    let mut profile = Profile::new(
        title,
        why,
        format!("perf record -F {freq} --call-graph dwarf -- provisio --config provisio.toml {}", args.join(" ")),
    );
    profile.key = label.to_owned();
    let dir = config.parent().unwrap_or(&ctx.work);
    let data = dir.join(format!("{label}.perf.data"));
    let inner = ctx.provisio(Some(config), args);
    let mut cmd = Command::new("perf");
    cmd.args(["record", "-F", &freq.to_string(), "--call-graph", "dwarf,16384", "-o"])
        .arg(&data)
        .arg("--")
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    if let Some(d) = inner.get_current_dir() {
        cmd.current_dir(d);
    }
    match run_measured(cmd, dir, label, limit).and_then(|m| m.ok("perf record")) {
        Ok(m) => profile.wall_s = m.wall_s(),
        Err(e) => {
            profile.error = Some(e);
            return profile;
        }
    }
    let reports = (|| -> Result<(), String> {
        let by_thread = perf_report(&data, &["--no-children", "--sort", "pid"])?;
        profile.samples = by_thread
            .lines()
            .find_map(|l| l.strip_prefix("# Samples: "))
            .map(|s| format!("{} samples at {freq} Hz", s.split(" of event").next().unwrap_or(s).trim()))
            .unwrap_or_default();
        profile.threads = threads(&by_thread);
        let children = perf_report(&data, &["--children", "--sort", "symbol", "--percent-limit", "1"])?;
        profile.engine = rows(&children)
            .filter(|l| l.contains("] provisio_") || l.contains("] <provisio_"))
            .filter_map(|l| tidy(l, true))
            .take(24)
            .collect();
        // The main thread's own list, unless it is the whole profile already.
        let main_share: f64 =
            profile.threads.split(" %").next().and_then(|t| t.rsplit(' ').next()?.parse().ok()).unwrap_or(0.0);
        if let Some(tid) = main_tid(&by_thread).filter(|_| main_share < 99.0) {
            let tid = tid.to_string();
            let main = perf_report(&data, &["--children", "--sort", "symbol", "--percent-limit", "1", "--tid", &tid])?;
            profile.main_thread = rows(&main)
                .filter(|l| {
                    l.contains("] provisio_") || l.contains("] <provisio_") || l.contains("] rusqlite::Connection::")
                })
                .filter_map(|l| tidy(l, true))
                .take(20)
                .collect();
        }
        let own = perf_report(&data, &["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.8"])?;
        profile.top = rows(&own).filter_map(|l| tidy(l, false)).take(20).collect();
        Ok(())
    })();
    if let Err(e) = reports {
        profile.error = Some(e);
    }
    let _ = std::fs::remove_file(&data);
    profile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidies_reports() {
        assert_eq!(
            tidy("     9.25%  [kernel.kallsyms]    [k] finish_task_switch.isra.0    -   -", false).unwrap(),
            "  9.25 %  [kernel.kallsyms]  finish_task_switch.isra.0"
        );
        assert_eq!(
            tidy("    22.21%     0.00%  [.] provisio_state::StateStore::upsert_user   -   -", true).unwrap(),
            " 22.21 %  provisio_state::StateStore::upsert_user"
        );
        assert_eq!(
            threads("    74.51%    16712:provisio\n    12.86%    16714:provisio\n    12.63%    16715:provisio\n"),
            "main thread 74.5 %, 2 other thread(s) 25.5 %"
        );
        assert_eq!(threads("   100.00%    16712:provisio\n"), "main thread 100.0 % (no other thread sampled)");
    }

    #[test]
    fn leaders_skip_wrappers() {
        let mut p = Profile::new("t", "w", String::new());
        p.engine = vec![
            " 65.59 %  provisio_engine::cycle::ChannelRun::run_inner::{{closure}}".into(),
            " 28.99 %  <provisio_core::connector::Erased<C> as provisio_core::connector::DynConnector>::invoke::{{closure}}".into(),
            " 22.21 %  provisio_state::StateStore::upsert_user".into(),
        ];
        assert_eq!(
            p.leaders(2),
            "`provisio_core::connector::Erased<C>::invoke` 28.99 %, `provisio_state::StateStore::upsert_user` 22.21 %"
        );
    }
}
