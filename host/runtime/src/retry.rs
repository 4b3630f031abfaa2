//! Retrying one operation within its time budget: a retryable failure
//! (429, 502, 503, 504, a timeout, a connection error: the connector sets
//! `retryable`) is tried again after the target's `Retry-After` when it
//! gave one, else after an exponential back-off, until it succeeds, fails
//! for good, or the budget is spent. The engine runs each user's work item
//! under it within the channel's timeout; a connection runs its activation
//! check under it within the activation timeout.

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
pub async fn with_retries<T, F, Fut>(budget: Duration, attempt: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    retry_within(budget, "channel's timeout", attempt).await
}

/// [`with_retries`], the budget named `what` in the error of the last
/// attempt ("gave up after 3 attempts within the {what} of 30 s").
pub async fn retry_within<T, F, Fut>(budget: Duration, what: &str, mut attempt: F) -> Result<T, ConnectorError>
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
                        "gave up after {tries} attempt{} within the {what} of {} s",
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

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_core::error::ErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

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
