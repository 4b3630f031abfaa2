//! # provisio-runtime
//!
//! The connector runtime: everything between the engine and a connector
//! library. It finds and loads connector libraries, opens a connector for a
//! configured connection, runs its operations with timeouts, and lends it
//! the host services (HTTP, sleep, clock, log) that a connector may use.
//!
//! | module | job |
//! |---|---|
//! | [`dirs`] | where connectors are looked for, in precedence order |
//! | [`loader`] | handshake, root module, manifest validation, duplicates |
//! | [`instance`] | where a connector instance runs, behind one interface (in process today) |
//! | [`connection`] | an opened connector with typed operations, timeouts and the watchdog |
//! | [`services`] | the host services lent to connectors: HTTP (with TLS policy), sleep, clock, log |
//! | [`limit`] | a connection's request-rate limit |
//! | [`retry`] | retrying one operation within its time budget (`Retry-After`, back-off) |
//! | [`fence`] | failover: the lease gate before every request sent for a connector |
//! | [`causes`] | an error and its causes as one line |
//!
//! This crate and `provisio-core` are the only ones with `unsafe` code: the
//! loader opens libraries and reads their handshake. What may cross the
//! plugin boundary, and why, is in docs/architecture.md ("The plugin
//! boundary").
//!
//! The runtime knows nothing of cycles, the state store, the terminal or
//! metrics: an opened [`Connection`] reports each
//! operation to a [`CallObserver`] if its owner
//! passes one.

pub mod causes;
pub mod connection;
pub mod dirs;
pub mod fence;
pub mod instance;
pub mod limit;
pub mod loader;
pub mod retry;
pub mod services;

pub use connection::{CallObserver, Connection};
pub use loader::{LoadReport, LoadedConnector};
