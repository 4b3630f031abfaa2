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
//! link).
//!
//! **Across cycles**, a user still failing is marked dirty and retried on a
//! growing schedule ([`next_retry_gap`]): at the next cycle after the first
//! failure, then after 1, 2, 4, 8, 16, 32 minutes, then every hour. A user
//! whose source entry changed is retried at once whatever the schedule, and
//! `provisio channels retry` resets the schedule.

use provisio_core::error::ConnectorError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The first back-off within a cycle.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest back-off within a cycle (a longer `Retry-After` is honoured,
/// if it fits in the channel's timeout).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The back-off before retry number `attempt` (0-based): exponential, at
/// most [`MAX_BACKOFF`], with equal jitter: half of that cap plus a random
/// share of the other half. Retries of many users spread out, and none
/// comes back sooner than half its back-off (full jitter, drawn from zero
/// up, would let some retry a struggling target at once).
pub fn backoff(attempt: u32) -> Duration {
    let cap = FIRST_BACKOFF.saturating_mul(1u32 << attempt.min(16)).min(MAX_BACKOFF);
    let jitter = getrandom::u64().unwrap_or(u64::from(attempt) * 7919);
    let ms = cap.as_millis() as u64;
    Duration::from_millis(ms / 2 + jitter % (ms / 2 + 1))
}

/// Run `attempt` until it succeeds, fails for good, or `budget` is spent.
pub async fn with_retries<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    let started = Instant::now();
    let mut n = 0u32;
    loop {
        match attempt().await {
            Err(e) if e.retryable => {
                let wait = e.retry_after_ms.map(Duration::from_millis).unwrap_or_else(|| backoff(n));
                let spent = started.elapsed();
                if spent + wait >= budget {
                    let tries = n + 1;
                    return Err(e.context(format!(
                        "gave up after {tries} attempt{} within the channel's timeout of {} s",
                        if tries == 1 { "" } else { "s" },
                        budget.as_secs()
                    )));
                }
                tokio::time::sleep(wait).await;
                n += 1;
            }
            other => return other,
        }
    }
}

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
    use provisio_core::error::ErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn the_schedule_grows_to_an_hour() {
        let minutes: Vec<u64> = (0..10).map(|a| next_retry_gap(a).as_secs() / 60).collect();
        assert_eq!(minutes, [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn backoff_is_jittered_and_bounded() {
        for attempt in 0..20 {
            let b = backoff(attempt);
            let cap = FIRST_BACKOFF.saturating_mul(1u32 << attempt.min(16)).min(MAX_BACKOFF);
            assert!(b <= cap && b >= cap / 2 - Duration::from_millis(1), "{attempt}: {b:?} vs {cap:?}");
        }
        // Jittered: the draws for one attempt spread over its range.
        let draws: std::collections::BTreeSet<Duration> = (0..50).map(|_| backoff(5)).collect();
        assert!(draws.len() > 10, "{draws:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_failures_are_retried_and_others_are_not() {
        let calls = AtomicU32::new(0);
        let r: Result<u32, _> = with_retries(Duration::from_secs(60), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(ConnectorError::from_status(503, "busy")),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(r.unwrap(), 2);

        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_retries(Duration::from_secs(60), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ConnectorError::from_status(409, "exists"))
        })
        .await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Conflict);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a 409 is never retried blindly");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_the_budget_ends_the_retries() {
        let started = tokio::time::Instant::now();
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_retries(Duration::from_secs(30), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ConnectorError::from_status(429, "slow down").with_retry_after_ms(7_000))
        })
        .await;
        let err = r.unwrap_err();
        assert!(err.detail.contains("gave up after 5 attempts"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(started.elapsed().as_secs(), 28, "four waits of Retry-After = 7 s");
    }
}
