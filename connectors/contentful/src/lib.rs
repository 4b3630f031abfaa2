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
//! The operations are [`provisio_scim_kit::ScimTarget`]'s with Contentful's
//! quirks ([`target_options`]):
//! - users are found with `userName eq "<e-mail>"`, created with POST
//!   `{schemas, userName, name{givenName, familyName}}` (never `active`,
//!   which is read-only there) and removed with DELETE (the organization
//!   membership goes, the Contentful account survives);
//! - `update_user`, `disable_user` and `enable_user` are refused with an
//!   `unsupported` error that says why (no user attribute is mutable, and
//!   `active` is read-only), even though the manifest already keeps the
//!   engine from calling them;
//! - teams are created with POST `{schemas, displayName}`, their members set
//!   with PATCH on path `members` only, each member as `{display, value}`
//!   (the display being the member's full name), and deleted with DELETE;
//!   a team is never PUT and never renamed (neither is documented; a
//!   rename logs a warning);
//! - no ServiceProviderConfig is asked for (Contentful does not document
//!   one) and no `If-Match` is sent; list numbers are read leniently
//!   (Contentful sends `itemsPerPage` as a string).

#![forbid(unsafe_code)]

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::client::EtagPolicy;
use provisio_scim_kit::config::{Credentials, ScimSettings};
use provisio_scim_kit::form::names::ACCESS_TOKEN;
use provisio_scim_kit::group::MemberPatchStyle;
use provisio_scim_kit::{GroupLookup, GroupUpdate, ScimTarget, TargetOptions};

/// The Contentful connector, opened for one connection.
pub struct ContentfulConnector {
    target: ScimTarget,
}

impl ContentfulConnector {
    /// The connection's checked settings, with Contentful's fixed choices
    /// applied (SCIM 2.0, bearer token, userName, PATCH for groups).
    pub fn settings(&self) -> &ScimSettings {
        self.target.settings()
    }

    /// The SCIM operations behind this connector.
    pub fn target(&self) -> &ScimTarget {
        &self.target
    }
}

/// Why Contentful users are never updated.
pub const NO_UPDATE: &str = "Contentful user attributes are immutable (userName, givenName and familyName are set \
                             when the member is added); keep User Update cleared";

/// Why Contentful users are never disabled or enabled.
pub const NO_DISABLE: &str = "Contentful has no disabled members (`active` is read-only); members are removed with \
                              Remove User Action Delete";

fn refused(operation: &str, why: &str) -> ConnectorError {
    let mut err = ConnectorError::unsupported(operation);
    err.detail = format!("{}: {why}", err.detail);
    err
}

impl Connector for ContentfulConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = settings(&config)?;
        let options = target_options(&settings);
        let target = ScimTarget::from_config(&config, host, settings, manifest::manifest().attributes, options)?;
        Ok(ContentfulConnector { target })
    }

    async fn update_user(&self, _target_id: &str, _user: &UserRecord) -> Result<(), ConnectorError> {
        Err(refused("update_user", NO_UPDATE))
    }

    async fn disable_user(&self, _target_id: &str) -> Result<(), ConnectorError> {
        Err(refused("disable_user", NO_DISABLE))
    }

    async fn enable_user(&self, _target_id: &str) -> Result<(), ConnectorError> {
        Err(refused("enable_user", NO_DISABLE))
    }

    provisio_scim_kit::delegate_to_target!(target => test_connection, find_user, find_users, create_user, delete_user, find_group, create_group, update_group, delete_group);
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

/// Contentful's quirks on top of the SCIM Provisioner's behaviour.
pub fn target_options(settings: &ScimSettings) -> TargetOptions {
    let mut o = TargetOptions::from_settings(settings);
    // `active` is read-only at Contentful.
    o.send_active = false;
    // Teams: created by name, members by PATCH on `members` only, each
    // member `{display, value}`; no PUT, no rename.
    o.members_in_group_body = false;
    o.group_update = GroupUpdate::PatchOnly;
    o.member_patch_style = MemberPatchStyle::ValueList;
    o.member_display = true;
    o.group_rename = false;
    o.group_lookup = GroupLookup::ListAll;
    // No documented ServiceProviderConfig or ETags.
    o.client.skip_discovery = true;
    o.client.etag = EtagPolicy::Never;
    o
}

provisio_core::register_connector!(ContentfulConnector);

#[cfg(test)]
mod tests;
