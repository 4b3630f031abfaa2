//! The engine's errors, typed: what went wrong, with what it concerns, so
//! that the binary can turn each into its message and exit status in one
//! place. Text that came from a target or a connector is redacted before
//! it is put in an error.
//!
//! A failing user or channel in a cycle is not an error of this kind: it is
//! reported in the cycle's [`ChannelReport`](crate::ChannelReport) and the
//! cycle goes on.

use std::path::PathBuf;

/// Why the engine could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The tokio runtime could not be started.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The configuration does not say where something is (e.g. the state store).
    #[error("{0}")]
    Config(String),
    /// The hash key file could not be read, made or written.
    #[error("cannot {action} the hash key {}: {source}", path.display())]
    HashKey { path: PathBuf, action: &'static str, source: std::io::Error },
    /// A connector could not be opened or refused an operation (redacted).
    #[error("{0}")]
    Connector(String),
    /// `refresh-fields` on a connector that cannot describe its target.
    #[error("connector '{connector}' has no schema discovery (Refresh Fields)")]
    NoSchemaDiscovery { connector: String },
    /// A discovered schema was refused; the previous fields are kept.
    #[error("the target's schema is not usable: {}; the previous fields are kept", .0.join("; "))]
    UnusableSchema(Vec<String>),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] provisio_state::StateError),
}
