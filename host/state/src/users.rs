//! Per-channel user state: source GUID to target id, last pushed hash,
//! status, dirty flag, attempts and timestamps.

use std::collections::HashMap;

use crate::query::{Row, Value, vals};

use crate::error::StateError;
use crate::model::{ChannelKey, UserState, UserStatus};
use crate::tx::Tx;

const COLUMNS: &str = "guid, target_id, unique_id, hash, status, dirty, last_error, attempts, \
                       updated_at, created_at";

/// A row selected with [`COLUMNS`]; the status word is checked afterwards.
fn read_row(row: &Row<'_>) -> Result<(UserState, String), StateError> {
    let attempts: i64 = row.get(7)?;
    Ok((
        UserState {
            guid: row.get(0)?,
            target_id: row.get(1)?,
            unique_id: row.get(2)?,
            hash: row.get(3)?,
            status: UserStatus::Pending,
            dirty: row.get(5)?,
            last_error: row.get(6)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            updated_at: row.get(8)?,
            created_at: row.get(9)?,
        },
        row.get(4)?,
    ))
}

fn with_status((mut user, word): (UserState, String)) -> Result<UserState, StateError> {
    user.status = UserStatus::parse(&word)
        .ok_or_else(|| StateError::Corrupt(format!("user {} has unknown status '{word}'", user.guid)))?;
    Ok(user)
}

impl Tx<'_> {
    fn select_users(&self, filter: &str, args: &[Value]) -> Result<Vec<UserState>, StateError> {
        self.query_map(&format!("SELECT {COLUMNS} FROM user_state WHERE {filter}"), args, |r| with_status(read_row(r)?))
    }

    /// Every user of the channel, by GUID.
    pub fn users(&self, ch: ChannelKey) -> Result<HashMap<String, UserState>, StateError> {
        Ok(self.select_users("channel_id = ?1", vals![ch.0])?.into_iter().map(|u| (u.guid.clone(), u)).collect())
    }

    /// One user.
    pub fn user(&self, ch: ChannelKey, guid: &str) -> Result<Option<UserState>, StateError> {
        Ok(self.select_users("channel_id = ?1 AND guid = ?2", vals![ch.0, guid])?.pop())
    }

    /// The user of the channel recorded with this Unique User Identifier
    /// value, if any (the oldest, should there be several).
    pub fn user_by_unique_id(&self, ch: ChannelKey, unique_id: &str) -> Result<Option<UserState>, StateError> {
        Ok(self
            .select_users(
                "channel_id = ?1 AND unique_id = ?2 ORDER BY created_at, guid LIMIT 1",
                vals![ch.0, unique_id],
            )?
            .pop())
    }

    /// Insert or replace a user. On replace, `created_at` stays as first
    /// written; every other field is taken from `user`.
    pub fn upsert_user(&self, ch: ChannelKey, user: &UserState) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO user_state (channel_id, guid, target_id, unique_id, hash, status, dirty,
                                     last_error, attempts, updated_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (channel_id, guid) DO UPDATE SET
                 target_id = excluded.target_id,
                 unique_id = excluded.unique_id,
                 hash = excluded.hash,
                 status = excluded.status,
                 dirty = excluded.dirty,
                 last_error = excluded.last_error,
                 attempts = excluded.attempts,
                 updated_at = excluded.updated_at",
            vals![
                ch.0,
                user.guid,
                user.target_id,
                user.unique_id,
                user.hash,
                user.status.as_str(),
                user.dirty,
                user.last_error,
                user.attempts,
                user.updated_at,
                user.created_at,
            ],
        )?;
        Ok(())
    }

    /// Forget a user. `true` if it was known.
    pub fn remove_user(&self, ch: ChannelKey, guid: &str) -> Result<bool, StateError> {
        let n = self.exec("DELETE FROM user_state WHERE channel_id = ?1 AND guid = ?2", vals![ch.0, guid])?;
        Ok(n > 0)
    }

    /// Record a failed push: dirty, the error, one more attempt. A user the
    /// channel did not know yet (its create failed) is added as
    /// [`UserStatus::Pending`] with an empty hash and Unique User
    /// Identifier; an engine that knows the identifier should rather
    /// [`Tx::upsert_user`] a dirty row with it.
    pub fn mark_dirty(&self, ch: ChannelKey, guid: &str, error: &str, now: i64) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO user_state (channel_id, guid, target_id, unique_id, hash, status, dirty,
                                     last_error, attempts, updated_at, created_at)
             VALUES (?1, ?2, NULL, '', '', ?3, 1, ?4, 1, ?5, ?5)
             ON CONFLICT (channel_id, guid) DO UPDATE SET
                 dirty = 1,
                 last_error = excluded.last_error,
                 attempts = user_state.attempts + 1,
                 updated_at = excluded.updated_at",
            vals![ch.0, guid, UserStatus::Pending.as_str(), error, now],
        )?;
        Ok(())
    }

    /// The channel's dirty users, least recently updated first.
    pub fn dirty_users(&self, ch: ChannelKey) -> Result<Vec<UserState>, StateError> {
        self.select_users("channel_id = ?1 AND dirty = 1 ORDER BY updated_at, guid", vals![ch.0])
    }

    /// Set the attempt counters of the channel's dirty users and groups
    /// back to zero (for `channels retry`, so that any back-off the engine
    /// bases on attempts does not delay the retry). Returns how many
    /// records were dirty.
    pub fn reset_attempts(&self, ch: ChannelKey) -> Result<u64, StateError> {
        self.atomic(|| {
            let users =
                self.exec("UPDATE user_state SET attempts = 0 WHERE channel_id = ?1 AND dirty = 1", vals![ch.0])?;
            let groups =
                self.exec("UPDATE group_state SET attempts = 0 WHERE channel_id = ?1 AND dirty = 1", vals![ch.0])?;
            Ok(users + groups)
        })
    }
}
