//! Copying a whole store into another: what `provisio state migrate` does
//! to move a SQLite store into PostgreSQL.
//!
//! Both stores must be at the same schema version (the source is opened for
//! writing first, which migrates it; the target is migrated on open). The
//! target must hold no data at all: the copy refuses rather than merge. It
//! runs in one transaction of the target, table by table in an order that
//! respects the foreign keys, keeping every id, and then moves each id
//! sequence past the highest id the source ever gave out (SQLite's
//! `AUTOINCREMENT` remembers ids of pruned cycles too), so ids are never
//! reused. `schema_migrations` is not copied: the target has its own.

use rusqlite::OptionalExtension;

use crate::error::StateError;
use crate::query::Value;
use crate::tx::{Db, Tx};
use crate::{Backend, StateStore};

/// The data tables, parents before children.
pub(crate) const TABLES: &[&str] = &[
    "connections",
    "discovered_fields",
    "channels",
    "user_state",
    "group_state",
    "cycles",
    "high_water",
    "intents",
    "held_deprovisions",
    "deprovision_approvals",
    "channel_health",
    "held_group_deletions",
];

/// Tables whose `id` comes from a sequence (SQLite `AUTOINCREMENT`).
const SEQUENCED: &[&str] = &["channels", "cycles"];

/// Rows sent to PostgreSQL in one call while copying.
const CHUNK: usize = 1000;

impl StateStore {
    /// Rows per data table (every table but `schema_migrations`, parents
    /// first).
    pub fn table_counts(&self) -> Result<Vec<(String, u64)>, StateError> {
        let tx = self.autocommit();
        TABLES
            .iter()
            .map(|t| {
                let n: i64 = tx.query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])?.get(0)?;
                Ok(((*t).to_owned(), u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Copy every table of the SQLite store `source` into this (empty,
    /// PostgreSQL) store in one transaction; the rows copied per table.
    pub fn copy_from(&self, source: &StateStore) -> Result<Vec<(String, u64)>, StateError> {
        let Backend::Sqlite { conn: from, .. } = &source.backend else {
            return Err(StateError::Config("state migrate copies from a SQLite store".into()));
        };
        let Backend::Postgres(to) = &self.backend else {
            return Err(StateError::Config(
                "state migrate copies into a PostgreSQL store ([engine.state_store] kind = \"postgres\")".into(),
            ));
        };
        let (have, want) = (self.schema_version()?, source.schema_version()?);
        if have != want {
            return Err(StateError::Config(format!(
                "the SQLite store {} has schema {want} and the PostgreSQL store {have}; both must be the same",
                source.path.display()
            )));
        }
        self.transaction(|tx| {
            for (table, n) in self.table_counts()? {
                if n > 0 {
                    return Err(StateError::Config(format!(
                        "the PostgreSQL state store at {} is not empty (table {table} has {n} rows); state migrate only copies into an empty store: use a new database, or drop and recreate this one",
                        self.path.display()
                    )));
                }
            }
            let mut counts = Vec::new();
            for table in TABLES {
                let mut stmt = from.prepare(&format!("SELECT * FROM {table}"))?;
                let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
                let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
                let insert =
                    format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), placeholders.join(", "));
                let mut rows = stmt.query([])?;
                let (mut chunk, mut copied) = (Vec::with_capacity(CHUNK), 0u64);
                while let Some(row) = rows.next()? {
                    chunk.push(crate::sqlite::read(row, columns.len())?.into_values());
                    if chunk.len() == CHUNK {
                        copied += insert_all(to, &insert, std::mem::take(&mut chunk))?;
                    }
                }
                copied += insert_all(to, &insert, chunk)?;
                counts.push(((*table).to_owned(), copied));
            }
            for table in SEQUENCED {
                advance_sequence(tx, from, table)?;
            }
            Ok(counts)
        })
    }
}

/// Insert `rows` with `insert` on the connection's thread, in one call.
fn insert_all(to: &crate::pg::PgConn, insert: &str, rows: Vec<Vec<Value<'static>>>) -> Result<u64, StateError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let insert = insert.to_owned();
    to.call(move |s| {
        let stmt = s.prepare(&insert)?;
        let mut n = 0;
        for row in &rows {
            n += s.client.execute(&stmt, &crate::pg::conn::refs(row)).map_err(crate::pg::db_error)?;
        }
        Ok(n)
    })
}

/// Move `table`'s id sequence past every id the SQLite store gave out.
fn advance_sequence(tx: &Tx<'_>, from: &rusqlite::Connection, table: &str) -> Result<(), StateError> {
    let Db::Postgres(_) = tx.db else { return Ok(()) };
    let max: Option<i64> = from.query_row(&format!("SELECT MAX(id) FROM {table}"), [], |r| r.get(0))?;
    let seq: Option<i64> =
        from.query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [table], |r| r.get(0)).optional()?.flatten();
    let last = max.unwrap_or(0).max(seq.unwrap_or(0));
    if last > 0 {
        tx.query(&format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), ?1, true)"), &[Value::Int(last)])?;
    }
    Ok(())
}
