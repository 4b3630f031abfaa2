//! # provisio-connector-aquera: the Aquera SCIM 2.0 gateway
//!
//! PingFederate's "Aquera Provisioner" (spec b.4): each Aquera application
//! exposes a SCIM 2.0 endpoint in front of one SaaS service. The method of
//! authentication is implied by the credentials given (a bearer token wins
//! over Basic credentials), and the target's own fields are discovered with
//! "Refresh Fields", custom ones tagged `IANUser`. This crate holds the
//! connector's logic; the loadable library is the thin export in `./plugin`.
//! The manifest is built in [`manifest`] from `provisio-scim-kit`'s shared
//! pieces.
//!
//! Operations (schema discovery included) are not implemented yet: the
//! manifest declares no capability, so each one answers `unsupported`.
//! [`AqueraConnector::open`] already checks the settings.

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::{Credentials, ScimSettings};

/// The Aquera connector, opened for one connection.
pub struct AqueraConnector {
    settings: AqueraSettings,
    #[allow(dead_code)] // used by the operations, which arrive next
    host: Host,
}

/// The checked settings of one Aquera connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AqueraSettings {
    pub scim: ScimSettings,
    /// The tag that marks custom attributes in Aquera's schema, and prefixes
    /// their field codes (`IANUser:officeLocation`).
    pub custom_attribute_tag: String,
}

impl AqueraConnector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &AqueraSettings {
        &self.settings
    }
}

impl Connector for AqueraConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        Ok(AqueraConnector { settings: settings(&config)?, host })
    }
}

/// The connection's settings. Aquera needs an Access Token or Basic
/// credentials; when both are given the token is used.
pub fn settings(config: &ConnectorConfig) -> Result<AqueraSettings, ConnectorError> {
    let scim = ScimSettings::from_config(config)?;
    if scim.credentials == Credentials::None {
        return Err(ConnectorError::config(format!(
            "connection '{}': Aquera needs credentials: set 'access_token', or 'basic_username' and 'basic_password'",
            config.connection
        )));
    }
    let tag = config.str(manifest::CUSTOM_ATTRIBUTE_TAG)?.map(str::trim).unwrap_or(manifest::DEFAULT_TAG);
    if tag.is_empty() || tag.contains(char::is_whitespace) || tag.contains(':') {
        return Err(ConnectorError::config(format!(
            "connection '{}': setting '{}' is '{tag}'; use one word without spaces or ':' such as {}",
            config.connection,
            manifest::CUSTOM_ATTRIBUTE_TAG,
            manifest::DEFAULT_TAG
        )));
    }
    Ok(AqueraSettings { scim, custom_attribute_tag: tag.to_owned() })
}

provisio_core::register_connector!(AqueraConnector);
