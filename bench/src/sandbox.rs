//! The file-source scenarios into the built-in sandbox, and connector loading.
//!
//! Each repetition starts a fresh sandbox and a fresh state store, and runs
//! in order, on the same `users` users of a JSON file:
//! 1. **engine ceiling**: the initial sync (everyone created);
//! 2. **no-change cycle**: a second `sync --once` with the file unchanged;
//! 3. **incremental**: the file rewritten with 1 % of the users changed
//!    (their title), then `sync --once`;
//! 4. **single change**: one more user changed, then `provision --user`.
//!
//! Request counts are the sandbox's own counters, read before and after
//! each command. The activation check that starts every cycle is measured
//! alone too (`connections test`), so a cycle's requests can be told apart
//! from it. The last repetition's sandbox and state are kept for profiling.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::ctx::{Ctx, Probe, Section, add_process, bound, expect_summary};
use crate::data::{self, Source};
use crate::peers::SandboxServer;
use crate::target::write;

/// The connectors the release build must load.
pub const CONNECTORS: [&str; 5] = ["aquera", "code42", "contentful", "pingid", "scim"];

/// Time to load and validate the five connectors: `connectors list --strict --json`.
pub fn connectors(ctx: &Ctx) -> Result<Section, String> {
    let runs = (ctx.opts.runs * 2).max(5);
    let mut s = Section::new(
        "Connector loading",
        format!(
            "`provisio connectors list --strict --json`, {runs} times: the release binary loads every connector \
             library beside it, validates each manifest (a library that is not a valid connector would fail the \
             command with --strict) and prints them. The wall time is the whole process, start to exit."
        ),
    );
    for _ in 0..runs {
        let m =
            ctx.run(None, &["connectors", "list", "--strict", "--json"], "connectors-list", Duration::from_secs(60))?;
        let v: serde_json::Value =
            serde_json::from_str(&m.stdout).map_err(|e| format!("connectors list --json: {e}"))?;
        let list = v.get("connectors").unwrap_or(&v);
        let ids: BTreeSet<String> = list
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.get("id").and_then(|i| i.as_str()).map(str::to_owned)).collect())
            .unwrap_or_default();
        let want: BTreeSet<String> = CONNECTORS.iter().map(|c| c.to_string()).collect();
        if ids != want {
            return Err(format!("connectors list loaded {ids:?}, expected {want:?}: {}", m.stdout));
        }
        s.add("connectors.wall", "load and validate the five connectors (whole process)", "ms", 1, m.wall_s() * 1000.0);
        s.add("connectors.rss", "peak memory (RSS) of provisio", "MB", 1, m.rss_mb());
    }
    s.note(format!("Every run loaded exactly the five connectors: {}.", CONNECTORS.join(", ")));
    Ok(s)
}

/// The sections of the file-source scenarios.
pub struct FileResults {
    pub ceiling: Section,
    pub nochange: Section,
    pub incremental: Section,
    pub single: Section,
    /// The last repetition's target and configuration, for profiling.
    pub kept: Option<Kept>,
}

/// A sandbox holding the users and a state in step with it.
pub struct Kept {
    #[expect(dead_code, reason = "held, not read: the target of the profile runs")]
    pub sandbox: SandboxServer,
    pub config: PathBuf,
    pub version: u32,
}

/// The user changed alone in repetition `r` (never one of the 1 %).
pub fn single_user(r: usize) -> usize {
    7 + 10 * r
}

pub fn run(ctx: &Ctx) -> Result<FileResults, String> {
    let n = ctx.opts.users;
    let t = ctx.opts.sandbox_threads;
    let changed = data::changed_per_version(n);
    let mut ceiling = Section::new(
        "Engine ceiling: initial sync into the sandbox",
        format!(
            "Initial sync of {n} users from a JSON file source into the built-in SCIM sandbox (in the bench process, \
             on 127.0.0.1), Max Threads {t}, with a fresh sandbox and state store each repetition."
        ),
    );
    let mut nochange = Section::new(
        "No-change cycle",
        format!("A second `sync --once` over the same {n} users with the file unchanged."),
    );
    let mut incremental = Section::new(
        "Incremental cycle: 1 % changed",
        format!("The file rewritten with {changed} of the {n} users (1 %) given a new title, then `sync --once`."),
    );
    let mut single = Section::new(
        "Single change latency",
        format!(
            "One more user's title changed in the {n}-user file, then `provision --user <uid>` (end to end: it \
             reads the source to find the user, shows the plan, and runs the cycle for that user)."
        ),
    );
    let mut kept = None;
    for r in 1..=ctx.opts.runs {
        let sandbox = SandboxServer::start(&ctx.token)?;
        let dir = ctx.dir(&format!("sandbox-run{r}"))?;
        let users = dir.join("users.json");
        data::write_json(&users, n, 0, None)?;
        let config = dir.join("provisio.toml");
        write(&config, &data::config(&sandbox.base_url(), &Source::Json("users.json"), t))?;

        // 1. The initial sync.
        let (c0, probe) = (sandbox.counts(), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "initial", bound(n, 100.0))?;
        let (sent, used) = (sandbox.counts().since(&c0), probe.finish());
        if sandbox.held_users() != n as u64 {
            return Err(format!(
                "run {r}: the sandbox holds {} users after the initial sync, expected {n}",
                sandbox.held_users()
            ));
        }
        expect_summary(&ctx.last_summary(&config)?, &[("created", n as u64)], "initial sync")?;
        ceiling.note(format!("After each initial sync the sandbox held exactly {n} users and the summary counted {n} created, none failed."));
        ceiling.note(format!("Requests received by the sandbox (run {r}): {}.", sent.describe()));
        ceiling.add("ceiling.rate", "users per second", "users/s", 0, n as f64 / m.wall_s());
        ceiling.add("ceiling.rpu", "requests per user", "", 3, sent.total() as f64 / n as f64);
        add_process(&mut ceiling, "ceiling", &m, &sent, used, 0.0);
        eprintln!("  sandbox run {r}: initial {:.0} users/s, {:.0} MB", n as f64 / m.wall_s(), m.rss_mb());

        // The activation check alone.
        let c0 = sandbox.counts();
        ctx.run(Some(&config), &["connections", "test"], "connections-test", Duration::from_secs(60))?;
        let check = sandbox.counts().since(&c0);
        nochange.add(
            "nochange.check",
            "requests of the activation check alone (`connections test`)",
            "",
            0,
            check.total() as f64,
        );

        // 2. No change.
        let (c0, probe) = (sandbox.counts(), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "nochange", bound(n, 100.0))?;
        let (sent, used) = (sandbox.counts().since(&c0), probe.finish());
        expect_summary(&ctx.last_summary(&config)?, &[], "no-change cycle")?;
        nochange.note(format!(
            "Requests received by the sandbox (run {r}): {}; the activation check alone sent {}.",
            sent.describe(),
            check.describe()
        ));
        add_process(&mut nochange, "nochange", &m, &sent, used, 0.0);
        nochange.add(
            "nochange.beyond",
            "requests beyond the activation check",
            "",
            0,
            sent.total().saturating_sub(check.total()) as f64,
        );
        eprintln!("  sandbox run {r}: no-change {:.2} s, {} requests, {:.0} MB", m.wall_s(), sent.total(), m.rss_mb());

        // 3. 1 % changed.
        let version = r as u32;
        data::write_json(&users, n, version, None)?;
        let (c0, probe) = (sandbox.counts(), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "incremental", bound(n, 100.0))?;
        let (sent, used) = (sandbox.counts().since(&c0), probe.finish());
        expect_summary(&ctx.last_summary(&config)?, &[("updated", changed as u64)], "incremental cycle")?;
        incremental.note(format!("Each incremental cycle's summary counted {changed} updated, none failed."));
        incremental.note(format!("Requests received by the sandbox (run {r}): {}.", sent.describe()));
        add_process(&mut incremental, "incremental", &m, &sent, used, 0.0);
        incremental.add("incremental.rpu", "requests per changed user", "", 2, sent.total() as f64 / changed as f64);
        eprintln!("  sandbox run {r}: incremental {:.2} s, {} requests", m.wall_s(), sent.total());

        // 4. One user.
        let who = single_user(r);
        data::write_json(&users, n, version, Some(who))?;
        let uid = data::person(who, version).uid;
        let (c0, probe) = (sandbox.counts(), Probe::start());
        let m = ctx.run(Some(&config), &["provision", "--user", &uid], "single", bound(n, 100.0))?;
        let (sent, used) = (sandbox.counts().since(&c0), probe.finish());
        expect_summary(&ctx.last_summary(&config)?, &[("updated", 1)], "provision --user")?;
        if sent.put != 1 {
            return Err(format!("provision --user {uid}: the sandbox received {}, expected one PUT", sent.describe()));
        }
        single.note(format!("Requests received by the sandbox (run {r}): {}.", sent.describe()));
        add_process(&mut single, "single", &m, &sent, used, 0.0);
        eprintln!("  sandbox run {r}: provision --user {:.2} s", m.wall_s());
        kept = Some(Kept { sandbox, config, version });
    }
    Ok(FileResults { ceiling, nochange, incremental, single, kept })
}
