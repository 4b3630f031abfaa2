//! # provisio-connector-code42: Code42 through its SCIM 2.0 API
//!
//! Code42 users are provisioned with PingFederate's SCIM Connector settings
//! for Code42 (spec b.3): SCIM 2.0, a bearer token or Basic credentials,
//! create, update and disable (Code42 has no delete and cannot create a
//! disabled user), no groups. This crate holds the connector's logic; the
//! loadable library is the thin export in `./plugin`. The manifest is built
//! in [`manifest`] from `provisio-scim-kit`'s shared pieces.
//!
//! Operations are not implemented yet: the manifest declares no capability,
//! so each one answers `unsupported`. [`Code42Connector::open`] already
//! checks the settings.

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::{Credentials, ScimSettings};
use provisio_scim_kit::form::names::AUTHENTICATION_METHOD;

/// The Code42 connector, opened for one connection.
pub struct Code42Connector {
    settings: ScimSettings,
    #[allow(dead_code)] // used by the operations, which arrive next
    host: Host,
}

impl Code42Connector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &ScimSettings {
        &self.settings
    }
}

impl Connector for Code42Connector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        Ok(Code42Connector { settings: settings(&config)?, host })
    }
}

/// The connection's settings; Code42 always needs credentials.
pub fn settings(config: &ConnectorConfig) -> Result<ScimSettings, ConnectorError> {
    let settings = ScimSettings::from_config(config)?;
    match settings.credentials {
        Credentials::Basic { .. } | Credentials::Bearer { .. } => Ok(settings),
        _ => Err(ConnectorError::config(format!(
            "connection '{}': setting '{AUTHENTICATION_METHOD}' must be oauth2_bearer_token or basic for Code42",
            config.connection
        ))),
    }
}

provisio_core::register_connector!(Code42Connector);
