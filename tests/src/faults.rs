//! A mix of target faults, at a rate a test can change while it runs: what
//! the fault tests put in front of a target through the proxy's fault hook
//! ([`crate::proxy::ProxyBuilder::fault`]).
//!
//! Within the rate, a request is answered by one of, in equal shares:
//! 429 with `Retry-After` in seconds, 429 with `Retry-After` as an HTTP
//! date, 500, 502, 503, a connection closed before the target saw the
//! request, a request held past the channel's timeout that the target then
//! carries out anyway, and a request the target carries out whose answer is
//! lost (the connection closes after the target acted). The last two are
//! what a client can only settle by looking at the target. The activation
//! check (`/ServiceProviderConfig`) is left alone, so every cycle runs.
//! The stream of choices is pseudo-random and seeded: a run is repeatable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::proxy::{Request, Response};

/// A fault hook with a switchable rate (see the module documentation).
#[derive(Clone)]
pub struct FaultMix {
    percent: Arc<AtomicU64>,
    counter: Arc<AtomicU64>,
    hold: Duration,
}

impl FaultMix {
    /// Fault `percent` of the requests; held requests wait `hold` (make it
    /// longer than the channel's timeout).
    pub fn new(percent: u64, hold: Duration) -> FaultMix {
        FaultMix { percent: Arc::new(AtomicU64::new(percent)), counter: Arc::new(AtomicU64::new(0)), hold }
    }

    /// Change the rate from now on.
    pub fn set_percent(&self, percent: u64) {
        self.percent.store(percent, Ordering::SeqCst);
    }

    /// The hook to give the proxy.
    pub fn hook(&self) -> impl Fn(&Request) -> Option<Response> + Send + Sync + 'static + use<> {
        let mix = self.clone();
        move |req| mix.answer(req)
    }

    fn answer(&self, req: &Request) -> Option<Response> {
        if req.path_only().ends_with("/ServiceProviderConfig") {
            return None;
        }
        let roll = self.next();
        if roll % 1000 >= self.percent.load(Ordering::SeqCst) * 10 {
            return None;
        }
        Some(match (roll / 1000) % 8 {
            0 => Response::scim_error(429, "slow down").header("Retry-After", "1"),
            1 => Response::scim_error(429, "slow down")
                .header("Retry-After", &httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1))),
            2 => Response::scim_error(500, "internal error"),
            3 => Response::scim_error(502, "bad gateway"),
            4 => Response::scim_error(503, "unavailable"),
            5 => Response::reset(),
            6 => Response::delayed(self.hold),
            _ => Response::lost(),
        })
    }

    /// The next pseudo-random number (splitmix64 over a counter).
    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^ (x >> 29)
    }
}
