//! A per-connection request-rate limit, so provisio stays under a target's
//! published limit before it ever sees a 429.
//!
//! `rate_limit = 10` in a `[[connection]]` allows at most 10 requests a
//! second to that connection's target, whatever its channels' Max Threads:
//! requests take evenly spaced slots, and a request whose slot is in the
//! future waits for it without blocking a thread. Unset, requests are not
//! limited (429s are still honoured through `Retry-After`).

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The smallest rate a connection may be limited to: one request every
/// 1,000 seconds. `config check` refuses a smaller one, naming the key; the
/// limiter itself treats a smaller one as this one, so it cannot fail.
pub const MIN_PER_SECOND: f64 = 0.001;

/// Evenly spaced request slots.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `per_second` requests a second (None for no limit: zero,
    /// negative or not a number). A rate below [`MIN_PER_SECOND`] is taken
    /// as that rate.
    pub fn per_second(per_second: f64) -> Option<RateLimiter> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        let interval = Duration::try_from_secs_f64(1.0 / per_second.max(MIN_PER_SECOND)).unwrap_or(Duration::ZERO);
        Some(RateLimiter { interval, next: Mutex::new(None) })
    }

    /// Wait for this request's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_evenly() {
        let limiter = RateLimiter::per_second(10.0).unwrap();
        let started = Instant::now();
        for _ in 0..21 {
            limiter.acquire().await;
        }
        // The first goes at once, the next 20 at 100 ms intervals.
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[test]
    fn a_tiny_or_huge_rate_does_not_panic() {
        let tiny = RateLimiter::per_second(1e-30).unwrap();
        assert_eq!(tiny.interval, Duration::from_secs(1000), "taken as the smallest rate");
        let huge = RateLimiter::per_second(1e300).unwrap();
        assert_eq!(huge.interval, Duration::ZERO);
    }

    #[test]
    fn zero_or_nonsense_means_no_limit() {
        assert!(RateLimiter::per_second(0.0).is_none());
        assert!(RateLimiter::per_second(f64::NAN).is_none());
        assert!(RateLimiter::per_second(-1.0).is_none());
    }
}
