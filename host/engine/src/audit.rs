//! The audit log: one JSON line per provisioning event, with the fields of
//! PingFederate's `provisioner-audit.log` (spec a.8): time, cycle id,
//! channel, event type, source id, target id, success and cause.
//!
//! Attribute values never appear here, so neither can a secret or a masked
//! value; causes pass through the redactor.
//!
//! Lines are buffered and written out by [`Audit::flush`], which the cycle
//! calls before it commits a batch of state writes (so an event is on disk
//! no later than the state it produced), and when the log is dropped.

use provisio_redact::Redactor;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent<'a> {
    pub time: String,
    pub cycle_id: i64,
    pub connection: &'a str,
    pub channel: &'a str,
    /// CREATE, LINK, UPDATE, DISABLE, ENABLE, DELETE, GROUP_CREATE, ...
    pub event_type: &'a str,
    pub source_id: &'a str,
    pub target_id: Option<&'a str>,
    pub is_success: bool,
    pub non_success_cause: Option<String>,
}

/// An append-only audit log file.
pub struct Audit {
    file: Option<Mutex<BufWriter<File>>>,
    redactor: Redactor,
}

impl Audit {
    /// Append to `path` (created if missing).
    pub fn open(path: &Path, redactor: Redactor) -> std::io::Result<Audit> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Audit { file: Some(Mutex::new(BufWriter::with_capacity(64 * 1024, file))), redactor })
    }

    /// An audit log that writes nothing (dry runs).
    pub fn disabled() -> Audit {
        Audit { file: None, redactor: Redactor::new() }
    }

    pub fn record(&self, mut event: AuditEvent<'_>) {
        let Some(file) = &self.file else { return };
        event.non_success_cause = event.non_success_cause.map(|c| self.redactor.redact(&c));
        if let Ok(line) = serde_json::to_string(&event) {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{line}") {
                tracing::error!("cannot write the audit log: {e}");
            }
        }
    }

    /// Write the buffered lines to the file.
    pub fn flush(&self) {
        let Some(file) = &self.file else { return };
        if let Err(e) = file.lock().unwrap_or_else(|e| e.into_inner()).flush() {
            tracing::error!("cannot write the audit log: {e}");
        }
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Now, as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Now, as Unix seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
