//! Cycles (begin, finish with a summary, history) and the per-channel
//! summaries behind `channels list`.
//!
//! Each channel keeps its [`KEEP_CYCLES`] most recent cycles; older ones
//! are pruned when a cycle finishes. Cycle ids are never reused (SQLite
//! `AUTOINCREMENT`), so they can stand in the audit log as `cycle_id`.

use crate::query::{Row, vals};

use crate::error::StateError;
use crate::model::{ChannelKey, ChannelSummary, CycleId, CycleRecord, CycleSummary};
use crate::tx::{Tx, to_u64};

/// Cycles kept per channel.
pub const KEEP_CYCLES: u32 = 100;

fn read_cycle(row: &Row) -> Result<(CycleRecord, Option<String>), StateError> {
    Ok((
        CycleRecord { id: CycleId(row.get(0)?), started_at: row.get(1)?, finished_at: row.get(2)?, summary: None },
        row.get(3)?,
    ))
}

fn with_summary((mut cycle, json): (CycleRecord, Option<String>)) -> Result<CycleRecord, StateError> {
    cycle.summary = json
        .map(|j| serde_json::from_str::<CycleSummary>(&j))
        .transpose()
        .map_err(|e| StateError::Corrupt(format!("summary of cycle {}: {e}", cycle.id)))?;
    Ok(cycle)
}

impl Tx<'_> {
    /// Record the start of a cycle and return its id.
    pub fn begin_cycle(&self, ch: ChannelKey, now: i64) -> Result<CycleId, StateError> {
        Ok(CycleId(
            self.query_one(
                "INSERT INTO cycles (channel_id, started_at) VALUES (?1, ?2) RETURNING id",
                vals![ch.0, now],
            )?
            .get(0)?,
        ))
    }

    /// Record the end of a cycle with what it did, and prune the channel's
    /// history to the newest [`KEEP_CYCLES`].
    pub fn finish_cycle(
        &self,
        ch: ChannelKey,
        cycle: CycleId,
        summary: &CycleSummary,
        now: i64,
    ) -> Result<(), StateError> {
        let json = serde_json::to_string(summary)
            .map_err(|e| StateError::Corrupt(format!("summary of cycle {cycle}: {e}")))?;
        self.atomic(|| {
            let n = self.exec(
                "UPDATE cycles SET finished_at = ?3, summary = ?4, error = ?5
                 WHERE id = ?1 AND channel_id = ?2",
                vals![cycle.0, ch.0, now, json, summary.error],
            )?;
            if n == 0 {
                return Err(StateError::Corrupt(format!(
                    "cycle {cycle} of channel {ch} is not in the store (was the channel reset?)"
                )));
            }
            self.exec(
                "DELETE FROM cycles WHERE channel_id = ?1 AND id NOT IN
                     (SELECT id FROM cycles WHERE channel_id = ?1 ORDER BY id DESC LIMIT ?2)",
                vals![ch.0, KEEP_CYCLES],
            )?;
            Ok(())
        })
    }

    /// The channel's latest cycle, finished or not.
    pub fn last_cycle(&self, ch: ChannelKey) -> Result<Option<CycleRecord>, StateError> {
        Ok(self.cycles(ch, 1)?.pop())
    }

    /// The channel's latest `limit` cycles, newest first.
    pub fn cycles(&self, ch: ChannelKey, limit: u32) -> Result<Vec<CycleRecord>, StateError> {
        let rows = self.query(
            "SELECT id, started_at, finished_at, summary FROM cycles
             WHERE channel_id = ?1 ORDER BY id DESC LIMIT ?2",
            vals![ch.0, limit],
        )?;
        rows.iter().map(|r| with_summary(read_cycle(r)?)).collect()
    }

    /// One line per channel, sorted by connection and channel name.
    pub fn channel_summaries(&self) -> Result<Vec<ChannelSummary>, StateError> {
        let rows = self.query(
            "SELECT c.id, c.connection, c.name,
                 (SELECT COUNT(*) FROM user_state u WHERE u.channel_id = c.id),
                 (SELECT COUNT(*) FROM user_state u WHERE u.channel_id = c.id AND u.dirty = 1),
                 (SELECT COUNT(*) FROM group_state g WHERE g.channel_id = c.id),
                 (SELECT COUNT(*) FROM group_state g WHERE g.channel_id = c.id AND g.dirty = 1),
                 (SELECT COUNT(*) FROM intents i WHERE i.channel_id = c.id),
                 (SELECT COUNT(*) FROM held_deprovisions h WHERE h.channel_id = c.id),
                 (SELECT quarantined_until FROM channel_health q WHERE q.channel_id = c.id),
                 (SELECT COUNT(*) FROM held_group_deletions hg WHERE hg.channel_id = c.id)
             FROM channels c ORDER BY c.connection, c.name",
            &[],
        )?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(ChannelSummary {
                    key: ChannelKey(row.get(0)?),
                    connection: row.get(1)?,
                    channel: row.get(2)?,
                    users: to_u64(row.get(3)?),
                    dirty: to_u64(row.get(4)?),
                    groups: to_u64(row.get(5)?),
                    dirty_groups: to_u64(row.get(6)?),
                    unsettled_intents: to_u64(row.get(7)?),
                    held_deprovisions: to_u64(row.get(8)?),
                    quarantined_until: row.get(9)?,
                    held_group_deletions: to_u64(row.get(10)?),
                    last_cycle: None,
                    last_error: None,
                })
            })
            .collect::<Result<Vec<_>, StateError>>()?;
        for s in &mut out {
            s.last_cycle = self.last_cycle(s.key)?;
            s.last_error = match s.last_cycle.as_ref().and_then(|c| c.summary.as_ref()) {
                Some(CycleSummary { error: Some(e), .. }) => Some(e.clone()),
                _ => self.latest_record_error(s.key)?,
            };
        }
        Ok(out)
    }

    /// The summary of one channel.
    pub fn channel_summary(&self, ch: ChannelKey) -> Result<Option<ChannelSummary>, StateError> {
        Ok(self.channel_summaries()?.into_iter().find(|s| s.key == ch))
    }

    /// The error of the most recently updated dirty user or group.
    fn latest_record_error(&self, ch: ChannelKey) -> Result<Option<String>, StateError> {
        self.query_opt(
            "SELECT last_error FROM (
                     SELECT last_error, updated_at FROM user_state
                     WHERE channel_id = ?1 AND dirty = 1 AND last_error IS NOT NULL
                     UNION ALL
                     SELECT last_error, updated_at FROM group_state
                     WHERE channel_id = ?1 AND dirty = 1 AND last_error IS NOT NULL
                 ) AS errors ORDER BY updated_at DESC LIMIT 1",
            vals![ch.0],
        )?
        .map(|row| row.get(0))
        .transpose()
    }
}
