//! The operator commands `config check`, `connections test` and
//! `connections refresh-fields`, and what every engine command shares:
//! reading the configuration, building the [`Engine`] (with the
//! [`Console`] observer), opening the state store, reporting `config check`
//! problems, and the cycle summary table. The cycle commands are in
//! `cycles.rs`, the channel commands in `channels.rs`.
//!
//! Each command reads the configuration, loads the connectors it names,
//! checks the whole configuration (errors stop the command, warnings are
//! printed), and then does its job through the [`Engine`].

use clap::Subcommand;
use provisio_config::Config;
use provisio_engine::report::total;
use provisio_engine::{ChannelReport, Engine};
use provisio_state::StateStore;
use std::path::PathBuf;
use std::sync::Arc;

use super::output::{out, print_json, table};
use super::{CliError, GlobalArgs, load_connectors};
use crate::check::{Problem, Severity};
use crate::observe::Console;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the whole configuration against the connectors' manifests
    /// and the state store, listing every problem with its location.
    Check {
        /// Print the problems as JSON instead of lines.
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
        /// Print each connection's result as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Fetch the target's schema ("Refresh Fields") and record it for the
    /// connection; mappings and `config check` then accept its fields.
    RefreshFields {
        /// The connection whose target is asked for its fields.
        #[arg(long)]
        connection: String,
        /// Print the discovered fields as JSON instead of a table.
        #[arg(long)]
        json: bool,
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

pub(super) fn engine(global: &GlobalArgs) -> Result<Engine, CliError> {
    let config = load_config(global)?;
    let connectors = load_connectors(global)?;
    let mut engine = Engine::new(config, connectors)?;
    engine.observe(Arc::new(Console::new(false)));
    Ok(engine)
}

pub(super) fn open_store(engine: &Engine) -> Result<StateStore, CliError> {
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
pub(super) fn report_problems(problems: &[Problem]) -> Result<(), CliError> {
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
        out!(
            "{}: the configuration is valid ({} connection(s))",
            engine.config.file.display(),
            engine.config.connections.len()
        )?;
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
        out!("{t}")?;
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
    out!("{t}")?;
    for n in &schema.notes {
        out!("note: {n}")?;
    }
    out!("{} field(s) recorded for connection '{name}'; mappings may now use them.", schema.attributes.len())?;
    Ok(())
}

/// The summary table printed at the end of every cycle.
pub fn print_summary(reports: &[ChannelReport]) -> Result<(), CliError> {
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
    out!("{t}")?;
    for r in reports {
        if let Some(q) = &r.quarantined {
            out!("{}/{}: {q}", r.connection, r.channel)?;
        }
        if let Some(e) = &r.summary.error {
            out!("{}/{}: {e}", r.connection, r.channel)?;
        }
        for w in &r.warnings {
            out!("{}/{}: warning: {w}", r.connection, r.channel)?;
        }
        for (user, error) in &r.failures {
            out!("{}/{}: user {user} failed: {error} (marked dirty; retried next cycle)", r.connection, r.channel)?;
        }
    }
    Ok(())
}
