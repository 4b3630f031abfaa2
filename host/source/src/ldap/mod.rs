//! The LDAP source (feature `ldap`): a channel's scope read from a directory server.
//!
//! It takes the file source's scope, status and membership settings, the same
//! [`DirectoryScope`], and resolves scope with the same code ([`crate::scope::Rules`]), so a
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
mod read;

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::SourceError;
use crate::filter::{Filter, escape_value};
use crate::scope::{DirectoryScope, Rules};
pub use changes::{ChangeAlgorithm, ChangeDetection};
pub use client::PAGED_RESULTS_OID;
pub use read::{LdapRead, LdapScope, ReadRequest, read, read_streaming};

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
#[serde(default)]
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
    /// Which entries are users and groups, GUIDs, membership and status, as for a file: keys
    /// of this table (flattened). Any other key is refused as unknown.
    #[serde(flatten, deserialize_with = "crate::keys::scope_in::<LdapSourceConfig, _>")]
    pub scope: DirectoryScope,
    /// Incremental reads; none: every cycle reads the whole scope.
    pub change_detection: Option<ChangeDetection>,
}

impl Default for LdapSourceConfig {
    fn default() -> Self {
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
            scope: DirectoryScope::default(),
            change_detection: None,
        }
    }
}

fn config(field: &'static str, message: impl Into<String>) -> SourceError {
    SourceError::Config { field, message: message.into() }
}

impl LdapSourceConfig {
    /// The base DN as the scope rules take it: trimmed; none when empty.
    fn scope_base(&self) -> Option<&str> {
        Some(self.base_dn.trim()).filter(|b| !b.is_empty())
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
        problems.extend(self.scope.check(self.scope_base()));
        problems
    }

    /// Where entries come from, for messages: `ldap://host:389 (base dc=example,dc=org)`.
    pub fn origin(&self) -> String {
        format!("{} (base {})", self.url.trim(), self.base_dn.trim())
    }

    fn user_filter_parsed(&self) -> Result<Option<Filter>, String> {
        match &self.scope.user_filter {
            Some(f) if self.scope.user_group_dn.is_none() => {
                f.parse::<Filter>().map(Some).map_err(|e| format!("user_filter: {e}"))
            }
            _ => Ok(None),
        }
    }

    /// The users' search filter.
    fn user_search(&self) -> Result<String, String> {
        Ok(Filter::with_object_class(self.scope.user_object_class.trim(), self.user_filter_parsed()?).to_string())
    }

    /// The groups' search filter, when groups are read.
    fn group_search(&self) -> Result<Option<String>, String> {
        let class = self.scope.group_object_class.trim();
        if self.scope.user_group_dn.is_some() || self.scope.group_dn.is_some() {
            return Ok(Some(Filter::with_object_class(class, None).to_string()));
        }
        match &self.scope.group_filter {
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
        let mut s = self.scope.clone();
        if s.user_group_dn.is_none() {
            s.user_filter = None;
        }
        if s.user_group_dn.is_none() && s.group_dn.is_none() && s.group_filter.is_some() {
            s.group_filter = Some("(&)".into());
        }
        s.rules(self.scope_base()).map_err(|e| e.to_string())
    }

    fn full_attributes(&self) -> Vec<String> {
        let mut attrs = vec!["*".to_string(), "+".to_string(), self.scope.guid_attribute.trim().to_string()];
        attrs.extend(self.scope.member_of_attribute.iter().map(|m| m.trim().to_string()));
        attrs.extend(self.change_detection.iter().map(|c| c.attribute().to_string()));
        attrs.extend(self.scope.account_status.attribute().map(str::to_string));
        dedup(attrs)
    }

    fn thin_attributes(&self) -> Vec<String> {
        let mut attrs = vec!["objectClass".to_string(), self.scope.guid_attribute.trim().to_string()];
        attrs.extend(self.scope.member_of_attribute.iter().map(|m| m.trim().to_string()));
        dedup(attrs)
    }

    /// `(guid=value)` for a GUID as the state holds it.
    fn guid_assertion(&self, guid: &str) -> Option<String> {
        let attr = self.scope.guid_attribute.trim();
        if self.scope.guid_binary {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::AccountStatus;

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
            scope: DirectoryScope { user_filter: Some("(uid=a".into()), ..Default::default() },
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
        c.scope.user_filter = Some("(departmentNumber=42)".into());
        assert_eq!(c.user_search().unwrap(), "(&(objectClass=inetOrgPerson)(departmentNumber=42))");
        assert_eq!(c.group_search().unwrap(), None);
        c.scope.group_filter = Some("(cn=eng*)".into());
        assert_eq!(c.group_search().unwrap().as_deref(), Some("(&(objectClass=groupOfNames)(cn=eng*))"));
        c.scope.user_filter = None;
        c.scope.user_group_dn = Some("cn=all,dc=example,dc=org".into());
        assert_eq!(c.user_search().unwrap(), "(objectClass=inetOrgPerson)");
        assert_eq!(c.group_search().unwrap().as_deref(), Some("(objectClass=groupOfNames)"));
        c.scope.member_of_attribute = Some("memberOf".into());
        c.change_detection = Some(ChangeDetection { algorithm: ChangeAlgorithm::Timestamp, attribute: None });
        c.scope.account_status = AccountStatus::active_directory();
        assert_eq!(c.full_attributes(), ["*", "+", "entryUUID", "memberOf", "modifyTimestamp", "userAccountControl"]);
        assert_eq!(c.thin_attributes(), ["objectClass", "entryUUID", "memberOf"]);
    }

    #[test]
    fn guid_assertions() {
        let mut c = cfg();
        assert_eq!(c.guid_assertion("a*b").as_deref(), Some("(entryUUID=a\\2ab)"));
        c.scope.guid_binary = true;
        c.scope.guid_attribute = "objectGUID".into();
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
        assert_eq!(c.scope, DirectoryScope::default());
        let c: LdapSourceConfig = serde_json::from_value(serde_json::json!({
            "url": "ldap://h", "base_dn": "dc=x", "nested": true, "user_group_dn": "cn=g,dc=x"
        }))
        .unwrap();
        assert!(c.scope.nested);
        assert_eq!(c.scope.user_group_dn.as_deref(), Some("cn=g,dc=x"));
        // A key of neither the connection nor the scope (here the file source's) is named, with
        // every key there is.
        let e = serde_json::from_value::<LdapSourceConfig>(serde_json::json!({"url": "ldap://h", "path": "x"}));
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with("unknown field `path`, expected one of `url`, `start_tls`, `ca_file`"), "{e}");
        assert!(e.ends_with("`base_dn`, `guid_attribute`, `guid_binary`, `user_object_class`, `group_object_class`, `user_filter`, `user_group_dn`, `nested`, `group_filter`, `group_dn`, `member_attribute`, `member_of_attribute`, `account_status`, `change_detection`"), "{e}");
    }
}
