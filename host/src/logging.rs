//! Log output: human-readable lines on stderr, quiet by default.
//!
//! The level comes from `-v` (info, debug, trace) or, when set, from
//! `PROVISIO_LOG` in `tracing` filter syntax (e.g. `provisio_host=debug`).
//!
//! Per-user workflow events (a suppressed action, a failed user) are logged
//! as warnings under the target `provisio::workflow`. Without `-v` they are
//! kept off the console, because the summary printed after every cycle lists
//! them; with `-v`, or `PROVISIO_LOG=provisio::workflow=warn`, they appear.

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn,provisio::workflow=error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("PROVISIO_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
