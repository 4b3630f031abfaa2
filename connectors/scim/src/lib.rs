//! # provisio-connector-scim: the generic SCIM 1.1/2.0 connector
//!
//! PingFederate's "SCIM Provisioner": any target that speaks SCIM 1.1 or 2.0.
//! This crate holds the connector's logic; the loadable library is the thin
//! export in `./plugin`. The manifest (settings form, attribute catalogue,
//! remove-user semantics, option defaults) is built in [`manifest`] from the
//! shared pieces of `provisio-scim-kit`.
//!
//! The operations are those of [`provisio_scim_kit::ScimTarget`] with the
//! SCIM Provisioner's defaults ([`TargetOptions::from_settings`]): users are
//! found by the Unique User Identifier's filter (or the Filter Expression),
//! listed page by page (`startIndex`/`count`) so that a first cycle links
//! existing accounts from one listing, created with POST, replaced with PUT over their current state (never
//! PATCHed), disabled and enabled through `active`, deleted with DELETE;
//! groups are found by listing them all (Results Per Page) and comparing
//! `displayName`, created with POST, updated with PUT or, with Use PATCH for
//! Group Updates, PATCH (falling back to PUT when the target does not take
//! it), deleted with DELETE. Custom attributes declared for the connection
//! (`extra_attributes`, targets `<extension URN>:<name>`) are written into
//! their extension like catalogue fields.

#![forbid(unsafe_code)]

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::ScimSettings;
use provisio_scim_kit::{ScimTarget, TargetOptions};

/// The generic SCIM connector, opened for one connection.
pub struct ScimConnector {
    target: ScimTarget,
}

impl ScimConnector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &ScimSettings {
        self.target.settings()
    }

    /// The SCIM operations behind this connector.
    pub fn target(&self) -> &ScimTarget {
        &self.target
    }
}

impl Connector for ScimConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = ScimSettings::from_config(&config)?;
        let options = TargetOptions::from_settings(&settings);
        let target = ScimTarget::from_config(&config, host, settings, manifest::manifest().attributes, options)?;
        Ok(ScimConnector { target })
    }

    provisio_scim_kit::delegate_to_target!(target => test_connection, find_user, find_users, list_users, create_user, update_user, disable_user, enable_user, delete_user, find_group, create_group, update_group, delete_group);
}

provisio_core::register_connector!(ScimConnector);

#[cfg(test)]
mod tests;
