//! Channel health: how many cycles in a row a channel has failed, and
//! whether it is quarantined.
//!
//! The engine records every cycle's outcome. After enough failing cycles in
//! a row the channel is quarantined: its cycles are skipped until the
//! quarantine ends, then one probe cycle runs; a success ends the
//! quarantine, a failure doubles its length. The rule lives in the engine
//! (`host/engine/src/quarantine.rs`); this module only remembers.

use crate::query::vals;

use crate::error::StateError;
use crate::model::ChannelKey;
use crate::tx::Tx;

/// A channel's health record.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// Failing cycles in a row (0 after a good cycle).
    pub failing_cycles: u32,
    /// Quarantined until this Unix time (None: not quarantined).
    pub quarantined_until: Option<i64>,
    /// Why the last failing cycle failed.
    pub reason: Option<String>,
}

impl Tx<'_> {
    pub fn health(&self, ch: ChannelKey) -> Result<Health, StateError> {
        let row = self.query_opt(
            "SELECT failing_cycles, quarantined_until, reason FROM channel_health WHERE channel_id = ?1",
            vals![ch.0],
        )?;
        let Some(r) = row else { return Ok(Health::default()) };
        Ok(Health {
            failing_cycles: u32::try_from(r.get::<i64>(0)?.max(0)).unwrap_or(u32::MAX),
            quarantined_until: r.get(1)?,
            reason: r.get(2)?,
        })
    }

    pub fn set_health(&self, ch: ChannelKey, health: &Health) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO channel_health (channel_id, failing_cycles, quarantined_until, reason) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel_id) DO UPDATE SET failing_cycles = excluded.failing_cycles,
                 quarantined_until = excluded.quarantined_until, reason = excluded.reason",
            vals![ch.0, health.failing_cycles, health.quarantined_until, health.reason],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Health;
    use crate::StateStore;

    #[test]
    fn health_is_remembered_and_reset_with_the_channel() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("s.db")).unwrap();
        let ch = store.channel("c", "people").unwrap();
        assert_eq!(store.health(ch).unwrap(), Health::default());
        let h = Health { failing_cycles: 3, quarantined_until: Some(99), reason: Some("503".into()) };
        store.set_health(ch, &h).unwrap();
        assert_eq!(store.health(ch).unwrap(), h);
        store.reset_channel("c", "people").unwrap();
        assert_eq!(store.health(ch).unwrap(), Health::default());
    }
}
