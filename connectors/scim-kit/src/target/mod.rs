//! [`ScimTarget`]: the user and group operations of a SCIM connector,
//! written once. A SCIM-based connector opens one in `Connector::open` and
//! forwards its operations to it; [`TargetOptions`] carries the target's
//! quirks.
//!
//! The operations follow spec b.1.4 and c.3, as PingFederate's SCIM
//! Provisioner does; each module below states its part of that policy:
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`ScimTarget`]: its construction, the resource URLs and what users and groups share |
//! | `options` | [`TargetOptions`]: the SCIM Provisioner's choices for a connection, and the quirk knobs beyond them |
//! | `users` | finding, listing, creating, updating, disabling, enabling and deleting users |
//! | `groups` | finding, creating, updating (PUT or PATCH) and deleting groups |

use provisio_core::manifest::AttributeSpec;
use provisio_core::ops::ConnectionReport;
use provisio_core::{ConnectorConfig, ConnectorError, ErrorKind, Host};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use crate::client::ScimClient;
use crate::config::ScimSettings;
use crate::paging::resource_id;
use crate::payload::UserSchema;

mod groups;
mod options;
mod users;

pub use options::{GroupLookup, GroupUpdate, TargetOptions};

/// The operations of one SCIM connection.
#[derive(Debug)]
pub struct ScimTarget {
    client: ScimClient,
    settings: ScimSettings,
    schema: UserSchema,
    options: TargetOptions,
    /// Set once the target answered 501/405 to a group PATCH.
    patch_refused: AtomicBool,
    /// Display names of members read so far (`member_display`).
    displays: Mutex<HashMap<String, String>>,
}

fn conflict(detail: String) -> ConnectorError {
    ConnectorError::new(ErrorKind::Conflict, detail)
}

impl ScimTarget {
    /// A target over `settings`, writing the fields of `attributes` (the
    /// catalogue and the connection's custom attributes).
    pub fn new(
        host: Host,
        settings: ScimSettings,
        attributes: &[AttributeSpec],
        options: TargetOptions,
    ) -> Result<ScimTarget, ConnectorError> {
        let schema = UserSchema::new(settings.version, attributes)?;
        let client = ScimClient::new(host, &settings, options.client.clone());
        Ok(ScimTarget {
            client,
            settings,
            schema,
            options,
            patch_refused: AtomicBool::new(false),
            displays: Mutex::new(HashMap::new()),
        })
    }

    /// A target for `config`: `catalogue` (the manifest's attributes) plus
    /// the connection's `extra_attributes`.
    pub fn from_config(
        config: &ConnectorConfig,
        host: Host,
        settings: ScimSettings,
        catalogue: Vec<AttributeSpec>,
        options: TargetOptions,
    ) -> Result<ScimTarget, ConnectorError> {
        let mut attributes = catalogue;
        attributes.extend(config.extra_attributes.iter().cloned());
        Self::new(host, settings, &attributes, options)
    }

    pub fn client(&self) -> &ScimClient {
        &self.client
    }

    pub fn settings(&self) -> &ScimSettings {
        &self.settings
    }

    pub fn schema(&self) -> &UserSchema {
        &self.schema
    }

    pub fn options(&self) -> &TargetOptions {
        &self.options
    }

    fn user_url(&self, id: &str) -> String {
        ScimClient::resource_url(&self.client.users_url(), id)
    }

    fn group_url(&self, id: &str) -> String {
        ScimClient::resource_url(&self.client.groups_url(), id)
    }

    /// The activation check (see [`ScimClient::test_connection`]).
    pub async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        self.client.test_connection().await
    }

    /// The id of a created resource: the body's, else the `Location`
    /// header's last segment.
    fn created_id(response: &provisio_core::host::HttpResponse, body: Option<&Value>) -> Option<String> {
        body.and_then(resource_id).or_else(|| {
            let location = response.header("Location")?.trim_end_matches('/');
            let last = location.rsplit('/').next()?;
            // The id as the target wrote it in the URL: percent-decoded.
            let id = percent_encoding::percent_decode_str(last).decode_utf8().ok()?;
            (!id.is_empty()).then(|| id.into_owned())
        })
    }
}

#[cfg(test)]
mod tests;
