//! [`Tx`], the handle every read and write goes through, and its
//! connection, channel and high-water operations.
//!
//! A `Tx` borrows the store's database connection. Inside
//! [`crate::StateStore::transaction`] it runs in that transaction; through
//! the store's own methods each call stands alone (autocommit). Operations
//! of more than one statement wrap themselves in a savepoint, which nests
//! inside a surrounding transaction and behaves as one outside it.
//!
//! Users live in `users.rs`, groups in `groups.rs`, cycles and summaries in
//! `cycles.rs`, intents in `intents.rs`: all `impl Tx` blocks.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::StateError;
use crate::model::{ChannelKey, HighWater};

/// Reads and writes of the state store, in a transaction or not.
pub struct Tx<'a> {
    pub(crate) conn: &'a Connection,
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
    pub(crate) fn new(conn: &'a Connection) -> Self {
        Tx { conn }
    }

    /// Execute one statement, prepared once per connection and reused from
    /// rusqlite's statement cache (a cycle writes the same few statements
    /// for every user).
    pub(crate) fn exec(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// Run `f` all-or-nothing (a savepoint, nesting-safe).
    pub(crate) fn atomic<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        self.conn.execute_batch("SAVEPOINT provisio_op")?;
        struct Guard<'c>(&'c Connection, bool);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                if !self.1 {
                    let _ = self.0.execute_batch("ROLLBACK TO provisio_op; RELEASE provisio_op");
                }
            }
        }
        let mut guard = Guard(self.conn, false);
        let value = f()?;
        self.conn.execute_batch("RELEASE provisio_op")?;
        guard.1 = true;
        Ok(value)
    }

    // ---- connections -------------------------------------------------

    /// The Unique User Identifier recorded for `connection` at first use.
    pub fn connection_identifier(&self, connection: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .query_row("SELECT unique_identifier FROM connections WHERE name = ?1", params![connection], |row| {
                row.get(0)
            })
            .optional()?)
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
            params![connection, identifier, wall_clock()],
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
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM user_state u JOIN channels c ON c.id = u.channel_id
                            WHERE c.connection = ?1)
                 OR EXISTS (SELECT 1 FROM group_state g JOIN channels c ON c.id = g.channel_id
                            WHERE c.connection = ?1)",
            params![connection],
            |row| row.get(0),
        )?)
    }

    // ---- channels ----------------------------------------------------

    /// The key of channel `channel` of `connection`, created if new.
    pub fn channel(&self, connection: &str, channel: &str) -> Result<ChannelKey, StateError> {
        self.exec(
            "INSERT INTO channels (connection, name, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connection, name) DO NOTHING",
            params![connection, channel, wall_clock()],
        )?;
        self.find_channel(connection, channel)?
            .ok_or_else(|| StateError::Corrupt(format!("channel {connection}/{channel} vanished")))
    }

    /// The key of an existing channel (read-only stores cannot create).
    pub fn find_channel(&self, connection: &str, channel: &str) -> Result<Option<ChannelKey>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM channels WHERE connection = ?1 AND name = ?2",
                params![connection, channel],
                |row| row.get(0).map(ChannelKey),
            )
            .optional()?)
    }

    /// Every channel: key, connection, channel name; sorted by names.
    pub fn channels(&self) -> Result<Vec<(ChannelKey, String, String)>, StateError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, connection, name FROM channels ORDER BY connection, name")?;
        let rows = stmt.query_map([], |row| Ok((ChannelKey(row.get(0)?), row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forget the channel's users, groups, cycles, high-water marks and
    /// intents, keeping its key: the next cycle is an initial sync.
    /// `false` if there is no such channel.
    pub fn reset_channel(&self, connection: &str, channel: &str) -> Result<bool, StateError> {
        let Some(key) = self.find_channel(connection, channel)? else {
            return Ok(false);
        };
        self.atomic(|| {
            for table in ["user_state", "group_state", "cycles", "high_water", "intents", "held_deprovisions", "deprovision_approvals", "channel_health"] {
                self.exec(&format!("DELETE FROM {table} WHERE channel_id = ?1"), params![key.0])?;
            }
            Ok(true)
        })
    }

    /// Remove the channel and everything it holds (for a channel deleted
    /// from the configuration). `false` if there is no such channel.
    pub fn delete_channel(&self, connection: &str, channel: &str) -> Result<bool, StateError> {
        // Foreign keys cascade to every table of the channel.
        let n = self
            .conn
            .execute("DELETE FROM channels WHERE connection = ?1 AND name = ?2", params![connection, channel])?;
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
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM high_water WHERE channel_id = ?1 AND kind = ?2",
                params![ch.0, which.as_str()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Set a high-water mark.
    pub fn set_high_water_of(&self, ch: ChannelKey, which: HighWater, value: &str) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO high_water (channel_id, kind, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel_id, kind) DO UPDATE SET
                 value = excluded.value, updated_at = excluded.updated_at",
            params![ch.0, which.as_str(), value, wall_clock()],
        )?;
        Ok(())
    }

    /// Drop a high-water mark so the next cycle reads everything again
    /// (`provmgr --reset-group-timestamp` for [`HighWater::Groups`]).
    /// `true` if there was one.
    pub fn clear_high_water(&self, ch: ChannelKey, which: HighWater) -> Result<bool, StateError> {
        let n = self
            .conn
            .execute("DELETE FROM high_water WHERE channel_id = ?1 AND kind = ?2", params![ch.0, which.as_str()])?;
        Ok(n > 0)
    }
}
