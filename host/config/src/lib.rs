//! The configuration file (TOML): engine settings and connections with their
//! channels.
//!
//! ```toml
//! [engine]
//! state = "provisio-state.db"        # relative paths are relative to this file
//! synchronization_frequency = 60     # seconds between cycles
//!
//! [[connection]]
//! name = "sandbox"
//! connector = "scim"
//! settings = { scim_url = "http://127.0.0.1:8080/scim/v2", authentication_method = "oauth2_bearer_token", access_token = { env = "SANDBOX_TOKEN" } }
//!
//! [[connection.channel]]
//! name = "people"
//! source = { kind = "file", path = "directory.ldif", guid_attribute = "entryUUID" }
//! mapping = [ { field = "userName", attributes = ["uid"] } ]
//! ```
//!
//! A connection may add `tls = { ca_file = "ca.pem" }` (trust a private CA)
//! or `tls = { verify_certificates = false }` (warned; test targets only).
//!
//! The full reference is `docs/configuration.md`. This module reads and
//! resolves the file (paths, secrets by reference); `provisio config check`
//! (the binary's `check` module) validates it against the connectors' manifests.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub mod catalogue;
pub mod cluster;
pub mod secret;
pub mod store;

pub use cluster::{ClusterConfig, ClusterMode, ClusterSettings};
pub use secret::SettingValue;
pub use store::{StateStoreConfig, StoreKind, TlsMode};

/// Why a configuration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default, rename = "connection")]
    pub connections: Vec<ConnectionConfig>,
    /// The file this configuration was read from (set by [`Config::load`]).
    #[serde(skip)]
    pub file: PathBuf,
}

/// Engine-wide settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Extra connector directories (after --connector-dir and
    /// PROVISIO_CONNECTOR_DIR, before the binary's own directory).
    #[serde(default)]
    pub connector_dirs: Vec<PathBuf>,
    /// The SQLite state store (unless `[engine.state_store]` says otherwise).
    #[serde(default = "default_state")]
    pub state: PathBuf,
    /// `[engine.state_store]`: the backend (`kind = "postgres"` and its
    /// settings; see [`store`]). None: SQLite at `state`.
    #[serde(default)]
    pub state_store: Option<StateStoreConfig>,
    /// Seconds between provisioning cycles (PingFederate's Synchronization
    /// Frequency; default 60).
    #[serde(default = "default_frequency")]
    pub synchronization_frequency: u64,
    /// The audit log: one JSON line per provisioning event.
    #[serde(default = "default_audit")]
    pub audit_log: PathBuf,
    /// Failing cycles in a row before a channel is quarantined (default 3).
    #[serde(default = "default_quarantine_after")]
    pub quarantine_after: u32,
    /// Seconds of a channel's first quarantine (default 300); each further
    /// failing probe doubles it, up to an hour.
    #[serde(default = "default_quarantine_interval")]
    pub quarantine_interval: u64,
    /// `[engine.service]`: the HTTP listener of a long-running `provisio
    /// sync` (health, metrics, status page); none when absent.
    #[serde(default)]
    pub service: Option<ServiceConfig>,
    /// `[engine.cluster]`: standalone or failover (see [`cluster`]).
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
}

/// `[engine.service]`: where a long-running `provisio sync` serves its
/// health endpoints, metrics and status page (see `crate::service`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// An IP address and port, e.g. `127.0.0.1:9464` (port 0: any free one).
    pub listen: String,
    /// Accept a non-loopback `listen` address. The endpoints have no
    /// authentication, so this is off unless set.
    #[serde(default)]
    pub allow_non_loopback: bool,
}

fn default_quarantine_after() -> u32 {
    3
}
fn default_quarantine_interval() -> u64 {
    300
}

fn default_state() -> PathBuf {
    PathBuf::from("provisio-state.db")
}
fn default_frequency() -> u64 {
    60
}
fn default_audit() -> PathBuf {
    PathBuf::from("provisio-audit.log")
}

impl ServiceConfig {
    /// The address to listen on: `listen`, refused unless it is loopback
    /// or `allow_non_loopback` is set.
    pub fn listen_address(&self) -> Result<std::net::SocketAddr, String> {
        Self::parse_listen(&self.listen, self.allow_non_loopback)
    }

    /// Parse and check a listen address (`--listen` or `engine.service.listen`;
    /// the caller names which in front of the error).
    pub fn parse_listen(text: &str, allow_non_loopback: bool) -> Result<SocketAddr, String> {
        let addr: SocketAddr = text.trim().parse().map_err(|_| {
            format!(
                "'{text}' is not an IP address and port; write e.g. 127.0.0.1:9464 (or [::1]:9464; port 0 picks a free one)"
            )
        })?;
        if !addr.ip().is_loopback() && !allow_non_loopback {
            return Err(format!(
                "{addr} is not a loopback address, and the health, metrics and status endpoints have no authentication; \
                 listen on 127.0.0.1 (and put an authenticating proxy in front), or set allow_non_loopback = true in [engine.service] \
                 to serve {addr} anyway"
            ));
        }
        Ok(addr)
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            connector_dirs: Vec::new(),
            state: default_state(),
            state_store: None,
            synchronization_frequency: default_frequency(),
            audit_log: default_audit(),
            quarantine_after: default_quarantine_after(),
            quarantine_interval: default_quarantine_interval(),
            service: None,
            cluster: None,
        }
    }
}

/// One SP connection: one target, reached through one connector.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub name: String,
    /// Partner's Entity ID (free text, for the operator).
    #[serde(default)]
    pub entity_id: Option<String>,
    /// The connector id (`scim`, `contentful`, ...).
    pub connector: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Target settings by the connector's setting names. Secrets are given
    /// as `{ env = "NAME" }` or `{ file = "path" }`.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
    /// Provisioning options; unset ones take the connector's defaults.
    #[serde(default)]
    pub options: OptionsConfig,
    /// `Disable` or `Delete`; unset takes the connector's default.
    #[serde(default)]
    pub remove_user_action: Option<String>,
    /// Custom SCIM attributes (spec a.4.6).
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttribute>,
    /// TLS to the target: the host's, not the connector's (every request
    /// of every connector goes through the host's HTTP client).
    #[serde(default)]
    pub tls: TlsConfig,
    /// At most this many requests a second to the target (all channels
    /// together); unset: no limit.
    #[serde(default)]
    pub rate_limit: Option<f64>,
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelConfig>,
}

fn yes() -> bool {
    true
}

/// A connection's TLS policy: `tls = { ca_file = "ca.pem" }`, or, for a
/// test target only, `tls = { verify_certificates = false }`. Connections
/// with the same policy share one HTTP client (and its connection pool).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// A PEM file of CA certificates trusted for this connection's targets,
    /// besides the built-in (Mozilla) roots. Relative to the configuration.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Check the target's certificate (default true). `false` accepts any
    /// certificate for any name: warned by `config check` and at every open.
    #[serde(default = "yes")]
    pub verify_certificates: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig { ca_file: None, verify_certificates: true }
    }
}

/// The four provisioning options, each optional.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OptionsConfig {
    pub user_create: Option<bool>,
    pub user_update: Option<bool>,
    pub user_disable_delete: Option<bool>,
    pub provision_disabled_users: Option<bool>,
}

impl OptionsConfig {
    pub fn get(&self, option: provisio_core::manifest::ProvisioningOption) -> Option<bool> {
        use provisio_core::manifest::ProvisioningOption::*;
        match option {
            UserCreate => self.user_create,
            UserUpdate => self.user_update,
            UserDisableDelete => self.user_disable_delete,
            ProvisionDisabledUsers => self.provision_disabled_users,
        }
    }
}

/// A custom SCIM attribute in an extension namespace (spec a.4.6).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAttribute {
    /// The field code used in mappings.
    pub name: String,
    /// Extension URN; default `urn:scim:schemas:extension:custom:1.0` for
    /// SCIM 1.1 and `urn:ietf:params:scim:schemas:extension:custom:2.0:User`
    /// for 2.0.
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub multi_valued: bool,
    /// Sub-attributes of a complex attribute (`type` is reserved).
    #[serde(default)]
    pub sub_attributes: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// One channel: a source, a scope and an attribute mapping feeding the
/// connection's target.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Operations pushed to the target at once (default 1).
    #[serde(default = "one")]
    pub max_threads: usize,
    /// Seconds allowed for one user or group operation (default 60).
    #[serde(default = "sixty")]
    pub timeout: u64,
    pub source: SourceConfig,
    #[serde(default)]
    pub mapping: Vec<provisio_mapping::FieldMapping>,
    /// Provision groups in scope (connectors that support groups).
    #[serde(default)]
    pub groups: bool,
    /// The accidental-deletion guard (on by default; see
    /// `provisio-engine`'s `guard` module and docs/configuration.md).
    #[serde(default)]
    pub deletion_guard: DeletionGuard,
}

/// A channel's accidental-deletion guard settings
/// (`[connection.channel.deletion_guard]`): a cycle that would deprovision
/// more than `max_percent` per cent **and** more than `max_count` of the
/// channel's linked users (or any, from an empty source) holds them instead.
/// The engine's `guard` module judges a cycle by them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletionGuard {
    pub enabled: bool,
    /// Hold when more than this share of the linked users would go ...
    pub max_percent: f64,
    /// ... and more than this many.
    pub max_count: u64,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        DeletionGuard { enabled: true, max_percent: 20.0, max_count: 10 }
    }
}

impl ConnectionConfig {
    /// The effective Unique User Identifier of a connection: the Filter
    /// Expression when set, else the identifier setting, else the default.
    pub fn unique_identifier(&self, manifest: &provisio_core::Manifest) -> Option<String> {
        let plain = |name: &str| match self.settings.get(name) {
            Some(SettingValue::Plain(serde_json::Value::String(s))) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let default = |name: &str| {
            manifest.setting(name).and_then(|s| s.default.as_ref()).and_then(|d| d.as_str()).map(str::to_owned)
        };
        if let Some(filter) = plain("filter_expression") {
            return Some(format!("filter:{filter}"));
        }
        plain("unique_user_identifier").or_else(|| default("unique_user_identifier"))
    }
}

fn one() -> usize {
    1
}
fn sixty() -> u64 {
    60
}

/// Where a channel reads identities.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// An LDIF, CSV or JSON file (`provisio-source`'s settings; see
    /// docs/configuration.md).
    File(provisio_source::FileSourceConfig),
    /// An LDAP directory: the file source's scope settings plus the
    /// connection and change detection (docs/configuration.md).
    Ldap(provisio_source::ldap::LdapSourceConfig),
}

impl SourceConfig {
    /// The directory scope (GUID, object classes, user and group selection),
    /// the same settings for either kind of source.
    pub fn scope(&self) -> &provisio_source::DirectoryScope {
        match self {
            SourceConfig::File(f) => &f.scope,
            SourceConfig::Ldap(l) => &l.scope,
        }
    }
}

impl Config {
    /// Read and parse `path`. Relative paths inside are resolved against the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text, path)
    }

    /// Parse configuration text as if it had been read from `path`: what
    /// [`Config::load`] does once the file is read (and what the `config`
    /// fuzz target feeds arbitrary text to).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string().trim_end().to_owned() })?;
        config.file = path.to_owned();
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut config.engine.state);
        resolve(&mut config.engine.audit_log);
        if let Some(store) = &mut config.engine.state_store {
            store.resolve_paths(&base);
        }
        config.engine.connector_dirs.iter_mut().for_each(resolve);
        for connection in &mut config.connections {
            if let Some(ca) = &mut connection.tls.ca_file {
                resolve(ca);
            }
            for value in connection.settings.values_mut() {
                value.resolve_paths(&base);
            }
            for channel in &mut connection.channels {
                let masked = channel.mapping.iter().filter(|m| m.masked).flat_map(|m| m.attributes.iter().cloned());
                match &mut channel.source {
                    SourceConfig::File(file) => {
                        resolve(&mut file.path);
                        // Known before the file is read: its parse errors never quote these.
                        file.masked_attributes = masked.collect();
                    }
                    SourceConfig::Ldap(ldap) => {
                        if let Some(ca) = &mut ldap.ca_file {
                            resolve(ca);
                        }
                        if let Some(provisio_source::ldap::SecretRef::File { file }) = &mut ldap.bind_password {
                            resolve(file);
                        }
                    }
                }
            }
        }
        Ok(config)
    }

    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::ServiceConfig;

    fn listen_address(text: &str, allow: bool) -> Result<std::net::SocketAddr, String> {
        ServiceConfig::parse_listen(text, allow)
    }

    #[test]
    fn loopback_addresses_are_accepted_others_need_the_key() {
        assert_eq!(listen_address("127.0.0.1:9464", false).unwrap().port(), 9464);
        assert!(listen_address("[::1]:0", false).is_ok());
        let e = listen_address("0.0.0.0:9464", false).unwrap_err();
        assert!(
            e.contains("not a loopback address") && e.contains("allow_non_loopback = true in [engine.service]"),
            "{e}"
        );
        assert!(listen_address("0.0.0.0:9464", true).is_ok());
        let e = listen_address("localhost:9464", false).unwrap_err();
        assert!(e.starts_with("'localhost:9464' is not an IP address and port"), "{e}");
    }
}
