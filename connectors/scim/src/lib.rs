//! # provisio-connector-scim: the generic SCIM 1.1/2.0 connector
//!
//! PingFederate's "SCIM Provisioner": any target that speaks SCIM 1.1 or 2.0.
//! This crate holds the connector's logic; the loadable library is the thin
//! export in `./plugin`. The manifest (settings form, attribute catalogue,
//! remove-user semantics, option defaults) is built in [`manifest`] from the
//! shared pieces of `provisio-scim-kit`.
//!
//! Operations are not implemented yet: the manifest declares no capability,
//! so each one answers `unsupported`. [`ScimConnector::open`] already checks
//! the connection's settings and keeps them for the operations to come.

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::ScimSettings;

/// The generic SCIM connector, opened for one connection.
pub struct ScimConnector {
    settings: ScimSettings,
    #[allow(dead_code)] // used by the operations, which arrive next
    host: Host,
}

impl ScimConnector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &ScimSettings {
        &self.settings
    }
}

impl Connector for ScimConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = ScimSettings::from_config(&config)?;
        Ok(ScimConnector { settings, host })
    }
}

provisio_core::register_connector!(ScimConnector);
