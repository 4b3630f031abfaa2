//! `provisio config check`: the whole configuration against the loaded
//! connectors' manifests, every problem at once, each with its location.
//!
//! Errors stop a sync; warnings are printed and the sync goes on. The same
//! check runs before every `sync`, `plan` and `provision`.

use provisio_core::manifest::{
    Manifest, OptionConstraint, ProvisioningOption, RemoveUserAction, SettingKind, SettingSpec,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use provisio_config::catalogue::Catalogue;
use provisio_config::{ChannelConfig, Config, ConnectionConfig, SettingValue, SourceConfig};
use provisio_runtime::loader::LoadReport;
use std::path::Path;

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
struct Problems(Vec<Problem>);

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

fn check_connection(conn: &ConnectionConfig, ctx: &CheckContext<'_>, p: &mut Problems) {
    let at = format!("connection '{}'", conn.name);
    let Some(loaded) = ctx.connectors.get(&conn.connector) else {
        let loaded: Vec<&str> = ctx.connectors.connectors.keys().map(String::as_str).collect();
        p.error(
            format!("{at} › connector"),
            format!(
                "no connector '{}' is loaded (loaded: {}); check the id or add its directory with --connector-dir",
                conn.connector,
                if loaded.is_empty() { "none".into() } else { loaded.join(", ") }
            ),
        );
        return;
    };
    let m = &loaded.manifest;
    if let Some(rate) = conn.rate_limit
        && !(rate.is_finite() && rate > 0.0)
    {
        p.error(
            format!("{at} › rate_limit"),
            format!("{rate} is not a rate; give requests per second, e.g. 10 or 0.5"),
        );
    }
    check_settings(conn, m, ctx.base, &at, p);
    check_options(conn, m, &at, p);
    check_tls(conn, &at, p);

    if let Some(identifier) = conn.unique_identifier(m)
        && let Some(recorded) = (ctx.recorded_identifier)(&conn.name)
        && recorded != identifier
    {
        p.error(
            format!("{at} › settings.unique_user_identifier"),
            format!(
                "the Unique User Identifier was '{recorded}' when this connection first ran and is now '{identifier}'; \
                 changing it would orphan every linked account. Restore it, or create a new connection \
                 (and `provisio channels reset` the old one's channels) if the change is intended"
            ),
        );
    }

    check_group_names(conn, p, &at);

    let discovered = (ctx.discovered)(&conn.name);
    let mut channel_names = BTreeSet::new();
    for ch in &conn.channels {
        if !channel_names.insert(ch.name.as_str()) {
            p.error(format!("{at} › channel '{}'", ch.name), "two channels of this connection have this name");
        }
        check_channel(conn, ch, m, &discovered, &format!("{at} › channel '{}'", ch.name), p);
    }
    if conn.channels.is_empty() {
        p.warning(&at, "has no channel; nothing will be provisioned through it");
    }
}

fn kind_label(s: &SettingSpec) -> String {
    match s.kind {
        SettingKind::Enum => format!(
            "one of {}",
            s.allowed.iter().map(|a| format!("\"{}\" ({})", a.value, a.label)).collect::<Vec<_>>().join(", ")
        ),
        SettingKind::Url => "an http:// or https:// URL".into(),
        SettingKind::Integer => "a whole number".into(),
        SettingKind::Boolean => "true or false".into(),
        SettingKind::File => "the path of a file".into(),
        SettingKind::String | SettingKind::List => "text".into(),
    }
}

/// The value of `name` after defaults (None when unset and no default).
fn effective(conn: &ConnectionConfig, m: &Manifest, name: &str) -> Option<serde_json::Value> {
    match conn.settings.get(name) {
        Some(SettingValue::Plain(v)) => Some(v.clone()),
        Some(_) => Some(serde_json::Value::String("<reference>".into())),
        None => m.setting(name).and_then(|s| s.default.clone()),
    }
}

fn check_settings(conn: &ConnectionConfig, m: &Manifest, base: &std::path::Path, at: &str, p: &mut Problems) {
    for (name, value) in &conn.settings {
        let where_ = format!("{at} › settings.{name}");
        let Some(spec) = m.setting(name) else {
            let hint = closest(name, m.settings.iter().map(|s| s.name.as_str()))
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            p.error(where_, format!("connector '{}' has no setting '{name}'{hint}", m.id));
            continue;
        };
        if spec.kind == SettingKind::File {
            // The value names a file (inline, by { file } or by { env }).
            match provisio_config::secret::file_setting_path(value, base) {
                Ok(path) if path.is_file() => {}
                Ok(path) => {
                    p.error(where_, format!("'{}' names the file {}, which does not exist", spec.label, path.display()))
                }
                Err(e) => p.error(where_, e.to_string()),
            }
            continue;
        }
        if spec.secret
            && let Ok(serde_json::Value::String(secret)) = value.resolve()
        {
            for warning in provisio_config::secret::weaknesses(conn, spec, &secret) {
                p.warning(&where_, warning);
            }
        }
        match value {
            SettingValue::Plain(v) => {
                if spec.secret && !v.is_null() {
                    p.warning(
                        &where_,
                        format!("'{}' is a secret written inline; give it by reference: {{ env = \"NAME\" }} or {{ file = \"path\" }}", spec.label),
                    );
                }
                if let Some(problem) = value_problem(spec, v) {
                    p.error(where_, problem);
                }
            }
            reference => {
                if let Err(e) = reference.resolve() {
                    p.error(where_, e.to_string());
                }
            }
        }
    }
    for spec in &m.settings {
        let set = effective(conn, m, &spec.name).is_some_and(|v| !v.is_null() && v != "");
        let needed = spec.required
            || spec.required_when.as_ref().is_some_and(|c| effective(conn, m, &c.setting).as_ref() == Some(&c.equals));
        if needed && !set {
            let why = match &spec.required_when {
                Some(c) if !spec.required => format!(" (required when {} is {})", c.setting, c.equals),
                _ => String::new(),
            };
            let how = if spec.secret {
                "give it by reference: { env = \"NAME\" } or { file = \"path\" }".to_owned()
            } else {
                format!("set it to {}", kind_label(spec))
            };
            p.error(format!("{at} › settings.{}", spec.name), format!("'{}' is required{why}; {how}", spec.label));
        }
    }
}

fn value_problem(spec: &SettingSpec, v: &serde_json::Value) -> Option<String> {
    let ok = match spec.kind {
        SettingKind::Boolean => v.is_boolean(),
        SettingKind::Integer => v.is_i64(),
        SettingKind::Enum => v.as_str().is_some_and(|s| spec.allowed.iter().any(|a| a.value == s)),
        SettingKind::Url => v.as_str().is_some_and(|s| s.starts_with("http://") || s.starts_with("https://")),
        // Checked with the configuration's directory in check_settings.
        SettingKind::File => v.is_string(),
        SettingKind::String | SettingKind::List => v.is_string(),
    };
    // A secret's value is never quoted, only what kind of value it is.
    let shown = if spec.secret { provisio_config::secret::kind_of(v).to_owned() } else { v.to_string() };
    (!ok).then(|| format!("'{}' must be {}, not {shown}", spec.label, kind_label(spec)))
}

fn check_options(conn: &ConnectionConfig, m: &Manifest, at: &str, p: &mut Problems) {
    let value = |o: ProvisioningOption| conn.options.get(o).unwrap_or(m.options.get(o).default);
    for option in ProvisioningOption::ALL {
        let where_ = format!("{at} › options.{}", option.key());
        match &m.options.get(option).constraint {
            OptionConstraint::Free => {}
            OptionConstraint::Fixed { value: fixed, reason } => {
                if value(option) != *fixed {
                    p.error(
                        where_,
                        format!(
                            "{} must be {} for connector '{}': {reason}",
                            option.label(),
                            if *fixed { "selected" } else { "cleared" },
                            m.id
                        ),
                    );
                }
            }
            OptionConstraint::Requires { option: needed, reason } => {
                if value(option) && !value(*needed) {
                    p.error(
                        where_,
                        format!("{} needs {} with connector '{}': {reason}", option.label(), needed.label(), m.id),
                    );
                }
            }
            OptionConstraint::CreatesActive { reason } => {
                if conn.options.get(option) == Some(true) {
                    p.error(
                        where_,
                        format!(
                            "{} is not supported by connector '{}': {reason}. Disabled source users in scope are created active, with a warning",
                            option.label(),
                            m.id
                        ),
                    );
                }
            }
        }
    }
    if let Some(action) = &conn.remove_user_action {
        let where_ = format!("{at} › remove_user_action");
        match action.parse::<RemoveUserAction>().ok() {
            None => p.error(where_, format!("'{action}' is not a remove-user action; use \"Disable\" or \"Delete\"")),
            Some(a) if !m.remove_user.supported.contains(&a) => {
                let supported: Vec<String> = m.remove_user.supported.iter().map(|a| a.to_string()).collect();
                let notes =
                    if m.remove_user.notes.is_empty() { String::new() } else { format!(" ({})", m.remove_user.notes) };
                p.error(
                    where_,
                    format!("connector '{}' cannot {a} users; it supports only {}{notes}", m.id, supported.join(", ")),
                );
            }
            Some(_) => {}
        }
    }
}

/// The connection's `tls` table: a CA file that is there and holds PEM
/// certificates; verification turned off is allowed, with a warning.
fn check_tls(conn: &ConnectionConfig, at: &str, p: &mut Problems) {
    if let Some(ca) = &conn.tls.ca_file
        && let Err(e) = provisio_runtime::services::ca_certificates(ca)
    {
        p.error(format!("{at} › tls.ca_file"), e.to_string().trim_start_matches("tls.ca_file: ").to_owned());
    }
    if !conn.tls.verify_certificates {
        p.warning(
            format!("{at} › tls.verify_certificates"),
            "is false: the target's TLS certificate is not checked, so anyone on the network path can read and \
             change what is sent, credentials included; use it only for a test target, and give a private CA \
             with tls.ca_file instead",
        );
    }
}

fn check_channel(
    conn: &ConnectionConfig,
    ch: &ChannelConfig,
    m: &Manifest,
    discovered: &[provisio_core::manifest::AttributeSpec],
    at: &str,
    p: &mut Problems,
) {
    if ch.max_threads == 0 {
        p.error(format!("{at} › max_threads"), "must be at least 1");
    }
    if ch.timeout == 0 {
        p.error(format!("{at} › timeout"), "must be at least 1 second");
    }
    if ch.groups && !m.supports(provisio_core::manifest::Capability::GroupCreate) {
        p.error(format!("{at} › groups"), format!("connector '{}' does not provision groups", m.id));
    }
    check_source(&ch.source, &format!("{at} › source"), p);

    // Mapping: known fields, required fields, expressions.
    let catalogue = Catalogue::new(conn, m, discovered);
    let mut mapped = BTreeSet::new();
    for (i, field) in ch.mapping.iter().enumerate() {
        let where_ = format!("{at} › mapping[{i}] '{}'", field.field);
        match catalogue.find(&field.field) {
            Some(a) => {
                mapped.insert(a.code.clone());
            }
            None => {
                let hint = closest(&field.field, catalogue.codes())
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                let refresh = if m.supports(provisio_core::manifest::Capability::DiscoverSchema) {
                    format!(
                        "; if the target has it, run `provisio connections refresh-fields --connection {}` first",
                        conn.name
                    )
                } else {
                    String::new()
                };
                p.error(where_, format!("connector '{}' has no attribute '{}'{hint}{refresh}", m.id, field.field));
            }
        }
    }
    for a in catalogue.attributes.iter().filter(|a| a.required) {
        if !mapped.contains(&a.code) {
            p.error(format!("{at} › mapping"), format!("required attribute '{}' is not mapped", a.code));
        }
    }
    let multi = |code: &str| catalogue.multi_valued(code);
    if let Err(errors) = provisio_mapping::MappingSet::compile(&ch.mapping, &multi) {
        for e in errors {
            p.error(format!("{at} › mapping"), e.to_string());
        }
    }
}

fn check_source(source: &SourceConfig, at: &str, p: &mut Problems) {
    match source {
        SourceConfig::File(f) => {
            if f.path.as_os_str().is_empty() {
                p.error(format!("{at}.path"), "the file source needs a path");
            } else if !f.path.is_file() {
                p.error(format!("{at}.path"), format!("{} does not exist or is not a file", f.path.display()));
            }
            for e in f.check() {
                p.error(at, e.to_string());
            }
        }
        SourceConfig::Ldap(l) => check_ldap_source(l, at, p),
    }
}

fn check_ldap_source(l: &provisio_source::ldap::LdapSourceConfig, at: &str, p: &mut Problems) {
    use provisio_source::ldap::SecretRef;
    for e in l.check() {
        p.error(at, e.to_string());
    }
    if !l.verify_certificates {
        p.warning(
            format!("{at}.verify_certificates"),
            "is false: the directory server's certificate is not checked, so anyone in the path can read the bind password and the directory; set ca_file instead",
        );
    }
    if let Some(ca) = &l.ca_file
        && !ca.is_file()
    {
        p.error(format!("{at}.ca_file"), format!("{} does not exist or is not a file", ca.display()));
    }
    let url = l.url.trim().to_ascii_lowercase();
    if url.starts_with("ldap://") && !l.start_tls && l.bind_password.is_some() {
        let local = ["ldap://127.0.0.1", "ldap://localhost", "ldap://[::1]"].iter().any(|h| url.starts_with(h));
        if !local {
            p.warning(
                format!("{at}.url"),
                "binds with a password over ldap:// without start_tls: the password crosses the network in clear; use ldaps:// or start_tls = true",
            );
        }
    }
    match &l.bind_password {
        Some(SecretRef::Plain(_)) => p.warning(
            format!("{at}.bind_password"),
            "the bind password is written inline; give it by reference: { env = \"NAME\" } or { file = \"path\" }",
        ),
        Some(_) => {
            if let Err(e) = provisio_engine::source::bind_password(l) {
                p.error(format!("{at}.bind_password"), e.trim_start_matches("bind_password: ").to_owned());
            }
        }
        None => {}
    }
}

/// Two channels of one connection provisioning groups with the same name
/// overwrite each other's membership at the target (spec a.4.8): warn.
/// Reads the channels' sources; a source that cannot be read is reported by
/// its own check.
fn check_group_names(conn: &ConnectionConfig, p: &mut Problems, at: &str) {
    let by_dn = conn.settings.get("group_name_source").is_some_and(
        |v| matches!(v, SettingValue::Plain(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("dn")),
    );
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for ch in conn.channels.iter().filter(|c| c.groups && c.active) {
        // Only files: a configuration check does not connect to directories.
        if !matches!(ch.source, SourceConfig::File(_)) {
            continue;
        }
        let Ok(snapshot) = provisio_engine::source::read_source(&ch.source) else { continue };
        for g in &snapshot.groups {
            let name = if by_dn { g.dn.clone() } else { g.cn.clone() };
            let channels = owners.entry(name).or_default();
            if !channels.contains(&ch.name.as_str()) {
                channels.push(&ch.name);
            }
        }
    }
    for (name, channels) in owners.iter().filter(|(_, c)| c.len() > 1) {
        p.warning(
            at,
            format!(
                "channels {} all provision a group named '{name}'; at the target the last one processed overwrites the others' membership",
                channels.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(" and ")
            ),
        );
    }
}

/// The candidate closest to `name` by edit distance, if it is close.
/// A close spelling wins; otherwise the shortest candidate that contains
/// the name (`mail` → `workEmail`).
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
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
