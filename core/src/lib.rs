//! # provisio-core: the connector contract and SDK
//!
//! provisio loads **connectors** (one per kind of provisioning target) from
//! shared libraries at run time. This crate is what a connector is written
//! against, and what the host uses to talk to one:
//!
//! | module | what it holds |
//! |---|---|
//! | [`manifest`] | what a connector declares: settings form, attribute catalogue, remove-user semantics, option defaults and constraints, capabilities |
//! | [`validate`] | the rules every manifest must follow |
//! | [`ops`] | the operation set and the records that travel with it |
//! | [`error`] | the wire error: kind, HTTP status, SCIM type, detail, retryable |
//! | [`host`] | the host services a connector uses for all I/O (HTTP, sleep, clock, log) |
//! | [`connector`] | the [`Connector`] trait and the registry |
//! | [`ffi`] | the plugin boundary (abi_stable root module, handshake, async_ffi futures) |
//! | [`testing`] | an in-process harness with recorded HTTP, for connector unit tests |
//!
//! A connector is ordinary async Rust: implement [`Connector`], register it
//! with [`register_connector!`], and export it from a thin `cdylib` crate
//! with [`export_plugin!`]. Connectors never use tokio or reqwest: the host
//! owns the runtime and every socket. See `CONNECTORS.md` in the repository
//! for the whole guide.

pub mod connector;
pub mod error;
pub mod ffi;
pub mod host;
pub mod manifest;
pub mod ops;
pub mod testing;
pub mod validate;

pub use connector::{Connector, ConnectorConfig};
pub use error::{ConnectorError, ErrorKind};
pub use host::Host;
pub use manifest::Manifest;

/// Everything a connector author usually needs.
pub mod prelude {
    pub use crate::connector::{Connector, ConnectorConfig};
    pub use crate::error::{ConnectorError, ErrorKind};
    pub use crate::host::{Host, HttpRequest, HttpResponse, LogLevel};
    pub use crate::manifest::*;
    pub use crate::ops::*;
}

#[doc(hidden)]
pub mod __private {
    pub use abi_stable;
    pub use inventory;
}
