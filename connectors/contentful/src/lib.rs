//! # provisio-connector-contentful: Contentful through its SCIM 2.0 API
//!
//! Contentful organization members are provisioned with PingFederate's SCIM
//! Connector settings for Contentful (spec b.2): SCIM 2.0, a personal access
//! token, create and delete only (Contentful user attributes are immutable
//! and it has no disabled state), teams as groups. This crate holds the
//! connector's logic; the loadable library is the thin export in `./plugin`.
//! The manifest is built in [`manifest`] from `provisio-scim-kit`'s shared
//! pieces.
//!
//! Operations are not implemented yet: the manifest declares no capability,
//! so each one answers `unsupported`. [`ContentfulConnector::open`] already
//! checks the settings and records Contentful's fixed choices.

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::{Credentials, ScimSettings};
use provisio_scim_kit::form::names::ACCESS_TOKEN;

/// The Contentful connector, opened for one connection.
pub struct ContentfulConnector {
    settings: ScimSettings,
    #[allow(dead_code)] // used by the operations, which arrive next
    host: Host,
}

impl ContentfulConnector {
    /// The connection's checked settings, with Contentful's fixed choices
    /// applied (SCIM 2.0, bearer token, userName, PATCH for groups).
    pub fn settings(&self) -> &ScimSettings {
        &self.settings
    }
}

impl Connector for ContentfulConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        Ok(ContentfulConnector { settings: settings(&config)?, host })
    }
}

/// The connection's settings with Contentful's fixed choices applied.
pub fn settings(config: &ConnectorConfig) -> Result<ScimSettings, ConnectorError> {
    let mut settings = ScimSettings::from_config(config)?;
    if !matches!(settings.credentials, Credentials::Bearer { .. }) {
        return Err(ConnectorError::config(format!(
            "connection '{}': setting '{ACCESS_TOKEN}' has no value; Contentful needs a personal access token",
            config.connection
        )));
    }
    // Contentful documents PATCH on /Groups (path `members`); PUT is not documented.
    settings.use_patch_for_group_updates = true;
    Ok(settings)
}

provisio_core::register_connector!(ContentfulConnector);
