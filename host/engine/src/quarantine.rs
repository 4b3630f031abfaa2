//! Quarantine: a channel whose operations mostly fail slows down instead of
//! hammering its target, and recovers by itself when the target does.
//!
//! A cycle **fails** when it could not run at all (source unreadable,
//! activation check refused, connector not openable) or when at least
//! [`MIN_OPERATIONS`] user operations ran and at least
//! [`FAILING_SHARE`] per cent of them failed. After `quarantine_after`
//! failing cycles in a row (`[engine]`, default 3) the channel is
//! quarantined for `quarantine_interval` seconds (default 300): its cycles
//! are skipped, and `provisio channels list` and the log say so. When the
//! quarantine ends one probe cycle runs: a good cycle ends the quarantine,
//! a failing one starts a new quarantine twice as long (at most an hour).

use provisio_state::{CycleSummary, Health};

/// Fewest operations in a cycle for its failure share to count.
pub const MIN_OPERATIONS: u64 = 5;
/// Share of failed operations (per cent) that makes a cycle failing.
pub const FAILING_SHARE: u64 = 80;
/// The longest quarantine.
pub const MAX_QUARANTINE_SECS: i64 = 3600;

/// Why a cycle counts as failing, or None when it went well enough.
pub fn failing(summary: &CycleSummary) -> Option<String> {
    if let Some(e) = &summary.error {
        return Some(e.clone());
    }
    let s = summary;
    // A user the target holds several accounts for fails until someone
    // repairs the target: that says nothing of the channel's health.
    let failed = s.failed.saturating_sub(s.ambiguous);
    let ops = s.created + s.linked + s.updated + s.disabled + s.enabled + s.deleted + failed;
    (ops >= MIN_OPERATIONS && failed * 100 >= FAILING_SHARE * ops)
        .then(|| format!("{failed} of {ops} operations failed"))
}

/// What changed for a channel after one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    None,
    Entered { until: i64 },
    Left,
}

/// The channel's health after a cycle whose failure (if any) is `failure`.
pub fn after_cycle(
    health: &Health,
    failure: Option<String>,
    now: i64,
    quarantine_after: u32,
    interval_secs: i64,
) -> (Health, Transition) {
    match failure {
        None => {
            let was = health.quarantined_until.is_some() || health.failing_cycles >= quarantine_after;
            (Health::default(), if was { Transition::Left } else { Transition::None })
        }
        Some(reason) => {
            let failing_cycles = health.failing_cycles.saturating_add(1);
            if failing_cycles < quarantine_after.max(1) {
                return (Health { failing_cycles, quarantined_until: None, reason: Some(reason) }, Transition::None);
            }
            let doublings = (failing_cycles - quarantine_after.max(1)).min(16);
            let length = interval_secs.max(1).saturating_mul(1 << doublings).min(MAX_QUARANTINE_SECS);
            let until = now + length;
            (
                Health { failing_cycles, quarantined_until: Some(until), reason: Some(reason) },
                Transition::Entered { until },
            )
        }
    }
}

/// Whether a channel with `health` sits this cycle out.
pub fn is_quarantined(health: &Health, now: i64) -> bool {
    health.quarantined_until.is_some_and(|until| now < until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(ok: u64, failed: u64) -> CycleSummary {
        CycleSummary { created: ok, failed, ..CycleSummary::default() }
    }

    #[test]
    fn a_cycle_fails_when_it_cannot_run_or_most_operations_fail() {
        assert!(failing(&CycleSummary { error: Some("source: gone".into()), ..Default::default() }).is_some());
        assert!(failing(&summary(1, 4)).is_some(), "4 of 5 failed");
        assert!(failing(&summary(2, 3)).is_none(), "3 of 5 is not most");
        assert!(failing(&summary(0, 4)).is_none(), "too few operations to judge");
        let ambiguous = CycleSummary { failed: 7, ambiguous: 7, ..CycleSummary::default() };
        assert!(failing(&ambiguous).is_none(), "ambiguous users never quarantine the channel");
        let mixed = CycleSummary { failed: 9, ambiguous: 4, ..CycleSummary::default() };
        assert!(failing(&mixed).is_some(), "5 real failures of 5 operations");
    }

    #[test]
    fn quarantine_starts_after_three_failing_cycles_and_doubles_then_lifts() {
        let mut h = Health::default();
        let mut transitions = Vec::new();
        for now in [0, 60, 120, 500, 1200] {
            let (next, t) = after_cycle(&h, Some("503".into()), now, 3, 300);
            transitions.push(t);
            h = next;
        }
        assert_eq!(
            transitions,
            [
                Transition::None,
                Transition::None,
                Transition::Entered { until: 420 },
                Transition::Entered { until: 1100 },
                Transition::Entered { until: 2400 }
            ]
        );
        assert!(is_quarantined(&h, 2399) && !is_quarantined(&h, 2400));
        let (h, t) = after_cycle(&h, None, 2400, 3, 300);
        assert_eq!((h, t), (Health::default(), Transition::Left));
    }

    #[test]
    fn quarantine_never_exceeds_an_hour() {
        let h = Health { failing_cycles: 40, quarantined_until: Some(0), reason: None };
        let (h, _) = after_cycle(&h, Some("x".into()), 0, 3, 300);
        assert_eq!(h.quarantined_until, Some(MAX_QUARANTINE_SECS));
    }
}
