//! The operator commands: `config check`, `connections test`, `sync`,
//! `plan`, `provision` and `channels list|reset|retry`.
//!
//! Each reads the configuration, loads the connectors it names, checks the
//! whole configuration (errors stop the command, warnings are printed), and
//! then does its job through the [`Engine`].

use clap::Subcommand;
use provisio_state::StateStore;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use provisio_config::Config;
use provisio_engine::audit::Audit;
use provisio_engine::report::total;
use provisio_engine::{ChannelReport, CycleOptions, Engine, shutdown};

use super::exit::cycle_outcome;
use super::output::{print_json, table};
use super::{CliError, GlobalArgs, load_connectors};
use crate::check::{Problem, Severity};
use crate::observe::Console;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the whole configuration against the connectors' manifests
    /// and the state store, listing every problem with its location.
    Check {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// The activation check: each connection's credentials against its
    /// target. Exit status 1 if any fails.
    Test {
        /// Only this connection.
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Fetch the target's schema ("Refresh Fields") and record it for the
    /// connection; mappings and `config check` then accept its fields.
    RefreshFields {
        #[arg(long)]
        connection: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// Per channel: users, dirty records, last cycle and last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget a channel's state; the next cycle behaves as the first
    /// (existing target accounts are linked, not duplicated).
    Reset {
        /// `channel` or `connection/channel`.
        #[arg(long)]
        channel: String,
    },
    /// Release the deprovisions and group deletions the deletion guard
    /// held: the next cycle executes the ones that still apply.
    Approve {
        /// `channel` or `connection/channel`.
        #[arg(long)]
        channel: String,
    },
    /// Retry the dirty records now (runs one cycle of the channel, or of
    /// every channel).
    Retry {
        #[arg(long)]
        channel: Option<String>,
    },
}

/// Read the configuration named by `--config`.
pub fn load_config(global: &GlobalArgs) -> Result<Config, CliError> {
    let path: PathBuf = global
        .config
        .clone()
        .ok_or_else(|| CliError::Config("this command needs a configuration: pass --config FILE".into()))?;
    Ok(Config::load(&path)?)
}

fn engine(global: &GlobalArgs) -> Result<Engine, CliError> {
    let config = load_config(global)?;
    let connectors = load_connectors(global)?;
    let mut engine = Engine::new(config, connectors)?;
    engine.observe(Arc::new(Console::new(false)));
    Ok(engine)
}

fn open_store(engine: &Engine) -> Result<StateStore, CliError> {
    if engine.config.engine.state_store.as_ref().is_none_or(|s| s.kind == provisio_config::StoreKind::Sqlite) {
        let path = &engine.config.engine.state;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::User(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    engine.config.open_store().map_err(CliError::from)
}

/// Print problems; fail on errors.
fn report_problems(problems: &[Problem]) -> Result<(), CliError> {
    for p in problems {
        match p.severity {
            Severity::Error => crate::logging::notice_error(&p.to_string()),
            Severity::Warning => crate::logging::notice_warning(&p.to_string()),
        }
    }
    let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
    if errors > 0 {
        return Err(CliError::Config(format!(
            "the configuration has {errors} error{}; fix {} and run again (`provisio config check` lists them)",
            if errors == 1 { "" } else { "s" },
            if errors == 1 { "it" } else { "them" }
        )));
    }
    Ok(())
}

pub fn config(global: &GlobalArgs, cmd: &ConfigCommand) -> Result<(), CliError> {
    let ConfigCommand::Check { json } = cmd;
    let engine = engine(global)?;
    let store = engine.config.open_store_read_only().ok();
    let problems = crate::check::for_engine(&engine, store.as_ref());
    if *json {
        print_json(&serde_json::json!({ "problems": problems }))?;
    } else if problems.is_empty() {
        println!(
            "{}: the configuration is valid ({} connection(s))",
            engine.config.file.display(),
            engine.config.connections.len()
        );
    }
    if *json {
        let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
        return if errors > 0 { Err(CliError::Config(format!("{errors} error(s)"))) } else { Ok(()) };
    }
    report_problems(&problems)
}

pub fn connections(global: &GlobalArgs, cmd: &ConnectionsCommand) -> Result<(), CliError> {
    let (connection, json) = match cmd {
        ConnectionsCommand::Test { connection, json } => (connection, json),
        ConnectionsCommand::RefreshFields { connection, json } => return refresh_fields(global, connection, *json),
    };
    let engine = engine(global)?;
    report_problems(&crate::check::for_engine(&engine, None))?;
    let selected: Vec<_> =
        engine.config.connections.iter().filter(|c| connection.as_ref().is_none_or(|n| n == &c.name)).collect();
    if selected.is_empty() {
        return Err(CliError::NotFound(format!("no connection named '{}'", connection.clone().unwrap_or_default())));
    }
    let mut failed = 0;
    let mut rows = Vec::new();
    for conn in selected {
        let result = engine.test_connection(conn);
        let (ok, text) = match &result {
            Ok(r) => (
                true,
                std::iter::once(r.summary.clone()).chain(r.details.iter().cloned()).collect::<Vec<_>>().join("\n"),
            ),
            Err(e) => {
                failed += 1;
                (false, engine.redactor.redact(&e.to_string()))
            }
        };
        rows.push((conn.name.clone(), conn.connector.clone(), ok, text));
    }
    if *json {
        let v: Vec<_> = rows
            .iter()
            .map(|(n, c, ok, t)| serde_json::json!({"connection": n, "connector": c, "ok": ok, "detail": t}))
            .collect();
        print_json(&serde_json::json!({ "connections": v }))?;
    } else {
        let mut t = table(["CONNECTION", "CONNECTOR", "RESULT", "DETAIL"]);
        for (n, c, ok, text) in &rows {
            t.add_row([n.clone(), c.clone(), if *ok { "ok" } else { "FAILED" }.to_owned(), text.clone()]);
        }
        println!("{t}");
    }
    if failed > 0 {
        return Err(CliError::User(format!("{failed} connection(s) failed the activation check")));
    }
    Ok(())
}

fn refresh_fields(global: &GlobalArgs, name: &str, json: bool) -> Result<(), CliError> {
    let engine = engine(global)?;
    let conn = engine
        .config
        .connection(name)
        .ok_or_else(|| CliError::NotFound(format!("no connection named '{name}' in {}", engine.config.file.display())))?
        .clone();
    let store = open_store(&engine)?;
    let before = provisio_engine::fields::discovered_fields(Some(&store), name);
    let schema = engine.refresh_fields(&conn, &store).map_err(|e| {
        CliError::User(format!(
            "connection '{name}': refresh-fields failed: {e}{}",
            if before.is_empty() {
                String::new()
            } else {
                format!(" ({} previously recorded field(s) stay in place)", before.len())
            }
        ))
    })?;
    if json {
        print_json(&serde_json::json!({ "connection": name, "attributes": schema.attributes, "notes": schema.notes }))?;
        return Ok(());
    }
    let known: std::collections::BTreeSet<&str> = before.iter().map(|a| a.code.as_str()).collect();
    let mut t = table(["FIELD", "TARGET", "REQUIRED", "MULTI", ""]);
    for a in &schema.attributes {
        t.add_row([
            a.code.clone(),
            a.target.clone(),
            super::output::yes(a.required).to_owned(),
            super::output::yes(a.multi_valued).to_owned(),
            if known.contains(a.code.as_str()) { String::new() } else { "new".to_owned() },
        ]);
    }
    println!("{t}");
    for n in &schema.notes {
        println!("note: {n}");
    }
    println!("{} field(s) recorded for connection '{name}'; mappings may now use them.", schema.attributes.len());
    Ok(())
}

/// The summary table printed at the end of every cycle.
pub fn print_summary(reports: &[ChannelReport]) {
    let mut t = table([
        "CONNECTION",
        "CHANNEL",
        "CREATED",
        "LINKED",
        "UPDATED",
        "DISABLED",
        "RE-ENABLED",
        "DELETED",
        "SKIPPED",
        "FAILED",
        "DURATION",
    ]);
    let row = |connection: &str, channel: &str, s: &provisio_state::CycleSummary, duration: String| {
        let counts = [s.created, s.linked, s.updated, s.disabled, s.enabled, s.deleted, s.skipped, s.failed];
        let mut cells = vec![connection.to_owned(), channel.to_owned()];
        cells.extend(counts.iter().map(u64::to_string));
        cells.push(duration);
        cells
    };
    for r in reports {
        let mut cells =
            row(&r.connection, &r.channel, &r.summary, format!("{:.2} s", r.summary.duration_ms as f64 / 1000.0));
        // A channel that did not run says so where its failures would be.
        let failed = cells.len() - 2;
        if r.quarantined.is_some() {
            cells[2..failed].iter_mut().for_each(|c| *c = "-".to_owned());
            cells[failed] = "quarantined".to_owned();
            cells[failed + 1] = "-".to_owned();
        } else if r.summary.error.is_some() {
            cells[failed] = format!("{} + cycle failed", r.summary.failed);
        }
        t.add_row(cells);
    }
    if reports.len() > 1 {
        t.add_row(row("total", "", &total(reports), String::new()));
    }
    println!("{t}");
    for r in reports {
        if let Some(q) = &r.quarantined {
            println!("{}/{}: {q}", r.connection, r.channel);
        }
        if let Some(e) = &r.summary.error {
            println!("{}/{}: {e}", r.connection, r.channel);
        }
        for w in &r.warnings {
            println!("{}/{}: warning: {w}", r.connection, r.channel);
        }
        for (user, error) in &r.failures {
            println!("{}/{}: user {user} failed: {error} (marked dirty; retried next cycle)", r.connection, r.channel);
        }
    }
}

fn run_cycle(engine: &Engine, options: &CycleOptions) -> Result<Vec<ChannelReport>, CliError> {
    let store = match &engine.leases {
        Some(_) => open_node_store(engine)?,
        None => open_store(engine)?,
    };
    report_problems(&crate::check::for_engine(engine, Some(&store)))?;
    let audit = if options.dry_run {
        Audit::disabled()
    } else {
        Audit::open(&engine.config.engine.audit_log, engine.redactor.clone()).map_err(|e| {
            CliError::User(format!("cannot open the audit log {}: {e}", engine.config.engine.audit_log.display()))
        })?
    };
    Ok(engine.cycle(&store, &audit, options))
}

/// Failover: the store as a node opens it (shared run lock; a session
/// paused inside a transaction for longer than the lease TTL is ended by
/// the server, so it cannot hold the lease row against a take-over).
fn open_node_store(engine: &Engine) -> Result<StateStore, CliError> {
    let settings = engine.config.cluster_settings(None).ok().flatten();
    let ttl = settings.map(|s| s.lease_ttl()).unwrap_or(Duration::from_secs(300));
    match engine.config.store_config().map_err(CliError::User)? {
        provisio_state::StoreConfig::Postgres(pg) => StateStore::open_postgres_node(&pg, ttl).map_err(CliError::from),
        provisio_state::StoreConfig::Sqlite(_) => open_store(engine),
    }
}

/// Failover: start this node (register, first leases, heartbeats) for the
/// channels `channel` selects; `None` when standalone.
fn start_node(
    engine: &Engine,
    node_id: Option<&str>,
    channel: Option<&str>,
) -> Result<Option<crate::node::Node>, CliError> {
    let Some(settings) = engine.config.cluster_settings(node_id).map_err(CliError::User)? else { return Ok(None) };
    let provisio_state::StoreConfig::Postgres(pg) = engine.config.store_config().map_err(CliError::User)? else {
        return Ok(None);
    };
    // Migrate first: the node's session checks the schema version.
    drop(StateStore::open_postgres_node(&pg, settings.lease_ttl())?);
    let channels: Vec<(String, String)> = engine
        .config
        .connections
        .iter()
        .filter(|c| c.active)
        .flat_map(|c| c.channels.iter().filter(|ch| ch.active).map(move |ch| (c.name.clone(), ch.name.clone())))
        .filter(|(c, ch)| channel.is_none_or(|sel| sel == ch || sel == format!("{c}/{ch}")))
        .collect();
    crate::node::Node::start(settings, &pg, channels).map(Some).map_err(CliError::User)
}

pub fn sync(
    global: &GlobalArgs,
    once: bool,
    channel: Option<String>,
    listen: Option<&str>,
    node_id: Option<&str>,
) -> Result<(), CliError> {
    let mut engine = engine(global)?;
    engine.observe(Arc::new(Console::new(std::io::stderr().is_terminal())));
    engine.stop_on_signals();
    let node = start_node(&engine, node_id, channel.as_deref())?.map(Arc::new);
    engine.leases = node.clone().map(|node| node as Arc<dyn provisio_engine::Leases>);
    let result = sync_loop(&engine, node.as_deref(), once, channel, listen);
    engine.leases = None;
    if let Some(node) = node.and_then(Arc::into_inner) {
        node.stop();
    }
    result
}

fn sync_loop(
    engine: &Engine,
    node: Option<&crate::node::Node>,
    once: bool,
    channel: Option<String>,
    listen: Option<&str>,
) -> Result<(), CliError> {
    use crate::logging::notice;
    let options = CycleOptions { channel, ..CycleOptions::default() };
    let frequency = Duration::from_secs(engine.config.engine.synchronization_frequency);
    // A long-running sync serves health, metrics and the status page when
    // asked to (`--listen` or `[engine.service]`); dropping it stops it.
    let service = if once {
        None
    } else {
        crate::service::Service::start(&engine.config, &engine.redactor, listen).map_err(CliError::User)?
    };
    if let (Some(service), Some(node)) = (&service, node) {
        service.set_node(node.view());
    }
    loop {
        let reports = run_cycle(engine, &options)?;
        if let Some(service) = &service {
            let next = (!once && !shutdown::requested()).then(|| std::time::SystemTime::now() + frequency);
            service.record_cycle(&reports, next);
        }
        if crate::logging::is_json() {
            crate::logging::cycle_report(&reports);
        } else {
            print_summary(&reports);
        }
        if shutdown::requested() {
            notice("provisio: stopped cleanly; the state is saved");
            return Ok(());
        }
        if once {
            return cycle_outcome(&reports);
        }
        notice(&format!("next cycle in {} s (Ctrl-C or SIGTERM stops)", frequency.as_secs()));
        let wake = std::time::Instant::now() + frequency;
        while std::time::Instant::now() < wake {
            if shutdown::requested() {
                notice("provisio: stopped cleanly between cycles");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

pub fn plan(global: &GlobalArgs, channel: Option<String>, json: bool) -> Result<(), CliError> {
    let engine = engine(global)?;
    // Read the state without locking or writing it; with no state yet, plan
    // against an empty store in a scratch directory.
    let scratch = tempfile::tempdir().map_err(|e| CliError::User(format!("cannot create a scratch directory: {e}")))?;
    let store = match engine.config.open_store_read_only() {
        Ok(store) => store,
        Err(provisio_state::StateError::NotFound { .. }) => StateStore::open(&scratch.path().join("plan.db"))?,
        Err(e) => return Err(CliError::User(e.to_string())),
    };
    report_problems(&crate::check::for_engine(&engine, Some(&store)))?;
    let options = CycleOptions { dry_run: true, channel, ..CycleOptions::default() };
    let reports = engine.cycle(&store, &Audit::disabled(), &options);
    if json {
        let v: Vec<_> = reports
            .iter()
            .map(|r| serde_json::json!({"connection": r.connection, "channel": r.channel, "error": r.summary.error, "users": r.plan}))
            .collect();
        print_json(&serde_json::json!({ "plan": v }))?;
    } else {
        for r in &reports {
            println!("{}/{}", r.connection, r.channel);
            if let Some(e) = &r.summary.error {
                println!("  {e}");
                continue;
            }
            let mut t = table(["USER", "ACTION", "WHY"]);
            for row in r.plan.iter().filter(|row| row.action != "none") {
                t.add_row([row.user.clone(), row.action.clone(), row.why.clone()]);
            }
            let unchanged = r.plan.iter().filter(|row| row.action == "none").count();
            println!("{t}");
            println!("  {unchanged} user(s) already in step; nothing was written to the target or the state.");
        }
    }
    match reports.iter().filter(|r| r.summary.error.is_some()).count() {
        0 => Ok(()),
        n => Err(CliError::ChannelNotRun(format!("{n} channel(s) could not be planned (see above)"))),
    }
}

pub fn provision(global: &GlobalArgs, user: &str) -> Result<(), CliError> {
    let engine = engine(global)?;
    // Find the user in the sources: by GUID, DN or Unique User Identifier
    // value. Each source is read once; the cycles below use what was found.
    let mut found = std::collections::BTreeMap::new();
    for conn in &engine.config.connections {
        for ch in &conn.channels {
            println!("step 1, scope: reading {}/{}", conn.name, ch.name);
            let u = provisio_engine::source::find_user(&ch.source, user).map_err(CliError::User)?;
            if let Some(u) = &u {
                println!("  found {} (GUID {}), {:?} in the source", u.dn, u.guid, u.status);
            }
            found.insert(format!("{}/{}", conn.name, ch.name), u);
        }
    }
    let in_scope = found.values().any(Option::is_some);
    let guid = match found.values().flatten().last() {
        Some(u) => u.guid.clone(),
        None => {
            println!(
                "  '{user}' is not in any channel's scope: it would be deprovisioned if it was provisioned before"
            );
            user.to_owned()
        }
    };
    // A channel whose match is another user (by another value) reads its
    // source again for this GUID; the others reuse the read.
    found.retain(|_, u| u.as_ref().is_none_or(|u| u.guid == guid));
    let user_read = Some(std::sync::Arc::new(found));
    println!("step 2, mapping, match and action:");
    let plan = {
        let store = open_store(&engine)?;
        let options = CycleOptions {
            dry_run: true,
            user: Some(guid.clone()),
            user_read: user_read.clone(),
            ..CycleOptions::default()
        };
        engine.cycle(&store, &Audit::disabled(), &options)
    };
    for r in &plan {
        for row in &r.plan {
            println!("  {}/{}: {} → {} ({})", r.connection, r.channel, row.user, row.action, row.why);
        }
    }
    println!("step 3, result:");
    let reports = run_cycle(&engine, &CycleOptions { user: Some(guid), user_read, ..CycleOptions::default() })?;
    print_summary(&reports);
    cycle_outcome(&reports)?;
    let t = total(&reports);
    if !in_scope && t.disabled + t.deleted == 0 {
        return Err(CliError::NotFound(format!(
            "'{user}' is not in any channel's scope, and no channel had provisioned it: nothing to do"
        )));
    }
    Ok(())
}

pub fn channels(global: &GlobalArgs, cmd: &ChannelsCommand) -> Result<(), CliError> {
    match cmd {
        ChannelsCommand::List { json } => {
            let config = load_config(global)?;
            let store = config.open_store_read_only()?;
            let summaries = store.channel_summaries()?;
            if *json {
                print_json(&serde_json::to_value(&summaries).unwrap_or_default())?;
                return Ok(());
            }
            let mut t =
                table(["CONNECTION", "CHANNEL", "STATUS", "USERS", "DIRTY", "HELD", "LAST CYCLE", "LAST ERROR"]);
            for s in &summaries {
                t.add_row(super::channels_row(s));
            }
            println!("{t}");
            Ok(())
        }
        ChannelsCommand::Reset { channel } => {
            let config = load_config(global)?;
            let store = config.open_store()?;
            let (conn, ch) = resolve_channel(&config, channel)?;
            let existed = store.reset_channel(&conn, &ch)?;
            if existed {
                println!(
                    "{conn}/{ch}: state forgotten; the next cycle behaves as the first (existing accounts are linked)"
                );
            } else {
                println!("{conn}/{ch}: had no state");
            }
            Ok(())
        }
        ChannelsCommand::Approve { channel } => {
            let config = load_config(global)?;
            let store = config.open_store()?;
            let (conn, ch) = resolve_channel(&config, channel)?;
            let key = store
                .find_channel(&conn, &ch)
                .map_err(|e| CliError::User(e.to_string()))?
                .ok_or_else(|| CliError::User(format!("{conn}/{ch} has no state yet; nothing is held")))?;
            let held = store.held(key)?;
            let held_groups = store.held_groups(key)?;
            if held.is_empty() && held_groups.is_empty() {
                println!("{conn}/{ch}: no deprovision or group deletion is held");
                return Ok(());
            }
            store.approve_held(key, provisio_engine::audit::now_unix())?;
            let some = |names: Vec<&str>, total: usize| {
                let more = if total > names.len() { ", ..." } else { "" };
                format!("{}{more}", names.join(", "))
            };
            let mut approved = Vec::new();
            if !held.is_empty() {
                let names = held.iter().take(10).map(|h| h.unique_id.as_str()).collect();
                approved.push(format!("{} held deprovision(s) approved ({})", held.len(), some(names, held.len())));
            }
            if !held_groups.is_empty() {
                let names = held_groups.iter().take(10).map(|g| g.name.as_str()).collect();
                approved.push(format!(
                    "{} held group deletion(s) approved ({})",
                    held_groups.len(),
                    some(names, held_groups.len())
                ));
            }
            println!("{conn}/{ch}: {}; the next cycle executes those that still apply", approved.join("; "));
            Ok(())
        }
        ChannelsCommand::Retry { channel } => {
            // Reset the retry schedule of the dirty records, then run a cycle.
            let config = load_config(global)?;
            {
                let store = config.open_store()?;
                let selected: Vec<(String, String)> = match channel {
                    Some(sel) => vec![resolve_channel(&config, sel)?],
                    None => config
                        .connections
                        .iter()
                        .flat_map(|c| c.channels.iter().map(move |ch| (c.name.clone(), ch.name.clone())))
                        .collect(),
                };
                for (conn, ch) in selected {
                    if let Some(key) = store.find_channel(&conn, &ch)? {
                        let n = store.reset_attempts(key)?;
                        println!("{conn}/{ch}: {n} dirty record(s) to retry now");
                    }
                }
            }
            if config.is_failover() {
                println!("failover: the node holding each channel retries these at its next cycle");
                return Ok(());
            }
            sync(global, true, channel.clone(), None, None)
        }
    }
}

fn resolve_channel(config: &Config, sel: &str) -> Result<(String, String), CliError> {
    let matches: Vec<(String, String)> = config
        .connections
        .iter()
        .flat_map(|c| c.channels.iter().map(move |ch| (c.name.clone(), ch.name.clone())))
        .filter(|(c, ch)| sel == ch || *sel == format!("{c}/{ch}"))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError::NotFound(format!("no channel '{sel}' in {}", config.file.display()))),
        _ => Err(CliError::Config(format!("'{sel}' names several channels; use connection/channel"))),
    }
}
