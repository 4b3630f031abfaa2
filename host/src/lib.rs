//! # provisio-host
//!
//! The host runtime behind the `provisio` command:
//!
//! | module | job |
//! |---|---|
//! | [`dirs`] | where connectors are looked for, in precedence order |
//! | [`loader`] | handshake, root module, manifest validation, duplicates |
//! | [`cli`] | the command line (clap), tables and JSON output |
//! | [`logging`] | stderr log output |

pub mod cli;
pub mod dirs;
pub mod loader;
pub mod logging;
