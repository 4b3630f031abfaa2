//! The PostgreSQL backend: its settings ([`PgConfig`]), the connection
//! (TLS through rustls with ring), and the error messages an operator sees
//! when the server cannot be reached or refuses us.
//!
//! The sync `postgres` client runs a tokio runtime of its own and panics
//! when used from inside another runtime, and the engine calls the store
//! from inside one (`Runtime::block_on`). So the client lives on a
//! dedicated thread that owns it ([`conn::PgConn`]); every call sends a
//! closure over a channel and blocks on the answer.
//!
//! The schema (same version numbers as SQLite's, PostgreSQL types) and the
//! run lock (a session-level advisory lock) are in [`schema`].

pub(crate) mod conn;
pub(crate) mod schema;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub(crate) use conn::PgConn;

use crate::error::StateError;

/// How the connection to PostgreSQL is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PgTls {
    /// Plain TCP (a server on the same host or a trusted network).
    Disable,
    /// Encrypted, the server's certificate not checked (libpq's
    /// `sslmode=require`): protects against listening, not against a
    /// server that pretends.
    Require,
    /// Encrypted, the certificate checked against `ca_file` (or the
    /// built-in web roots) and the host name in the URL (libpq's
    /// `verify-full`). The default.
    #[default]
    VerifyFull,
}

impl PgTls {
    /// The configuration word.
    pub fn as_str(self) -> &'static str {
        match self {
            PgTls::Disable => "disable",
            PgTls::Require => "require",
            PgTls::VerifyFull => "verify-full",
        }
    }
}

/// Where the PostgreSQL state store is and how to log in. The password is
/// given resolved (the host resolves the configuration's reference) and is
/// never shown: not by `Debug`, not in any error.
#[derive(Clone)]
pub struct PgConfig {
    /// `postgres://USER@HOST:PORT/DATABASE`, without a password.
    pub url: String,
    /// The password, if the server asks for one.
    pub password: Option<String>,
    /// TLS mode.
    pub tls: PgTls,
    /// PEM file of the CA certificates that issued the server's certificate.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &self.location())
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// How long connecting may take before it is given up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl PgConfig {
    /// The URL without its query string and without any password in it:
    /// what messages call the store.
    pub fn location(&self) -> String {
        let url = self.url.split('?').next().unwrap_or_default();
        let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        match authority.rsplit_once('@') {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}{path}")
            }
            _ => url.to_owned(),
        }
    }

    /// The client settings, or a message naming the setting to fix.
    pub(crate) fn client_config(&self) -> Result<postgres::Config, StateError> {
        let bad = |m: String| StateError::Config(m);
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(bad(
                "[engine.state_store] url must be a URL like postgres://USER@HOST:5432/DATABASE".to_owned()
            ));
        }
        // The parser's messages do not repeat the URL; ours do not either,
        // in case the URL holds a password after all.
        let mut config = postgres::Config::from_str(&self.url).map_err(|e| {
            bad(format!(
                "[engine.state_store] url is not a valid PostgreSQL URL ({e}); write it as postgres://USER@HOST:5432/DATABASE"
            ))
        })?;
        if config.get_password().is_some() {
            return Err(bad(
                "[engine.state_store] url holds a password: remove it from the URL and give it by reference, password = { env = \"NAME\" } or { file = \"path\" }".to_owned(),
            ));
        }
        if config.get_user().is_none() {
            return Err(bad(
                "[engine.state_store] url names no user: write it as postgres://USER@HOST:5432/DATABASE".to_owned()
            ));
        }
        if config.get_hosts().is_empty() {
            return Err(bad(
                "[engine.state_store] url names no host: write it as postgres://USER@HOST:5432/DATABASE".to_owned()
            ));
        }
        if let Some(password) = &self.password {
            config.password(password.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name(&format!("provisio pid={}", std::process::id()));
        Ok(config)
    }

    /// Replace the password, should it ever appear in a text, by `***`.
    pub(crate) fn mask(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "***"),
            _ => text.to_owned(),
        }
    }
}

/// The operator's message for an error from connecting.
pub(crate) fn connect_error(cfg: &PgConfig, client: &postgres::Config, e: &postgres::Error) -> StateError {
    use postgres::error::SqlState;
    let user = client.get_user().unwrap_or_default();
    let db = client.get_dbname().unwrap_or(user);
    let text = cfg.mask(&chain(e));
    let hint = match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD => format!(
            "the server refused the password of user '{user}'; check the password that [engine.state_store] password refers to"
        ),
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
            format!("database '{db}' does not exist; create it (createdb -O {user} {db})")
        }
        Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            "the server does not let this user in (pg_hba.conf); ask its administrator".to_owned()
        }
        Some(_) => String::new(),
        None if text.contains("password missing") => {
            "the server asks for a password: set [engine.state_store] password = { env = \"NAME\" }".to_owned()
        }
        None if text.contains("TLS") || text.contains("tls") || text.contains("certificate") => {
            "check [engine.state_store] tls and ca_file against the server's TLS setup".to_owned()
        }
        None => "is PostgreSQL running and listening there? check [engine.state_store] url".to_owned(),
    };
    let message = if hint.is_empty() { text } else { format!("{text}; {hint}") };
    StateError::Unavailable { location: cfg.location(), message }
}

/// An error and its sources, `: `-separated (the client's own text is
/// often one word, "invalid configuration", with the reason beneath).
fn chain(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// The operator's message for any other PostgreSQL error.
pub(crate) fn db_error(e: postgres::Error) -> StateError {
    if e.code() == Some(&postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION) {
        return StateError::ReadOnly;
    }
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    StateError::Database { message, source: Box::new(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> PgConfig {
        PgConfig { url: url.into(), password: Some("hunter2-secret".into()), tls: PgTls::Disable, ca_file: None }
    }

    #[test]
    fn the_location_never_shows_a_password() {
        assert_eq!(cfg("postgres://u@h:5432/db?sslmode=disable").location(), "postgres://u@h:5432/db");
        assert_eq!(cfg("postgres://u:pw@h:5432/db").location(), "postgres://u:***@h:5432/db");
        assert!(!format!("{:?}", cfg("postgres://u@h/db")).contains("hunter2"));
    }

    #[test]
    fn bad_urls_name_the_key() {
        let err = |url: &str| cfg(url).client_config().unwrap_err().to_string();
        assert!(err("mysql://u@h/db").contains("[engine.state_store] url must be"));
        assert!(err("postgres://u:pw@h/db").contains("url holds a password"));
        assert!(err("postgres://u@h/db?password=pw").contains("url holds a password"));
        assert!(err("postgres://u@h:port/db").contains("url is not a valid"));
        assert!(err("postgres://h/db").contains("names no user"));
        assert!(cfg("postgres://u@h:5432/db").client_config().is_ok());
    }
}
