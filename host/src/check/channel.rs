//! `config check` of one channel: its mapping against the connection's
//! fields, its source (file, or LDAP with its bind password and change
//! detection) and its scope.

use provisio_config::catalogue::Catalogue;
use provisio_config::{ChannelConfig, ConnectionConfig, SourceConfig};
use provisio_core::manifest::Manifest;
use std::collections::BTreeSet;

use super::{Problems, closest};

pub(super) fn check_channel(
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
    let scope = ch.source.scope();
    if ch.groups && scope.group_filter.is_none() && scope.group_dn.is_none() {
        p.error(
            format!("{at} › groups"),
            "is true, but the source selects no group: add group_filter (e.g. \"(objectClass=groupOfNames)\") or \
             group_dn to the channel's source, or set groups = false",
        );
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
                let reason = match e {
                    provisio_engine::source::ReadError::BindPassword(e) => e.to_string(),
                    other => other.to_string(),
                };
                p.error(format!("{at}.bind_password"), reason);
            }
        }
        None => {}
    }
}
