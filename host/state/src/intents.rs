//! Intents: work recorded before it is done at the target, settled after.
//!
//! The engine calls [`Tx::record_create_intent`] (committed) before it
//! sends a create, and [`Tx::settle_intent`] once the outcome is stored
//! (typically in the same transaction as the user's new row). An intent
//! still unsettled when a cycle starts means a run died between the two:
//! the account may or may not exist at the target, so the engine looks it
//! up by the recorded Unique User Identifier value before creating again.
//! One intent per user and channel; recording it again counts one more
//! possible attempt ([`Intent::attempts`]) and keeps the rest.
//!
//! An intent is settled (removed) only when the create's outcome is known:
//! the create answered, the account was found and linked, or two lookups a
//! settling time apart found nothing ([`Tx::note_intent_absent`] records the
//! first of them).

use crate::query::vals;

use crate::error::StateError;
use crate::model::{ChannelKey, Intent, IntentKind};
use crate::tx::Tx;

impl Tx<'_> {
    /// Announce a create of `guid` under Unique User Identifier value
    /// `unique_id`.
    pub fn record_create_intent(
        &self,
        ch: ChannelKey,
        guid: &str,
        unique_id: &str,
        now: i64,
    ) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO intents (channel_id, guid, kind, unique_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (channel_id, guid) DO UPDATE SET
                 kind = excluded.kind,
                 unique_id = excluded.unique_id,
                 created_at = excluded.created_at,
                 attempts = intents.attempts + 1,
                 checked_at = NULL",
            vals![ch.0, guid, IntentKind::Create.as_str(), unique_id, now],
        )?;
        Ok(())
    }

    /// The channel's unsettled intents, oldest first.
    pub fn unsettled_intents(&self, ch: ChannelKey) -> Result<Vec<Intent>, StateError> {
        let rows = self.query(
            "SELECT guid, kind, unique_id, created_at, attempts, checked_at FROM intents
             WHERE channel_id = ?1 ORDER BY created_at, guid",
            vals![ch.0],
        )?;
        rows.iter()
            .map(|row| {
                let (guid, kind, unique_id, created_at): (String, String, String, i64) =
                    (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
                let (attempts, checked_at): (i64, Option<i64>) = (row.get(4)?, row.get(5)?);
                let kind = IntentKind::parse(&kind)
                    .ok_or_else(|| StateError::Corrupt(format!("intent for {guid} has unknown kind '{kind}'")))?;
                let attempts = u32::try_from(attempts.max(0)).unwrap_or(u32::MAX);
                Ok(Intent { guid, kind, unique_id, created_at, attempts, checked_at })
            })
            .collect()
    }

    /// Keep the intent of a create whose outcome is unknown: count `extra`
    /// more creates sent for `guid` (sent again within one cycle), and note
    /// `since`, from when a late one may still land ([`Intent::checked_at`]):
    /// when the last was given up on, or 0 when every create was answered.
    pub fn keep_intent(&self, ch: ChannelKey, guid: &str, extra: u32, since: i64) -> Result<(), StateError> {
        self.exec(
            "UPDATE intents SET attempts = attempts + ?3, checked_at = ?4 WHERE channel_id = ?1 AND guid = ?2",
            vals![ch.0, guid, i64::from(extra), since],
        )?;
        Ok(())
    }

    /// Record that a lookup at `now` found no account for `guid`'s intent
    /// (the first such lookup's time is kept).
    pub fn note_intent_absent(&self, ch: ChannelKey, guid: &str, now: i64) -> Result<(), StateError> {
        self.exec(
            "UPDATE intents SET checked_at = ?3 WHERE channel_id = ?1 AND guid = ?2 AND checked_at IS NULL",
            vals![ch.0, guid, now],
        )?;
        Ok(())
    }

    /// Settle the intent for `guid` (no-op if there is none). `true` if
    /// there was one.
    pub fn settle_intent(&self, ch: ChannelKey, guid: &str) -> Result<bool, StateError> {
        let n = self.exec("DELETE FROM intents WHERE channel_id = ?1 AND guid = ?2", vals![ch.0, guid])?;
        Ok(n > 0)
    }
}
