//! What the engine tells, and asks of, the program that runs it.
//!
//! The engine knows nothing of the terminal, the metrics or the web
//! service. What those need from a run reaches them through [`Observer`],
//! a small trait whose hooks all default to doing nothing: the binary
//! implements it with progress bars and Prometheus counters, a test or an
//! embedding program implements what it cares about. A cycle's result
//! itself is returned ([`ChannelReport`](crate::ChannelReport)), not observed.
//!
//! Failover is the one thing the engine asks for: [`Leases`] says which
//! channels this node may run, each under a lease whose gate fences every
//! request and whose fence guards every state transaction. The binary's
//! failover node implements it on PostgreSQL.
//!
//! ```
//! use provisio_engine::Observer;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! /// Counts the user operations of every cycle.
//! #[derive(Default)]
//! struct Count(AtomicUsize);
//!
//! impl Observer for Count {
//!     fn operation_done(&self, _connection: &str, _channel: &str) {
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!     }
//! }
//!
//! let count = Count::default();
//! count.operation_done("sandbox", "people");
//! assert_eq!(count.0.load(Ordering::Relaxed), 1);
//! ```

use provisio_runtime::fence::LeaseGate;
use provisio_state::Fence;
use std::time::Duration;

/// Hooks the engine calls as a run goes on. Each has a default that does
/// nothing. They are called from the engine's worker threads, so they must
/// be quick and must not block.
pub trait Observer: Send + Sync {
    /// A channel's cycle is about to push `operations` user operations to
    /// its target (after deciding; none for a cycle with nothing to send).
    fn operations_started(&self, connection: &str, channel: &str, operations: usize) {
        let _ = (connection, channel, operations);
    }

    /// One of those operations finished (its outcome is in the cycle's report).
    fn operation_done(&self, connection: &str, channel: &str) {
        let _ = (connection, channel);
    }

    /// The channel's operations are over (all done, or the cycle stopped early).
    fn operations_finished(&self, connection: &str, channel: &str) {
        let _ = (connection, channel);
    }

    /// A connector call finished: every operation sent to a connector
    /// (activation checks, reads and lookups included), with its duration.
    fn call_finished(&self, connection: &str, operation: &'static str, elapsed: Duration, ok: bool) {
        let _ = (connection, operation, elapsed, ok);
    }

    /// A stop was requested (SIGTERM or Ctrl-C): the running cycle starts
    /// nothing new and finishes what is in flight.
    fn stop_requested(&self) {}
}

/// The observer that observes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unobserved;

impl Observer for Unobserved {}

/// Failover: the channels this node may run.
pub trait Leases: Send + Sync {
    /// The lease of `connection/channel` for one cycle of it, if this node
    /// holds it and its deadline has not passed; `None` when another node
    /// runs the channel. The lease is kept for the cycle until the returned
    /// value is dropped.
    fn begin(&self, connection: &str, channel: &str) -> Option<Box<dyn CycleLease + '_>>;
}

/// A channel's lease, held for one cycle.
pub trait CycleLease {
    /// The gate every request sent for the channel's connector passes.
    fn gate(&self) -> LeaseGate;

    /// The state store's fence: a write is refused once the lease is gone.
    fn fence(&self) -> Fence;
}

/// Runtime side of [`Observer::call_finished`]: a connection reports its
/// calls to a [`provisio_runtime::CallObserver`], which forwards them here.
pub(crate) struct Calls(pub std::sync::Arc<dyn Observer>);

impl provisio_runtime::CallObserver for Calls {
    fn call_finished(&self, connection: &str, operation: &'static str, elapsed: Duration, ok: bool) {
        self.0.call_finished(connection, operation, elapsed, ok);
    }
}
