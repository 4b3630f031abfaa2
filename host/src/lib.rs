//! # provisio-host
//!
//! The host runtime behind the `provisio` command: it loads connectors from
//! directories ([`loader`]), decides where to look ([`dirs`]), and drives
//! connectors through the plugin boundary ([`runtime`]).

pub mod loader;
