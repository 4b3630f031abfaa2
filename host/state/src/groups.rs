//! Per-channel group state: source GUID to target group id, name, the
//! hash and list of the members pushed last, dirty flag.
//!
//! Members are stored as a JSON array of target ids; they are ids, not
//! attribute values, so the "hashes only" contract holds.

use std::collections::HashMap;

use crate::query::{Row, Value, vals};

use crate::error::StateError;
use crate::model::{ChannelKey, GroupState};
use crate::tx::Tx;

const COLUMNS: &str = "guid, target_id, name, members_hash, members, dirty, last_error";

fn read_row(row: &Row<'_>) -> Result<(GroupState, String), StateError> {
    Ok((
        GroupState {
            guid: row.get(0)?,
            target_id: row.get(1)?,
            name: row.get(2)?,
            members_hash: row.get(3)?,
            members: Vec::new(),
            dirty: row.get(5)?,
            last_error: row.get(6)?,
        },
        row.get(4)?,
    ))
}

fn with_members((mut group, json): (GroupState, String)) -> Result<GroupState, StateError> {
    group.members = serde_json::from_str(&json)
        .map_err(|e| StateError::Corrupt(format!("members of group {}: {e}", group.guid)))?;
    Ok(group)
}

impl Tx<'_> {
    fn select_groups(&self, filter: &str, args: &[Value]) -> Result<Vec<GroupState>, StateError> {
        self.query_map(&format!("SELECT {COLUMNS} FROM group_state WHERE {filter}"), args, |r| {
            with_members(read_row(r)?)
        })
    }

    /// Every group of the channel, by GUID.
    pub fn groups(&self, ch: ChannelKey) -> Result<HashMap<String, GroupState>, StateError> {
        Ok(self.select_groups("channel_id = ?1", vals![ch.0])?.into_iter().map(|g| (g.guid.clone(), g)).collect())
    }

    /// One group.
    pub fn group(&self, ch: ChannelKey, guid: &str) -> Result<Option<GroupState>, StateError> {
        Ok(self.select_groups("channel_id = ?1 AND guid = ?2", vals![ch.0, guid])?.pop())
    }

    /// Insert or replace a group; `now` becomes its update time (and its
    /// creation time if new). A clean group's attempt counter goes back
    /// to zero.
    pub fn upsert_group(&self, ch: ChannelKey, group: &GroupState, now: i64) -> Result<(), StateError> {
        let members = serde_json::to_string(&group.members)
            .map_err(|e| StateError::Corrupt(format!("members of group {}: {e}", group.guid)))?;
        self.exec(
            "INSERT INTO group_state (channel_id, guid, target_id, name, members_hash, members,
                                      dirty, last_error, attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9)
             ON CONFLICT (channel_id, guid) DO UPDATE SET
                 target_id = excluded.target_id,
                 name = excluded.name,
                 members_hash = excluded.members_hash,
                 members = excluded.members,
                 dirty = excluded.dirty,
                 last_error = excluded.last_error,
                 attempts = CASE WHEN excluded.dirty = 1 THEN group_state.attempts ELSE 0 END,
                 updated_at = excluded.updated_at",
            vals![
                ch.0,
                group.guid,
                group.target_id,
                group.name,
                group.members_hash,
                members,
                group.dirty,
                group.last_error,
                now,
            ],
        )?;
        Ok(())
    }

    /// Forget a group. `true` if it was known.
    pub fn remove_group(&self, ch: ChannelKey, guid: &str) -> Result<bool, StateError> {
        let n = self.exec("DELETE FROM group_state WHERE channel_id = ?1 AND guid = ?2", vals![ch.0, guid])?;
        Ok(n > 0)
    }

    /// Record a failed group push (a group not known yet is added with an
    /// empty name and hash, so the next cycle pushes it in full).
    pub fn mark_group_dirty(&self, ch: ChannelKey, guid: &str, error: &str, now: i64) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO group_state (channel_id, guid, target_id, name, members_hash, members,
                                      dirty, last_error, attempts, created_at, updated_at)
             VALUES (?1, ?2, NULL, '', '', '[]', 1, ?3, 1, ?4, ?4)
             ON CONFLICT (channel_id, guid) DO UPDATE SET
                 dirty = 1,
                 last_error = excluded.last_error,
                 attempts = group_state.attempts + 1,
                 updated_at = excluded.updated_at",
            vals![ch.0, guid, error, now],
        )?;
        Ok(())
    }

    /// The channel's dirty groups, least recently updated first.
    pub fn dirty_groups(&self, ch: ChannelKey) -> Result<Vec<GroupState>, StateError> {
        self.select_groups("channel_id = ?1 AND dirty = 1 ORDER BY updated_at, guid", vals![ch.0])
    }
}
