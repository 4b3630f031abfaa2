//! `config check` of one connection: its connector, settings (kinds,
//! required ones, secrets by reference and how weak they are), provisioning
//! options, remove-user action, TLS, unique identifier against the state,
//! group names, and each of its channels (`channel.rs`).

use provisio_config::{ConnectionConfig, SettingValue, SourceConfig};
use provisio_core::manifest::{
    Manifest, OptionConstraint, ProvisioningOption, RemoveUserAction, SettingKind, SettingSpec,
};
use std::collections::{BTreeMap, BTreeSet};

use super::channel::check_channel;
use super::{CheckContext, Problems, closest};

pub(super) fn check_connection(conn: &ConnectionConfig, ctx: &CheckContext<'_>, p: &mut Problems) {
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
    if let Some(rate) = conn.rate_limit {
        let min = provisio_runtime::limit::MIN_PER_SECOND;
        if !(rate.is_finite() && rate > 0.0) {
            p.error(
                format!("{at} › rate_limit"),
                format!("{rate} is not a rate; give requests per second, e.g. 10 or 0.5"),
            );
        } else if rate < min {
            p.error(
                format!("{at} › rate_limit"),
                format!(
                    "{rate} requests per second is below the smallest rate provisio keeps, {min} (one request \
                     every 1,000 s); give at least {min}, or remove rate_limit for no limit"
                ),
            );
        }
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
