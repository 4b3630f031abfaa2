//! Persistence of the sandbox to one JSON file (`SandboxConfig::persist`).
//!
//! The file is `{"schemas":["urn:provisio:sandbox:state:1"],"Users":[…],"Groups":[…]}`
//! with the resources exactly as served (one a line). It is read once at start if it
//! exists, and written atomically (a temporary file in the same directory, fsync, rename)
//! at most once a second while resources change, and once more on shutdown. The resource
//! JSON is taken under the store's read lock as shared pointers, and serialised and written
//! outside it, so a save never holds up requests for long.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::SandboxError;
use crate::routes::AppState;

/// Reads the state file, if there is one.
pub(crate) async fn read(path: &Path) -> Result<Option<String>, SandboxError> {
    match tokio::fs::read_to_string(path).await {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SandboxError::Load { path: path.to_owned(), detail: e.to_string() }),
    }
}

/// Writes `data` to `path` atomically: temp file, fsync, rename.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "sandbox".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Saves when the store changed since generation `saved`; returns the generation now saved.
pub(crate) async fn save_if_changed(state: &AppState, path: &Path, saved: u64) -> Result<u64, SandboxError> {
    let (generation, export) = {
        let store = state.read();
        if store.generation() == saved {
            return Ok(saved);
        }
        (store.generation(), store.export())
    };
    let target = path.to_owned();
    let written = tokio::task::spawn_blocking(move || write_atomic(&target, export.to_json().as_bytes()))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match written {
        Ok(()) => {
            tracing::debug!(target: "provisio_sandbox", path = %path.display(), generation, "sandbox state saved");
            Ok(generation)
        }
        Err(source) => Err(SandboxError::Save { path: path.to_owned(), source }),
    }
}

/// Saves changes at most once a second until `stop` fires; returns the generation saved.
pub(crate) async fn run(state: Arc<AppState>, path: PathBuf, mut stop: watch::Receiver<bool>, mut saved: u64) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return saved,
        }
        match save_if_changed(&state, &path, saved).await {
            Ok(generation) => saved = generation,
            Err(e) => tracing::warn!(target: "provisio_sandbox", "{e}"),
        }
    }
}
