//! What the binary does with what the engine tells it ([`Observer`]):
//! progress bars on a terminal, connector call timings for the service's
//! metrics, and a notice on stderr when a stop is requested.

use indicatif::{ProgressBar, ProgressStyle};
use provisio_engine::Observer;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// A channel with fewer operations than this gets no progress bar.
const MIN_OPERATIONS_FOR_A_BAR: usize = 50;

/// The observer of `provisio`'s commands.
#[derive(Default)]
pub struct Console {
    /// Draw progress bars (stderr is a terminal, and the command asks for them).
    progress: bool,
    /// The bar of each channel whose operations are under way.
    bars: Mutex<HashMap<(String, String), ProgressBar>>,
}

impl Console {
    /// An observer that draws progress bars when `progress` is set.
    pub fn new(progress: bool) -> Console {
        Console { progress, bars: Mutex::default() }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), ProgressBar>> {
        self.bars.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Observer for Console {
    fn operations_started(&self, connection: &str, channel: &str, operations: usize) {
        if !self.progress || operations < MIN_OPERATIONS_FOR_A_BAR {
            return;
        }
        let bar = ProgressBar::new(operations as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} users, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{connection}/{channel}"));
        self.bars().insert((connection.to_owned(), channel.to_owned()), bar);
    }

    fn operation_done(&self, connection: &str, channel: &str) {
        if !self.progress {
            return;
        }
        if let Some(bar) = self.bars().get(&(connection.to_owned(), channel.to_owned())) {
            bar.inc(1);
        }
    }

    fn operations_finished(&self, connection: &str, channel: &str) {
        if !self.progress {
            return;
        }
        if let Some(bar) = self.bars().remove(&(connection.to_owned(), channel.to_owned())) {
            bar.finish_and_clear();
        }
    }

    fn call_finished(&self, connection: &str, operation: &'static str, elapsed: Duration, ok: bool) {
        crate::service::metrics::observe_call(connection, operation, elapsed, ok);
    }

    fn stop_requested(&self) {
        if !crate::logging::is_json() {
            eprintln!("provisio: stop requested; finishing the operations in flight");
        }
    }
}
