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
//! The user and group operations are [`provisio_scim_kit::ScimTarget`]'s
//! with the SCIM Provisioner's behaviour (users replaced with PUT, never
//! PATCHed; disabled with `active=false`; deleted with DELETE) and Aquera's
//! choices: groups are looked up with `displayName eq` first (listing when
//! the target refuses the filter) and updated with PATCH (PUT when the
//! target does not take PATCH). A target that refuses group creation or
//! deletion answers an error for that group, which says to create or delete
//! it by hand. Custom fields found by Refresh Fields reach the connector as
//! the connection's `extra_attributes` (`IANUser:officeLocation` →
//! `<extension URN>:officeLocation`) and are written into their extension
//! on create and update. [`schema`] holds Refresh Fields itself.

#![forbid(unsafe_code)]

pub mod manifest;
pub mod schema;

use provisio_core::prelude::*;
use provisio_scim_kit::config::{Credentials, ScimSettings};
use provisio_scim_kit::{GroupLookup, GroupUpdate, ScimTarget, TargetOptions};

/// The Aquera connector, opened for one connection.
pub struct AqueraConnector {
    settings: AqueraSettings,
    target: ScimTarget,
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

    /// The SCIM operations behind this connector.
    pub fn target(&self) -> &ScimTarget {
        &self.target
    }
}

/// Aquera's choices on top of the SCIM Provisioner's behaviour.
pub fn target_options(settings: &ScimSettings) -> TargetOptions {
    let mut o = TargetOptions::from_settings(settings);
    o.group_lookup = GroupLookup::FilterThenList;
    o.group_update = GroupUpdate::Patch;
    o
}

/// A refused group creation or deletion, with what to do about it.
fn by_hand(err: ConnectorError, name: &str, what: &str) -> ConnectorError {
    if matches!(err.status, Some(403 | 405 | 501)) {
        return err.context(format!(
            "the application behind Aquera does not let group '{name}' be {what}d through SCIM; {what} it at the \
             target by hand"
        ));
    }
    err
}

impl Connector for AqueraConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = settings(&config)?;
        let catalogue = manifest::manifest().attributes;
        // Refresh Fields also lists the standard fields the target has:
        // the catalogue's own entries stay the ones used.
        let mut config = config;
        config.extra_attributes.retain(|e| !catalogue.iter().any(|a| a.code == e.code));
        let options = target_options(&settings.scim);
        let target = ScimTarget::from_config(&config, host, settings.scim.clone(), catalogue, options)?;
        Ok(AqueraConnector { settings, target })
    }

    async fn discover_schema(&self) -> Result<DiscoveredSchema, ConnectorError> {
        let catalogue = manifest::manifest().attributes;
        schema::discover(self.target.client(), &self.settings.custom_attribute_tag, &catalogue).await
    }

    async fn create_group(&self, group: &GroupRecord) -> Result<TargetGroup, ConnectorError> {
        self.target.create_group(group).await.map_err(|e| by_hand(e, &group.name, "create"))
    }

    async fn delete_group(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.target.delete_group(target_id).await.map_err(|e| by_hand(e, target_id, "delete"))
    }

    provisio_scim_kit::delegate_to_target!(target => test_connection, find_user, find_users, create_user, update_user, disable_user, enable_user, delete_user, find_group, update_group);
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

#[cfg(test)]
mod tests;
