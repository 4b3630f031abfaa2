//! `provisio config check`: the whole configuration against the loaded
//! connectors' manifests, every problem at once, each with its location.
//!
//! Errors stop a sync; warnings are printed and the sync goes on. The same
//! check runs before every `sync`, `plan` and `provision`.

use provisio_config::Config;
use provisio_runtime::loader::LoadReport;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

mod channel;
mod connection;

use connection::check_connection;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// e.g. `connection 'hr' › settings.scim_url`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.at, self.message)
    }
}

/// What the check needs besides the configuration.
pub struct CheckContext<'a> {
    pub connectors: &'a LoadReport,
    /// The Unique User Identifier a connection was first run with, from the
    /// state store (None when the connection has no state yet).
    pub recorded_identifier: &'a dyn Fn(&str) -> Option<String>,
    /// Fields recorded by `connections refresh-fields` for a connection.
    pub discovered: &'a dyn Fn(&str) -> Vec<provisio_core::manifest::AttributeSpec>,
    /// The configuration file's directory (relative paths start there).
    pub base: &'a std::path::Path,
}

#[derive(Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    fn error(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Error, at: at.into(), message: message.into() });
    }
    fn warning(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Warning, at: at.into(), message: message.into() });
    }
}

/// Check everything; the list is empty when the configuration is good.
pub fn check(config: &Config, ctx: &CheckContext<'_>) -> Vec<Problem> {
    let mut p = Problems::default();
    if config.engine.synchronization_frequency == 0 {
        p.error("engine.synchronization_frequency", "must be at least 1 second");
    }
    if let Some(service) = &config.engine.service {
        match service.listen_address() {
            Err(e) => p.error("engine.service.listen", e),
            Ok(addr) if !addr.ip().is_loopback() => p.warning(
                "engine.service.listen",
                format!(
                    "{addr} is reachable from other machines and the endpoints have no authentication: anyone who reaches it reads channel names, user identifiers and errors; keep it behind a firewall or a proxy that authenticates"
                ),
            ),
            Ok(_) => {}
        }
    }
    check_state_store(config, &mut p);
    // The rules `sync` applies (a missing node_id is not one: `sync --node-id` gives it).
    for problem in config.cluster_problems() {
        p.error(format!("engine.cluster.{}", problem.key), problem.message);
    }
    if config.connections.is_empty() {
        p.warning("connection", "no connection is configured; nothing will be provisioned");
    }
    let mut names = BTreeSet::new();
    for conn in &config.connections {
        if !names.insert(conn.name.as_str()) {
            p.error(format!("connection '{}'", conn.name), "two connections have this name; names must be unique");
        }
        check_connection(conn, ctx, &mut p);
    }
    p.0.sort_by_key(|a| a.severity);
    p.0
}

/// `[engine.state_store]`: settings that belong to PostgreSQL only, and
/// for PostgreSQL the URL, password reference, CA file and hash key file.
fn check_state_store(config: &Config, p: &mut Problems) {
    use provisio_config::store::{StoreKind, TlsMode};
    let Some(s) = &config.engine.state_store else { return };
    let at = "engine.state_store";
    if s.kind == StoreKind::Sqlite {
        let extra = [
            ("url", s.url.is_some()),
            ("password", s.password.is_some()),
            ("ca_file", s.ca_file.is_some()),
            ("hash_key_file", s.hash_key_file.is_some()),
        ];
        for (key, set) in extra {
            if set {
                p.warning(
                    format!("{at}.{key}"),
                    "is used only with kind = \"postgres\"; the SQLite store is [engine] state",
                );
            }
        }
        return;
    }
    if let Err(e) = config.store_config() {
        let key = ["url", "password"].into_iter().find(|k| e.starts_with(&format!("[{at}] {k}"))).unwrap_or("url");
        p.error(format!("{at}.{key}"), e);
    }
    if let Err(e) = config.hash_key_path() {
        p.error(format!("{at}.hash_key_file"), e);
    }
    if let Some(ca) = &s.ca_file
        && !ca.is_file()
    {
        p.error(format!("{at}.ca_file"), format!("{} does not exist or is not a file", ca.display()));
    }
    if s.ca_file.is_some() && s.tls != TlsMode::VerifyFull {
        p.warning(format!("{at}.ca_file"), "is used only with tls = \"verify-full\"");
    }
    if s.tls == TlsMode::Disable
        && let Some(url) = &s.url
        && !["@127.0.0.1", "@localhost", "@[::1]"].iter().any(|h| url.contains(h))
    {
        p.warning(format!("{at}.tls"), "is \"disable\" for a server that is not on this machine: the password and the state cross the network in clear; use tls = \"verify-full\"");
    }
}

/// The candidate closest to `name` by edit distance, if it is close.
/// A close spelling wins; otherwise the shortest candidate that contains
/// the name (`mail` → `workEmail`).
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let candidates: Vec<&str> = candidates.collect();
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| {
            candidates
                .iter()
                .filter(|c| lower.len() >= 3 && c.to_ascii_lowercase().contains(&lower))
                .min_by_key(|c| c.len())
                .copied()
        })
}

/// `config check` of a built engine: its configuration against the loaded
/// manifests and, when given, what the state store recorded (the
/// connections' identifiers, the fields discovered for them).
pub fn for_engine(engine: &provisio_engine::Engine, store: Option<&provisio_state::StateStore>) -> Vec<Problem> {
    let recorded = |name: &str| store.and_then(|s| s.connection_identifier(name).ok().flatten());
    let discovered = |name: &str| provisio_engine::fields::discovered_fields(store, name);
    check(
        &engine.config,
        &CheckContext {
            connectors: &engine.connectors,
            recorded_identifier: &recorded,
            discovered: &discovered,
            base: engine.config.file.parent().unwrap_or(Path::new(".")),
        },
    )
}

#[cfg(test)]
mod tests {
    fn config(toml: &str) -> provisio_config::Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, toml).unwrap();
        provisio_config::Config::load(&path).unwrap()
    }

    const PG: &str =
        "[engine.state_store]\nkind = \"postgres\"\nurl = \"postgres://u@127.0.0.1/db\"\nhash_key_file = \"k\"\n";

    /// `config check` applies the rules `sync` applies, even when node_id
    /// is not in the file (`sync --node-id` gives it then).
    #[test]
    fn config_check_and_sync_apply_the_same_timing_rules() {
        let c =
            config(&format!("{PG}[engine.cluster]\nmode = \"failover\"\nheartbeat_interval = 2\ngrace_period = 7\n"));
        let refused = c.cluster_settings(Some("a")).unwrap_err();
        assert!(refused.contains("grace_period (7 s) must be at least 4 times"), "{refused}");
        let ctx = super::CheckContext {
            connectors: &provisio_runtime::loader::LoadReport::default(),
            recorded_identifier: &|_| None,
            discovered: &|_| Vec::new(),
            base: std::path::Path::new("."),
        };
        let problems = super::check(&c, &ctx);
        let found: Vec<_> = problems.iter().filter(|p| p.at == "engine.cluster.grace_period").collect();
        assert_eq!(found.len(), 1, "{problems:?}");
        assert_eq!(found[0].message, refused);
        assert_eq!(found[0].severity, super::Severity::Error);
        // The missing node_id alone is no problem for `config check`.
        let c = config(&format!("{PG}[engine.cluster]\nmode = \"failover\"\n"));
        assert!(c.cluster_problems().is_empty());
        // --node-id replaces a file's unusable node_id.
        let c = config(&format!("{PG}[engine.cluster]\nmode = \"failover\"\nnode_id = \"a b\"\n"));
        assert_eq!(c.cluster_problems()[0].key, "node_id");
        assert_eq!(c.cluster_settings(Some("b")).unwrap().unwrap().node_id, "b");
    }
}
