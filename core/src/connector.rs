//! The [`Connector`] trait: what a connector author implements.
//!
//! A connector is ordinary async Rust. It declares a [`Manifest`], is opened
//! once per connection with that connection's [`ConnectorConfig`] and a
//! [`Host`], and answers operations. Every operation has a default that
//! answers `unsupported`, so a connector implements exactly what its
//! manifest's capabilities declare. Registration ([`register_connector!`])
//! puts the connector in this binary's `inventory` registry; the thin cdylib
//! crate's [`export_plugin!`](crate::export_plugin) hands the registry to the
//! host.
//!
//! ```
//! use provisio_core::prelude::*;
//!
//! struct Hello { host: Host }
//!
//! impl Connector for Hello {
//!     fn manifest() -> Manifest {
//!         let mut m = provisio_core::testing::minimal_manifest("hello");
//!         m.capabilities.insert(Capability::TestConnection);
//!         m
//!     }
//!     fn open(_config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
//!         Ok(Hello { host })
//!     }
//!     async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
//!         self.host.info("nothing to check");
//!         Ok(ConnectionReport { summary: "hello answers".into(), details: vec![] })
//!     }
//! }
//! provisio_core::register_connector!(Hello);
//! ```

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use crate::error::{ConnectorError, ErrorKind};
use crate::host::Host;
use crate::manifest::{AttributeSpec, Capability, Manifest, ProvisioningOptions, RemoveUserAction};
use crate::ops::*;

/// What a connector is opened with: one connection's resolved configuration.
///
/// Secrets arrive resolved (the connector needs them to authenticate); the
/// host never logs this structure.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorConfig {
    /// The connection's name (for messages).
    pub connection: String,
    /// Target settings by name, with the manifest's defaults applied. A
    /// `file` setting holds the file's contents.
    pub settings: BTreeMap<String, serde_json::Value>,
    pub options: ProvisioningOptions,
    pub remove_user_action: RemoveUserAction,
    /// Fields beyond the manifest's catalogue: custom SCIM attributes
    /// declared in configuration, or fields found by schema discovery.
    #[serde(default)]
    pub extra_attributes: Vec<AttributeSpec>,
}

impl std::fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Settings hold secrets: show only their names.
        f.debug_struct("ConnectorConfig")
            .field("connection", &self.connection)
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .field("options", &self.options)
            .field("remove_user_action", &self.remove_user_action)
            .finish()
    }
}

impl ConnectorConfig {
    fn missing(&self, name: &str) -> ConnectorError {
        ConnectorError::config(format!("connection '{}': setting '{name}' has no value", self.connection))
    }

    fn wrong(&self, name: &str, expected: &str) -> ConnectorError {
        ConnectorError::config(format!("connection '{}': setting '{name}' must be {expected}", self.connection))
    }

    /// A string setting, `None` when absent or empty.
    pub fn str(&self, name: &str) -> Result<Option<&str>, ConnectorError> {
        match self.settings.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(name, "a string")),
        }
    }

    /// A string setting that must have a value.
    pub fn require_str(&self, name: &str) -> Result<&str, ConnectorError> {
        self.str(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ConnectorError> {
        match self.settings.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(name, "true or false")),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ConnectorError> {
        match self.settings.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| self.wrong(name, "a whole number")),
        }
    }

    /// A comma-separated list setting, trimmed, empty entries dropped.
    pub fn list(&self, name: &str) -> Result<Vec<String>, ConnectorError> {
        Ok(self
            .str(name)?
            .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default())
    }
}

/// A connector. Implement the operations your manifest declares; the rest
/// answer `unsupported`.
pub trait Connector: Send + Sync + Sized + 'static {
    /// The connector's manifest. Called once per load; keep it pure.
    fn manifest() -> Manifest;

    /// Open the connector for one connection. Check the settings here and
    /// answer a `Config` error naming the setting if one is unusable.
    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError>;

    fn test_connection(&self) -> impl Future<Output = Result<ConnectionReport, ConnectorError>> + Send {
        unsupported("test_connection")
    }
    fn discover_schema(&self) -> impl Future<Output = Result<DiscoveredSchema, ConnectorError>> + Send {
        unsupported("discover_schema")
    }
    fn find_user(&self, unique_id: &str) -> impl Future<Output = Result<Option<TargetUser>, ConnectorError>> + Send {
        let _ = unique_id;
        unsupported("find_user")
    }
    /// Every account `unique_id` matches (capability `user_find_all`; see
    /// [`Operation::FindUsers`]). Implement it when the target can hold
    /// several accounts with one identifier value.
    fn find_users(&self, unique_id: &str) -> impl Future<Output = Result<Vec<TargetUser>, ConnectorError>> + Send {
        let _ = unique_id;
        unsupported("find_users")
    }
    /// One page of the target's users (capability `user_list`; see
    /// [`Operation::ListUsers`] and [`UserPage`] for the contract).
    fn list_users(
        &self,
        cursor: Option<&str>,
        count: u32,
    ) -> impl Future<Output = Result<UserPage, ConnectorError>> + Send {
        let _ = (cursor, count);
        unsupported("list_users")
    }
    fn create_user(&self, user: &UserRecord) -> impl Future<Output = Result<TargetUser, ConnectorError>> + Send {
        let _ = user;
        unsupported("create_user")
    }
    fn update_user(
        &self,
        target_id: &str,
        user: &UserRecord,
    ) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = (target_id, user);
        unsupported("update_user")
    }
    fn disable_user(&self, target_id: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = target_id;
        unsupported("disable_user")
    }
    fn enable_user(&self, target_id: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = target_id;
        unsupported("enable_user")
    }
    fn delete_user(&self, target_id: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = target_id;
        unsupported("delete_user")
    }
    fn find_group(&self, name: &str) -> impl Future<Output = Result<Option<TargetGroup>, ConnectorError>> + Send {
        let _ = name;
        unsupported("find_group")
    }
    fn create_group(&self, group: &GroupRecord) -> impl Future<Output = Result<TargetGroup, ConnectorError>> + Send {
        let _ = group;
        unsupported("create_group")
    }
    fn update_group(
        &self,
        target_id: &str,
        group: &GroupRecord,
        added: &[String],
        removed: &[String],
    ) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = (target_id, group, added, removed);
        unsupported("update_group")
    }
    fn delete_group(&self, target_id: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send {
        let _ = target_id;
        unsupported("delete_group")
    }
}

fn unsupported<T: Send>(operation: &'static str) -> impl Future<Output = Result<T, ConnectorError>> + Send {
    std::future::ready(Err(ConnectorError::unsupported(operation)))
}

/// An opened connector with its type erased: what the SDK's FFI glue and the
/// host's in-process path drive.
pub trait DynConnector: Send + Sync + 'static {
    /// Run one operation. The answer is the operation's typed output as JSON.
    fn invoke(self: Arc<Self>, operation: Operation) -> BoxFuture<'static, Result<serde_json::Value, ConnectorError>>;
}

/// A connector in the registry of this binary.
pub struct Registration {
    pub manifest: fn() -> Manifest,
    pub open: fn(ConnectorConfig, Host) -> Result<Arc<dyn DynConnector>, ConnectorError>,
}

impl Registration {
    /// The registration of connector type `C`.
    pub const fn of<C: Connector>() -> Self {
        Registration { manifest: C::manifest, open: open_erased::<C> }
    }
}

inventory::collect!(Registration);

/// Every connector registered in this binary (a plugin library, or a test
/// binary that links connector crates in-process).
pub fn registered() -> impl Iterator<Item = &'static Registration> {
    inventory::iter::<Registration>.into_iter()
}

/// Register connector type `C` in this binary's registry. One library may
/// register several connectors.
#[macro_export]
macro_rules! register_connector {
    ($connector:ty) => {
        $crate::__private::inventory::submit! {
            $crate::connector::Registration::of::<$connector>()
        }
    };
}

fn open_erased<C: Connector>(config: ConnectorConfig, host: Host) -> Result<Arc<dyn DynConnector>, ConnectorError> {
    let capabilities = C::manifest().capabilities;
    let connector = C::open(config, host)?;
    Ok(Arc::new(Erased { connector, capabilities }))
}

struct Erased<C> {
    connector: C,
    capabilities: BTreeSet<Capability>,
}

fn to_json<T: Serialize>(value: T) -> Result<serde_json::Value, ConnectorError> {
    serde_json::to_value(value).map_err(|e| ConnectorError::internal(format!("cannot encode the answer: {e}")))
}

impl<C: Connector> DynConnector for Erased<C> {
    fn invoke(self: Arc<Self>, operation: Operation) -> BoxFuture<'static, Result<serde_json::Value, ConnectorError>> {
        Box::pin(async move {
            if !self.capabilities.contains(&operation.capability()) {
                return Err(ConnectorError::unsupported(operation.name()));
            }
            let c = &self.connector;
            match operation {
                Operation::TestConnection => to_json(c.test_connection().await?),
                Operation::DiscoverSchema => to_json(c.discover_schema().await?),
                Operation::FindUser { unique_id } => to_json(c.find_user(&unique_id).await?),
                Operation::FindUsers { unique_id } => to_json(c.find_users(&unique_id).await?),
                Operation::ListUsers { cursor, count } => to_json(c.list_users(cursor.as_deref(), count).await?),
                Operation::CreateUser { user } => to_json(c.create_user(&user).await?),
                Operation::UpdateUser { target_id, user } => to_json(c.update_user(&target_id, &user).await?),
                Operation::DisableUser { target_id } => to_json(c.disable_user(&target_id).await?),
                Operation::EnableUser { target_id } => to_json(c.enable_user(&target_id).await?),
                Operation::DeleteUser { target_id } => to_json(c.delete_user(&target_id).await?),
                Operation::FindGroup { name } => to_json(c.find_group(&name).await?),
                Operation::CreateGroup { group } => to_json(c.create_group(&group).await?),
                Operation::UpdateGroup { target_id, group, added, removed } => {
                    to_json(c.update_group(&target_id, &group, &added, &removed).await?)
                }
                Operation::DeleteGroup { target_id } => to_json(c.delete_group(&target_id).await?),
            }
        })
    }
}

/// Name the connector in an `unsupported` error, so the host's message says
/// which connector lacks which operation.
pub(crate) fn name_unsupported(mut err: ConnectorError, connector_id: &str) -> ConnectorError {
    if err.kind == ErrorKind::Unsupported && !err.detail.starts_with("connector '") {
        err.detail = format!("connector '{connector_id}': {}", err.detail);
    }
    err
}
