//! # provisio-connector-code42: Code42 through its SCIM 2.0 API
//!
//! Code42 users are provisioned with PingFederate's SCIM Connector settings
//! for Code42 (spec b.3): SCIM 2.0, a bearer token or Basic credentials,
//! create, update and disable (Code42 has no delete and cannot create a
//! disabled user), no groups. This crate holds the connector's logic; the
//! loadable library is the thin export in `./plugin`. The manifest is built
//! in [`manifest`] from `provisio-scim-kit`'s shared pieces.
//!
//! The operations are [`provisio_scim_kit::ScimTarget`]'s with the SCIM
//! Provisioner's behaviour: users are found with `userName eq`, created with
//! POST, replaced with PUT over their current state, deactivated and
//! re-activated through `active`. Code42's quirks:
//! - `create_user` always creates the user **active**: Code42 cannot create
//!   a deactivated user. The engine already creates disabled source users
//!   active (the manifest's `CreatesActive` constraint) and warns; a record
//!   that still asks for an inactive user is created active here, with a
//!   warning naming the user.
//! - `delete_user` is refused with an `unsupported` error that says why;
//!   the manifest declares no delete, so the engine never asks.
//! - `manager` carries the manager's Code42 user id into the enterprise
//!   extension's `manager.value`; `workStreet` is the street address.

#![forbid(unsafe_code)]

pub mod manifest;

use provisio_core::prelude::*;
use provisio_scim_kit::config::{Credentials, ScimSettings};
use provisio_scim_kit::form::names::AUTHENTICATION_METHOD;
use provisio_scim_kit::{ScimTarget, TargetOptions};

/// The Code42 connector, opened for one connection.
pub struct Code42Connector {
    target: ScimTarget,
}

impl Code42Connector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &ScimSettings {
        self.target.settings()
    }

    /// The SCIM operations behind this connector.
    pub fn target(&self) -> &ScimTarget {
        &self.target
    }
}

/// Why Code42 users are never deleted.
pub const NO_DELETE: &str =
    "Code42 does not support deleting users; deprovisioning deactivates them (Remove User Action Disable)";

impl Connector for Code42Connector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = settings(&config)?;
        let options = TargetOptions::from_settings(&settings);
        let target = ScimTarget::from_config(&config, host, settings, manifest::manifest().attributes, options)?;
        Ok(Code42Connector { target })
    }

    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        if user.active {
            return self.target.create_user(user).await;
        }
        self.target.client().host().warn(&format!(
            "user {} is disabled in the source but Code42 cannot create a deactivated user: it is created active",
            user.unique_id
        ));
        let mut active = user.clone();
        active.active = true;
        self.target.create_user(&active).await
    }

    async fn delete_user(&self, _target_id: &str) -> Result<(), ConnectorError> {
        let mut err = ConnectorError::unsupported("delete_user");
        err.detail = format!("{}: {NO_DELETE}", err.detail);
        Err(err)
    }

    provisio_scim_kit::delegate_to_target!(target => test_connection, find_user, find_users, update_user, disable_user, enable_user);
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

#[cfg(test)]
mod tests;
