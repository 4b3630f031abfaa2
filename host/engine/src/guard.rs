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
//!
//! Group deletions are judged the same way and on their own: against the
//! groups the channel manages (groups with a target id in its state) and the
//! number of groups the source returned, with the same thresholds. A group
//! filter that no longer matches, or an empty source, therefore holds the
//! deletion of every managed group (a group filter removed altogether is a
//! `config check` error); `channels approve` releases held group
//! deletions together with held deprovisions (one approval per channel).

pub use provisio_config::DeletionGuard;

/// Whether a cycle's deprovisions may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allow,
    Hold { reason: String },
}

/// What a verdict is about: it gives the reason its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Deprovisions of the channel's linked users.
    Users,
    /// Deletions of the channel's managed groups.
    Groups,
}

impl Subject {
    fn words(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Subject::Users => ("user", "linked", "deprovisioned"),
            Subject::Groups => ("group", "managed", "deleted at the target"),
        }
    }
}

/// Judge `deprovisions` out of `linked` users, the source having returned
/// `source_entries` users.
pub fn judge(guard: &DeletionGuard, deprovisions: u64, linked: u64, source_entries: u64) -> Verdict {
    judge_of(guard, Subject::Users, deprovisions, linked, source_entries)
}

/// Judge `removals` of `subject` out of the channel's `held` ones (linked
/// users, managed groups), the source having returned `source_entries` of
/// them.
pub fn judge_of(guard: &DeletionGuard, subject: Subject, removals: u64, held: u64, source_entries: u64) -> Verdict {
    if !guard.enabled || removals == 0 {
        return Verdict::Allow;
    }
    let (noun, kind, verb) = subject.words();
    if source_entries == 0 {
        return Verdict::Hold {
            reason: format!("the source returned no {noun} at all, and {removals} {kind} {noun}(s) would be {verb}"),
        };
    }
    let share = removals as f64 * 100.0 / held.max(1) as f64;
    if removals > guard.max_count && share > guard.max_percent {
        return Verdict::Hold {
            reason: format!(
                "{removals} of {held} {kind} {noun}s ({share:.0} %) would be {verb}, more than the guard's {} % and {} {noun}s",
                guard.max_percent, guard.max_count
            ),
        };
    }
    Verdict::Allow
}

/// What a cycle says when the guard holds: the reason, what was held, and
/// the command that releases it.
pub fn hold_message(reason: &str, held: &str, connection: &str, channel: &str) -> String {
    format!(
        "deletion guard: {reason}; {held}. If this is intended, run `provisio channels approve --channel {connection}/{channel}`"
    )
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
    fn group_deletions_are_judged_on_their_own_with_the_same_thresholds() {
        let g = DeletionGuard::default();
        let hold = |v: Verdict| match v {
            Verdict::Hold { reason } => reason,
            Verdict::Allow => panic!("allowed"),
        };
        let reason = hold(judge_of(&g, Subject::Groups, 20, 20, 0));
        assert_eq!(
            reason,
            "the source returned no group at all, and 20 managed group(s) would be deleted at the target"
        );
        let reason = hold(judge_of(&g, Subject::Groups, 12, 40, 28));
        assert!(reason.starts_with("12 of 40 managed groups (30 %) would be deleted at the target"), "{reason}");
        assert_eq!(judge_of(&g, Subject::Groups, 10, 20, 10), Verdict::Allow, "only 10 groups");
        assert_eq!(judge_of(&g, Subject::Groups, 0, 20, 0), Verdict::Allow, "nothing to delete");
        let off = DeletionGuard { enabled: false, ..g };
        assert_eq!(judge_of(&off, Subject::Groups, 20, 20, 0), Verdict::Allow);
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
