//! The versioned schema: connection settings and the ordered migrations.
//!
//! The store's version is the highest row of `schema_migrations`. Each
//! migration is one SQL script applied, together with its row in
//! `schema_migrations`, in one `BEGIN IMMEDIATE` transaction, so a crash
//! leaves the store at the previous version, never in between. A store
//! whose version is above [`LATEST`] was written by a newer binary and is
//! refused rather than guessed at.
//!
//! The SQL is kept to what SQLite and PostgreSQL share (`ON CONFLICT ... DO
//! UPDATE`, `RETURNING`, plain types) except where a backend must differ
//! (`INTEGER PRIMARY KEY AUTOINCREMENT`); the PostgreSQL backend has its own
//! list of scripts with the same version numbers (`pg/schema.rs`). Flags (`dirty`) are
//! integers 0/1 in every backend (`SMALLINT` there), so queries can say
//! `dirty = 1` everywhere.
//!
//! Tables (version 1): `connections` (Unique User Identifier per
//! connection), `channels`, `user_state`, `group_state`, `cycles`,
//! `high_water`, `intents`. Names avoid `users`/`groups`, which are
//! keywords in some SQL dialects.
//!
//! Durability: the store runs in WAL mode with `synchronous=NORMAL`. A
//! process crash loses nothing that was committed; a power loss or OS crash
//! can lose the last few commits (never corrupting the file). The engine
//! tolerates that: a lost link is re-found at the target by the Unique User
//! Identifier, and a create intent recorded before the create survives or
//! is re-found the same way. `synchronous=FULL` would fsync every commit,
//! which costs more than it saves here.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use crate::error::StateError;

/// The newest schema version this binary knows.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// How long a statement waits for a lock held by another connection before
/// failing (a reader during a checkpoint, a CLI write between cycles).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations in order: index 0 takes an empty store to version 1.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// Version 7: group deletions held by the deletion guard (released by the
/// same approval as held deprovisions).
const V7: &str = r#"
CREATE TABLE held_group_deletions (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    guid       TEXT NOT NULL,
    name       TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    held_at    INTEGER NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
"#;

/// Version 6: what an unsettled create intent knows (issue 26): `attempts`,
/// how many creates provisio may have sent for the user without learning
/// their outcome, and `checked_at`, since when no create of it is known to
/// be on its way (the intent is cleared only when a lookup a settling time
/// after that still finds no account).
const V6: &str = r#"
ALTER TABLE intents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE intents ADD COLUMN checked_at INTEGER;
"#;

/// Version 5: failover (`cluster.rs`): the nodes sharing the store and the
/// per-channel leases. Only PostgreSQL stores are shared; SQLite has the
/// tables so both backends keep the same version numbers, and never uses
/// them (failover on SQLite is refused by the configuration).
const V5: &str = r#"
CREATE TABLE nodes (
    node_id      TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    instance     TEXT,
    pid          INTEGER,
    host         TEXT,
    heartbeat_at INTEGER NOT NULL,
    started_at   INTEGER NOT NULL
);

CREATE TABLE leases (
    connection  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    node_id     TEXT,
    token       INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL,
    PRIMARY KEY (connection, channel)
);
"#;

/// Version 4: channel health (failing cycles in a row, quarantine).
const V4: &str = r#"
CREATE TABLE channel_health (
    channel_id        INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    failing_cycles    INTEGER NOT NULL,
    quarantined_until INTEGER,
    reason            TEXT
);
"#;

/// Version 3: the accidental-deletion guard (held deprovisions, approvals).
const V3: &str = r#"
CREATE TABLE held_deprovisions (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    guid       TEXT NOT NULL,
    unique_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    held_at    INTEGER NOT NULL,
    PRIMARY KEY (channel_id, guid)
);

CREATE TABLE deprovision_approvals (
    channel_id  INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    approved_at INTEGER NOT NULL
);
"#;

/// Version 2: fields discovered at a target (Refresh Fields), per connection.
const V2: &str = r#"
CREATE TABLE discovered_fields (
    connection   TEXT PRIMARY KEY,
    fields       TEXT NOT NULL,
    refreshed_at INTEGER NOT NULL
);
"#;

/// Version 1: the initial schema.
const V1: &str = r#"
CREATE TABLE connections (
    name              TEXT PRIMARY KEY,
    unique_identifier TEXT NOT NULL,
    recorded_at       INTEGER NOT NULL
);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connection  TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (connection, name)
);

-- One row per source user known to a channel. `hash` is the hash of the
-- attributes last pushed; attribute values themselves are never stored.
CREATE TABLE user_state (
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid        TEXT NOT NULL,
    target_id   TEXT,
    unique_id   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    status      TEXT NOT NULL,
    dirty       INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
CREATE INDEX user_state_dirty ON user_state (channel_id, dirty);
CREATE INDEX user_state_unique_id ON user_state (channel_id, unique_id);

-- `members` is a JSON array of the target ids pushed last.
CREATE TABLE group_state (
    channel_id    INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid          TEXT NOT NULL,
    target_id     TEXT,
    name          TEXT NOT NULL,
    members_hash  TEXT NOT NULL,
    members       TEXT NOT NULL DEFAULT '[]',
    dirty         INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
CREATE INDEX group_state_dirty ON group_state (channel_id, dirty);

-- `summary` is a JSON CycleSummary, set when the cycle finishes.
CREATE TABLE cycles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    summary      TEXT,
    error        TEXT
);
CREATE INDEX cycles_channel ON cycles (channel_id, id);

-- `kind` is 'users' or 'groups'.
CREATE TABLE high_water (
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, kind)
);

-- Work announced before it is done at the target, settled after; what is
-- left unsettled after a crash is checked at the target on the next cycle.
CREATE TABLE intents (
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guid        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'create',
    unique_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, guid)
);
"#;

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    applied_at  INTEGER NOT NULL
)";

/// Prepared statements kept per connection: more than the store has.
const STATEMENT_CACHE: usize = 64;

/// Settings for a connection that may write: WAL, `synchronous=NORMAL`,
/// foreign keys, busy timeout, the statement cache.
pub(crate) fn configure_writer(conn: &Connection) -> Result<(), StateError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StateError::Corrupt(format!("the store refused WAL mode (journal mode is {mode})")));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Settings for a read-only connection (the journal mode is a property of
/// the file, set by the writer).
pub(crate) fn configure_reader(conn: &Connection) -> Result<(), StateError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// The store's version: 0 for an empty store.
pub(crate) fn version(conn: &Connection) -> Result<u32, StateError> {
    let exists: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", [], |row| {
            row.get(0)
        })
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    let v: Option<i64> = conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |row| row.get(0))?;
    Ok(v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
}

/// Bring the store at `path` up to [`LATEST`].
pub(crate) fn migrate(conn: &mut Connection, path: &Path, now: i64) -> Result<u32, StateError> {
    migrate_with(conn, path, MIGRATIONS, now)
}

/// Apply `migrations[v..]` to a store at version `v`, one transaction each.
pub(crate) fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    migrations: &[&str],
    now: i64,
) -> Result<u32, StateError> {
    let known = migrations.len() as u32;
    conn.execute_batch(VERSION_TABLE)?;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current > known {
            return Err(StateError::NewerSchema { path: path.to_path_buf(), found: current, known });
        }
        if current == known {
            tx.commit()?;
            return Ok(current);
        }
        let next = current + 1;
        tx.execute_batch(migrations[current as usize]).map_err(|e| StateError::Database {
            message: format!("migrating the state store to schema {next}: {e}"),
            source: Box::new(e),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![next, now],
        )?;
        tx.commit()?;
    }
}

/// Refuse a store a read-only open cannot use as it is.
pub(crate) fn check_readable(conn: &Connection, path: &Path) -> Result<u32, StateError> {
    let found = version(conn)?;
    if found > LATEST {
        return Err(StateError::NewerSchema { path: path.to_path_buf(), found, known: LATEST });
    }
    if found < LATEST {
        return Err(StateError::NeedsMigration { path: path.to_path_buf(), found, known: LATEST });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    #[test]
    fn applies_steps_in_order_and_is_idempotent() {
        let mut conn = memory();
        let p = Path::new(":memory:");
        let steps = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"];
        assert_eq!(migrate_with(&mut conn, p, &steps[..1], 1).unwrap(), 1);
        assert_eq!(migrate_with(&mut conn, p, &steps, 2).unwrap(), 2);
        assert_eq!(migrate_with(&mut conn, p, &steps, 3).unwrap(), 2);
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'b')", []).unwrap();
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 2);
    }

    #[test]
    fn failed_step_rolls_back_whole_step() {
        let mut conn = memory();
        let p = Path::new(":memory:");
        let steps = ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (x); SELECT nonsense FROM"];
        assert!(migrate_with(&mut conn, p, &steps, 1).is_err());
        assert_eq!(version(&conn).unwrap(), 1);
        let b: Option<i64> =
            conn.query_row("SELECT 1 FROM sqlite_master WHERE name = 'b'", [], |r| r.get(0)).optional().unwrap();
        assert_eq!(b, None, "half a migration must not stay behind");
    }

    #[test]
    fn refuses_newer() {
        let mut conn = memory();
        let p = Path::new("x.db");
        migrate_with(&mut conn, p, &["SELECT 1", "SELECT 1", "SELECT 1"], 0).unwrap();
        let err = migrate_with(&mut conn, p, &["SELECT 1"], 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the state store at x.db was written by a newer provisio (schema 3); this one knows up to 1"
        );
    }

    #[test]
    fn latest_schema_applies() {
        let mut conn = memory();
        assert_eq!(migrate(&mut conn, Path::new(":memory:"), 0).unwrap(), LATEST);
    }
}
