//! From a channel's source configuration to what a cycle decides on.
//!
//! * A **file** source hands each user in scope to the cycle's planner as
//!   soon as it is read, when its scope can be judged entry by entry (users
//!   by filter, no groups), and after resolving the whole file otherwise;
//!   a file that does not parse yields an error naming the file, line and
//!   problem, and the cycle acts on nothing it read.
//! * An **LDAP** source is read whole, or, with change detection and a
//!   stored high-water mark, incrementally: every GUID in scope plus the
//!   whole entries of the users that changed or are not in step with the
//!   state ([`ChannelScope::Delta`]). Its bind password is resolved here
//!   (like a connection's secrets) and registered with the [`Redactor`].
//!
//! Either way a read is all or nothing: an error stops the channel's cycle
//! before anything is decided, so a failed read never deprovisions anyone.
//!
//! The high-water mark is stored with a fingerprint of the channel's source
//! and mapping settings ([`encode_mark`]): a mark written under other
//! settings is not used, and the next cycle reads the whole scope (a changed
//! mapping must be applied to every user, not only to changed ones).

use provisio_config::{ChannelConfig, SettingValue, SourceConfig};
use provisio_redact::Redactor;
use provisio_source::ldap::{LdapRead, LdapScope, LdapSourceConfig, ReadRequest, SecretRef};
use provisio_source::{Delta, Snapshot, SourceGroup, SourceUser};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// What a cycle reads.
#[derive(Debug, Clone)]
pub enum ChannelScope {
    /// The whole scope, its users already handed over one by one.
    Streamed { groups: Vec<SourceGroup> },
    /// The whole scope.
    Full(Snapshot),
    /// Every user GUID in scope, whole entries of the changed ones.
    Delta(Delta),
}

/// One read of a channel's source.
#[derive(Debug, Clone)]
pub struct ChannelRead {
    pub scope: ChannelScope,
    /// The high-water mark to store (encoded, see [`encode_mark`]) once the
    /// users read are pushed.
    pub high_water: Option<String>,
    pub warnings: Vec<String>,
}

/// Why a channel's source could not be read. Nothing read from it was
/// acted on. The text of an LDAP failure has the bind password masked out.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read or parsed.
    #[error(transparent)]
    File(#[from] provisio_source::SourceError),
    /// The LDAP read failed (masked, and redacted inside a cycle).
    #[error("{0}")]
    Ldap(String),
    /// The bind password given by reference cannot be resolved.
    #[error("bind_password: {0}")]
    BindPassword(provisio_config::secret::ResolveError),
    /// The thread that reads could not be started.
    #[error("cannot start {what}: {source}")]
    Thread { what: &'static str, source: std::io::Error },
    /// The reading thread panicked.
    #[error("{0}")]
    Panicked(&'static str),
    /// An LDAP read asked for the whole scope answered a delta (a bug).
    #[error("an LDAP read without a mark returned a delta")]
    UnexpectedDelta,
}

/// Read a channel's whole scope (file, or LDAP without using any mark).
/// Usable outside the engine's runtime (`config check`, `provision`).
pub fn read_source(source: &SourceConfig) -> Result<Snapshot, ReadError> {
    match source {
        SourceConfig::File(f) => Ok(provisio_source::read_file(f)?),
        SourceConfig::Ldap(l) => {
            let password = bind_password(l)?;
            // A runtime of its own, on a thread of its own: callers may be
            // inside another runtime.
            let none = HashSet::new();
            let read = std::thread::scope(|s| {
                s.spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("cannot start a runtime: {e}"))?;
                    rt.block_on(provisio_source::ldap::read(
                        l,
                        password.as_deref(),
                        &ReadRequest { since: None, in_step: &none },
                    ))
                })
                .join()
                .unwrap_or_else(|_| Err("the LDAP read panicked".into()))
            });
            let read = read.map_err(|e| ReadError::Ldap(mask(&e, password.as_deref())))?;
            match read.scope {
                LdapScope::Full(snapshot) => Ok(snapshot),
                LdapScope::Delta(_) | LdapScope::Streamed => Err(ReadError::UnexpectedDelta),
            }
        }
    }
}

/// The user in a channel's scope that `needle` names: by GUID, DN
/// (case-insensitively) or any attribute value. A file source is streamed
/// and only the match is kept; an LDAP source is read whole.
pub fn find_user(source: &SourceConfig, needle: &str) -> Result<Option<SourceUser>, ReadError> {
    let names = |u: &SourceUser| {
        u.guid == needle
            || u.dn.eq_ignore_ascii_case(needle)
            || u.entry.attributes.values().any(|v| v.iter().any(|x| x == needle))
    };
    match source {
        SourceConfig::File(f) => {
            let mut found = None;
            provisio_source::stream_file(f, &mut |user| {
                if found.is_none() && names(&user) {
                    found = Some(user);
                }
                Ok(())
            })?;
            Ok(found)
        }
        SourceConfig::Ldap(_) => Ok(read_source(source)?.users.into_iter().find(names)),
    }
}

/// Read a channel's source for a cycle. `mark` is the stored high-water
/// mark (encoded); `in_step` the GUIDs the state holds in step with the
/// target.
///
/// A file source hands its users to `each` while it reads
/// ([`ChannelScope::Streamed`]); an LDAP source answers them in the read.
/// Either way, a read that fails may have handed over some users first:
/// nothing of it may be acted on.
pub async fn read_channel(
    channel: &ChannelConfig,
    redactor: &Redactor,
    mark: Option<&str>,
    in_step: &HashSet<String>,
    each: &mut dyn FnMut(SourceUser),
) -> Result<ChannelRead, ReadError> {
    match &channel.source {
        SourceConfig::File(f) => {
            let groups = stream_file_on_a_thread(f, each)?;
            Ok(ChannelRead { scope: ChannelScope::Streamed { groups }, high_water: None, warnings: Vec::new() })
        }
        SourceConfig::Ldap(l) => {
            let password = bind_password(l)?;
            if let Some(p) = &password {
                redactor.add(p);
            }
            let since = mark.and_then(|m| decode_mark(channel, m));
            let request = ReadRequest { since: since.as_deref(), in_step };
            let LdapRead { scope, high_water, warnings } =
                provisio_source::ldap::read_streaming(l, password.as_deref(), &request, each)
                    .await
                    .map_err(|e| ReadError::Ldap(redactor.redact(&mask(&e, password.as_deref()))))?;
            let scope = match scope {
                LdapScope::Streamed => ChannelScope::Streamed { groups: Vec::new() },
                LdapScope::Full(s) => ChannelScope::Full(s),
                LdapScope::Delta(d) => ChannelScope::Delta(d),
            };
            Ok(ChannelRead { scope, high_water: high_water.map(|v| encode_mark(channel, &v)), warnings })
        }
    }
}

/// Users handed over at a time from the reading thread to the planner.
const HANDOVER: usize = 1024;

/// [`provisio_source::stream_file`] on a thread of its own, handing each
/// user to `each` on the calling thread: parsing the file and planning the
/// users (mapping, hashing, deciding) overlap on two cores.
fn stream_file_on_a_thread(
    f: &provisio_source::FileSourceConfig,
    each: &mut dyn FnMut(SourceUser),
) -> Result<Vec<SourceGroup>, ReadError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<SourceUser>>(4);
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("provisio-source".into())
            .spawn_scoped(s, move || {
                let mut batch = Vec::with_capacity(HANDOVER);
                let groups = provisio_source::stream_file(f, &mut |user| {
                    batch.push(user);
                    if batch.len() == HANDOVER {
                        // The receiver drains until this side hangs up.
                        let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(HANDOVER)));
                    }
                    Ok(())
                })?;
                let _ = tx.send(batch);
                Ok::<_, provisio_source::SourceError>(groups)
            })
            .map_err(|source| ReadError::Thread { what: "the source reader", source })?;
        for batch in rx {
            batch.into_iter().for_each(&mut *each);
        }
        match reader.join() {
            Ok(read) => Ok(read?),
            Err(_) => Err(ReadError::Panicked("the source reader panicked; nothing was changed")),
        }
    })
}

/// Whether the channel's source reads incrementally.
pub fn has_change_detection(source: &SourceConfig) -> bool {
    matches!(source, SourceConfig::Ldap(l) if l.change_detection.is_some())
}

/// The resolved bind password of an LDAP source (references resolved like
/// a connection's secret settings).
pub fn bind_password(l: &LdapSourceConfig) -> Result<Option<String>, ReadError> {
    let value = match &l.bind_password {
        None => return Ok(None),
        Some(SecretRef::Plain(p)) => return Ok(Some(p.clone())),
        Some(SecretRef::Env { env }) => SettingValue::Env { env: env.clone() },
        Some(SecretRef::File { file }) => SettingValue::File { file: file.clone() },
    };
    match value.resolve() {
        Ok(serde_json::Value::String(s)) => Ok(Some(s)),
        Ok(other) => Ok(Some(other.to_string())),
        Err(e) => Err(ReadError::BindPassword(e)),
    }
}

fn mask(text: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if p.len() >= 4 => text.replace(p, provisio_redact::MASK),
        _ => text.to_owned(),
    }
}

/// A fingerprint of what decides how users map: the source settings (less
/// the password) and the mapping.
fn fingerprint(channel: &ChannelConfig) -> String {
    let mut source = channel.source.clone();
    if let SourceConfig::Ldap(l) = &mut source {
        l.bind_password = None;
    }
    let text = serde_json::to_string(&(source, &channel.mapping)).unwrap_or_default();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The stored form of a high-water mark: `<fingerprint> <value>`.
pub fn encode_mark(channel: &ChannelConfig, value: &str) -> String {
    format!("{} {value}", fingerprint(channel))
}

/// The mark's value, when it was stored under the channel's current settings.
pub fn decode_mark(channel: &ChannelConfig, stored: &str) -> Option<String> {
    let (print, value) = stored.split_once(' ')?;
    (print == fingerprint(channel)).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(extra: &str) -> ChannelConfig {
        toml::from_str(&format!(
            r#"name = "people"
source = {{ kind = "ldap", url = "ldap://127.0.0.1:3389", base_dn = "dc=x", bind_dn = "cn=r,dc=x", bind_password = {{ env = "PW" }}, change_detection = {{ algorithm = "usn" }} {extra} }}
mapping = [ {{ field = "userName", attributes = ["uid"] }} ]"#
        ))
        .unwrap()
    }

    #[test]
    fn a_mark_is_used_only_under_the_settings_it_was_stored_with() {
        let ch = channel("");
        let stored = encode_mark(&ch, "1234");
        assert_eq!(decode_mark(&ch, &stored).as_deref(), Some("1234"));
        assert!(has_change_detection(&ch.source));
        // Another scope: the mark is not used (a full read follows).
        assert_eq!(decode_mark(&channel(r#", user_filter = "(ou=x)""#), &stored), None);
        // Another mapping: likewise.
        let mut remapped = ch.clone();
        remapped.mapping[0].attributes = vec!["mail".into()];
        assert_eq!(decode_mark(&remapped, &stored), None);
        // The password's reference does not take part.
        let mut other_pw = ch.clone();
        if let SourceConfig::Ldap(l) = &mut other_pw.source {
            l.bind_password = Some(SecretRef::Env { env: "OTHER".into() });
        }
        assert_eq!(decode_mark(&other_pw, &stored).as_deref(), Some("1234"));
        assert_eq!(decode_mark(&ch, "garbage"), None);
    }

    #[test]
    fn bind_passwords_resolve_by_reference() {
        let mut l = LdapSourceConfig::default();
        assert_eq!(bind_password(&l).unwrap(), None);
        l.bind_password = Some(SecretRef::Env { env: "PROVISIO_TEST_SURELY_UNSET_BIND".into() });
        assert!(bind_password(&l).unwrap_err().to_string().contains("PROVISIO_TEST_SURELY_UNSET_BIND is not set"));
        l.bind_password = Some(SecretRef::Plain("inline".into()));
        assert_eq!(bind_password(&l).unwrap().as_deref(), Some("inline"));
        assert_eq!(mask("bind as x with s3cret failed", Some("s3cret")), "bind as x with ****** failed");
    }
}
