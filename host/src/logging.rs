//! Log output on stderr: human-readable lines (quiet by default), or, with
//! `--log-format json` / `PROVISIO_LOG_FORMAT=json`, one JSON object per
//! line for a log pipeline.
//!
//! The level comes from `-v` (info, debug, trace) or, when set, from
//! `PROVISIO_LOG` in `tracing` filter syntax (e.g. `provisio_host=debug`).
//!
//! Per-user workflow events (a suppressed action, a failed user) are logged
//! as warnings under the target `provisio::workflow`. Without `-v` they are
//! kept off the console, because the summary printed after every cycle lists
//! them; with `-v`, or `PROVISIO_LOG=provisio::workflow=warn`, they appear.
//!
//! In JSON mode the default level is `info` (workflow warnings included),
//! and what `provisio sync` would print on stderr as plain lines (the
//! listener's address, "next cycle in", stops, configuration warnings) and
//! each channel's cycle summary become events too ([`notice`],
//! [`cycle_report`]), so stderr holds nothing but JSON lines. Every event
//! carries text that was redacted before it was logged (connector and
//! target text goes through the redactor), as in text mode; and every line,
//! in either format, goes through the process's redactor once more as it is
//! written ([`RedactedStderr`]), so a path that forgot to redact cannot
//! print a secret the engine knows.

use provisio_engine::ChannelReport;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

static JSON: AtomicBool = AtomicBool::new(false);

/// Whether logs are JSON lines.
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

pub fn init(verbose: u8, format: LogFormat) {
    let json = format == LogFormat::Json;
    JSON.store(json, Ordering::Relaxed);
    let default = match (verbose, json) {
        (0, false) => "warn,provisio::workflow=error",
        (0, true) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("PROVISIO_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(RedactedStderr)
            .with_target(true)
            .try_init();
        return;
    }
    let colour = colour_on_stderr();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(RedactedStderr)
        .with_target(false)
        .try_init();
}

/// Whether what provisio writes on stderr is coloured: stderr is a
/// terminal and `NO_COLOR` is unset or empty (no-color.org: only a
/// non-empty value turns colour off), the rule clap follows for its own
/// messages too.
pub fn colour_on_stderr() -> bool {
    colour_wanted(std::io::IsTerminal::is_terminal(&std::io::stderr()), std::env::var_os("NO_COLOR").as_deref())
}

fn colour_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// stderr, each write (one formatted event) redacted by the process's
/// [`Redactor`](provisio_redact::Redactor) first.
pub struct RedactedStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedStderr;
    fn make_writer(&'a self) -> RedactedStderr {
        RedactedStderr
    }
}

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = provisio_redact::Redactor::process().redact(&String::from_utf8_lossy(buf));
        std::io::stderr().lock().write_all(line.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A line for the operator: printed on stderr (redacted), or logged as an
/// `info` event in JSON mode.
pub fn notice(message: &str) {
    if is_json() {
        tracing::info!(target: "provisio", "{message}");
    } else {
        eprintln!("{}", provisio_redact::Redactor::process().redact(message));
    }
}

/// Like [`notice`], for a warning (a `warn` event in JSON mode).
pub fn notice_warning(message: &str) {
    if is_json() {
        tracing::warn!(target: "provisio", "{message}");
    } else {
        eprintln!("{}", provisio_redact::Redactor::process().redact(message));
    }
}

/// Like [`notice`], for an error (an `error` event in JSON mode). A leading
/// `error:` is bold red where clap's own `error:` would be
/// ([`colour_on_stderr`]).
pub fn notice_error(message: &str) {
    if is_json() {
        tracing::error!(target: "provisio", "{message}");
        return;
    }
    let message = provisio_redact::Redactor::process().redact(message);
    match message.strip_prefix("error:") {
        Some(rest) if colour_on_stderr() => eprintln!("\x1b[1;31merror:\x1b[0m{rest}"),
        _ => eprintln!("{message}"),
    }
}

/// One event per channel of a finished cycle, with its counts as fields
/// (JSON mode's stand-in for the summary table).
pub fn cycle_report(reports: &[ChannelReport]) {
    for r in reports {
        let s = &r.summary;
        if let Some(q) = &r.quarantined {
            tracing::warn!(target: "provisio::cycle", connection = %r.connection, channel = %r.channel, quarantined = true, "{q}");
            continue;
        }
        let message = match &s.error {
            Some(e) => format!("cycle failed: {e}"),
            None => "cycle finished".to_owned(),
        };
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    target: "provisio::cycle",
                    $level,
                    connection = %r.connection,
                    channel = %r.channel,
                    created = s.created,
                    linked = s.linked,
                    updated = s.updated,
                    disabled = s.disabled,
                    enabled = s.enabled,
                    deleted = s.deleted,
                    skipped = s.skipped,
                    failed = s.failed,
                    duration_ms = s.duration_ms,
                    "{message}"
                )
            };
        }
        if s.error.is_some() {
            event!(tracing::Level::ERROR);
        } else {
            event!(tracing::Level::INFO);
        }
        // Per-user warnings and the deletion guard were logged as they happened.
        for w in r.warnings.iter().filter(|w| !w.starts_with("user ") && !w.starts_with("deletion guard:")) {
            tracing::warn!(target: "provisio::cycle", connection = %r.connection, channel = %r.channel, "{w}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::colour_wanted;
    use std::ffi::OsStr;

    #[test]
    fn only_a_non_empty_no_color_turns_colour_off_on_a_terminal() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))), "an empty NO_COLOR leaves colour on (no-color.org)");
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None), "never on a pipe or a file");
    }
}
