//! The loadable library of the `scim` connector. It holds no logic: it links
//! the connector crate and exports this library's registered connectors, so
//! the entry symbols exist only here and never in a binary that links the
//! connector crate in-process.

#![forbid(unsafe_code)]

provisio_core::export_plugin!(provisio_connector_scim);
