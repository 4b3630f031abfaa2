//! `[engine.state_store]`: which state store the engine uses, and opening it.
//!
//! Without the section (or with `kind = "sqlite"`) the store is the SQLite
//! file `[engine] state`. With `kind = "postgres"` it is a PostgreSQL
//! database:
//!
//! ```toml
//! [engine.state_store]
//! kind = "postgres"
//! url = "postgres://provisio@db.example.com:5432/provisio"
//! password = { env = "PROVISIO_PG_PASSWORD" }   # or { file = "..." }; never inline
//! tls = "verify-full"                            # "disable" | "require" | "verify-full"
//! ca_file = "pg-ca.pem"
//! hash_key_file = "/etc/provisio/hash.key"       # required: shared by every node
//! ```
//!
//! The hash key (what makes the stored attribute hashes unguessable) never
//! goes into the store. With SQLite it sits beside the file
//! (`<state>.key`); with PostgreSQL, which several nodes will share, it is
//! the file `hash_key_file`, the same on every node.

use provisio_source::ldap::SecretRef;
use provisio_state::{PgConfig, PgTls, StateError, StateStore, StoreConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::{Config, SettingValue};

/// The backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The SQLite file `[engine] state`.
    #[default]
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// `tls` of `[engine.state_store]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    Disable,
    Require,
    #[default]
    VerifyFull,
}

/// `[engine.state_store]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateStoreConfig {
    /// `"sqlite"` (default) or `"postgres"`.
    #[serde(default)]
    pub kind: StoreKind,
    /// `postgres://USER@HOST:PORT/DATABASE` (no password).
    #[serde(default)]
    pub url: Option<String>,
    /// The password, by reference (`{ env = "NAME" }` or `{ file = "path" }`).
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// TLS mode (default `verify-full`).
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM file of the CA certificates of the server's certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The hash key file (required with PostgreSQL).
    #[serde(default)]
    pub hash_key_file: Option<PathBuf>,
}

impl StateStoreConfig {
    /// Make relative paths relative to the configuration file's directory.
    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.ca_file, &mut self.hash_key_file].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(SecretRef::File { file }) = &mut self.password
            && file.is_relative()
        {
            *file = base.join(&*file);
        }
    }
}

impl Config {
    fn postgres_settings(&self) -> Option<&StateStoreConfig> {
        self.engine.state_store.as_ref().filter(|s| s.kind == StoreKind::Postgres)
    }

    /// Which store to open, its password resolved; a message naming the
    /// key to fix otherwise.
    pub fn store_config(&self) -> Result<StoreConfig, String> {
        let Some(s) = self.postgres_settings() else {
            return Ok(StoreConfig::Sqlite(self.engine.state.clone()));
        };
        let url = s.url.clone().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
            "[engine.state_store] url is missing: kind = \"postgres\" needs url = \"postgres://USER@HOST:5432/DATABASE\""
                .to_owned()
        })?;
        let password = match &s.password {
            None => None,
            Some(SecretRef::Plain(_)) => {
                return Err("[engine.state_store] password is written inline; give it by reference: password = { env = \"NAME\" } or { file = \"path\" }".to_owned());
            }
            Some(SecretRef::Env { env }) => Some(resolve(SettingValue::Env { env: env.clone() })?),
            Some(SecretRef::File { file }) => Some(resolve(SettingValue::File { file: file.clone() })?),
        };
        let tls = match s.tls {
            TlsMode::Disable => PgTls::Disable,
            TlsMode::Require => PgTls::Require,
            TlsMode::VerifyFull => PgTls::VerifyFull,
        };
        Ok(StoreConfig::Postgres(PgConfig { url, password, tls, ca_file: s.ca_file.clone() }))
    }

    /// Where the hash key lives: `<state>.key` beside a SQLite store, the
    /// required `hash_key_file` with PostgreSQL.
    pub fn hash_key_path(&self) -> Result<PathBuf, String> {
        match self.postgres_settings() {
            None => Ok(self.engine.state.with_extension("key")),
            Some(s) => s.hash_key_file.clone().ok_or_else(|| {
                "[engine.state_store] hash_key_file is missing: with kind = \"postgres\" the hash key cannot sit beside a store file; name a file every node shares, e.g. hash_key_file = \"/etc/provisio/hash.key\" (provisio creates it if it does not exist; `provisio state migrate` copies the SQLite store's key into it)".to_owned()
            }),
        }
    }

    /// Open the store for a run (its run lock held until dropped).
    pub fn open_store(&self) -> Result<StateStore, StateError> {
        StateStore::open_with(&self.store_config().map_err(StateError::Config)?)
    }

    /// Open the store read-only (no lock, no migration).
    pub fn open_store_read_only(&self) -> Result<StateStore, StateError> {
        StateStore::open_read_only_with(&self.store_config().map_err(StateError::Config)?)
    }

    /// What messages call the store: its path or URL (never a password).
    pub fn store_location(&self) -> String {
        match self.store_config() {
            Ok(StoreConfig::Postgres(pg)) => pg.location(),
            _ => self.engine.state.display().to_string(),
        }
    }
}

fn resolve(value: SettingValue) -> Result<String, String> {
    match value.resolve() {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(format!("[engine.state_store] password: {e}")),
    }
}
