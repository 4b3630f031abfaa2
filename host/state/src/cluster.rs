//! Failover: the nodes sharing one PostgreSQL store and their per-channel
//! leases (schema version 5, tables `nodes` and `leases`).
//!
//! A node registers under its id ([`Cluster::register`]), then heartbeats
//! ([`Cluster::heartbeat`]): one transaction that stamps its row, renews
//! the leases it holds (each by its fencing token: a lease taken over
//! since is lost, not renewed), and reads which nodes are live and active.
//! It takes a channel with [`Cluster::acquire`] only when the lease is free
//! or its holder has not renewed it for the grace period; each take-over
//! increments the lease's fencing token. State writes of a channel verify
//! that token in their own transaction ([`crate::Fence`]).
//!
//! Every time is in milliseconds of the **database server's clock**
//! (`NOW_MS`), so the nodes' clocks need not agree; a node's local lease
//! deadline uses its own monotonic clock and only assumes that clocks run
//! at about the same rate over a grace period.
//!
//! Which node should hold which channel is [`assign`] (rendezvous hashing
//! over the live active nodes). `docs/failover.md` has the decisions.

use std::time::Duration;

use crate::error::StateError;
use crate::pg::{PgConfig, PgConn};
use crate::query::Value;

/// The database server's clock, in Unix milliseconds.
pub(crate) const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint";

/// How long a cluster statement waits for a row another session holds (a
/// node paused inside a write transaction) before giving up this time.
const LOCK_TIMEOUT_MS: u64 = 2_000;

/// A lease as a node holds it: `(connection, channel, token)`.
pub type HeldLease = (String, String, i64);

/// What a heartbeat found.
#[derive(Debug, Clone, Default)]
pub struct Beat {
    /// Another process registered under this node id since (this process
    /// must stop using it).
    pub replaced: bool,
    /// The node was put in backup (`provisio nodes backup`).
    pub backup: bool,
    /// Leases renewed (same token).
    pub renewed: Vec<HeldLease>,
    /// Leases not renewed: taken over by another node, or released.
    pub lost: Vec<HeldLease>,
    /// Live (heartbeat within the grace period) active nodes, sorted.
    pub live: Vec<String>,
}

/// One node as `provisio nodes list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeInfo {
    /// The node id.
    pub node_id: String,
    /// `active` (holds channels), `standby` (live, holds none), `backup`
    /// (put in backup), `dead` (no heartbeat for the grace period, or
    /// stopped).
    pub status: String,
    /// Unix milliseconds (server clock) of the last heartbeat.
    pub last_heartbeat_ms: i64,
    /// Milliseconds since, on the server's clock.
    pub heartbeat_age_ms: i64,
    /// Process id and host of the node's process.
    pub pid: Option<i64>,
    /// The host name the node reported.
    pub host: Option<String>,
    /// `connection/channel` of every lease the node holds (renewed within
    /// the grace period).
    pub channels: Vec<String>,
}

/// A node's session for heartbeats and leases (its own PostgreSQL session,
/// beside the engine's). It holds the shared form of the run lock for its
/// lifetime: a standalone run or a CLI write is refused while nodes run.
#[derive(Debug)]
pub struct Cluster {
    conn: PgConn,
    node_id: String,
    instance: String,
    grace_ms: i64,
}

impl Cluster {
    /// Connect as node `node_id` (the store must exist at this binary's
    /// schema version: run a cycle or `state info` first migrates it).
    pub fn connect(config: &PgConfig, node_id: &str, grace: Duration) -> Result<Cluster, StateError> {
        let grace_ms = grace.as_millis() as i64;
        let conn = Self::session(config, grace_ms)?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let instance = format!("{}-{nanos:x}", std::process::id());
        Ok(Cluster { conn, node_id: node_id.to_owned(), instance, grace_ms })
    }

    /// A new session for the same node and process (after the server ended
    /// the old one, e.g. when the process was paused inside a heartbeat).
    pub fn reconnect(&mut self, config: &PgConfig) -> Result<(), StateError> {
        self.conn = Self::session(config, self.grace_ms)?;
        Ok(())
    }

    /// A session: schema checked, the shared run lock, short lock waits,
    /// and a transaction left open (the process paused inside a heartbeat)
    /// ended by the server after half the grace period, so that its row
    /// locks cannot block the node taking over.
    fn session(config: &PgConfig, grace_ms: i64) -> Result<PgConn, StateError> {
        let conn = PgConn::connect(config)?;
        crate::pg::schema::check_readable(&conn)?;
        conn.batch(&format!(
            "SET lock_timeout = {LOCK_TIMEOUT_MS}; SET idle_in_transaction_session_timeout = {}",
            (grace_ms / 2).max(1)
        ))?;
        crate::pg::schema::take_run_lock(&conn, true)?;
        Ok(conn)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Register this process as the node: `Ok(None)` when done, or
    /// `Ok(Some(why))` when a live process (heartbeat within the grace
    /// period) still uses the id; the caller waits and tries again. A new
    /// node starts active; a known one keeps its status (backup stays
    /// backup across restarts).
    pub fn register(&self, host: &str) -> Result<Option<String>, StateError> {
        let (node, instance, grace, host) =
            (self.node_id.clone(), self.instance.clone(), self.grace_ms, host.to_owned());
        self.conn.call(move |s| {
            let mut tx = s.client.transaction().map_err(crate::pg::db_error)?;
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT instance, pid, host, {NOW_MS} - heartbeat_at FROM nodes WHERE node_id = $1 FOR UPDATE"
                    ),
                    &[&node],
                )
                .map_err(crate::pg::db_error)?;
            if let Some(row) = row {
                let other: Option<String> = row.get(0);
                let age: i64 = row.get(3);
                if other.as_deref().is_some_and(|o| o != instance) && age < grace {
                    let pid: Option<i64> = row.get(1);
                    let h: Option<String> = row.get(2);
                    return Ok(Some(format!(
                        "node id '{node}' is in use by a live process (pid {}, host {}, heartbeat {} ms ago)",
                        pid.unwrap_or(0),
                        h.unwrap_or_default(),
                        age
                    )));
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO nodes (node_id, status, instance, pid, host, heartbeat_at, started_at)
                     VALUES ($1, 'active', $2, $3, $4, {NOW_MS}, {NOW_MS})
                     ON CONFLICT (node_id) DO UPDATE SET instance = excluded.instance, pid = excluded.pid,
                         host = excluded.host, heartbeat_at = excluded.heartbeat_at, started_at = excluded.started_at"
                ),
                &[&node, &instance, &i64::from(std::process::id()), &host],
            )
            .map_err(crate::pg::db_error)?;
            tx.commit().map_err(crate::pg::db_error)?;
            Ok(None)
        })
    }

    /// Heartbeat: stamp the node's row, renew `held` (by token), read the
    /// node's status and the live active nodes; one transaction.
    pub fn heartbeat(&self, held: &[HeldLease]) -> Result<Beat, StateError> {
        let (node, instance, grace, held) = (self.node_id.clone(), self.instance.clone(), self.grace_ms, held.to_vec());
        self.conn.call(move |s| {
            let mut tx = s.client.transaction().map_err(crate::pg::db_error)?;
            let mut beat = Beat::default();
            let status = tx
                .query_opt(
                    &format!(
                        "UPDATE nodes SET heartbeat_at = {NOW_MS} WHERE node_id = $1 AND instance = $2 RETURNING status"
                    ),
                    &[&node, &instance],
                )
                .map_err(crate::pg::db_error)?;
            let Some(status) = status else {
                beat.replaced = true;
                beat.lost = held;
                return Ok(beat);
            };
            beat.backup = status.get::<_, String>(0) == "backup";
            for lease in held {
                let n = tx
                    .execute(
                        &format!(
                            "UPDATE leases SET renewed_at = {NOW_MS}
                             WHERE connection = $1 AND channel = $2 AND node_id = $3 AND token = $4"
                        ),
                        &[&lease.0, &lease.1, &node, &lease.2],
                    )
                    .map_err(crate::pg::db_error)?;
                if n == 1 { beat.renewed.push(lease) } else { beat.lost.push(lease) }
            }
            let rows = tx
                .query(
                    &format!(
                        "SELECT node_id FROM nodes WHERE status = 'active' AND instance IS NOT NULL
                         AND heartbeat_at >= {NOW_MS} - $1 ORDER BY node_id"
                    ),
                    &[&grace],
                )
                .map_err(crate::pg::db_error)?;
            beat.live = rows.iter().map(|r| r.get(0)).collect();
            tx.commit().map_err(crate::pg::db_error)?;
            Ok(beat)
        })
    }

    /// Take the lease of a channel if it is free or its holder has not
    /// renewed it for the grace period; the new fencing token, or `None`.
    pub fn acquire(&self, connection: &str, channel: &str) -> Result<Option<i64>, StateError> {
        let rows = self.conn.query(
            &format!(
                "INSERT INTO leases (connection, channel, node_id, token, renewed_at) VALUES (?1, ?2, ?3, 1, {NOW_MS})
                 ON CONFLICT (connection, channel) DO UPDATE SET
                     node_id = excluded.node_id, token = leases.token + 1, renewed_at = excluded.renewed_at
                 WHERE leases.node_id IS NULL OR leases.renewed_at < excluded.renewed_at - ?4
                 RETURNING token"
            ),
            &[
                Value::Text(connection.into()),
                Value::Text(channel.into()),
                Value::Text(self.node_id.clone().into()),
                Value::Int(self.grace_ms),
            ],
        )?;
        rows.into_iter().next().map(|row| row.get(0)).transpose()
    }

    /// Give a lease back (free for any node at once).
    pub fn release(&self, lease: &HeldLease) -> Result<(), StateError> {
        self.conn.exec(
            &format!(
                "UPDATE leases SET node_id = NULL, renewed_at = {NOW_MS}
                 WHERE connection = ?1 AND channel = ?2 AND node_id = ?3 AND token = ?4"
            ),
            &[
                Value::Text(lease.0.clone().into()),
                Value::Text(lease.1.clone().into()),
                Value::Text(self.node_id.clone().into()),
                Value::Int(lease.2),
            ],
        )?;
        Ok(())
    }

    /// A clean stop: the node's row says stopped (no process), so the id
    /// can be used again at once and the node shows as dead.
    pub fn stop(&self) -> Result<(), StateError> {
        self.conn.exec(
            "UPDATE nodes SET instance = NULL WHERE node_id = ?1 AND instance = ?2",
            &[Value::Text(self.node_id.clone().into()), Value::Text(self.instance.clone().into())],
        )?;
        Ok(())
    }
}

/// Every node with its status and channels (`provisio nodes list`).
pub fn list_nodes(config: &PgConfig, grace: Duration) -> Result<Vec<NodeInfo>, StateError> {
    let conn = PgConn::connect(config)?;
    match crate::pg::schema::check_readable(&conn) {
        // No store yet, or one a node of this version is migrating right
        // now: no node of this version has registered.
        Err(StateError::NotFound { .. } | StateError::NeedsMigration { .. }) => return Ok(Vec::new()),
        other => other?,
    };
    let grace_ms = grace.as_millis() as i64;
    let leases = conn.query(
        &format!(
            "SELECT node_id, connection || '/' || channel FROM leases
             WHERE node_id IS NOT NULL AND renewed_at >= {NOW_MS} - ?1 ORDER BY connection, channel"
        ),
        &[Value::Int(grace_ms)],
    )?;
    let mut held: Vec<(String, String)> = Vec::new();
    for row in leases {
        held.push((row.get(0)?, row.get(1)?));
    }
    let rows = conn.query(
        &format!(
            "SELECT node_id, status, instance IS NOT NULL, heartbeat_at, {NOW_MS} - heartbeat_at, pid, host
             FROM nodes ORDER BY node_id"
        ),
        &[],
    )?;
    let mut nodes = Vec::new();
    for row in rows {
        let node_id: String = row.get(0)?;
        let stored: String = row.get(1)?;
        let running: bool = row.get(2)?;
        let last: i64 = row.get(3)?;
        let age: i64 = row.get(4)?;
        let channels: Vec<String> = held.iter().filter(|(n, _)| *n == node_id).map(|(_, c)| c.clone()).collect();
        let status = if !running || age >= grace_ms {
            "dead"
        } else if stored == "backup" {
            "backup"
        } else if channels.is_empty() {
            "standby"
        } else {
            "active"
        };
        nodes.push(NodeInfo {
            node_id,
            status: status.to_owned(),
            last_heartbeat_ms: last,
            heartbeat_age_ms: age,
            pid: row.get(5)?,
            host: row.get(6)?,
            channels,
        });
    }
    Ok(nodes)
}

/// Put a node in backup (`backup = true`) or back to active; `false` if no
/// node has that id.
pub fn set_node_backup(config: &PgConfig, node_id: &str, backup: bool) -> Result<bool, StateError> {
    let conn = PgConn::connect(config)?;
    crate::pg::schema::check_readable(&conn)?;
    let status = if backup { "backup" } else { "active" };
    let n = conn.exec(
        "UPDATE nodes SET status = ?1 WHERE node_id = ?2",
        &[Value::Text(status.into()), Value::Text(node_id.to_owned().into())],
    )?;
    Ok(n > 0)
}

/// The node that should hold `channel` (`connection/channel`) among the
/// live active `nodes`: rendezvous (highest random weight) hashing, so
/// every node computes the same answer from the same list, channels spread
/// evenly, and a node joining or leaving moves only the channels it gains
/// or loses. Ties (never in practice) go to the lowest id.
pub fn assign<'n>(channel: &str, nodes: &'n [String]) -> Option<&'n str> {
    nodes
        .iter()
        .map(|n| (weight(n, channel), n))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, n)| n.as_str())
}

/// FNV-1a 64 of `node`, a NUL and `channel`, then mixed (splitmix64's
/// finaliser) so that similar names spread: stable across builds and
/// platforms, unlike std's hasher.
fn weight(node: &str, channel: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain([0]).chain(channel.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_deterministic_and_spreads() {
        let nodes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let channels: Vec<String> = (0..300).map(|i| format!("conn/ch{i}")).collect();
        let mut counts = std::collections::HashMap::new();
        for ch in &channels {
            let owner = assign(ch, &nodes).unwrap();
            assert_eq!(Some(owner), assign(ch, &nodes));
            *counts.entry(owner).or_insert(0) += 1;
        }
        for n in ["a", "b", "c"] {
            assert!(counts[n] > 60, "{counts:?}");
        }
        // Removing a node moves only its channels.
        let two: Vec<String> = ["a", "c"].iter().map(|s| s.to_string()).collect();
        for ch in &channels {
            let before = assign(ch, &nodes).unwrap();
            if before != "b" {
                assert_eq!(assign(ch, &two), Some(before));
            }
        }
        assert_eq!(assign("x/y", &[]), None);
    }
}
