//! Retrying a failing user, within a cycle and across cycles.
//!
//! **Within a cycle**, a work item whose failure is retryable (429, 502,
//! 503, 504, a timeout, a connection error: the connector sets `retryable`)
//! is run again after an exponential back-off with equal jitter, or after the
//! target's `Retry-After` when it gave one, until it succeeds or the
//! channel's Timeout for that user is spent. Re-running a whole work item is
//! safe: once a create has been sent, every later attempt looks the account
//! up before anything else (`create.rs`), so a create that timed out or lost
//! its answer after reaching the target is linked, not duplicated. A 400 or
//! a 409 is never retried blindly (a 409 on create is settled by lookup and
//! link). The loop itself ([`with_retries`]) is the connector runtime's,
//! the same for the activation check.
//!
//! **Across cycles**, a user still failing is marked dirty and retried on a
//! growing schedule ([`next_retry_gap`]): at the next cycle after the first
//! failure, then after 1, 2, 4, 8, 16, 32 minutes, then every hour. A user
//! whose source entry changed is retried at once whatever the schedule, and
//! `provisio channels retry` resets the schedule.

use std::time::Duration;

pub use provisio_runtime::retry::with_retries;

/// How long after its last failure a dirty user waits before it is tried
/// again, given its failed attempts so far.
pub fn next_retry_gap(attempts: u32) -> Duration {
    match attempts {
        0 | 1 => Duration::ZERO,
        n => Duration::from_secs(60u64.saturating_mul(1 << (n - 2).min(6)).min(3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_grows_to_an_hour() {
        let minutes: Vec<u64> = (0..10).map(|a| next_retry_gap(a).as_secs() / 60).collect();
        assert_eq!(minutes, [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
    }
}
