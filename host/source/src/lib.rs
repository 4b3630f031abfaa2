//! # provisio-source
//!
//! Where a channel's identities come from. This crate holds the embedded **file source** (LDIF,
//! CSV and JSON files of users and groups), the **LDAP source** (feature `ldap`), and what both
//! share: directory
//! [`Entry`]s, RFC 4515 [`Filter`]s evaluated on entries, DN comparison ([`dn`]), entry GUIDs
//! ([`guid`]), account status ([`AccountStatus`]) and scope resolution ([`scope`]).
//!
//! A file source is configured like an LDAP channel (spec a.4.3 / a.4.4): entry GUID attribute,
//! user and group object classes, base DN, users by filter or group DN (optionally nested), groups
//! by filter or group DN, membership from `memberOf` or from the groups' member attribute, and an
//! account-status algorithm. Both sources embed these settings (all but the base DN, which is
//! each source's own) as one [`DirectoryScope`], so a channel written for a file moves to LDAP
//! unchanged.
//!
//! | module | job |
//! |---|---|
//! | [`entry`] | [`Entry`]: DN + multi-valued, case-insensitively named attributes |
//! | [`filter`] | [`Filter`]: parse, evaluate, render LDAP filters |
//! | [`dn`] | DN parsing and case/whitespace-insensitive comparison |
//! | `ldif`, `csv`, `json` | the three file parsers behind [`parse_entries`] |
//! | [`scope`] | the [`DirectoryScope`] settings; users and groups in scope, membership, GUIDs, the [`Snapshot`] |
//! | `keys` | a source's unknown keys refused next to its flattened [`DirectoryScope`] |
//! | [`status`] | [`AccountStatus`] algorithms and [`Status`] |
//! | [`guid`] | rendering binary GUIDs |
//! | [`error`] | [`SourceError`]: file, line, problem, fix |
//! | `ldap` (feature `ldap`) | the LDAP source: paged reads, change detection, [`Delta`]s |
//!
//! Reading is all or nothing: [`read_file`] returns a snapshot only when the whole file parsed
//! and every entry in scope could be read.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod csv;
pub mod dn;
pub mod entry;
pub mod error;
pub mod filter;
pub mod guid;
mod json;
mod keys;
#[cfg(feature = "ldap")]
pub mod ldap;
mod ldif;
mod lines;
pub mod scope;
pub mod status;

pub use entry::Entry;
pub use error::{DuplicateGuid, Position, SourceError};
pub use filter::{Filter, FilterError};
pub use scope::{Delta, DirectoryScope, Snapshot, SourceGroup, SourceUser, build_snapshot};
pub use status::{AccountStatus, Status};

/// A file source's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// RFC 2849 LDIF content records.
    Ldif,
    /// CSV with a header row and a `dn` column.
    Csv,
    /// An array of entry objects, or `{"entries": [...]}`.
    Json,
}

impl FileFormat {
    /// The format a file name's extension implies (`.ldif`/`.ldf`, `.csv`, `.json`; any case).
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "ldif" | "ldf" => Some(FileFormat::Ldif),
            "csv" => Some(FileFormat::Csv),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }
}

impl std::str::FromStr for FileFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ldif" => Ok(FileFormat::Ldif),
            "csv" => Ok(FileFormat::Csv),
            "json" => Ok(FileFormat::Json),
            other => Err(format!("'{other}' is not a file format; write ldif, csv or json")),
        }
    }
}

impl std::fmt::Display for FileFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileFormat::Ldif => "ldif",
            FileFormat::Csv => "csv",
            FileFormat::Json => "json",
        })
    }
}

/// The file source's settings: a channel's source settings (a.4.3) and source location (a.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileSourceConfig {
    /// The file.
    pub path: PathBuf,
    /// The format; `None`: from the extension.
    pub format: Option<FileFormat>,
    /// Entries whose DN is not at or below this one are out of scope (and ignored as members).
    /// `None`: the whole file.
    pub base_dn: Option<String>,
    /// Which entries are users and groups, GUIDs, membership and status: keys of this table
    /// (flattened). Any other key is refused as unknown.
    #[serde(flatten, deserialize_with = "keys::scope_in::<FileSourceConfig, _>")]
    pub scope: DirectoryScope,
    /// Attributes whose values are secrets (the channel's masked mappings
    /// read them): a parse error never quotes them, nor a line that may be
    /// the mis-folded rest of one. Set by the host from the mapping, not
    /// written in the configuration.
    #[serde(skip)]
    pub masked_attributes: Vec<String>,
}

impl Default for FileSourceConfig {
    fn default() -> Self {
        FileSourceConfig {
            path: PathBuf::new(),
            format: None,
            base_dn: None,
            scope: DirectoryScope::default(),
            masked_attributes: Vec::new(),
        }
    }
}

impl FileSourceConfig {
    /// Defaults for everything but the file and its GUID attribute.
    pub fn new(path: impl Into<PathBuf>, guid_attribute: impl Into<String>) -> Self {
        FileSourceConfig {
            path: path.into(),
            scope: DirectoryScope { guid_attribute: guid_attribute.into(), ..Default::default() },
            ..Default::default()
        }
    }

    /// The format: as set, else from the extension.
    pub fn file_format(&self) -> Result<FileFormat, SourceError> {
        self.format
            .or_else(|| FileFormat::from_path(&self.path))
            .ok_or_else(|| SourceError::UnknownFormat { file: self.path.clone() })
    }

    /// Every problem of the settings themselves, without reading the file (empty: fine).
    pub fn check(&self) -> Vec<SourceError> {
        self.scope.check(self.base_dn.as_deref())
    }

    /// The compiled scope rules, or the settings' first problem.
    pub fn rules(&self) -> Result<scope::Rules, SourceError> {
        self.scope.rules(self.base_dn.as_deref())
    }

    /// How the file's parser treats binary attributes: the GUID attribute when `guid_binary`.
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions {
            binary_attributes: self.scope.binary_guid_attribute().map(str::to_string).into_iter().collect(),
            masked_attributes: self.masked_attributes.clone(),
        }
    }
}

/// Parser options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Attributes whose values are bytes: LDIF keeps them as canonical base64 text even when the
    /// bytes happen to be UTF-8 (CSV and JSON give them as base64 text anyway).
    pub binary_attributes: Vec<String>,
    /// Attributes whose values are secrets: never quoted in a parse error.
    pub masked_attributes: Vec<String>,
}

impl ParseOptions {
    /// Whether `name` is declared binary (case-insensitive; `attr;binary` always is).
    pub fn is_binary(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        lower.split(';').skip(1).any(|o| o == "binary")
            || self.binary_attributes.iter().any(|b| b.eq_ignore_ascii_case(name))
    }

    /// Whether `name`'s values are secrets (case-insensitive, options ignored).
    pub fn is_masked(&self, name: &str) -> bool {
        let base = name.split(';').next().unwrap_or(name);
        self.masked_attributes.iter().any(|m| m.eq_ignore_ascii_case(base))
    }
}

/// Parse a file's text into entries, all or nothing. Two entries with the same DN are an error.
pub fn parse_entries(text: &str, format: FileFormat, file: &Path) -> Result<Vec<Entry>, SourceError> {
    parse_entries_with(text, format, file, &ParseOptions::default())
}

/// [`parse_entries`] with parser options.
pub fn parse_entries_with(
    text: &str,
    format: FileFormat,
    file: &Path,
    options: &ParseOptions,
) -> Result<Vec<Entry>, SourceError> {
    let mut entries = Vec::new();
    let mut dns = DistinctDns::default();
    parse_each(text, format, file, options, &mut |entry, dn| {
        dns.check(&entry, &dn, file)?;
        entries.push(entry);
        Ok(())
    })?;
    Ok(entries)
}

/// The entries a parser hands over, collected (the parsers' own tests).
#[cfg(test)]
pub(crate) fn collect(
    parse: impl FnOnce(&mut dyn FnMut(Entry, dn::Dn) -> Result<(), SourceError>) -> Result<(), SourceError>,
) -> Result<Vec<Entry>, SourceError> {
    let mut entries = Vec::new();
    parse(&mut |entry, _| {
        entries.push(entry);
        Ok(())
    })?;
    Ok(entries)
}

/// Parse a file's text, handing each entry to `each` as it is read.
fn parse_each(
    text: &str,
    format: FileFormat,
    file: &Path,
    options: &ParseOptions,
    each: &mut dyn FnMut(Entry, dn::Dn) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    match format {
        FileFormat::Ldif => ldif::parse_each(text, file, options, each),
        FileFormat::Csv => csv::parse_each(text, file, each),
        FileFormat::Json => json::parse_each(text, file, each),
    }
}

/// Refuses a second entry with a DN already seen (compared normalised). Each DN is kept as a
/// 128-bit fingerprint ([`Fingerprints`]), not as text: a large file's DNs cost 16 bytes each.
#[derive(Default)]
struct DistinctDns {
    first_line: Fingerprints<usize>,
}

impl DistinctDns {
    /// `dn`: the entry's DN, parsed.
    fn check(&mut self, entry: &Entry, dn: &dn::Dn, file: &Path) -> Result<(), SourceError> {
        if let Some(first) = self.first_line.insert(dn, entry.line) {
            return Err(SourceError::parse(
                file,
                entry.line,
                format!("entry {} appears twice (first at line {first}); a DN names one entry", entry.dn),
            ));
        }
        Ok(())
    }
}

/// Values by a 128-bit fingerprint of their key: two independently keyed SipHash values. Two
/// different keys collide with a probability of about n² / 2¹²⁹ (for a million entries, below
/// 10⁻²⁶), so a set of fingerprints stands for a set of keys at a fraction of the memory.
pub struct Fingerprints<V> {
    keys: (std::collections::hash_map::RandomState, std::collections::hash_map::RandomState),
    map: std::collections::HashMap<u128, V>,
}

impl<V> Default for Fingerprints<V> {
    fn default() -> Self {
        Fingerprints { keys: Default::default(), map: Default::default() }
    }
}

impl<V> Fingerprints<V> {
    fn fingerprint<K: std::hash::Hash + ?Sized>(&self, key: &K) -> u128 {
        use std::hash::BuildHasher;
        (u128::from(self.keys.0.hash_one(key)) << 64) | u128::from(self.keys.1.hash_one(key))
    }

    /// Record `value` under `key`; the value already recorded under it, if any, is kept and
    /// returned.
    pub fn insert<K: std::hash::Hash + ?Sized>(&mut self, key: &K, value: V) -> Option<V>
    where
        V: Clone,
    {
        match self.map.entry(self.fingerprint(key)) {
            std::collections::hash_map::Entry::Occupied(e) => Some(e.get().clone()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(value);
                None
            }
        }
    }
}

/// The configured file's text, checked to be UTF-8.
fn read_text(config: &FileSourceConfig) -> Result<String, SourceError> {
    let bytes = std::fs::read(&config.path).map_err(|error| SourceError::Io { file: config.path.clone(), error })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        SourceError::parse(&config.path, line, "the file is not UTF-8 text; save it as UTF-8")
    })
}

/// Read the configured file and resolve what is in scope. Nothing is returned unless the whole
/// file parsed and every entry in scope is usable.
pub fn read_file(config: &FileSourceConfig) -> Result<Snapshot, SourceError> {
    resolve_whole(config, &config.rules()?)
}

/// The configured file read whole and resolved by `rules` (compiled from `config`).
fn resolve_whole(config: &FileSourceConfig, rules: &scope::Rules) -> Result<Snapshot, SourceError> {
    let format = config.file_format()?;
    let text = read_text(config)?;
    let entries = parse_entries_with(&text, format, &config.path, &config.parse_options())?;
    rules.snapshot(entries, &config.path.display().to_string())
}

/// Read the configured file and hand every user in scope to `each`; answer the groups in scope.
///
/// When each entry's scope can be judged on its own ([`scope::Rules::is_local`]: users by
/// filter, no groups), every user is handed over as soon as its entry is read, and no entry is
/// kept: a file of any size is read in the memory of its text. Otherwise the file is resolved
/// whole first ([`read_file`]) and its users handed over in GUID order.
///
/// The read is still all or nothing for the caller: an error (a bad entry, a duplicate DN or
/// GUID) may come after some users were handed over, and then nothing of the read may be acted
/// on.
pub fn stream_file(
    config: &FileSourceConfig,
    each: &mut dyn FnMut(SourceUser) -> Result<(), SourceError>,
) -> Result<Vec<SourceGroup>, SourceError> {
    let rules = config.rules()?;
    if !rules.is_local() {
        let snapshot = resolve_whole(config, &rules)?;
        for user in snapshot.users {
            each(user)?;
        }
        return Ok(snapshot.groups);
    }
    let format = config.file_format()?;
    let text = read_text(config)?;
    let origin = config.path.display().to_string();
    let mut dns = DistinctDns::default();
    let mut guids = scope::DistinctGuids::default();
    let options = config.parse_options();
    let read = parse_each(&text, format, &config.path, &options, &mut |entry, dn| {
        dns.check(&entry, &dn, &config.path)?;
        match rules.local_user(entry, &dn, &origin, &mut guids)? {
            Some(user) => each(user),
            None => Ok(()),
        }
    });
    match read {
        Ok(()) => Ok(Vec::new()),
        Err(SourceError::DuplicateGuid(mut duplicate)) if duplicate.first_dn.is_empty() => {
            // The first entry with the GUID is found again, for the message.
            let wanted = duplicate.guid.to_lowercase();
            let _ = parse_each(&text, format, &config.path, &options, &mut |entry, _| {
                if duplicate.first_dn.is_empty()
                    && entry.line == duplicate.first_line
                    && rules.entry_guid(&entry).is_some_and(|g| g.to_lowercase() == wanted)
                {
                    duplicate.first_dn = entry.dn;
                }
                Ok(())
            });
            Err(SourceError::DuplicateGuid(duplicate))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        assert_eq!(FileFormat::from_path(Path::new("a/users.LDIF")), Some(FileFormat::Ldif));
        assert_eq!(FileFormat::from_path(Path::new("users.csv")), Some(FileFormat::Csv));
        assert_eq!(FileFormat::from_path(Path::new("users.json")), Some(FileFormat::Json));
        assert_eq!(FileFormat::from_path(Path::new("users.txt")), None);
        assert_eq!("JSON".parse::<FileFormat>().unwrap(), FileFormat::Json);
        assert!("xml".parse::<FileFormat>().is_err());
        let e = FileSourceConfig::new("users.txt", "entryUUID").file_format().unwrap_err().to_string();
        assert!(e.starts_with("users.txt: cannot tell the file format"), "{e}");
        let mut c = FileSourceConfig::new("users.txt", "entryUUID");
        c.format = Some(FileFormat::Csv);
        assert_eq!(c.file_format().unwrap(), FileFormat::Csv);
    }

    #[test]
    fn binary_options() {
        let o = ParseOptions { binary_attributes: vec!["objectGUID".into()], ..Default::default() };
        assert!(o.is_binary("objectguid"));
        assert!(o.is_binary("userCertificate;binary"));
        assert!(!o.is_binary("cn"));
    }

    #[test]
    fn duplicate_dns_are_refused() {
        let text = "dn: uid=a,dc=x\ncn: a\n\ndn: UID=A, dc=X\ncn: b\n";
        let e = parse_entries(text, FileFormat::Ldif, Path::new("u.ldif")).unwrap_err().to_string();
        assert_eq!(e, "u.ldif line 4: entry UID=A, dc=X appears twice (first at line 1); a DN names one entry");
    }

    #[test]
    fn missing_file_and_non_utf8() {
        let e = read_file(&FileSourceConfig::new("/nonexistent/provisio/users.ldif", "entryUUID")).unwrap_err();
        assert!(matches!(e, SourceError::Io { .. }));
        assert!(e.to_string().starts_with("/nonexistent/provisio/users.ldif: cannot read the file"), "{e}");
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let c: FileSourceConfig = serde_json::from_value(serde_json::json!({
            "path": "users.ldif", "guid_attribute": "objectGUID", "guid_binary": true,
            "account_status": {"algorithm": "active_directory", "attribute": "userAccountControl", "default": "enabled"}
        }))
        .unwrap();
        assert_eq!(c.scope.user_object_class, "inetOrgPerson");
        assert_eq!(c.scope.member_attribute, "member");
        assert_eq!(c.scope.account_status, AccountStatus::active_directory());
        assert_eq!(c.parse_options().binary_attributes, ["objectGUID"]);
    }
}
