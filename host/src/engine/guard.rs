//! The accidental-deletion guard, on by default.
//!
//! A source that suddenly returns nothing (an emptied file, a wrong base DN,
//! a directory outage that answers with an empty result) must never wipe the
//! target. So when one cycle would deprovision more than `max_percent` per
//! cent **and** more than `max_count` of a channel's linked users, or any
//! user at all while the source returned zero entries, those deprovisions
//! are held instead of executed: the cycle does everything else, records the
//! held users, and says so. `provisio channels list` shows them and
//! `provisio channels approve --channel C` releases them for the next cycle.
//! Small deliberate departures stay below both thresholds and go through.

use serde::{Deserialize, Serialize};

/// A channel's guard settings (`[connection.channel.deletion_guard]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletionGuard {
    pub enabled: bool,
    /// Hold when more than this share of the linked users would go ...
    pub max_percent: f64,
    /// ... and more than this many.
    pub max_count: u64,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        DeletionGuard { enabled: true, max_percent: 20.0, max_count: 10 }
    }
}

/// Whether a cycle's deprovisions may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allow,
    Hold { reason: String },
}

/// Judge `deprovisions` out of `linked` users, the source having returned
/// `source_entries` users.
pub fn judge(guard: &DeletionGuard, deprovisions: u64, linked: u64, source_entries: u64) -> Verdict {
    if !guard.enabled || deprovisions == 0 {
        return Verdict::Allow;
    }
    if source_entries == 0 {
        return Verdict::Hold {
            reason: format!(
                "the source returned no user at all, and {deprovisions} linked user(s) would be deprovisioned"
            ),
        };
    }
    let share = deprovisions as f64 * 100.0 / linked.max(1) as f64;
    if deprovisions > guard.max_count && share > guard.max_percent {
        return Verdict::Hold {
            reason: format!(
                "{deprovisions} of {linked} linked users ({share:.0} %) would be deprovisioned, more than the guard's {} % and {} users",
                guard.max_percent, guard.max_count
            ),
        };
    }
    Verdict::Allow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_source_never_deprovisions() {
        assert!(matches!(judge(&DeletionGuard::default(), 1, 100, 0), Verdict::Hold { .. }));
        assert_eq!(judge(&DeletionGuard::default(), 0, 100, 0), Verdict::Allow);
    }

    #[test]
    fn both_thresholds_must_be_exceeded() {
        let g = DeletionGuard::default();
        assert_eq!(judge(&g, 10, 20, 10), Verdict::Allow, "50 % but only 10 users");
        assert_eq!(judge(&g, 15, 100, 85), Verdict::Allow, "15 users but only 15 %");
        assert!(matches!(judge(&g, 21, 100, 79), Verdict::Hold { .. }));
        assert!(matches!(judge(&g, 11, 50, 39), Verdict::Hold { .. }));
    }

    #[test]
    fn a_disabled_guard_allows_everything() {
        let g = DeletionGuard { enabled: false, ..DeletionGuard::default() };
        assert_eq!(judge(&g, 1000, 1000, 0), Verdict::Allow);
    }

    #[test]
    fn the_thresholds_are_configurable() {
        let g = DeletionGuard { enabled: true, max_percent: 50.0, max_count: 2 };
        assert_eq!(judge(&g, 3, 10, 7), Verdict::Allow);
        assert!(matches!(judge(&g, 6, 10, 4), Verdict::Hold { .. }));
    }
}
