//! # provisio-host
//!
//! The host runtime behind the `provisio` command:
//!
//! | module | job |
//! |---|---|
//! | [`dirs`] | where connectors are looked for, in precedence order |
//! | [`loader`] | handshake, root module, manifest validation, duplicates |
//! | [`config`] | the TOML configuration, secrets by reference, `config check` |
//! | [`redact`] | keeping secrets out of every log line and output |
//! | [`runtime`] | the host services lent to connectors (HTTP, sleep, clock, log) |
//! | [`connection`] | an opened connector with typed operations and timeouts |
//! | [`engine`] | cycles: source, mapping, decisions, execution, state and audit |
//! | [`cli`] | the command line (clap), tables and JSON output |
//! | [`logging`] | stderr log output: text, or JSON lines |
//! | [`service`] | a long-running `sync`'s HTTP listener: health, metrics, status page |
//! | [`node`] | failover: a node's heartbeats and per-channel leases on PostgreSQL |
//! | [`fence`] | failover: the lease gate before every request sent for a connector |
//!
//! The engine's pure parts live in their own crates: `provisio-source`
//! (file source, LDAP filters), `provisio-mapping` (attribute mapping),
//! `provisio-state` (the SQLite state store) and `provisio-sandbox` (the
//! built-in SCIM target).

pub mod causes;
pub mod cli;
pub mod config;
pub mod connection;
pub mod dirs;
pub mod engine;
pub mod fence;
pub mod loader;
pub mod logging;
pub mod node;
pub mod redact;
pub mod runtime;
pub mod service;
