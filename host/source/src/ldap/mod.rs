//! The LDAP source (feature `ldap`): a channel's scope read from a directory server.
//!
//! It takes every scope, status and membership setting of the file source
//! ([`FileSourceConfig`]) and resolves scope with the same code ([`crate::scope::Rules`]), so a
//! channel written for an LDIF file behaves the same on LDAP. On top it has the connection
//! ([`LdapSourceConfig::url`], TLS, bind, timeouts, paging) and change detection.
//!
//! # What is searched
//!
//! Everything is a paged subtree search under `base_dn` (see [`client`] for TLS, paging and
//! errors):
//! * users by filter: `(&(objectClass=<user_object_class>)<user_filter>)`, evaluated by the
//!   server;
//! * users by group DN: every user of the class, scoped by provisio from the groups'
//!   membership (as for a file), nested or not;
//! * groups (when groups are provisioned or users are scoped by group): every group of
//!   `group_object_class`, or, with `group_filter` alone, `(&(objectClass=<class>)<filter>)`.
//!
//! # Full and incremental reads
//!
//! Without `change_detection`, or without a stored high-water mark, [`read`] reads the whole
//! scope ([`LdapScope::Full`]); [`read_streaming`] hands each user of a whole read to the
//! caller as its entry arrives instead, when the scope can be judged entry by entry (users by
//! filter, no groups: [`LdapScope::Streamed`]), so an initial sync of a large directory keeps
//! no entry. With both, it reads ([`LdapScope::Delta`]):
//! 1. the GUIDs of every user in scope (attributes: object class, GUID and member-of only), so
//!    deletions and scope exits are seen every cycle, whatever changed;
//! 2. the whole entries of the users changed since the mark ([`changes`]);
//! 3. the whole entries of the users in scope that the caller does not hold in step (new in
//!    scope without a change of their own, e.g. added to the scoping group; dirty; disabled),
//!    by GUID, a hundred a search (above [`FETCH_BY_GUID_LIMIT`], the whole scope instead).
//!
//! The next high-water mark ([`LdapRead::high_water`]) is the highest change value seen in
//! the whole read or in step 2, never the clock. The caller stores it once the changes are
//! pushed.

pub mod changes;
mod client;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::SourceError;
use crate::filter::{Filter, escape_value};
use crate::scope::{Delta, Rules, Snapshot, SourceUser};
use crate::status::AccountStatus;
use crate::{Entry, FileSourceConfig};
pub use changes::{ChangeAlgorithm, ChangeDetection};
use client::Directory;
pub use client::PAGED_RESULTS_OID;

/// Above this many users to read by GUID, an incremental read reads the whole scope instead.
pub const FETCH_BY_GUID_LIMIT: usize = 1000;
/// GUIDs per search when reading users by GUID.
const GUIDS_PER_SEARCH: usize = 100;

/// A secret given by reference (`{ env = "NAME" }`, `{ file = "path" }`) or, discouraged,
/// inline. The host resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// An environment variable.
    Env {
        /// Its name.
        env: String,
    },
    /// A file's contents (one trailing newline removed).
    File {
        /// The file.
        file: PathBuf,
    },
    /// Written inline in the configuration.
    Plain(String),
}

/// The LDAP source's settings: connection, source settings (a.4.3) and location (a.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapSourceConfig {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    /// With `ldap://`: upgrade the connection with StartTLS before binding.
    pub start_tls: bool,
    /// A PEM file of the CA certificates that issued the server's certificate (instead of the
    /// system's roots).
    pub ca_file: Option<PathBuf>,
    /// Verify the server's certificate and name (default true).
    pub verify_certificates: bool,
    /// The bind DN; none: an anonymous bind.
    pub bind_dn: Option<String>,
    /// The bind password, by reference.
    pub bind_password: Option<SecretRef>,
    /// Seconds allowed to connect (and set up TLS), default 10.
    pub connect_timeout: u64,
    /// Seconds allowed for each answer of the server, default 60.
    pub read_timeout: u64,
    /// Entries per page of a paged search, default 500; 0 turns paging off.
    pub page_size: u32,
    /// Searches start here (required).
    pub base_dn: String,
    /// As [`FileSourceConfig::guid_attribute`].
    pub guid_attribute: String,
    /// As [`FileSourceConfig::guid_binary`] (AD `objectGUID`).
    pub guid_binary: bool,
    /// As [`FileSourceConfig::user_object_class`].
    pub user_object_class: String,
    /// As [`FileSourceConfig::group_object_class`].
    pub group_object_class: String,
    /// As [`FileSourceConfig::user_filter`]; sent to the server.
    pub user_filter: Option<String>,
    /// As [`FileSourceConfig::user_group_dn`].
    pub user_group_dn: Option<String>,
    /// As [`FileSourceConfig::nested`].
    pub nested: bool,
    /// As [`FileSourceConfig::group_filter`].
    pub group_filter: Option<String>,
    /// As [`FileSourceConfig::group_dn`].
    pub group_dn: Option<String>,
    /// As [`FileSourceConfig::member_attribute`].
    pub member_attribute: String,
    /// As [`FileSourceConfig::member_of_attribute`].
    pub member_of_attribute: Option<String>,
    /// As [`FileSourceConfig::account_status`].
    pub account_status: AccountStatus,
    /// Incremental reads; none: every cycle reads the whole scope.
    pub change_detection: Option<ChangeDetection>,
}

impl Default for LdapSourceConfig {
    fn default() -> Self {
        let f = FileSourceConfig::default();
        LdapSourceConfig {
            url: String::new(),
            start_tls: false,
            ca_file: None,
            verify_certificates: true,
            bind_dn: None,
            bind_password: None,
            connect_timeout: 10,
            read_timeout: 60,
            page_size: 500,
            base_dn: String::new(),
            guid_attribute: f.guid_attribute,
            guid_binary: f.guid_binary,
            user_object_class: f.user_object_class,
            group_object_class: f.group_object_class,
            user_filter: None,
            user_group_dn: None,
            nested: false,
            group_filter: None,
            group_dn: None,
            member_attribute: f.member_attribute,
            member_of_attribute: None,
            account_status: AccountStatus::AlwaysEnabled,
            change_detection: None,
        }
    }
}

fn config(field: &'static str, message: impl Into<String>) -> SourceError {
    SourceError::Config { field, message: message.into() }
}

impl LdapSourceConfig {
    /// The scope settings as the file source has them (no path).
    pub fn scope_config(&self) -> FileSourceConfig {
        FileSourceConfig {
            path: PathBuf::new(),
            format: None,
            base_dn: Some(self.base_dn.trim().to_string()).filter(|b| !b.is_empty()),
            guid_attribute: self.guid_attribute.clone(),
            guid_binary: self.guid_binary,
            user_object_class: self.user_object_class.clone(),
            group_object_class: self.group_object_class.clone(),
            user_filter: self.user_filter.clone(),
            user_group_dn: self.user_group_dn.clone(),
            nested: self.nested,
            group_filter: self.group_filter.clone(),
            group_dn: self.group_dn.clone(),
            member_attribute: self.member_attribute.clone(),
            member_of_attribute: self.member_of_attribute.clone(),
            account_status: self.account_status.clone(),
        }
    }

    /// Every problem of the settings, without connecting (empty: fine).
    pub fn check(&self) -> Vec<SourceError> {
        let mut problems = Vec::new();
        let url = self.url.trim().to_ascii_lowercase();
        if url.is_empty() {
            problems.push(config("url", "is missing; write ldap://host:389 or ldaps://host:636"));
        } else if !(url.starts_with("ldap://") || url.starts_with("ldaps://")) {
            problems.push(config(
                "url",
                format!("'{}' is not an LDAP URL; write ldap://host:389 or ldaps://host:636", self.url),
            ));
        } else if url.starts_with("ldaps://") && self.start_tls {
            problems.push(config(
                "start_tls",
                "is set with an ldaps:// URL, which is TLS already; use ldap:// with start_tls, or ldaps:// alone",
            ));
        }
        if self.base_dn.trim().is_empty() {
            problems.push(config(
                "base_dn",
                "is required for an LDAP source; searches start there (e.g. ou=people,dc=example,dc=org)",
            ));
        }
        if self.bind_password.is_some() && self.bind_dn.as_deref().is_none_or(|d| d.trim().is_empty()) {
            problems.push(config("bind_dn", "is missing while bind_password is set; name the account to bind as"));
        }
        if self.bind_dn.as_deref().is_some_and(|d| !d.trim().is_empty()) && self.bind_password.is_none() {
            problems.push(config(
                "bind_password",
                "is missing; give it by reference: { env = \"NAME\" } or { file = \"path\" }",
            ));
        }
        if self.connect_timeout == 0 {
            problems.push(config("connect_timeout", "must be at least 1 second"));
        }
        if self.read_timeout == 0 {
            problems.push(config("read_timeout", "must be at least 1 second"));
        }
        if let Some(cd) = &self.change_detection
            && cd.attribute().is_empty()
        {
            problems.push(config(
                "change_detection",
                "the attribute is empty; name it, e.g. modifyTimestamp, whenChanged or uSNChanged",
            ));
        }
        problems.extend(self.scope_config().check());
        problems
    }

    /// Where entries come from, for messages: `ldap://host:389 (base dc=example,dc=org)`.
    pub fn origin(&self) -> String {
        format!("{} (base {})", self.url.trim(), self.base_dn.trim())
    }

    fn user_filter_parsed(&self) -> Result<Option<Filter>, String> {
        match &self.user_filter {
            Some(f) if self.user_group_dn.is_none() => {
                f.parse::<Filter>().map(Some).map_err(|e| format!("user_filter: {e}"))
            }
            _ => Ok(None),
        }
    }

    /// The users' search filter.
    fn user_search(&self) -> Result<String, String> {
        Ok(Filter::with_object_class(self.user_object_class.trim(), self.user_filter_parsed()?).to_string())
    }

    /// The groups' search filter, when groups are read.
    fn group_search(&self) -> Result<Option<String>, String> {
        let class = self.group_object_class.trim();
        if self.user_group_dn.is_some() || self.group_dn.is_some() {
            return Ok(Some(Filter::with_object_class(class, None).to_string()));
        }
        match &self.group_filter {
            Some(f) => {
                let f = f.parse::<Filter>().map_err(|e| format!("group_filter: {e}"))?;
                Ok(Some(Filter::with_object_class(class, Some(f)).to_string()))
            }
            None => Ok(None),
        }
    }

    /// The scope rules applied to what the server returned: filters the server evaluated are
    /// not evaluated again.
    fn local_rules(&self) -> Result<Rules, String> {
        let mut c = self.scope_config();
        if c.user_group_dn.is_none() {
            c.user_filter = None;
        }
        if c.user_group_dn.is_none() && c.group_dn.is_none() && c.group_filter.is_some() {
            c.group_filter = Some("(&)".into());
        }
        Rules::compile(&c).map_err(|mut p| p.remove(0).to_string())
    }

    fn full_attributes(&self) -> Vec<String> {
        let mut attrs = vec!["*".to_string(), "+".to_string(), self.guid_attribute.trim().to_string()];
        attrs.extend(self.member_of_attribute.iter().map(|m| m.trim().to_string()));
        attrs.extend(self.change_detection.iter().map(|c| c.attribute().to_string()));
        attrs.extend(self.account_status.attribute().map(str::to_string));
        dedup(attrs)
    }

    fn thin_attributes(&self) -> Vec<String> {
        let mut attrs = vec!["objectClass".to_string(), self.guid_attribute.trim().to_string()];
        attrs.extend(self.member_of_attribute.iter().map(|m| m.trim().to_string()));
        dedup(attrs)
    }

    /// `(guid=value)` for a GUID as the state holds it.
    fn guid_assertion(&self, guid: &str) -> Option<String> {
        let attr = self.guid_attribute.trim();
        if self.guid_binary {
            let bytes = crate::guid::binary_guid_bytes(guid)?;
            Some(format!("({attr}={})", bytes.iter().map(|b| format!("\\{b:02x}")).collect::<String>()))
        } else {
            Some(format!("({attr}={})", escape_value(guid)))
        }
    }
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    list.into_iter().filter(|a| !a.is_empty() && seen.insert(a.to_ascii_lowercase())).collect()
}

/// What a read needs from the caller.
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    /// The stored high-water mark; `None` (or a mark the algorithm cannot use): a full read.
    pub since: Option<&'a str>,
    /// GUIDs of the users the caller holds in step with the target (provisioned, not dirty);
    /// an incremental read reads the others in scope whole.
    pub in_step: &'a HashSet<String>,
}

/// A full or an incremental read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdapScope {
    /// The whole scope.
    Full(Snapshot),
    /// The whole scope, its users handed to the caller one by one as they were read
    /// ([`read_streaming`]; users by filter, no groups).
    Streamed,
    /// Every GUID in scope, whole entries for the changed ones.
    Delta(Delta),
}

/// The result of [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapRead {
    /// What was read.
    pub scope: LdapScope,
    /// The next high-water mark, with change detection: the highest change value read.
    pub high_water: Option<String>,
    /// Things the operator should know (e.g. no entry carried the change attribute).
    pub warnings: Vec<String>,
}

/// Read the channel's scope. `password` is the resolved bind password. Any failure is an
/// error: no partial scope is ever returned.
pub async fn read(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
) -> Result<LdapRead, String> {
    read_inner(cfg, password, request, None).await
}

/// [`read`], but a full read whose scope can be judged entry by entry
/// ([`Rules::is_local`]) hands each user to `each` as its entry arrives and keeps none
/// ([`LdapScope::Streamed`]): a directory of any size is read in little memory. An error may
/// come after users were handed over; then nothing of the read may be acted on.
pub async fn read_streaming(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
    each: &mut dyn FnMut(SourceUser),
) -> Result<LdapRead, String> {
    read_inner(cfg, password, request, Some(each)).await
}

async fn read_inner(
    cfg: &LdapSourceConfig,
    password: Option<&str>,
    request: &ReadRequest<'_>,
    each: Option<&mut dyn FnMut(SourceUser)>,
) -> Result<LdapRead, String> {
    if let Some(problem) = cfg.check().into_iter().next() {
        return Err(problem.to_string());
    }
    let mut dir = Directory::connect(cfg, password).await?;
    let result = read_with(&mut dir, cfg, request, each).await;
    dir.close().await;
    result
}

async fn read_with(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    request: &ReadRequest<'_>,
    each: Option<&mut dyn FnMut(SourceUser)>,
) -> Result<LdapRead, String> {
    let rules = cfg.local_rules()?;
    let origin = cfg.origin();
    let users_filter = cfg.user_search()?;
    let full = cfg.full_attributes();
    let groups = match cfg.group_search()? {
        Some(filter) => dir.search(&filter, &full).await?,
        None => Vec::new(),
    };
    let since = match (&cfg.change_detection, request.since) {
        (Some(cd), Some(mark)) if cd.check_mark(mark).is_ok() => Some((cd, mark)),
        _ => None,
    };
    let Some((cd, mark)) = since else {
        return match each {
            Some(each) if rules.is_local() => streamed_read(dir, cfg, &rules, &users_filter, each).await,
            _ => full_read(dir, cfg, &rules, &users_filter, groups).await,
        };
    };

    // 1. Every GUID in scope.
    let thin = dir.search(&users_filter, &cfg.thin_attributes()).await?;
    let thin_snapshot = snapshot(&rules, thin, &groups, &origin)?;
    let in_scope: BTreeSet<String> = thin_snapshot.users.iter().map(|u| u.guid.clone()).collect();

    // 2. Changed since the mark.
    let changed_filter = format!("(&{users_filter}{})", cd.filter_since(mark));
    let changed = dir.search(&changed_filter, &full).await?;
    let high_water = cd.max(changed.iter().filter_map(|e| e.first(cd.attribute())));
    let changed_guids: HashSet<String> =
        snapshot(&rules, changed.clone(), &groups, &origin)?.users.into_iter().map(|u| u.guid).collect();

    // 3. In scope, not in step, not changed: by GUID.
    let needed: Vec<&String> = in_scope
        .iter()
        .filter(|g| !request.in_step.contains(g.as_str()) && !changed_guids.contains(g.as_str()))
        .collect();
    if needed.len() > FETCH_BY_GUID_LIMIT {
        return match each {
            Some(each) if rules.is_local() => streamed_read(dir, cfg, &rules, &users_filter, each).await,
            _ => full_read(dir, cfg, &rules, &users_filter, groups).await,
        };
    }
    let mut entries = changed;
    for chunk in needed.chunks(GUIDS_PER_SEARCH) {
        let terms: String = chunk.iter().filter_map(|g| cfg.guid_assertion(g)).collect();
        if terms.is_empty() {
            continue;
        }
        let filter = format!("(&{users_filter}(|{terms}))");
        entries.extend(dir.search(&filter, &full).await?);
    }
    let read = snapshot(&rules, entries, &groups, &origin)?;
    let users = read.users.into_iter().filter(|u| in_scope.contains(&u.guid)).collect();
    Ok(LdapRead {
        scope: LdapScope::Delta(Delta { in_scope, users, groups: thin_snapshot.groups }),
        high_water: high_water.or_else(|| Some(mark.trim().to_string())),
        warnings: Vec::new(),
    })
}

async fn full_read(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    rules: &Rules,
    users_filter: &str,
    groups: Vec<Entry>,
) -> Result<LdapRead, String> {
    let users = dir.search(users_filter, &cfg.full_attributes()).await?;
    let mut warnings = Vec::new();
    let high_water = match &cfg.change_detection {
        Some(cd) => {
            let max = cd.max(users.iter().filter_map(|e| e.first(cd.attribute())));
            if max.is_none() && !users.is_empty() {
                warnings.push(format!(
                    "change_detection: no user entry carries a usable {} (or the bind account cannot read it); every cycle reads the whole scope",
                    cd.attribute()
                ));
            }
            max
        }
        None => None,
    };
    let snapshot = snapshot(rules, users, &groups, &cfg.origin())?;
    Ok(LdapRead { scope: LdapScope::Full(snapshot), high_water, warnings })
}

/// A full read of local scope: each user entry judged as it arrives and handed to `each`.
async fn streamed_read(
    dir: &mut Directory,
    cfg: &LdapSourceConfig,
    rules: &Rules,
    users_filter: &str,
    each: &mut dyn FnMut(SourceUser),
) -> Result<LdapRead, String> {
    let origin = cfg.origin();
    let mut guids = crate::scope::DistinctGuids::default();
    // The DN of each entry by its position, to name the first of two entries with one GUID.
    let mut dns: Vec<String> = Vec::new();
    let mut high_water: Option<String> = None;
    let count = dir
        .search_each(users_filter, &cfg.full_attributes(), &mut |entry| {
            if let Some(cd) = &cfg.change_detection
                && let Some(value) = entry.first(cd.attribute())
            {
                high_water = cd.max(high_water.as_deref().into_iter().chain([value]));
            }
            let dn = crate::dn::Dn::parse(&entry.dn)
                .map_err(|err| describe(rules.entry_error(&entry, &origin, format!("cannot be used: {err}")), &origin))?;
            dns.push(entry.dn.clone());
            match rules.local_user(entry, &dn, &origin, &mut guids) {
                Ok(Some(user)) => {
                    each(user);
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(SourceError::DuplicateGuid(mut d)) => {
                    d.first_dn = dns.get(d.first_line.saturating_sub(1)).cloned().unwrap_or_default();
                    Err(describe(SourceError::DuplicateGuid(d), &origin))
                }
                Err(e) => Err(describe(e, &origin)),
            }
        })
        .await?;
    let mut warnings = Vec::new();
    if let Some(cd) = &cfg.change_detection
        && high_water.is_none()
        && count > 0
    {
        warnings.push(format!(
            "change_detection: no user entry carries a usable {} (or the bind account cannot read it); every cycle reads the whole scope",
            cd.attribute()
        ));
    }
    Ok(LdapRead { scope: LdapScope::Streamed, high_water, warnings })
}

/// Scope over users and groups read from the server; messages name the server, not lines.
fn snapshot(rules: &Rules, mut users: Vec<Entry>, groups: &[Entry], origin: &str) -> Result<Snapshot, String> {
    let mut seen: HashSet<String> = users.iter().map(|e| e.dn.to_ascii_lowercase()).collect();
    users.extend(groups.iter().filter(|g| seen.insert(g.dn.to_ascii_lowercase())).cloned());
    rules.snapshot(users, origin).map_err(|e| describe(e, origin))
}

fn describe(e: SourceError, origin: &str) -> String {
    match e {
        SourceError::Entry { dn, message, .. } => format!("{origin}: entry {dn} {message}"),
        SourceError::DuplicateGuid(d) => format!(
            "{origin}: entries {} and {} have the same {} {}; the entry GUID must be unique",
            d.first_dn, d.second_dn, d.attribute, d.guid
        ),
        SourceError::GroupNotFound { field, dn, message } if message.starts_with("no entry") => format!(
            "{field} {dn}: no group with this DN under the base DN in {origin} (or the bind account cannot see it); check the DN"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LdapSourceConfig {
        LdapSourceConfig {
            url: "ldap://127.0.0.1:3389".into(),
            base_dn: "dc=example,dc=org".into(),
            bind_dn: Some("cn=reader,dc=example,dc=org".into()),
            bind_password: Some(SecretRef::Env { env: "PW".into() }),
            ..Default::default()
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(cfg().check().is_empty(), "{:?}", cfg().check());
        let bad = LdapSourceConfig {
            url: "http://x".into(),
            base_dn: " ".into(),
            bind_password: None,
            user_filter: Some("(uid=a".into()),
            connect_timeout: 0,
            ..cfg()
        };
        let problems: Vec<String> = bad.check().iter().map(ToString::to_string).collect();
        assert!(problems.iter().any(|p| p.starts_with("url: 'http://x' is not an LDAP URL")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("base_dn: is required")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("bind_password: is missing")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("user_filter: column")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("connect_timeout")), "{problems:?}");
        let tls = LdapSourceConfig { url: "ldaps://x".into(), start_tls: true, ..cfg() };
        assert!(tls.check()[0].to_string().starts_with("start_tls"));
    }

    #[test]
    fn searches_and_attributes() {
        let mut c = cfg();
        c.user_filter = Some("(departmentNumber=42)".into());
        assert_eq!(c.user_search().unwrap(), "(&(objectClass=inetOrgPerson)(departmentNumber=42))");
        assert_eq!(c.group_search().unwrap(), None);
        c.group_filter = Some("(cn=eng*)".into());
        assert_eq!(c.group_search().unwrap().as_deref(), Some("(&(objectClass=groupOfNames)(cn=eng*))"));
        c.user_filter = None;
        c.user_group_dn = Some("cn=all,dc=example,dc=org".into());
        assert_eq!(c.user_search().unwrap(), "(objectClass=inetOrgPerson)");
        assert_eq!(c.group_search().unwrap().as_deref(), Some("(objectClass=groupOfNames)"));
        c.member_of_attribute = Some("memberOf".into());
        c.change_detection = Some(ChangeDetection { algorithm: ChangeAlgorithm::Timestamp, attribute: None });
        c.account_status = AccountStatus::active_directory();
        assert_eq!(c.full_attributes(), ["*", "+", "entryUUID", "memberOf", "modifyTimestamp", "userAccountControl"]);
        assert_eq!(c.thin_attributes(), ["objectClass", "entryUUID", "memberOf"]);
    }

    #[test]
    fn guid_assertions() {
        let mut c = cfg();
        assert_eq!(c.guid_assertion("a*b").as_deref(), Some("(entryUUID=a\\2ab)"));
        c.guid_binary = true;
        c.guid_attribute = "objectGUID".into();
        assert_eq!(c.guid_assertion("0a0b").as_deref(), Some("(objectGUID=\\0a\\0b)"));
        assert_eq!(c.guid_assertion("zz"), None);
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let c: LdapSourceConfig = serde_json::from_value(serde_json::json!({
            "url": "ldap://h", "base_dn": "dc=x", "bind_dn": "cn=r,dc=x", "bind_password": {"env": "PW"},
            "change_detection": {"algorithm": "usn"}
        }))
        .unwrap();
        assert!(c.verify_certificates);
        assert_eq!(c.page_size, 500);
        assert_eq!(c.bind_password, Some(SecretRef::Env { env: "PW".into() }));
        assert_eq!(c.change_detection.unwrap().attribute(), "uSNChanged");
    }
}
