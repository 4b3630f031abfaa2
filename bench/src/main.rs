//! provisio-bench: the benchmark command of issue 7 (run by `scripts/bench`,
//! documented in README.md under "Benchmarks").
//!
//! It drives the release `provisio` binary against its peers on 127.0.0.1
//! and writes BENCHMARKS.md:
//! * connector loading ([`sandbox::connectors`]);
//! * target-bound throughput into scim2-server under uvicorn against wrk's
//!   raw capacity of the same server ([`target`]);
//! * the engine ceiling, no-change, incremental and single-change scenarios
//!   into the built-in sandbox from a JSON file source ([`sandbox`]);
//! * the same from slapd, reported apart ([`ldap`]);
//! * `perf` profiles of the initial sync and the no-change cycle, and a
//!   heap profile of the no-change cycle, always (where the time and memory
//!   go), and of any other scenario whose goal is missed ([`profile`]).
//!
//! Every scenario runs `--runs` times (5 by default); the report gives each
//! figure's median, min and max. Scratch data lives in a temporary directory
//! removed at the end; every child process is stopped by pid.

mod ctx;
mod data;
mod findings;
mod ldap;
mod massif;
mod peers;
mod process;
mod profile;
mod report;
mod sandbox;
mod stats;
mod system;
mod target;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;

use ctx::{Ctx, Options, bound};
use report::{GOALS, Results};
use stats::fmt;

/// Benchmark the release build of provisio against real peers and write BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "provisio-bench", max_term_width = 100)]
struct Args {
    /// The release `provisio` binary (default: beside this program).
    #[arg(long)]
    provisio: Option<PathBuf>,
    /// The repository root (peers' venv, bench/peers, bench/findings.md).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// Where to write the report (default: <repo>/BENCHMARKS.md; with --quick, target/bench-quick.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Repetitions of each scenario.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Repetitions of the LDAP scenarios (default: --runs).
    #[arg(long)]
    ldap_runs: Option<usize>,
    /// Users of the sandbox scenarios.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Users of the target-bound scenario.
    #[arg(long, default_value_t = 10_000)]
    target_users: usize,
    /// Entries of the LDAP scenarios.
    #[arg(long, default_value_t = 100_000)]
    ldap_users: usize,
    /// Max Threads of the channel into the sandbox.
    #[arg(long, default_value_t = 16)]
    sandbox_threads: usize,
    /// Max Threads into scim2-server, and wrk's connections.
    #[arg(long, default_value_t = 4)]
    target_threads: usize,
    /// A small smoke run: 2 repetitions of 2,000 users (1,000 for scim2-server).
    #[arg(long)]
    quick: bool,
    /// Take no profiles (by default: the initial sync and the no-change cycle, and any scenario that misses its goal).
    #[arg(long)]
    no_profile: bool,
    /// Only these scenario groups: connectors, target, sandbox, ldap (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Where the run's results are saved as JSON (default: target/bench-results.json,
    /// with --quick target/bench-quick-results.json).
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// Run nothing: render the report again from saved results, with the
    /// current bench/findings.md.
    #[arg(long, value_name = "FILE")]
    from_results: Option<PathBuf>,
}

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == process::SPAWNER_FLAG) {
        std::process::exit(process::spawner_main(&argv[2..]));
    }
    if let Ok(exe) = std::env::current_exe() {
        process::use_spawner(exe);
    }
    let args = Args::parse();
    match run(args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("provisio-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn run(mut args: Args) -> Result<bool, String> {
    let started = Instant::now();
    let repo = match args.repo.take() {
        Some(r) => r,
        None => Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no repository root")?.to_path_buf(),
    };
    let provisio = match args.provisio.take() {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("provisio"),
    };
    if args.quick {
        args.runs = args.runs.min(2);
        args.users = args.users.min(2_000);
        args.target_users = args.target_users.min(1_000);
        args.ldap_users = args.ldap_users.min(2_000);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| if args.quick { repo.join("target/bench-quick.md") } else { repo.join("BENCHMARKS.md") });
    let saved = args.results.clone().unwrap_or_else(|| {
        repo.join(if args.quick { "target/bench-quick-results.json" } else { "target/bench-results.json" })
    });
    if let Some(from) = &args.from_results {
        let text = std::fs::read_to_string(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let mut results: Results = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", from.display()))?;
        results.findings = std::fs::read_to_string(repo.join("bench/findings.md")).ok();
        results.rerendered = Some(system::now_utc());
        let report = report::render(&results, &limits(&results));
        std::fs::write(&out, report).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("wrote {} from {}", out.display(), from.display());
        return Ok(results.failures.is_empty());
    }
    if !provisio.is_file() {
        return Err(format!("{} is missing: run cargo build --release --workspace", provisio.display()));
    }
    let opts = Options {
        runs: args.runs.max(1),
        users: args.users,
        target_users: args.target_users,
        ldap_users: args.ldap_users,
        ldap_runs: args.ldap_runs.unwrap_or(args.runs).max(1),
        sandbox_threads: args.sandbox_threads.max(1),
        target_threads: args.target_threads.max(1),
        profile: !args.no_profile,
        only: args.only.clone(),
    };
    let scratch = tempfile::Builder::new().prefix("provisio-bench-").tempdir().map_err(|e| e.to_string())?;
    let mut token = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut token))
        .map_err(|e| e.to_string())?;
    let ctx = Ctx {
        repo: repo.clone(),
        provisio: provisio.clone(),
        work: scratch.path().to_path_buf(),
        opts,
        token: token.iter().map(|b| format!("{b:02x}")).collect(),
    };

    let mut results = Results {
        started: system::now_utc(),
        machine: {
            let mut m = system::machine();
            m.push(("load average (1, 5, 15 min) at the start".into(), system::load_average()));
            m
        },
        versions: system::versions(&repo, &provisio),
        command: if args.quick { "scripts/bench --quick".into() } else { "scripts/bench".into() },
        sizes: report::Sizes {
            users: ctx.opts.users,
            target_users: ctx.opts.target_users,
            ldap_users: ctx.opts.ldap_users,
        },
        ..Results::default()
    };
    let o = &ctx.opts;
    results.settings = vec![
        (
            "repetitions".into(),
            format!("{} per scenario ({} for LDAP); connector loading {}", o.runs, o.ldap_runs, (o.runs * 2).max(5)),
        ),
        (
            "users".into(),
            format!(
                "{} (sandbox), {} (scim2-server), {} (LDAP)",
                fmt(o.users as f64, 0),
                fmt(o.target_users as f64, 0),
                fmt(o.ldap_users as f64, 0)
            ),
        ),
        (
            "Max Threads".into(),
            format!(
                "{} into the sandbox, {} into scim2-server (and wrk's connections)",
                o.sandbox_threads, o.target_threads
            ),
        ),
        (
            "measured".into(),
            "wall time, peak RSS and CPU time of the provisio process (wait4 rusage); request counts at the target"
                .into(),
        ),
    ];

    let fail = |results: &mut Results, what: &str, e: String| {
        eprintln!("provisio-bench: {what} failed: {e}");
        results.failures.push((what.to_owned(), e));
    };
    if ctx.opts.wants("connectors") {
        eprintln!("connector loading");
        match sandbox::connectors(&ctx) {
            Ok(s) => results.file.push(s),
            Err(e) => fail(&mut results, "connector loading", e),
        }
    }
    if ctx.opts.wants("target") {
        eprintln!("target-bound throughput (scim2-server under uvicorn, wrk)");
        match target::capture_body(&ctx).and_then(|body| target::run(&ctx, &body)) {
            Ok(s) => results.file.push(s),
            Err(e) => fail(&mut results, "target-bound throughput", e),
        }
    }
    let mut kept = None;
    if ctx.opts.wants("sandbox") {
        eprintln!("file source into the sandbox ({} users)", ctx.opts.users);
        match sandbox::run(&ctx) {
            Ok(r) => {
                results.file.extend([r.ceiling, r.nochange, r.incremental, r.single]);
                kept = r.kept;
            }
            Err(e) => fail(&mut results, "file source into the sandbox", e),
        }
    }
    let mut ldap_kept = None;
    if ctx.opts.wants("ldap") {
        eprintln!("LDAP source ({} entries in slapd)", ctx.opts.ldap_users);
        match ldap::run(&ctx) {
            Ok(r) => {
                results.ldap.extend([r.initial, r.nochange, r.incremental]);
                ldap_kept = r.kept;
            }
            Err(e) => fail(&mut results, "LDAP source", e),
        }
    }

    if ctx.opts.profile {
        profiles(&ctx, &mut results, kept.as_ref(), ldap_kept.as_ref());
    }
    drop(kept);
    drop(ldap_kept);
    results.machine.push(("load average (1, 5, 15 min) at the end".into(), system::load_average()));
    results.machine.push((
        "note".into(),
        "the machine is shared: each scenario reports the CPU time other processes used while it ran".into(),
    ));
    let limits = limits(&results);
    results.findings = std::fs::read_to_string(repo.join("bench/findings.md")).ok();
    results.minutes = started.elapsed().as_secs_f64() / 60.0;
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    if let Some(dir) = saved.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&saved, json).map_err(|e| format!("cannot write {}: {e}", saved.display()))?;
    let text = report::render(&results, &limits);
    std::fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {} ({:.1} min); results saved in {}", out.display(), results.minutes, saved.display());
    Ok(results.failures.is_empty())
}

/// A fresh sandbox and state holding `users` users, for a profile.
fn fresh_state(ctx: &Ctx, name: &str, users: usize, sync: bool) -> Result<(peers::SandboxServer, PathBuf), String> {
    let sandbox = peers::SandboxServer::start(&ctx.token)?;
    let dir = ctx.dir(name)?;
    data::write_json(&dir.join("users.json"), users, 0, None)?;
    let config = dir.join("provisio.toml");
    let text = data::config(&sandbox.base_url(), &data::Source::Json("users.json"), ctx.opts.sandbox_threads);
    target::write(&config, &text)?;
    if sync {
        ctx.run(Some(&config), &["sync", "--once"], "initial", bound(users, 50.0))?;
    }
    Ok((sandbox, config))
}

/// Profile the engine ceiling and the no-change cycle (time and heap)
/// always, and the other scenarios whose goals the medians miss.
fn profiles(
    ctx: &Ctx,
    results: &mut Results,
    kept: Option<&sandbox::Kept>,
    ldap: Option<&(peers::Slapd, peers::SandboxServer, PathBuf)>,
) {
    let missed = |key: &str| GOALS.iter().find(|g| g.key == key).and_then(|g| g.met(results)) == Some(false);
    // The two scenarios that show where the engine's own time and memory go
    // are profiled even when their goals are met: the next performance work
    // starts from them.
    let (ceiling, nochange, memory, single) = (true, true, true, missed("single"));
    let cpu = |id: &str| results.median(id).unwrap_or(1.0);
    let (ceiling_cpu, nochange_cpu, single_cpu, ldap_cpu) =
        (cpu("ceiling.cpu"), cpu("nochange.cpu"), cpu("single.cpu"), cpu("ldap.nochange.cpu"));
    let ldap_slow = results.median("ldap.nochange.wall").is_some_and(|w| w >= 1.0);
    let n = ctx.opts.users;
    if ceiling {
        eprintln!("profiling the initial sync");
        match fresh_state(ctx, "profile-ceiling", n, false) {
            Ok((_sandbox, config)) => results.profiles.push(profile::take(
                ctx,
                "Initial sync into the sandbox (engine ceiling)",
                &format!("The initial sync of {n} users on a fresh sandbox and state, as measured above."),
                &config,
                &["sync", "--once"],
                "ceiling",
                ceiling_cpu,
                bound(n, 50.0),
            )),
            Err(e) => results.failures.push(("profile of the initial sync".into(), e)),
        }
    }
    if let Some(k) = kept {
        if nochange {
            eprintln!("profiling the no-change cycle");
            results.profiles.push(profile::take(
                ctx,
                "No-change cycle",
                &format!("`sync --once` over {n} users in step with the sandbox (the last repetition's state)."),
                &k.config,
                &["sync", "--once"],
                "nochange",
                nochange_cpu,
                bound(n, 50.0),
            ));
        }
        if single {
            eprintln!("profiling provision --user");
            let who = 3;
            match data::write_json(&k.config.with_file_name("users.json"), n, k.version, Some(who)) {
                Ok(()) => {
                    let uid = data::person(who, k.version).uid;
                    results.profiles.push(profile::take(
                        ctx,
                        "Single change: provision --user",
                        &format!(
                            "`provision --user {uid}` (one user changed) with {n} users in the source and the state."
                        ),
                        &k.config,
                        &["provision", "--user", &uid],
                        "single",
                        single_cpu,
                        bound(n, 50.0),
                    ));
                }
                Err(e) => results.failures.push(("profile of provision --user".into(), e)),
            }
        }
    }
    if memory {
        let m = n.min(20_000);
        eprintln!("heap profile of the no-change cycle ({m} users, valgrind massif)");
        match fresh_state(ctx, "profile-heap", m, true) {
            Ok((_sandbox, config)) => results.heaps.push(massif::take(
                ctx,
                "Heap of the no-change cycle (valgrind massif)",
                &format!(
                    "`sync --once` over {m} users in step with a sandbox, under `valgrind --tool=massif` (a smaller \
                     run than the {n} measured: massif is slow; the per-user figures scale)."
                ),
                &config,
                &["sync", "--once"],
                m,
                bound(m, 2.0),
            )),
            Err(e) => results.failures.push(("heap profile".into(), e)),
        }
    }
    if let Some((_, _, config)) = ldap
        && ldap_slow
    {
        eprintln!("profiling the LDAP no-change cycle");
        let m = ctx.opts.ldap_users;
        results.profiles.push(profile::take(
            ctx,
            "LDAP no-change cycle",
            &format!(
                "`sync --once` with nothing changed in slapd, {m} entries (an incremental read by modifyTimestamp)."
            ),
            config,
            &["sync", "--once"],
            "ldap-nochange",
            ldap_cpu,
            bound(m, 50.0),
        ));
    }
}

/// What limits the target-bound goal, in words that follow the figures: the
/// requests per user are explained only when they exceed one (a lookup
/// before each create), never asserted.
fn target_limit(rpu: f64, busy: f64, pcpu: f64, rcpu: f64) -> String {
    let requests = if rpu > 1.05 {
        format!("provisio sends {rpu:.2} requests per user (more than the one POST wrk sends: lookups before creates)")
    } else {
        format!("provisio sends {rpu:.2} requests per user, as wrk does")
    };
    format!(
        "the server's work per user: {requests}, so the server spends {pcpu:.2} ms of CPU per user against {rcpu:.2} ms \
         for wrk's POST alone; it was {:.0} % busy during the sync",
        busy * 100.0
    )
}

/// What limits each missed goal, from this run's figures and profiles.
fn limits(r: &Results) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let m = |id: &str| r.median(id);
    if let (Some(rpu), Some(busy), Some(pcpu), Some(rcpu)) =
        (m("target.rpu"), m("target.provisio.busy"), m("target.provisio.cpu"), m("target.raw.cpu"))
    {
        out.push(("target", target_limit(rpu, busy, pcpu, rcpu)));
    }
    let profiled = |title: &str| r.profiles.iter().find(|p| p.title.starts_with(title) && p.error.is_none());
    let cpu_use = |prefix: &str| match (
        m(&format!("{prefix}.util")),
        m(&format!("{prefix}.sandbox_cpu")),
        m(&format!("{prefix}.others")),
        m(&format!("{prefix}.wall")),
    ) {
        (Some(u), Some(s), Some(o), Some(w)) => format!(
            "provisio used {u:.2} CPU s per wall s (of 2 cores), the sandbox {:.2}, other processes on the machine {:.2}",
            s / w,
            o / w
        ),
        _ => String::new(),
    };
    if let Some(p) = profiled("Initial sync") {
        out.push((
            "ceiling",
            format!(
                "{}; perf: {}; inclusive time: {} (see Profiles and Findings)",
                cpu_use("ceiling"),
                p.threads,
                p.leaders(5)
            ),
        ));
    }
    if let Some(p) = profiled("No-change") {
        out.push((
            "nochange.wall",
            format!(
                "{}; perf: {}; inclusive time: {} (see Profiles and Findings)",
                cpu_use("nochange"),
                p.threads,
                p.leaders(5)
            ),
        ));
    }
    if let Some(h) = r.heaps.iter().find(|h| h.error.is_none()) {
        out.push((
            "nochange.rss",
            format!(
                "the heap (massif, {} users): {:.1} KB per user at the peak, allocated by {} (see Profiles and Findings)",
                h.users,
                h.peak as f64 / 1000.0 / h.users.max(1) as f64,
                h.leaders(4)
            ),
        ));
    }
    if let Some(check) = m("nochange.check") {
        let beyond = m("nochange.beyond").unwrap_or(0.0);
        out.push((
            "nochange.requests",
            format!(
                "the activation check that starts every cycle (`connections test` alone sends {check:.0} requests); the cycle sent {beyond:.0} beyond it"
            ),
        ));
    }
    if let Some(p) = profiled("Single change") {
        out.push((
            "single",
            format!(
                "{}; perf: {}; inclusive time: {} (see Profiles and Findings)",
                cpu_use("single"),
                p.threads,
                p.leaders(5)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_target_limit_follows_the_measured_requests_per_user() {
        let one = super::target_limit(1.0, 0.9, 0.5, 0.4);
        assert!(one.contains("1.00 requests per user, as wrk does") && !one.contains("lookup"), "{one}");
        let two = super::target_limit(2.0, 0.9, 0.5, 0.4);
        assert!(two.contains("2.00 requests per user (more than the one POST wrk sends"), "{two}");
    }
}
