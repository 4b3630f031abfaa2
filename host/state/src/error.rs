//! The one error type of the state store, [`StateError`].
//!
//! Every message is written for the operator who reads it in the CLI: it
//! names the store's path (for PostgreSQL its URL, without password)
//! where one is involved and says what to do next.
//! Backend errors (SQLite, PostgreSQL) are carried as text plus
//! their source, so that no backend type leaks into the public API.

use std::path::PathBuf;

/// What can go wrong with the state store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Another process (or another [`crate::StateStore`] in this process)
    /// holds the run lock of this store.
    #[error(
        "another provisio run{} is using the state store at {}; wait for it to finish or stop it",
        holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default(),
        path.display()
    )]
    Locked {
        /// The store's path (not the lock file's).
        path: PathBuf,
        /// `pid N, started T` as written into the lock file by the holder,
        /// when it could be read.
        holder: Option<String>,
    },

    /// The store's schema is newer than this binary's.
    #[error(
        "the state store at {} was written by a newer provisio (schema {found}); this one knows up to {known}",
        path.display()
    )]
    NewerSchema {
        /// The store's path.
        path: PathBuf,
        /// The version found in the store.
        found: u32,
        /// The newest version this binary knows.
        known: u32,
    },

    /// A read-only open found a store that a run of this binary has not yet
    /// migrated (a read-only open never migrates).
    #[error(
        "the state store at {} has schema {found} and this provisio needs {known}; a provisioning run (which opens it for writing) migrates it",
        path.display()
    )]
    NeedsMigration {
        /// The store's path.
        path: PathBuf,
        /// The version found in the store.
        found: u32,
        /// The version this binary needs.
        known: u32,
    },

    /// A read-only open of a store that does not exist.
    #[error("there is no state store at {} yet (a provisioning run creates it)", path.display())]
    NotFound {
        /// The path that was looked at.
        path: PathBuf,
    },

    /// A write through a store opened with [`crate::StateStore::open_read_only`].
    #[error("the state store was opened read-only and cannot be written")]
    ReadOnly,

    /// The connection's Unique User Identifier differs from the one recorded
    /// when its state was first written; changing it would re-link every
    /// user under a different key.
    #[error(
        "connection '{connection}' was provisioned with Unique User Identifier '{recorded}' but is now configured with '{configured}'; the identifier cannot change once the connection has state (reset its channels first to start over)"
    )]
    IdentifierChanged {
        /// The connection's name.
        connection: String,
        /// The identifier recorded in the store.
        recorded: String,
        /// The identifier in the configuration now.
        configured: String,
    },

    /// A row the store wrote cannot be read back (unknown status word, bad
    /// JSON): the file was edited by hand or is damaged.
    #[error("the state store holds a value it cannot read: {0}")]
    Corrupt(String),

    /// A file of the store (the lock file, the store's directory or the
    /// new store file) could not be created, read or written.
    #[error("cannot use {}: {source}", path.display())]
    Io {
        /// The file's path.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The state store's settings cannot be used (a bad PostgreSQL URL, an
    /// inline password, an unreadable CA file); the message names the key.
    #[error("state store configuration: {0}")]
    Config(String),

    /// The PostgreSQL server could not be reached or refused the login.
    /// The message never holds the password.
    #[error("cannot connect to the PostgreSQL state store at {location}: {message}")]
    Unavailable {
        /// The URL, without query string (it never holds a password).
        location: String,
        /// What went wrong, with what to check.
        message: String,
    },

    /// A write of a channel whose lease this node no longer holds (failover):
    /// its local deadline passed, or the fencing token in the store is not
    /// this node's any more. Nothing was written.
    #[error(
        "this node no longer holds the lease of channel {channel}; another node may run it now, so nothing was written"
    )]
    LeaseLost {
        /// `connection/channel`.
        channel: String,
    },

    /// Any other error from the database backend.
    #[error("state store error: {message}")]
    Database {
        /// The backend's message.
        message: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl From<rusqlite::Error> for StateError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &error {
            if e.code == rusqlite::ErrorCode::ReadOnly {
                return StateError::ReadOnly;
            }
        }
        StateError::Database { message: error.to_string(), source: Box::new(error) }
    }
}
