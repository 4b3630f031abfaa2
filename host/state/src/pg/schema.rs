//! The PostgreSQL schema, its migrations and the run lock.
//!
//! The same versions as SQLite's ([`crate::schema`]), one script each, in
//! PostgreSQL's types: `BIGSERIAL` ids, `BIGINT` integers (times, counts,
//! ids), `SMALLINT` flags holding 0/1 so that `dirty = 1` reads the same in
//! both dialects. Each migration runs with its `schema_migrations` row in
//! one transaction under `pg_advisory_xact_lock`, so nodes that start at
//! the same time migrate one after the other, and the second finds nothing
//! left to do. A store newer than this binary is refused.
//!
//! The run lock (one run at a time per store, like SQLite's `<path>.lock`)
//! is the session-level advisory lock [`RUN_LOCK`], taken without waiting
//! when a store is opened for writing and released when the session ends
//! (including when the process dies). Failover nodes take its shared form
//! and exclude each other per channel with leases (`cluster.rs`); a
//! standalone writer needs the exclusive form, so the two never mix.

use std::path::PathBuf;

use super::PgConn;
use crate::error::StateError;
use crate::query::{FromValue, Value};

/// The advisory lock key of the run lock ("prov").
pub(crate) const RUN_LOCK: i64 = 0x7072_6f76;
/// The advisory lock key taken around migrations ("prom").
const MIGRATION_LOCK: i64 = 0x7072_6f6d;

/// The migrations in order, with the same versions as SQLite's.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// Version 6: what an unsettled create intent knows (issue 26): `attempts`,
/// how many creates provisio may have sent for the user without learning
/// their outcome, and `checked_at`, since when no create of it is known to
/// be on its way (the intent is cleared only when a lookup a settling time
/// after that still finds no account).
const V6: &str = r#"
ALTER TABLE intents ADD COLUMN attempts BIGINT NOT NULL DEFAULT 1;
ALTER TABLE intents ADD COLUMN checked_at BIGINT;
"#;

/// Version 5: failover's nodes and per-channel leases (`cluster.rs`).
/// Times are milliseconds of the database server's clock.
const V5: &str = r#"
CREATE TABLE nodes (
    node_id      TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    instance     TEXT,
    pid          BIGINT,
    host         TEXT,
    heartbeat_at BIGINT NOT NULL,
    started_at   BIGINT NOT NULL
);
CREATE TABLE leases (
    connection  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    node_id     TEXT,
    token       BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL,
    PRIMARY KEY (connection, channel)
);
"#;
const _: () = assert!(MIGRATIONS.len() == crate::schema::MIGRATIONS.len(), "one PostgreSQL script per SQLite one");

const V1: &str = r#"
CREATE TABLE connections (
    name              TEXT PRIMARY KEY,
    unique_identifier TEXT NOT NULL,
    recorded_at       BIGINT NOT NULL
);
CREATE TABLE channels (
    id          BIGSERIAL PRIMARY KEY,
    connection  TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (connection, name)
);
CREATE TABLE user_state (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid        TEXT NOT NULL,
    target_id   TEXT,
    unique_id   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    status      TEXT NOT NULL,
    dirty       SMALLINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
CREATE INDEX user_state_dirty ON user_state (channel_id, dirty);
CREATE INDEX user_state_unique_id ON user_state (channel_id, unique_id);
CREATE TABLE group_state (
    channel_id    BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid          TEXT NOT NULL,
    target_id     TEXT,
    name          TEXT NOT NULL,
    members_hash  TEXT NOT NULL,
    members       TEXT NOT NULL DEFAULT '[]',
    dirty         SMALLINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
CREATE INDEX group_state_dirty ON group_state (channel_id, dirty);
CREATE TABLE cycles (
    id           BIGSERIAL PRIMARY KEY,
    channel_id   BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    summary      TEXT,
    error        TEXT
);
CREATE INDEX cycles_channel ON cycles (channel_id, id);
CREATE TABLE high_water (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, kind)
);
CREATE TABLE intents (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'create',
    unique_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
"#;

const V2: &str = r#"
CREATE TABLE discovered_fields (
    connection   TEXT PRIMARY KEY,
    fields       TEXT NOT NULL,
    refreshed_at BIGINT NOT NULL
);
"#;

const V3: &str = r#"
CREATE TABLE held_deprovisions (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    guid       TEXT NOT NULL,
    unique_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    held_at    BIGINT NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
CREATE TABLE deprovision_approvals (
    channel_id  BIGINT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    approved_at BIGINT NOT NULL
);
"#;

const V4: &str = r#"
CREATE TABLE channel_health (
    channel_id        BIGINT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    failing_cycles    BIGINT NOT NULL,
    quarantined_until BIGINT,
    reason            TEXT
);
"#;

/// Version 7: group deletions held by the deletion guard.
const V7: &str = r#"
CREATE TABLE held_group_deletions (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    guid       TEXT NOT NULL,
    name       TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    held_at    BIGINT NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
"#;

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version     BIGINT PRIMARY KEY,
    applied_at  BIGINT NOT NULL
)";

fn one<T: FromValue>(conn: &PgConn, sql: &str, params: &[Value]) -> Result<T, StateError> {
    let rows = conn.query(sql, params)?;
    rows.first().ok_or_else(|| StateError::Corrupt(format!("no row from: {sql}")))?.get(0)
}

/// The store's version: 0 for an empty database.
pub(crate) fn version(conn: &PgConn) -> Result<u32, StateError> {
    let exists: bool = one(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?;
    if !exists {
        return Ok(0);
    }
    let v: i64 = one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?;
    Ok(v.clamp(0, i64::from(u32::MAX)) as u32)
}

/// Bring the store up to the newest schema, one transaction per step.
pub(crate) fn migrate(conn: &PgConn, now: i64) -> Result<u32, StateError> {
    migrate_with(conn, MIGRATIONS, now)
}

/// Apply `migrations[v..]` to a store at version `v`.
pub(crate) fn migrate_with(conn: &PgConn, migrations: &[&str], now: i64) -> Result<u32, StateError> {
    let known = migrations.len() as u32;
    let path = PathBuf::from(conn.location());
    loop {
        conn.batch("BEGIN")?;
        let step = (|| {
            conn.exec("SELECT pg_advisory_xact_lock(?1)", &[Value::Int(MIGRATION_LOCK)])?;
            conn.batch(VERSION_TABLE)?;
            let current = version(conn)?;
            if current > known {
                return Err(StateError::NewerSchema { path: path.clone(), found: current, known });
            }
            if current == known {
                return Ok(Some(current));
            }
            let next = current + 1;
            conn.batch(migrations[current as usize]).map_err(|e| StateError::Database {
                message: format!("migrating the state store to schema {next}: {e}"),
                source: Box::new(e),
            })?;
            conn.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                &[Value::Int(next.into()), Value::Int(now)],
            )?;
            Ok(None)
        })();
        match step {
            Ok(done) => {
                conn.batch("COMMIT")?;
                if let Some(v) = done {
                    return Ok(v);
                }
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

/// Refuse a store a read-only open cannot use as it is.
pub(crate) fn check_readable(conn: &PgConn) -> Result<u32, StateError> {
    let path = PathBuf::from(conn.location());
    let found = version(conn)?;
    if found == 0 {
        return Err(StateError::NotFound { path });
    }
    if found > crate::schema::LATEST {
        return Err(StateError::NewerSchema { path, found, known: crate::schema::LATEST });
    }
    if found < crate::schema::LATEST {
        return Err(StateError::NeedsMigration { path, found, known: crate::schema::LATEST });
    }
    Ok(found)
}

/// Take the run lock without waiting, or say who holds it. `shared`:
/// the shared form, which failover nodes hold together (they exclude each
/// other per channel with leases) and which keeps out a standalone run (it
/// takes the exclusive form), and the other way round.
pub(crate) fn take_run_lock(conn: &PgConn, shared: bool) -> Result<(), StateError> {
    let sql = if shared { "SELECT pg_try_advisory_lock_shared(?1)" } else { "SELECT pg_try_advisory_lock(?1)" };
    let got: bool = one(conn, sql, &[Value::Int(RUN_LOCK)])?;
    if got {
        return Ok(());
    }
    let holder = conn
        .query(
            "SELECT a.application_name, a.pid::bigint, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = ?1 AND l.objsubid = 1 AND l.pid <> pg_backend_pid()",
            &[Value::Int(RUN_LOCK)],
        )
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .and_then(|row| {
            let app: Option<String> = row.get(0).ok()?;
            let pid: i64 = row.get(1).ok()?;
            let since: Option<String> = row.get(2).ok()?;
            Some(format!(
                "{}, PostgreSQL session {pid}{}",
                app.filter(|a| !a.is_empty()).unwrap_or_else(|| "unknown client".into()),
                since.map(|s| format!(" since {s}")).unwrap_or_default()
            ))
        });
    Err(StateError::Locked { path: PathBuf::from(conn.location()), holder })
}
