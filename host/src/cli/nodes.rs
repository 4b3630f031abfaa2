//! `provisio nodes`: the failover nodes sharing the PostgreSQL store.
//!
//! - `nodes list` shows each node's id, status (`active`: runs channels;
//!   `standby`: live, runs none; `backup`: put in backup; `dead`: no
//!   heartbeat for the grace period, or stopped), last heartbeat, and the
//!   channels whose lease it holds. `--json` for scripts.
//! - `nodes backup --node ID` puts a node in backup: at its next heartbeat
//!   it gives back every lease not in the middle of a cycle (the others
//!   once their cycle ends) and takes no new one; the other nodes take its
//!   channels over at once. `nodes activate --node ID` brings it back.
//!
//! The nodes' table lives in the store; these commands need neither the
//! run lock nor a running node, and work from any machine that reaches the
//! database. Times are the database server's.

use clap::Subcommand;
use provisio_config::Config;
use provisio_state::StoreConfig;
use provisio_state::cluster;

use super::CliError;
use super::engine::load_config;
use super::output::{out, print_json, table};

#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// Nodes, their status, last heartbeat and the channels each holds.
    List {
        /// Print the nodes as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put a node in backup (stand-by): it releases its leases at its next
    /// heartbeat and takes no new ones.
    Backup {
        /// The node's id.
        #[arg(long, value_name = "ID")]
        node: String,
    },
    /// Make a node in backup active again.
    Activate {
        /// The node's id.
        #[arg(long, value_name = "ID")]
        node: String,
    },
}

fn user(e: impl ToString) -> CliError {
    CliError::User(e.to_string())
}

fn pg(config: &Config) -> Result<provisio_state::PgConfig, CliError> {
    match config.store_config().map_err(CliError::User)? {
        StoreConfig::Postgres(pg) => Ok(pg),
        StoreConfig::Sqlite(_) => Err(CliError::User(
            "provisio nodes needs the shared PostgreSQL state store of failover: set [engine.state_store] kind = \"postgres\" and [engine.cluster] mode = \"failover\" (a SQLite store has one node)".into(),
        )),
    }
}

pub fn run(global: &super::GlobalArgs, cmd: &NodesCommand) -> Result<(), CliError> {
    let config = load_config(global)?;
    let pg = pg(&config)?;
    match cmd {
        NodesCommand::List { json } => list(&config, &pg, *json),
        NodesCommand::Backup { node } => set(&pg, node, true),
        NodesCommand::Activate { node } => set(&pg, node, false),
    }
}

fn list(config: &Config, pg: &provisio_state::PgConfig, json: bool) -> Result<(), CliError> {
    let grace = config.grace_period();
    let nodes = cluster::list_nodes(pg, grace).map_err(user)?;
    if json {
        print_json(&serde_json::json!({ "grace_period_seconds": grace.as_secs(), "nodes": nodes }))?;
        return Ok(());
    }
    if nodes.is_empty() {
        out!("no node has registered yet (a `provisio sync` with [engine.cluster] mode = \"failover\" registers)")?;
        return Ok(());
    }
    let mut t = table(["NODE", "STATUS", "LAST HEARTBEAT", "PROCESS", "CHANNELS"]);
    for n in &nodes {
        t.add_row([
            n.node_id.clone(),
            n.status.clone(),
            format!("{} ({:.1} s ago)", utc(n.last_heartbeat_ms), n.heartbeat_age_ms as f64 / 1000.0),
            match (&n.host, n.pid) {
                (Some(h), Some(p)) if !h.is_empty() => format!("pid {p} on {h}"),
                (_, Some(p)) => format!("pid {p}"),
                _ => String::new(),
            },
            n.channels.join(", "),
        ]);
    }
    out!("{t}")?;
    out!("grace period {} s: a node silent that long is dead and its channels move to the others", grace.as_secs())?;
    Ok(())
}

fn set(pg: &provisio_state::PgConfig, node: &str, backup: bool) -> Result<(), CliError> {
    if !cluster::set_node_backup(pg, node, backup).map_err(user)? {
        return Err(CliError::NotFound(format!(
            "no node '{node}' has registered; `provisio nodes list` shows the nodes"
        )));
    }
    if backup {
        out!(
            "node '{node}' is in backup: it releases its channels at its next heartbeat and takes no new ones; `provisio nodes activate --node {node}` brings it back"
        )?;
    } else {
        out!("node '{node}' is active again: it takes channels at its next heartbeat")?;
    }
    Ok(())
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC; times before 1970 as 1970).
fn utc(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::utc(1_700_000_000_500), "2023-11-14T22:13:20Z");
    }
}
