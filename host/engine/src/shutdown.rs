//! Stopping cleanly on SIGTERM or Ctrl-C.
//!
//! [`install`] starts a listener on the engine's runtime. When a stop is
//! requested, a running cycle starts no new user operation, lets the ones in
//! flight finish, writes their results to the state store and the audit
//! log, records the cycle, prints its summary, and `provisio sync` exits
//! with status 0. The users not started are picked up by the next run.
//! (SIGKILL cannot be caught: see the crash-safety notes in RELIABILITY.md.)

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Ask the engine to stop after the operations in flight.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Listen for SIGTERM and Ctrl-C on `runtime`; `observer` is told when a
/// stop is requested.
pub fn install(runtime: &tokio::runtime::Runtime, observer: std::sync::Arc<dyn crate::Observer>) {
    runtime.spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::warn!("stop requested: finishing the operations in flight, then exiting");
        request();
        observer.stop_requested();
    });
}
