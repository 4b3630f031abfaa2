//! The hash key: the secret that makes the attribute hashes in the state
//! store unguessable. It is never in the store: it is a file beside a SQLite
//! store, or the `hash_key_file` every node shares with PostgreSQL
//! (`Config::hash_key_path`), made on first use and readable by its owner
//! only.

use provisio_config::Config;
use std::path::Path;

use crate::error::EngineError;

/// The hash key of `config`'s state store.
pub fn hash_key_of(config: &Config) -> Result<Vec<u8>, EngineError> {
    hash_key(&config.hash_key_path().map_err(EngineError::Config)?)
}

/// The key in the file `path`, created on first use.
pub fn hash_key(path: &Path) -> Result<Vec<u8>, EngineError> {
    match std::fs::read(path) {
        Ok(key) if key.len() >= 32 => Ok(key),
        // An unreadable key is not replaced: a new key would make every
        // stored hash look changed (and, for a shared hash_key_file,
        // differ from the other nodes' key).
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(EngineError::HashKey { path: path.to_owned(), action: "read", source: e })
        }
        _ => {
            let mut key = vec![0u8; 32];
            getrandom::fill(&mut key).map_err(|e| EngineError::HashKey {
                path: path.to_owned(),
                action: "make",
                source: std::io::Error::other(e.to_string()),
            })?;
            write_private(path, &key).map_err(|e| EngineError::HashKey {
                path: path.to_owned(),
                action: "write",
                source: e,
            })?;
            Ok(key)
        }
    }
}

/// Write `bytes` to `path`, readable by its owner only (mode 0600 on Unix).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}
