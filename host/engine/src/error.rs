//! The engine's errors, typed: what went wrong, with what it concerns, so
//! that the binary can turn each into its message and exit status in one
//! place. Text that came from a target or a connector is redacted before
//! it is put in an error.
//!
//! A failing user in a cycle is not an error: it is reported in the
//! cycle's [`ChannelReport`](crate::ChannelReport) and the cycle goes on. A
//! channel whose cycle had to stop says why with a [`ChannelError`], whose
//! text becomes the report's `summary.error`.

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

/// Why a channel's cycle stopped before it was done. Its text (redacted) is
/// the channel's `summary.error`: what the cycle summary, `channels list`
/// and the status page show. Nothing was deprovisioned because of it.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] provisio_state::StateError),
    /// The source could not be read.
    #[error("source: {0}; nothing was changed")]
    Source(crate::source::ReadError),
    /// The channel's mapping does not compile against the connection's fields.
    #[error("{0}")]
    Mapping(String),
    /// The connection failed its activation check.
    #[error(transparent)]
    Activation(#[from] provisio_runtime::connection::ActivationFailed),
    /// The create intents of a chunk could not be recorded, so nothing of
    /// it was sent.
    #[error("cannot record create intents in the state store: {0}")]
    Intents(provisio_state::StateError),
    /// The intents of creates never sent (a stop was requested) could not be settled.
    #[error("cannot settle the intents of creates never sent: {0}")]
    UnsentIntents(provisio_state::StateError),
    /// Settled creates could not be recorded.
    #[error("cannot record settled creates in the state store: {0}")]
    SettledIntents(provisio_state::StateError),
    /// A batch of outcomes could not be recorded.
    #[error("cannot record {count} outcome(s) in the state store: {source}")]
    Outcomes { count: usize, source: provisio_state::StateError },
    /// A connector operation the cycle cannot go on without failed (redacted).
    #[error("{0}")]
    Connector(String),
    /// The cycle was about to send without the channel's state row (a bug:
    /// the row is made before anything is decided).
    #[error("no channel key")]
    NoChannelKey,
}
