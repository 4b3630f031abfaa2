//! `[engine.cluster]`: standalone (the default) or failover between nodes
//! sharing one PostgreSQL state store.
//!
//! ```toml
//! [engine.cluster]
//! mode = "failover"            # "standalone" (default) | "failover"
//! node_id = "node-a"           # required with failover (or `sync --node-id`)
//! heartbeat_interval = 10      # seconds between heartbeats (default 10)
//! grace_period = 600           # seconds without a heartbeat before another
//!                              # node takes a channel over (default 600)
//! ```
//!
//! The lease time-to-live (how long a node keeps writing after its last
//! successful renewal) is half the grace period; see `docs/failover.md`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::Config;
use super::store::StoreKind;

/// `mode` of `[engine.cluster]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterMode {
    /// One node; the store's run lock keeps others out.
    #[default]
    Standalone,
    /// Several nodes on one PostgreSQL store, channels under leases.
    Failover,
}

/// `[engine.cluster]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// `"standalone"` (default) or `"failover"`.
    #[serde(default)]
    pub mode: ClusterMode,
    /// This node's id (unique among the nodes sharing the store).
    #[serde(default)]
    pub node_id: Option<String>,
    /// Seconds between heartbeats (default 10).
    #[serde(default)]
    pub heartbeat_interval: Option<u64>,
    /// Seconds without a heartbeat before another node takes over (default 600).
    #[serde(default)]
    pub grace_period: Option<u64>,
}

/// Default `heartbeat_interval`, seconds.
pub const DEFAULT_HEARTBEAT: u64 = 10;
/// Default `grace_period`, seconds (PingFederate's default).
pub const DEFAULT_GRACE: u64 = 600;

/// The checked failover settings of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    pub node_id: String,
    pub heartbeat: Duration,
    pub grace: Duration,
}

impl ClusterSettings {
    /// How long a node keeps writing after the start of its last
    /// successful renewal: half the grace period, so the old holder's
    /// deadline passes long before another node may take over.
    pub fn lease_ttl(&self) -> Duration {
        self.grace / 2
    }
}

impl Config {
    /// Whether `[engine.cluster] mode = "failover"`.
    pub fn is_failover(&self) -> bool {
        self.engine.cluster.as_ref().is_some_and(|c| c.mode == ClusterMode::Failover)
    }

    /// The grace period configured (default when none), for `nodes list`.
    pub fn grace_period(&self) -> Duration {
        Duration::from_secs(self.engine.cluster.as_ref().and_then(|c| c.grace_period).unwrap_or(DEFAULT_GRACE))
    }

    /// The failover settings (`None`: standalone), `node_id` overridden by
    /// `--node-id`; a message naming the key to fix otherwise. `sync` and
    /// `config check` judge the file with the same [`Config::cluster_problems`].
    pub fn cluster_settings(&self, node_id: Option<&str>) -> Result<Option<ClusterSettings>, String> {
        let Some(c) = self.engine.cluster.as_ref().filter(|c| c.mode == ClusterMode::Failover) else {
            if node_id.is_some() {
                return Err("--node-id is given but [engine.cluster] mode is not \"failover\"; set mode = \"failover\" (with a PostgreSQL state store) or drop --node-id".into());
            }
            return Ok(None);
        };
        // `--node-id` replaces the file's.
        if let Some(problem) = self.cluster_problems().into_iter().find(|p| node_id.is_none() || p.key != "node_id") {
            return Err(problem.message);
        }
        let id = node_id.map(str::to_owned).or_else(|| c.node_id.clone()).unwrap_or_default();
        let id = id.trim().to_owned();
        if id.is_empty() {
            return Err("[engine.cluster] node_id is missing: with mode = \"failover\" every node needs its own id, e.g. node_id = \"node-a\" (or pass --node-id)".into());
        }
        check_node_id(&id).map_err(|p| p.message)?;
        let (heartbeat, grace) = timings(c).map_err(|p| p.message)?;
        Ok(Some(ClusterSettings { node_id: id, heartbeat, grace }))
    }

    /// Every problem of `[engine.cluster]` as the file stands, each with
    /// the key to fix: what `config check` reports and `sync` refuses. A
    /// missing `node_id` is not one (`sync --node-id` may give it).
    pub fn cluster_problems(&self) -> Vec<ClusterProblem> {
        let Some(c) = self.engine.cluster.as_ref().filter(|c| c.mode == ClusterMode::Failover) else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        if self.engine.state_store.as_ref().is_none_or(|s| s.kind != StoreKind::Postgres) {
            problems.push(ClusterProblem { key: "mode", message: "[engine.cluster] mode = \"failover\" needs a shared PostgreSQL state store: set [engine.state_store] kind = \"postgres\" (the SQLite store serves one node only; use mode = \"standalone\")".into() });
        }
        if let Some(id) = c.node_id.as_deref().map(str::trim).filter(|id| !id.is_empty())
            && let Err(p) = check_node_id(id)
        {
            problems.push(p);
        }
        if let Err(p) = timings(c) {
            problems.push(p);
        }
        problems
    }
}

/// One problem of `[engine.cluster]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterProblem {
    /// The key under `[engine.cluster]` to fix.
    pub key: &'static str,
    pub message: String,
}

fn check_node_id(id: &str) -> Result<(), ClusterProblem> {
    if id.len() > 64 || !id.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
        return Err(ClusterProblem {
            key: "node_id",
            message: format!(
                "[engine.cluster] node_id '{}' is not usable: use up to 64 letters, digits, '-', '_' or '.'",
                id.escape_debug()
            ),
        });
    }
    Ok(())
}

/// The heartbeat interval and grace period, checked: the one rule both
/// `sync` and `config check` apply.
fn timings(c: &ClusterConfig) -> Result<(Duration, Duration), ClusterProblem> {
    let heartbeat = c.heartbeat_interval.unwrap_or(DEFAULT_HEARTBEAT);
    let grace = c.grace_period.unwrap_or(DEFAULT_GRACE);
    if heartbeat == 0 {
        return Err(ClusterProblem {
            key: "heartbeat_interval",
            message: "[engine.cluster] heartbeat_interval must be at least 1 (seconds)".into(),
        });
    }
    if grace < 4 * heartbeat {
        return Err(ClusterProblem {
            key: "grace_period",
            message: format!(
                "[engine.cluster] grace_period ({grace} s) must be at least 4 times heartbeat_interval ({heartbeat} s): a node renews its leases every heartbeat and keeps writing for half the grace period after a renewal; raise grace_period or lower heartbeat_interval"
            ),
        });
    }
    Ok((Duration::from_secs(heartbeat), Duration::from_secs(grace)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load(&path).unwrap()
    }

    const PG: &str =
        "[engine.state_store]\nkind = \"postgres\"\nurl = \"postgres://u@127.0.0.1/db\"\nhash_key_file = \"k\"\n";

    #[test]
    fn failover_on_sqlite_is_refused_naming_the_key() {
        let c = config("[engine.cluster]\nmode = \"failover\"\nnode_id = \"a\"\n");
        let e = c.cluster_settings(None).unwrap_err();
        assert!(e.contains("[engine.cluster] mode = \"failover\"") && e.contains("kind = \"postgres\""), "{e}");
    }

    #[test]
    fn node_id_and_timings_are_checked() {
        let c = config(&format!("{PG}[engine.cluster]\nmode = \"failover\"\n"));
        assert!(c.cluster_settings(None).unwrap_err().contains("node_id is missing"));
        let s = c.cluster_settings(Some("b")).unwrap().unwrap();
        assert_eq!((s.node_id.as_str(), s.grace.as_secs(), s.lease_ttl().as_secs()), ("b", 600, 300));
        let c = config(&format!("{PG}[engine.cluster]\nmode = \"failover\"\nnode_id = \"a b\"\n"));
        assert!(c.cluster_settings(None).unwrap_err().contains("not usable"));
        let c = config(&format!(
            "{PG}[engine.cluster]\nmode = \"failover\"\nnode_id = \"a\"\nheartbeat_interval = 5\ngrace_period = 10\n"
        ));
        assert!(c.cluster_settings(None).unwrap_err().contains("grace_period (10 s) must be at least 4 times"));
        let c = config("");
        assert_eq!(c.cluster_settings(None).unwrap(), None);
        assert!(c.cluster_settings(Some("a")).unwrap_err().contains("--node-id"));
    }
}
