//! Held deprovisions: the accidental-deletion guard's memory.
//!
//! When one cycle would deprovision more of a channel's users than its
//! deletion guard allows (or any user while the source returned nothing),
//! the engine holds those deprovisions instead of executing them and records
//! them here. `provisio channels list` shows them; `provisio channels
//! approve` records an approval, and the next cycle executes the
//! deprovisions it still finds (and clears both). A cycle whose source is
//! back to normal clears held rows that no longer apply.
//!
//! Group deletions are held the same way ([`HeldGroup`]), judged on their
//! own against the channel's managed groups, and released by the same
//! approval.

use crate::query::vals;

use crate::error::StateError;
use crate::model::ChannelKey;
use crate::tx::Tx;

/// One held deprovision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Held {
    pub guid: String,
    pub unique_id: String,
    /// `Disable` or `Delete`.
    pub action: String,
    pub held_at: i64,
}

/// One held group deletion: a managed group that left the scope and would
/// be deleted at the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeldGroup {
    pub guid: String,
    /// The group's name at the target.
    pub name: String,
    pub target_id: String,
    pub held_at: i64,
}

impl Tx<'_> {
    /// Replace the channel's held deprovisions with `held`.
    pub fn set_held(&self, ch: ChannelKey, held: &[Held]) -> Result<(), StateError> {
        self.atomic(|| {
            self.exec("DELETE FROM held_deprovisions WHERE channel_id = ?1", vals![ch.0])?;
            for h in held {
                self.exec(
                    "INSERT INTO held_deprovisions (channel_id, guid, unique_id, action, held_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    vals![ch.0, h.guid, h.unique_id, h.action, h.held_at],
                )?;
            }
            Ok(())
        })
    }

    /// The channel's held deprovisions, by unique id.
    pub fn held(&self, ch: ChannelKey) -> Result<Vec<Held>, StateError> {
        self.query(
            "SELECT guid, unique_id, action, held_at FROM held_deprovisions WHERE channel_id = ?1 ORDER BY unique_id",
            vals![ch.0],
        )?
        .iter()
        .map(|r| Ok(Held { guid: r.get(0)?, unique_id: r.get(1)?, action: r.get(2)?, held_at: r.get(3)? }))
        .collect()
    }

    /// Replace the channel's held group deletions with `held`.
    pub fn set_held_groups(&self, ch: ChannelKey, held: &[HeldGroup]) -> Result<(), StateError> {
        self.atomic(|| {
            self.exec("DELETE FROM held_group_deletions WHERE channel_id = ?1", vals![ch.0])?;
            for h in held {
                self.exec(
                    "INSERT INTO held_group_deletions (channel_id, guid, name, target_id, held_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    vals![ch.0, h.guid, h.name, h.target_id, h.held_at],
                )?;
            }
            Ok(())
        })
    }

    /// The channel's held group deletions, by name.
    pub fn held_groups(&self, ch: ChannelKey) -> Result<Vec<HeldGroup>, StateError> {
        self.query(
            "SELECT guid, name, target_id, held_at FROM held_group_deletions WHERE channel_id = ?1 ORDER BY name",
            vals![ch.0],
        )?
        .iter()
        .map(|r| Ok(HeldGroup { guid: r.get(0)?, name: r.get(1)?, target_id: r.get(2)?, held_at: r.get(3)? }))
        .collect()
    }

    /// Approve the channel's held deprovisions and group deletions: the next
    /// cycle executes them. Answers how many were held (users and groups).
    pub fn approve_held(&self, ch: ChannelKey, now: i64) -> Result<u64, StateError> {
        self.atomic(|| {
            let users: i64 =
                self.query_one("SELECT COUNT(*) FROM held_deprovisions WHERE channel_id = ?1", vals![ch.0])?.get(0)?;
            let groups: i64 = self
                .query_one("SELECT COUNT(*) FROM held_group_deletions WHERE channel_id = ?1", vals![ch.0])?
                .get(0)?;
            let n = users.max(0) + groups.max(0);
            self.exec(
                "INSERT INTO deprovision_approvals (channel_id, approved_at) VALUES (?1, ?2)
                 ON CONFLICT (channel_id) DO UPDATE SET approved_at = excluded.approved_at",
                vals![ch.0, now],
            )?;
            Ok(n.max(0) as u64)
        })
    }

    /// When the channel's held deprovisions were approved, if they were.
    pub fn approval(&self, ch: ChannelKey) -> Result<Option<i64>, StateError> {
        self.query_opt("SELECT approved_at FROM deprovision_approvals WHERE channel_id = ?1", vals![ch.0])?
            .map(|r| r.get(0))
            .transpose()
    }

    /// Forget an approval once the cycle it granted has judged its deletions.
    pub fn clear_approval(&self, ch: ChannelKey) -> Result<(), StateError> {
        self.exec("DELETE FROM deprovision_approvals WHERE channel_id = ?1", vals![ch.0])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Held, HeldGroup};
    use crate::StateStore;

    #[test]
    fn held_deprovisions_are_replaced_listed_and_approved() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("s.db")).unwrap();
        let ch = store.channel("c", "people").unwrap();
        let h = |g: &str| Held { guid: g.into(), unique_id: format!("u-{g}"), action: "Disable".into(), held_at: 5 };
        store.set_held(ch, &[h("1"), h("2")]).unwrap();
        store.set_held(ch, &[h("2"), h("3")]).unwrap();
        let held: Vec<String> = store.held(ch).unwrap().into_iter().map(|h| h.guid).collect();
        assert_eq!(held, ["2", "3"]);
        assert_eq!(store.approval(ch).unwrap(), None);
        assert_eq!(store.approve_held(ch, 9).unwrap(), 2);
        assert_eq!(store.approval(ch).unwrap(), Some(9));
        store.clear_approval(ch).unwrap();
        assert_eq!(store.approval(ch).unwrap(), None);
        assert!(store.reset_channel("c", "people").unwrap());
        assert!(store.held(ch).unwrap().is_empty(), "a reset forgets held deprovisions");
    }

    #[test]
    fn held_group_deletions_are_replaced_listed_counted_and_approved_with_the_users() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("s.db")).unwrap();
        let ch = store.channel("c", "people").unwrap();
        let g = |n: &str| HeldGroup { guid: format!("g-{n}"), name: n.into(), target_id: format!("t-{n}"), held_at: 5 };
        store.set_held_groups(ch, &[g("b"), g("a")]).unwrap();
        store.set_held_groups(ch, &[g("c"), g("b")]).unwrap();
        let names: Vec<String> = store.held_groups(ch).unwrap().into_iter().map(|h| h.name).collect();
        assert_eq!(names, ["b", "c"]);
        let h = Held { guid: "1".into(), unique_id: "u-1".into(), action: "Delete".into(), held_at: 5 };
        store.set_held(ch, &[h]).unwrap();
        assert_eq!(store.held_groups(ch).unwrap().len(), 2, "held users do not replace held groups");
        let summary = store.channel_summaries().unwrap().remove(0);
        assert_eq!((summary.held_deprovisions, summary.held_group_deletions), (1, 2));
        assert_eq!(store.approve_held(ch, 9).unwrap(), 3, "one approval releases users and groups");
        assert!(store.reset_channel("c", "people").unwrap());
        assert!(store.held_groups(ch).unwrap().is_empty(), "a reset forgets held group deletions");
    }
}
