//! Target-bound throughput: an initial sync of `target_users` users from a
//! JSON file into scim2-server under uvicorn, against the raw capacity of the
//! same server measured in the same run by wrk POSTing the same body.
//!
//! Each repetition starts a fresh server (empty store) for wrk, then another
//! for provisio, so both fill a store from 0 to N users. wrk runs one thread
//! with as many connections as the channel's Max Threads. The server counts
//! the requests it receives and is asked how many users it holds; its CPU
//! time (from /proc) says how busy it was.

use std::path::Path;
use std::time::Duration;

use crate::ctx::{Ctx, Probe, Section, bound, expect_summary};
use crate::data::{self, Source};
use crate::peers::{SandboxServer, ScimServer, wrk};

/// Requests that warm a fresh server up before a measured phase.
const WARM_UP: usize = 50;

/// The body provisio POSTs for one user: provisio syncs user 0 into a
/// sandbox, and the stored resource less `id`, `meta` and `groups` (what the
/// server adds) is the body, with `{{USERNAME}}` for the userName.
pub fn capture_body(ctx: &Ctx) -> Result<String, String> {
    let sandbox = SandboxServer::start(&ctx.token)?;
    let dir = ctx.dir("capture")?;
    data::write_json(&dir.join("users.json"), 1, 0, None)?;
    let config = dir.join("provisio.toml");
    write(&config, &data::config(&sandbox.base_url(), &Source::Json("users.json"), 1))?;
    ctx.run(Some(&config), &["sync", "--once"], "sync", Duration::from_secs(120))?;
    let snapshot = sandbox.snapshot();
    let mut user = snapshot
        .pointer("/Users/0")
        .and_then(|u| u.as_object())
        .cloned()
        .ok_or_else(|| format!("the sandbox holds no user after the capture sync: {snapshot}"))?;
    for k in ["id", "meta", "groups"] {
        user.remove(k);
    }
    let name = data::person(0, 0).uid;
    if user.get("userName").and_then(|v| v.as_str()) != Some(name.as_str()) {
        return Err(format!("the captured user is not {name}: {user:?}"));
    }
    user.insert("userName".into(), "{{USERNAME}}".into());
    serde_json::to_string(&user).map_err(|e| e.to_string())
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The scenario, `runs` times.
pub fn run(ctx: &Ctx, body: &str) -> Result<Section, String> {
    let n = ctx.opts.target_users;
    let c = ctx.opts.target_threads;
    let mut s = Section::new(
        "Target-bound throughput: scim2-server under uvicorn",
        format!(
            "Initial sync of {n} users from a JSON file into scim2-server 0.8.3 (ASGI app, uvicorn, one worker), \
             Max Threads {c}, against the raw capacity of the same server measured by wrk (1 thread, {c} connections) \
             POSTing the body provisio sends with a unique userName per request. Every repetition uses a fresh \
             server for wrk and another for provisio, so both fill an empty store with {n} users (after {WARM_UP} \
             warm-up `GET /Users?count=1`). Request counts and the server's CPU time are taken at the server."
        ),
    );
    let dir = ctx.dir("target")?;
    let body_file = dir.join("body.json");
    write(&body_file, body)?;
    s.note(format!("wrk's body (the captured provisio body; `{{{{USERNAME}}}}` is replaced per request): `{body}`"));
    data::write_json(&dir.join("users.json"), n, 0, None)?;
    for r in 1..=ctx.opts.runs {
        // The raw capacity.
        let server = ScimServer::start(&ctx.repo, &dir, &ctx.token)?;
        server.warm_up(WARM_UP)?;
        let (c0, cpu0, probe) = (server.counts()?, server.cpu_seconds(), Probe::start());
        let w = wrk(
            &ctx.repo,
            &dir,
            &format!("{}/Users", server.base_url),
            &body_file,
            n as u64,
            c,
            &ctx.token,
            &format!("wrk{r}-"),
            bound(n, 50.0),
        )?;
        let (cpu1, sent, used) = (server.cpu_seconds(), server.counts()?.since(&c0), probe.finish());
        let held = server.held_users()?;
        if w.created != n as u64 || held < n as u64 || held > (n + c) as u64 {
            return Err(format!(
                "wrk run {r}: {} of {} answers were 201 Created and the server holds {held} users; expected {n}",
                w.created, w.answered
            ));
        }
        s.note(format!("wrk: every one of the {n} answers was 201 Created and the server then held {n} to {} users (requests in flight when wrk stopped are created too).", n + c));
        let raw = n as f64 / w.elapsed_s;
        s.add("target.raw", "raw capacity: wrk POST /Users", "users/s", 0, raw);
        s.add("target.raw.cpu", "server CPU per user created by wrk", "ms", 2, (cpu1 - cpu0) * 1000.0 / n as f64);
        s.add("target.raw.busy", "server CPU busy during wrk (CPU s / wall s)", "", 2, (cpu1 - cpu0) / w.elapsed_s);
        let others = (used.busy - used.own - w.cpu_s - (cpu1 - cpu0)).max(0.0) / w.elapsed_s;
        s.add("target.raw.others", "other processes on the machine during wrk (CPU s / wall s)", "", 2, others);
        if sent.post < n as u64 {
            return Err(format!("wrk run {r}: the server counted {}, expected {n} POST", sent.describe()));
        }
        drop(server);

        // provisio.
        let server = ScimServer::start(&ctx.repo, &dir, &ctx.token)?;
        server.warm_up(WARM_UP)?;
        let run_dir = ctx.dir(&format!("target-run{r}"))?;
        std::fs::copy(dir.join("users.json"), run_dir.join("users.json")).map_err(|e| e.to_string())?;
        let config = run_dir.join("provisio.toml");
        write(&config, &data::config(&server.base_url, &Source::Json("users.json"), c))?;
        let (c0, cpu0, probe) = (server.counts()?, server.cpu_seconds(), Probe::start());
        let m = ctx.run(Some(&config), &["sync", "--once"], "sync", bound(n, 20.0))?;
        let (cpu1, sent, used) = (server.cpu_seconds(), server.counts()?.since(&c0), probe.finish());
        let held = server.held_users()?;
        if held != n as u64 {
            return Err(format!("provisio run {r}: the server holds {held} users, expected {n}"));
        }
        expect_summary(&ctx.last_summary(&config)?, &[("created", n as u64)], "target-bound sync")?;
        s.note(format!("provisio: the server held exactly {n} users after each sync, and the cycle's summary counted {n} created and nothing failed."));
        s.note(format!("Requests provisio sent (run {r}), counted by the server: {}.", sent.describe()));
        let rate = n as f64 / m.wall_s();
        s.add("target.provisio", "provisio: initial sync", "users/s", 0, rate);
        s.add("target.ratio", "ratio provisio / raw capacity (per repetition)", "", 3, rate / raw);
        s.add("target.rpu", "requests per user sent by provisio", "", 3, sent.total() as f64 / n as f64);
        s.add(
            "target.provisio.cpu",
            "server CPU per user created by provisio",
            "ms",
            2,
            (cpu1 - cpu0) * 1000.0 / n as f64,
        );
        s.add(
            "target.provisio.busy",
            "server CPU busy during the sync (CPU s / wall s)",
            "",
            2,
            (cpu1 - cpu0) / m.wall_s(),
        );
        s.add("target.provisio.wall", "provisio wall time", "s", 2, m.wall_s());
        s.add("target.provisio.cpu_own", "CPU time of provisio (user + system)", "s", 2, m.cpu.as_secs_f64());
        s.add("target.provisio.rss", "peak memory (RSS) of provisio", "MB", 1, m.rss_mb());
        let others = (used.busy - used.own - m.cpu.as_secs_f64() - (cpu1 - cpu0)).max(0.0) / m.wall_s();
        s.add(
            "target.provisio.others",
            "other processes on the machine during the sync (CPU s / wall s)",
            "",
            2,
            others,
        );
        eprintln!(
            "  target-bound run {r}: wrk {raw:.0} users/s, provisio {rate:.0} users/s, {} requests",
            sent.total()
        );
    }
    Ok(s)
}
