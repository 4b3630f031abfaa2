//! # provisio-host
//!
//! The `provisio` binary: what a person or a service manager talks to. The
//! engine and the connector runtime live in their own crates
//! (`provisio-engine`, `provisio-runtime`); this crate puts them to work
//! and shows what they do.
//!
//! | module | job |
//! |---|---|
//! | [`cli`] | the command line (clap), tables and JSON output, exit statuses |
//! | [`check`] | `config check`: the configuration judged against the connectors' manifests |
//! | [`observe`] | the engine's observer: progress bars, metrics, the stop notice |
//! | [`logging`] | stderr log output: text, or JSON lines |
//! | [`service`] | a long-running `sync`'s HTTP listener: health, metrics, status page |
//! | [`node`] | failover: a node's heartbeats and per-channel leases on PostgreSQL |
//!
//! The crates beneath, from the bottom: `provisio-core` (the connector SDK
//! and the plugin boundary), `provisio-redact` (secrets out of every
//! output), `provisio-source`, `provisio-mapping`, `provisio-state`,
//! `provisio-config` (the configuration file's types), `provisio-runtime`
//! (loading and calling connectors), `provisio-engine` (cycles) and
//! `provisio-sandbox` (the built-in SCIM target). docs/architecture.md says
//! what each owns and where to start for each kind of change.

#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod logging;
pub mod node;
pub mod observe;
pub mod service;
