//! # Acme Directory: an example third-party provisio connector
//!
//! A complete connector for a made-up REST target, written the way a third
//! party writes one: ordinary async Rust against `provisio-core`, no tokio,
//! no reqwest, all I/O through the [`Host`] the provisio host lends.
//!
//! - [`manifest`] declares the settings form, the attribute catalogue, the
//!   remove-user semantics and the capabilities;
//! - [`api`] speaks the Acme REST API through `Host::http`;
//! - this file implements [`Connector`] and exports the library.
//!
//! Logic and export share one crate: nothing but the host ever loads a
//! third-party connector, so its entry symbols can never be linked twice
//! into one binary (see README.md).

#![forbid(unsafe_code)]

use provisio_core::prelude::*;
use serde_json::{Map, Value};

pub mod api;
pub mod manifest;
#[cfg(test)]
mod tests;

use api::{AcmeUser, Client, Me, Status, UserList, encode};

/// The Acme connector, opened for one connection.
pub struct Acme {
    host: Host,
    client: Client,
    catalogue: Vec<AttributeSpec>,
}

impl Connector for Acme {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let base_url = config.require_str(manifest::BASE_URL)?;
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ConnectorError::config(format!(
                "connection '{}': setting '{}' must be an http or https URL, not '{base_url}'",
                config.connection,
                manifest::BASE_URL
            )));
        }
        let token = config.require_str(manifest::API_TOKEN)?;
        Ok(Acme { host, client: Client::new(base_url, token), catalogue: manifest::manifest().attributes })
    }

    async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        let request = self.client.request("GET", "/api/v1/me");
        let me: Me = self.client.fetch(&self.host, request, "checking the API token").await?;
        let missing: Vec<&str> =
            ["users:read", "users:write"].into_iter().filter(|s| !me.scopes.iter().any(|have| have == s)).collect();
        if !missing.is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Auth,
                format!(
                    "the API token lacks the scope(s) {}; issue one with users:read and users:write",
                    missing.join(", ")
                ),
            ));
        }
        Ok(ConnectionReport {
            summary: format!(
                "Acme Directory at {} accepted the token of organization '{}'",
                self.client.base(),
                me.organization
            ),
            details: vec![format!("scopes: {}", me.scopes.join(", "))],
        })
    }

    async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        let request = self.client.request("GET", &format!("/api/v1/users?login={}", encode(unique_id)));
        let list: UserList = self.client.fetch(&self.host, request, &format!("looking up login '{unique_id}'")).await?;
        match list.users.len() {
            0 => Ok(None),
            1 => Ok(list.users.into_iter().next().map(|u| self.to_target(u))),
            n => Err(ConnectorError::new(
                ErrorKind::Conflict,
                format!("Acme holds {n} users with login '{unique_id}'; logins should be unique"),
            )),
        }
    }

    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        let mut body = self.fields(user)?;
        body.insert("login".to_owned(), Value::String(user.unique_id.clone()));
        body.insert("status".to_owned(), serde_json::to_value(Status::from_active(user.active)).unwrap_or_default());
        let request = self.client.request("POST", "/api/v1/users").json("application/json", &body)?;
        let created: AcmeUser =
            self.client.fetch(&self.host, request, &format!("creating login '{}'", user.unique_id)).await?;
        self.host.info(&format!("created Acme user {} for login '{}'", created.id, created.login));
        Ok(self.to_target(created))
    }

    async fn update_user(&self, target_id: &str, user: &UserRecord) -> Result<(), ConnectorError> {
        let mut body = self.fields(user)?;
        for code in &user.clear {
            if let Some(field) = self.field_of(code)? {
                body.insert(field.to_owned(), Value::Null);
            }
        }
        if body.is_empty() {
            return Ok(());
        }
        self.patch(target_id, &Value::Object(body), "updating").await
    }

    async fn disable_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.patch(target_id, &serde_json::json!({ "status": Status::Suspended }), "suspending").await
    }

    async fn enable_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        self.patch(target_id, &serde_json::json!({ "status": Status::Active }), "re-activating").await
    }

    async fn delete_user(&self, target_id: &str) -> Result<(), ConnectorError> {
        let request = self.client.request("DELETE", &format!("/api/v1/users/{}", encode(target_id)));
        self.client.send(&self.host, request, &format!("deleting Acme user {target_id}")).await?;
        Ok(())
    }
}

impl Acme {
    /// The Acme field of catalogue code `code`; `None` for the login, which
    /// is immutable and sent only on create.
    fn field_of(&self, code: &str) -> Result<Option<&str>, ConnectorError> {
        let spec =
            self.catalogue.iter().find(|a| a.code == code || a.aliases.iter().any(|alias| alias == code)).ok_or_else(
                || ConnectorError::new(ErrorKind::Invalid, format!("attribute '{code}' is not in the Acme catalogue")),
            )?;
        Ok((spec.mutability != Mutability::Immutable).then_some(spec.target.as_str()))
    }

    /// The mapped attributes as Acme fields (without the login).
    fn fields(&self, user: &UserRecord) -> Result<Map<String, Value>, ConnectorError> {
        let mut body = Map::new();
        for (code, value) in &user.attributes {
            if let Some(field) = self.field_of(code)? {
                body.insert(field.to_owned(), value.first().map_or(Value::Null, |v| Value::String(v.to_owned())));
            }
        }
        Ok(body)
    }

    async fn patch(&self, target_id: &str, body: &Value, doing: &str) -> Result<(), ConnectorError> {
        let request = self
            .client
            .request("PATCH", &format!("/api/v1/users/{}", encode(target_id)))
            .json("application/json", body)?;
        self.client.send(&self.host, request, &format!("{doing} Acme user {target_id}")).await?;
        Ok(())
    }

    /// An Acme user as the host sees it: attribute values by catalogue code.
    fn to_target(&self, user: AcmeUser) -> TargetUser {
        let active = user.status == Status::Active;
        let (id, login) = (user.id.clone(), user.login.clone());
        let fields = serde_json::to_value(user).unwrap_or_default();
        let attributes = self
            .catalogue
            .iter()
            .filter_map(|spec| {
                let value = fields.get(&spec.target)?.as_str()?;
                Some((spec.code.clone(), AttributeValue::from(value)))
            })
            .collect();
        TargetUser { id, unique_id: Some(login), active: Some(active), attributes }
    }
}

// Put `Acme` in this library's registry, and export the registry to the
// host: the handshake symbol and the abi_stable root module.
provisio_core::register_connector!(Acme);
provisio_core::export_plugin!();
