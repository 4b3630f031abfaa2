//! The cycle commands: `sync` (once, or every synchronization_frequency
//! seconds with the service surface and, with failover, as a node), `plan`
//! (a dry run) and `provision --user` (one user, now).

use provisio_engine::audit::Audit;
use provisio_engine::report::total;
use provisio_engine::{ChannelReport, CycleOptions, Engine, shutdown};
use provisio_state::StateStore;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use super::engine::{engine, open_store, print_summary, report_problems};
use super::exit::cycle_outcome;
use super::output::{out, print_json, table};
use super::{CliError, GlobalArgs};
use crate::observe::Console;

pub(super) fn run_cycle(engine: &Engine, options: &CycleOptions) -> Result<Vec<ChannelReport>, CliError> {
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
    // Failover: a node whose every channel another node runs prints one
    // line when it becomes standby, and no empty summary every cycle.
    let mut standby = false;
    loop {
        let reports = run_cycle(engine, &options)?;
        if let Some(service) = &service {
            let next = (!once && !shutdown::requested()).then(|| std::time::SystemTime::now() + frequency);
            service.record_cycle(&reports, next);
        }
        let idle = node.is_some() && reports.is_empty();
        if idle {
            if !standby {
                notice(
                    "provisio: standby: other nodes run every channel; this node takes a channel over if its node stops",
                );
            }
        } else if crate::logging::is_json() {
            crate::logging::cycle_report(&reports);
        } else {
            print_summary(&reports)?;
        }
        let quiet = idle && standby;
        standby = idle;
        if shutdown::requested() {
            notice("provisio: stopped cleanly; the state is saved");
            return Ok(());
        }
        if once {
            return cycle_outcome(&reports);
        }
        if !quiet {
            notice(&format!("next cycle in {} s (Ctrl-C or SIGTERM stops)", frequency.as_secs()));
        }
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
            out!("{}/{}", r.connection, r.channel)?;
            if let Some(e) = &r.summary.error {
                out!("  {e}")?;
                continue;
            }
            let mut t = table(["USER", "ACTION", "WHY"]);
            for row in r.plan.iter().filter(|row| row.action != "none") {
                t.add_row([row.user.clone(), row.action.clone(), row.why.clone()]);
            }
            let unchanged = r.plan.iter().filter(|row| row.action == "none").count();
            out!("{t}")?;
            out!("  {unchanged} user(s) already in step; nothing was written to the target or the state.")?;
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
            out!("step 1, scope: reading {}/{}", conn.name, ch.name)?;
            let u = provisio_engine::source::find_user(&ch.source, user)?;
            if let Some(u) = &u {
                out!("  found {} (GUID {}), {:?} in the source", u.dn, u.guid, u.status)?;
            }
            found.insert(format!("{}/{}", conn.name, ch.name), u);
        }
    }
    let in_scope = found.values().any(Option::is_some);
    let guid = match found.values().flatten().last() {
        Some(u) => u.guid.clone(),
        None => {
            out!("  '{user}' is not in any channel's scope: it would be deprovisioned if it was provisioned before")?;
            user.to_owned()
        }
    };
    // A channel whose match is another user (by another value) reads its
    // source again for this GUID; the others reuse the read.
    found.retain(|_, u| u.as_ref().is_none_or(|u| u.guid == guid));
    let user_read = Some(std::sync::Arc::new(found));
    out!("step 2, mapping, match and action:")?;
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
            out!("  {}/{}: {} → {} ({})", r.connection, r.channel, row.user, row.action, row.why)?;
        }
    }
    out!("step 3, result:")?;
    let reports = run_cycle(&engine, &CycleOptions { user: Some(guid), user_read, ..CycleOptions::default() })?;
    print_summary(&reports)?;
    cycle_outcome(&reports)?;
    let t = total(&reports);
    if !in_scope && t.disabled + t.deleted == 0 {
        return Err(CliError::NotFound(format!(
            "'{user}' is not in any channel's scope, and no channel had provisioned it: nothing to do"
        )));
    }
    Ok(())
}
