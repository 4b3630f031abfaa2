//! [`Tx`], the handle every read and write goes through, and its
//! connection, channel and high-water operations.
//!
//! A `Tx` borrows the store's database connection (SQLite, or the
//! PostgreSQL session's thread). Inside [`crate::StateStore::transaction`]
//! it runs in that transaction; through the store's own methods each call
//! stands alone (autocommit). Operations of more than one statement are
//! all-or-nothing ([`Tx::atomic`]): a savepoint inside a transaction, and
//! outside one a savepoint on SQLite (which then acts as a transaction) or
//! a transaction of its own on PostgreSQL.
//!
//! Every method is written once, against the neutral query layer
//! (`query.rs`), in the SQL both backends share.
//!
//! Users live in `users.rs`, groups in `groups.rs`, cycles and summaries in
//! `cycles.rs`, intents in `intents.rs`: all `impl Tx` blocks.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::error::StateError;
use crate::model::{ChannelKey, HighWater};
use crate::pg::PgConn;
use crate::query::{Row, Value, vals};

/// The database a [`Tx`] talks to.
#[derive(Clone, Copy)]
pub(crate) enum Db<'a> {
    Sqlite(&'a Connection),
    Postgres(&'a PgConn),
}

/// Reads and writes of the state store, in a transaction or not.
pub struct Tx<'a> {
    pub(crate) db: Db<'a>,
}

/// Unix seconds now, for bookkeeping times nobody reasons about.
pub(crate) fn wall_clock() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Saturating conversion for counters read back from the database.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl<'a> Tx<'a> {
    pub(crate) fn new(db: Db<'a>) -> Self {
        Tx { db }
    }

    /// Execute one statement and return the rows it changed. SQLite
    /// prepares it once per connection and reuses it from rusqlite's
    /// statement cache (a cycle writes the same few statements for every
    /// user); PostgreSQL keeps its own cache on the connection's thread.
    pub(crate) fn exec(&self, sql: &str, params: &[Value]) -> Result<u64, StateError> {
        match self.db {
            Db::Sqlite(conn) => crate::sqlite::exec(conn, sql, params),
            Db::Postgres(pg) => pg.exec(sql, params),
        }
    }

    /// Run one query and return all its rows.
    pub(crate) fn query(&self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row<'static>>, StateError> {
        match self.db {
            Db::Sqlite(conn) => crate::sqlite::query(conn, sql, params),
            Db::Postgres(pg) => pg.query(sql, params),
        }
    }

    /// Run one query and map each row (SQLite reads the rows in place,
    /// for the large reads: every user of a channel).
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T, StateError>,
    ) -> Result<Vec<T>, StateError> {
        match self.db {
            Db::Sqlite(conn) => crate::sqlite::query_map(conn, sql, params, f),
            Db::Postgres(pg) => pg.query(sql, params)?.iter().map(&mut f).collect(),
        }
    }

    /// Run one query and return its first row, if any.
    pub(crate) fn query_opt(&self, sql: &str, params: &[Value<'_>]) -> Result<Option<Row<'static>>, StateError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Run one query that returns exactly one row.
    pub(crate) fn query_one(&self, sql: &str, params: &[Value<'_>]) -> Result<Row<'static>, StateError> {
        self.query_opt(sql, params)?.ok_or_else(|| StateError::Corrupt(format!("no row from: {sql}")))
    }

    /// Statements without parameters or results, separated by `;`.
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StateError> {
        match self.db {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Run `f` all-or-nothing: a savepoint (nesting-safe) inside a
    /// transaction; outside one, SQLite uses a savepoint too (it then acts
    /// as a transaction) and PostgreSQL a transaction of its own.
    pub(crate) fn atomic<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        let own_transaction = matches!(self.db, Db::Postgres(pg) if !pg.in_transaction());
        let (begin, commit, rollback) = if own_transaction {
            ("BEGIN", "COMMIT", "ROLLBACK")
        } else {
            ("SAVEPOINT provisio_op", "RELEASE provisio_op", "ROLLBACK TO provisio_op; RELEASE provisio_op")
        };
        self.batch(begin)?;
        if let Db::Postgres(pg) = self.db
            && own_transaction
        {
            pg.set_in_transaction(true);
        }
        struct Guard<'t, 'c>(&'t Tx<'c>, bool, &'static str, bool);
        impl Drop for Guard<'_, '_> {
            fn drop(&mut self) {
                if !self.1 {
                    let _ = self.0.batch(self.2);
                }
                if let Db::Postgres(pg) = self.0.db
                    && self.3
                {
                    pg.set_in_transaction(false);
                }
            }
        }
        let mut guard = Guard(self, false, rollback, own_transaction);
        let value = f()?;
        // A COMMIT ends the transaction even when it fails (no ROLLBACK
        // after it); a failed RELEASE leaves the savepoint to roll back.
        guard.1 = own_transaction;
        self.batch(commit)?;
        guard.1 = true;
        Ok(value)
    }

    // ---- connections -------------------------------------------------

    /// The Unique User Identifier recorded for `connection` at first use.
    pub fn connection_identifier(&self, connection: &str) -> Result<Option<String>, StateError> {
        self.query_opt("SELECT unique_identifier FROM connections WHERE name = ?1", vals![connection])?
            .map(|row| row.get(0))
            .transpose()
    }

    /// Record `identifier` for `connection`, replacing any recorded one
    /// (an administrative override; the engine uses
    /// [`Tx::check_connection_identifier`]).
    pub fn set_connection_identifier(&self, connection: &str, identifier: &str) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO connections (name, unique_identifier, recorded_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET
                 unique_identifier = excluded.unique_identifier,
                 recorded_at = excluded.recorded_at",
            vals![connection, identifier, wall_clock()],
        )?;
        Ok(())
    }

    /// What the engine calls before a cycle: record `identifier` if none is
    /// recorded (or the connection has no state left, e.g. after a reset),
    /// accept it if unchanged, and refuse a change with
    /// [`StateError::IdentifierChanged`] while any channel of the
    /// connection still holds users or groups.
    pub fn check_connection_identifier(&self, connection: &str, identifier: &str) -> Result<(), StateError> {
        self.atomic(|| match self.connection_identifier(connection)? {
            Some(recorded) if recorded == identifier => Ok(()),
            Some(recorded) if self.connection_has_state(connection)? => Err(StateError::IdentifierChanged {
                connection: connection.to_string(),
                recorded,
                configured: identifier.to_string(),
            }),
            _ => self.set_connection_identifier(connection, identifier),
        })
    }

    /// Whether any channel of `connection` holds users or groups.
    pub fn connection_has_state(&self, connection: &str) -> Result<bool, StateError> {
        self.query_one(
            "SELECT EXISTS (SELECT 1 FROM user_state u JOIN channels c ON c.id = u.channel_id
                            WHERE c.connection = ?1)
                 OR EXISTS (SELECT 1 FROM group_state g JOIN channels c ON c.id = g.channel_id
                            WHERE c.connection = ?1)",
            vals![connection],
        )?
        .get(0)
    }

    // ---- channels ----------------------------------------------------

    /// The key of channel `channel` of `connection`, created if new.
    pub fn channel(&self, connection: &str, channel: &str) -> Result<ChannelKey, StateError> {
        // Looked up first: PostgreSQL spends a sequence value on every
        // INSERT, even one that ends in DO NOTHING.
        if let Some(key) = self.find_channel(connection, channel)? {
            return Ok(key);
        }
        self.exec(
            "INSERT INTO channels (connection, name, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connection, name) DO NOTHING",
            vals![connection, channel, wall_clock()],
        )?;
        self.find_channel(connection, channel)?
            .ok_or_else(|| StateError::Corrupt(format!("channel {connection}/{channel} vanished")))
    }

    /// The key of an existing channel (read-only stores cannot create).
    pub fn find_channel(&self, connection: &str, channel: &str) -> Result<Option<ChannelKey>, StateError> {
        self.query_opt("SELECT id FROM channels WHERE connection = ?1 AND name = ?2", vals![connection, channel])?
            .map(|row| row.get(0).map(ChannelKey))
            .transpose()
    }

    /// Every channel: key, connection, channel name; sorted by names.
    pub fn channels(&self) -> Result<Vec<(ChannelKey, String, String)>, StateError> {
        self.query("SELECT id, connection, name FROM channels ORDER BY connection, name", &[])?
            .iter()
            .map(|row| Ok((ChannelKey(row.get(0)?), row.get(1)?, row.get(2)?)))
            .collect()
    }

    /// Forget the channel's users, groups, cycles, high-water marks and
    /// intents, keeping its key: the next cycle is an initial sync.
    /// `false` if there is no such channel.
    pub fn reset_channel(&self, connection: &str, channel: &str) -> Result<bool, StateError> {
        let Some(key) = self.find_channel(connection, channel)? else {
            return Ok(false);
        };
        self.atomic(|| {
            for table in [
                "user_state",
                "group_state",
                "cycles",
                "high_water",
                "intents",
                "held_deprovisions",
                "deprovision_approvals",
                "channel_health",
                "held_group_deletions",
            ] {
                self.exec(&format!("DELETE FROM {table} WHERE channel_id = ?1"), vals![key.0])?;
            }
            Ok(true)
        })
    }

    /// Remove the channel and everything it holds (for a channel deleted
    /// from the configuration). `false` if there is no such channel.
    pub fn delete_channel(&self, connection: &str, channel: &str) -> Result<bool, StateError> {
        // Foreign keys cascade to every table of the channel.
        let n = self.exec("DELETE FROM channels WHERE connection = ?1 AND name = ?2", vals![connection, channel])?;
        Ok(n > 0)
    }

    // ---- high-water marks --------------------------------------------

    /// The users' high-water mark (USN or timestamp, as the source wrote it).
    pub fn high_water(&self, ch: ChannelKey) -> Result<Option<String>, StateError> {
        self.high_water_of(ch, HighWater::Users)
    }

    /// Set the users' high-water mark.
    pub fn set_high_water(&self, ch: ChannelKey, value: &str) -> Result<(), StateError> {
        self.set_high_water_of(ch, HighWater::Users, value)
    }

    /// The groups' high-water mark.
    pub fn group_high_water(&self, ch: ChannelKey) -> Result<Option<String>, StateError> {
        self.high_water_of(ch, HighWater::Groups)
    }

    /// Set the groups' high-water mark.
    pub fn set_group_high_water(&self, ch: ChannelKey, value: &str) -> Result<(), StateError> {
        self.set_high_water_of(ch, HighWater::Groups, value)
    }

    /// A high-water mark.
    pub fn high_water_of(&self, ch: ChannelKey, which: HighWater) -> Result<Option<String>, StateError> {
        self.query_opt("SELECT value FROM high_water WHERE channel_id = ?1 AND kind = ?2", vals![ch.0, which.as_str()])?
            .map(|row| row.get(0))
            .transpose()
    }

    /// Set a high-water mark.
    pub fn set_high_water_of(&self, ch: ChannelKey, which: HighWater, value: &str) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO high_water (channel_id, kind, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel_id, kind) DO UPDATE SET
                 value = excluded.value, updated_at = excluded.updated_at",
            vals![ch.0, which.as_str(), value, wall_clock()],
        )?;
        Ok(())
    }

    /// Drop a high-water mark so the next cycle reads everything again
    /// (`provmgr --reset-group-timestamp` for [`HighWater::Groups`]).
    /// `true` if there was one.
    pub fn clear_high_water(&self, ch: ChannelKey, which: HighWater) -> Result<bool, StateError> {
        let n = self.exec("DELETE FROM high_water WHERE channel_id = ?1 AND kind = ?2", vals![ch.0, which.as_str()])?;
        Ok(n > 0)
    }
}
