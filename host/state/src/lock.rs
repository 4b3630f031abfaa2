//! The run lock: one writer per state store, across processes.
//!
//! [`RunLock::acquire`] opens (creating it if needed) `<store path>.lock`
//! and takes an exclusive advisory lock on it (`flock(2)` on Unix,
//! `LockFileEx` on Windows, through `fs4`) without waiting. The holder then
//! writes `pid=<pid>` and `started=<UTC time>` into the file so that a
//! refused run can say who is in the way. The operating system drops the
//! lock when the file is closed, including when the holder crashes or is
//! killed, so a stale lock file never blocks anyone: only a live holder
//! does. On drop the holder empties the file (while still holding the
//! lock) and closes it; the file itself stays, because deleting a lock file
//! races with a process that has just opened it.
//!
//! Two opens of the same store in one process conflict too (the lock
//! belongs to the open file, not to the process).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::StateError;

/// An exclusive lock held on `<store path>.lock` for as long as it lives.
#[derive(Debug)]
pub(crate) struct RunLock {
    file: File,
}

/// The lock file's path for a store at `store`: the store's file name with
/// `.lock` appended.
pub(crate) fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RunLock {
    /// Take the run lock of the store at `store`, or fail at once with
    /// [`StateError::Locked`] naming the holder.
    pub(crate) fn acquire(store: &Path) -> Result<RunLock, StateError> {
        let path = lock_path(store);
        let io_err = |source| StateError::Io { path: path.clone(), source };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err)?;
        // Fully qualified: std's own `File::try_lock` (Rust 1.89) would
        // otherwise shadow the trait method on newer toolchains.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(StateError::Locked { path: store.to_path_buf(), holder: read_holder(&mut file) });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let record = format!("pid={}\nstarted={}\n", std::process::id(), format_utc(unix_now()));
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| file.write_all(record.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(io_err)?;
        Ok(RunLock { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Still locked here: nobody can read a half-cleared record. Errors
        // are ignored, the lock goes away with the file handle regardless.
        let _ = self.file.set_len(0);
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

/// `pid N, started T` from a lock file's contents, if they can be read.
fn read_holder(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    parse_holder(&text)
}

/// Parse the `key=value` lines a holder writes into `pid N, started T`.
pub(crate) fn parse_holder(text: &str) -> Option<String> {
    let field = |key: &str| {
        text.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (field("pid"), field("started")) {
        (Some(pid), Some(started)) => Some(format!("pid {pid}, started {started}")),
        (Some(pid), None) => Some(format!("pid {pid}")),
        _ => None,
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC; times before 1970 as 1970).
pub(crate) fn format_utc(secs: i64) -> String {
    let at = UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn parses_holder() {
        assert_eq!(
            parse_holder("pid=42\nstarted=2023-11-14T22:13:20Z\n").as_deref(),
            Some("pid 42, started 2023-11-14T22:13:20Z")
        );
        assert_eq!(parse_holder("pid=42\n").as_deref(), Some("pid 42"));
        assert_eq!(parse_holder(""), None);
    }

    #[test]
    fn lock_path_appends_suffix() {
        assert_eq!(
            lock_path(Path::new("/var/lib/provisio/state.db")),
            PathBuf::from("/var/lib/provisio/state.db.lock")
        );
    }
}
