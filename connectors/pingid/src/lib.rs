//! # provisio-connector-pingid: PingID users and their MFA devices
//!
//! PingFederate's "PingID Provisioner" (spec b.5). PingID is not SCIM: every
//! call is a JWS-signed JSON request to the PingID API of PingOne for
//! Enterprise, configured by the organization's `pingid.properties` file.
//! Besides the user lifecycle it manages nine nicknamed MFA devices per user.
//! This crate holds the connector's logic; the loadable library is the thin
//! export in `./plugin`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`manifest`] | settings form, attribute catalogue, options, remove-user semantics |
//! | [`properties`] | parsing and checking `pingid.properties` |
//! | [`jws`] | HS256 compact JWS signing and verification, the request timestamp |
//! | [`api`] | the signed PingID API client and its `errorId` handling |
//! | [`devices`] | which managed MFA devices to pair and unpair (Merge, Overwrite) |
//! | `users` | the operations: test connection, find, create, update, disable, enable, delete |
//!
//! [`PingIdConnector::open`] parses the properties file, decodes the signing
//! key and reads the device settings; a problem with either is a `config`
//! error naming the setting, never showing the key.

#![forbid(unsafe_code)]

pub mod api;
pub mod devices;
pub mod jws;
pub mod manifest;
pub mod properties;
mod users;

#[cfg(test)]
mod tests;

use manifest::{MANAGE_DEVICES, PINGID_PROPERTIES, PRIMARY_DEVICE_ON_CREATE};
use properties::PingIdProperties;
use provisio_core::prelude::*;

/// What Manage Devices says to do with the nine managed devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManageDevices {
    /// PingID is the source of truth; no device is touched.
    DoNotManage,
    /// Provision the managed nicknames; leave other devices alone.
    Merge,
    /// As Merge, and remove every device whose nickname is not managed.
    Overwrite,
}

/// Which device becomes primary when a user is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimaryDevice {
    DoNotManage,
    Email1,
    SmsNumber1,
    VoiceNumber1,
}

/// The checked settings of one PingID connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingIdSettings {
    pub properties: PingIdProperties,
    pub manage_devices: ManageDevices,
    pub primary_device_on_create: PrimaryDevice,
}

/// The PingID connector, opened for one connection.
pub struct PingIdConnector {
    settings: PingIdSettings,
    api: api::Api,
    host: Host,
}

impl PingIdConnector {
    /// The connection's checked settings.
    pub fn settings(&self) -> &PingIdSettings {
        &self.settings
    }
}

impl Connector for PingIdConnector {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = settings(&config)?;
        if settings.properties.use_signature.as_deref().is_some_and(|v| !v.eq_ignore_ascii_case("true")) {
            host.warn(&format!(
                "connection '{}': pingid.properties sets use_signature to something other than true; \
                 requests are signed anyway, as the PingID API requires",
                config.connection
            ));
        }
        let api = api::Api::new(&settings.properties, host.clone())
            .map_err(|e| config_error(&config, PINGID_PROPERTIES, format_args!("is unusable: {e}")))?;
        Ok(PingIdConnector { settings, api, host })
    }

    async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        self.check_connection().await
    }

    async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        self.find(unique_id).await
    }

    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        self.create(user).await
    }

    async fn update_user(&self, target_id: &str, user: &UserRecord) -> Result<(), ConnectorError> {
        self.update(target_id, user).await
    }

    async fn disable_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.disable(target_id).await
    }

    async fn enable_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.enable(target_id).await
    }

    async fn delete_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.delete(target_id).await
    }
}

fn config_error(config: &ConnectorConfig, setting: &str, problem: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::config(format!("connection '{}': setting '{setting}' {problem}", config.connection))
}

/// The connection's settings: the parsed properties file and the device choices.
pub fn settings(config: &ConnectorConfig) -> Result<PingIdSettings, ConnectorError> {
    let text = config.require_str(PINGID_PROPERTIES)?;
    let properties = PingIdProperties::parse(text).map_err(|e| config_error(config, PINGID_PROPERTIES, e))?;
    let manage_devices = match config.str(MANAGE_DEVICES)?.unwrap_or(manifest::DEFAULT_MANAGE_DEVICES) {
        "do_not_manage" => ManageDevices::DoNotManage,
        "merge" => ManageDevices::Merge,
        "overwrite" => ManageDevices::Overwrite,
        other => {
            return Err(config_error(
                config,
                MANAGE_DEVICES,
                format_args!("is '{other}'; use do_not_manage, merge or overwrite"),
            ));
        }
    };
    let primary_device_on_create = match config
        .str(PRIMARY_DEVICE_ON_CREATE)?
        .unwrap_or(manifest::DEFAULT_PRIMARY_DEVICE)
    {
        "do_not_manage" => PrimaryDevice::DoNotManage,
        "mfa_email_1" => PrimaryDevice::Email1,
        "mfa_sms_number_1" => PrimaryDevice::SmsNumber1,
        "mfa_voice_number_1" => PrimaryDevice::VoiceNumber1,
        other => {
            return Err(config_error(
                config,
                PRIMARY_DEVICE_ON_CREATE,
                format_args!("is '{other}'; use do_not_manage, mfa_email_1, mfa_sms_number_1 or mfa_voice_number_1"),
            ));
        }
    };
    Ok(PingIdSettings { properties, manage_devices, primary_device_on_create })
}

provisio_core::register_connector!(PingIdConnector);
