//! Scope and membership: from a list of entries to the users and groups a channel provisions.
//!
//! Rules (spec a.4.4), applied the same way whatever the entries came from:
//! * **Base DN**: only entries at or below it exist for the channel; entries outside are ignored
//!   everywhere, including as members of groups.
//! * **Users**: entries of the user object class that match `user_filter` (all of them when no
//!   filter is set), *or* the members of `user_group_dn` that are of the user object class.
//!   With `nested`, members of member groups count too, at any depth; cycles are harmless.
//! * **Groups**: entries of the group object class that match `group_filter`, *or* the groups
//!   that are members of `group_dn` (at any depth with `nested`; the named group itself is the
//!   container and is not provisioned). Neither set: no groups.
//! * **Membership** ("X is a direct member of G"): when `member_of_attribute` is set, from each
//!   entry's member-of values (users and groups alike); otherwise from each group's
//!   `member_attribute` values. A member value names an entry by DN (compared
//!   case-insensitively) or, failing that, by its GUID. Values naming nothing in scope are ignored.
//! * **Snapshot membership is direct**: [`SourceGroup::member_guids`] are the in-scope users that
//!   are direct members, [`SourceGroup::member_group_guids`] the in-scope groups that are direct
//!   members (the hierarchy, for targets with nested groups), and [`SourceUser::groups`] the DNs of
//!   the in-scope groups a user is directly in. [`Snapshot::flattened_member_guids`] gives the
//!   users of a group through its in-scope nested groups, for targets without nesting.
//! * Every entry in scope needs exactly one GUID value, unique among the users and groups in scope.
//!
//! The settings behind these rules are [`DirectoryScope`], the one type the file source
//! ([`FileSourceConfig`]) and the LDAP source embed; the base DN is each source's own (optional
//! for a file, required for LDAP) and is given to [`Rules::compile`] beside the scope.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::FileSourceConfig;
use crate::dn::Dn;
use crate::entry::Entry;
use crate::error::SourceError;
use crate::filter::Filter;
use crate::status::{AccountStatus, Status};

/// Which entries are a channel's users and groups, and how their GUIDs, membership and status
/// are read (spec a.4.3 / a.4.4): the settings the file source and the LDAP source share. Each
/// embeds it with `#[serde(flatten)]`, so these are keys of the source's own table; a key that
/// is neither the source's nor one of these is refused, naming every key the source takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryScope {
    /// The entry GUID attribute, e.g. `entryUUID` or `objectGUID`. Every entry in scope needs
    /// exactly one value.
    pub guid_attribute: String,
    /// Binary GUIDs (AD `objectGUID`): the value is bytes (LDIF `attr:: base64`; base64 text in
    /// CSV and JSON), rendered by [`crate::guid::render_binary_guid`] (16 bytes: the AD string
    /// form).
    pub guid_binary: bool,
    /// The users' object class, default `inetOrgPerson`.
    pub user_object_class: String,
    /// The groups' object class, default `groupOfNames`.
    pub group_object_class: String,
    /// Users in scope: entries of the user object class matching this filter (an LDAP source
    /// sends it to the server).
    pub user_filter: Option<String>,
    /// Or users in scope: members of this group (exclusive with `user_filter`).
    pub user_group_dn: Option<String>,
    /// With `user_group_dn` or `group_dn`: follow nested groups (cycle-safe).
    pub nested: bool,
    /// Groups in scope: entries of the group object class matching this filter.
    pub group_filter: Option<String>,
    /// Or groups in scope: the groups that are members of this group (exclusive with
    /// `group_filter`). Neither set: no groups are provisioned.
    pub group_dn: Option<String>,
    /// The groups' member attribute (DNs, or GUIDs), default `member`.
    pub member_attribute: String,
    /// The users' (and groups') member-of attribute, e.g. `memberOf`. When set, membership is
    /// read from it; otherwise from the groups' `member_attribute`.
    pub member_of_attribute: Option<String>,
    /// How a user's enabled/disabled status is read.
    pub account_status: AccountStatus,
}

impl Default for DirectoryScope {
    fn default() -> Self {
        DirectoryScope {
            guid_attribute: "entryUUID".into(),
            guid_binary: false,
            user_object_class: "inetOrgPerson".into(),
            group_object_class: "groupOfNames".into(),
            user_filter: None,
            user_group_dn: None,
            nested: false,
            group_filter: None,
            group_dn: None,
            member_attribute: "member".into(),
            member_of_attribute: None,
            account_status: AccountStatus::AlwaysEnabled,
        }
    }
}

impl DirectoryScope {
    /// Every problem of the settings with this base DN (empty: fine).
    pub fn check(&self, base_dn: Option<&str>) -> Vec<SourceError> {
        Rules::compile(self, base_dn).err().unwrap_or_default()
    }

    /// The compiled rules with this base DN, or the settings' first problem.
    pub fn rules(&self, base_dn: Option<&str>) -> Result<Rules, SourceError> {
        Rules::compile(self, base_dn).map_err(|mut problems| problems.remove(0))
    }

    /// The GUID attribute, when its values are bytes (`guid_binary`), as written.
    pub fn binary_guid_attribute(&self) -> Option<&str> {
        self.guid_binary.then_some(self.guid_attribute.as_str())
    }
}

/// A user in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceUser {
    /// The entry GUID (binary GUIDs rendered, see [`crate::guid`]).
    pub guid: String,
    /// The DN as given.
    pub dn: String,
    /// The whole entry.
    pub entry: Entry,
    /// Enabled or disabled by the account-status algorithm.
    pub status: Status,
    /// DNs (as given) of the in-scope groups the user is a direct member of, sorted.
    pub groups: Vec<String>,
}

/// A group in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceGroup {
    /// The entry GUID.
    pub guid: String,
    /// The DN as given.
    pub dn: String,
    /// The group's name: its first `cn`, else the value of its DN's first RDN.
    pub cn: String,
    /// The whole entry.
    pub entry: Entry,
    /// GUIDs of the in-scope users that are direct members, sorted.
    pub member_guids: Vec<String>,
    /// GUIDs of the in-scope groups that are direct members, sorted.
    pub member_group_guids: Vec<String>,
}

/// What a channel's source holds in scope at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Users, sorted by GUID.
    pub users: Vec<SourceUser>,
    /// Groups, sorted by GUID.
    pub groups: Vec<SourceGroup>,
}

impl Snapshot {
    /// The user with this GUID.
    pub fn user(&self, guid: &str) -> Option<&SourceUser> {
        self.users.binary_search_by(|u| u.guid.as_str().cmp(guid)).ok().map(|i| &self.users[i])
    }

    /// The group with this GUID.
    pub fn group(&self, guid: &str) -> Option<&SourceGroup> {
        self.groups.binary_search_by(|g| g.guid.as_str().cmp(guid)).ok().map(|i| &self.groups[i])
    }

    /// The users of a group, directly or through its in-scope member groups at any depth
    /// (cycle-safe), sorted; empty for an unknown GUID.
    pub fn flattened_member_guids(&self, group_guid: &str) -> Vec<String> {
        let mut users = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([group_guid.to_string()]);
        while let Some(guid) = queue.pop_front() {
            if !seen.insert(guid.clone()) {
                continue;
            }
            if let Some(group) = self.group(&guid) {
                users.extend(group.member_guids.iter().cloned());
                queue.extend(group.member_group_guids.iter().cloned());
            }
        }
        users.into_iter().collect()
    }
}

/// An incremental read (a source with change detection): every user GUID in scope, but whole
/// entries only for the users that changed or were asked for; groups whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The GUIDs of every user in scope. A GUID known to the state but not here has left the
    /// scope or was deleted.
    pub in_scope: BTreeSet<String>,
    /// Users read whole (all in scope), sorted by GUID: changed since the high-water mark, or
    /// not in step with the state. A user in `in_scope` but not here is unchanged.
    pub users: Vec<SourceUser>,
    /// Every group in scope, sorted by GUID, with complete membership.
    pub groups: Vec<SourceGroup>,
}

/// The GUIDs of the users handed out so far by [`Rules::local_user`] (as fingerprints), with
/// the line of each.
#[derive(Default)]
pub struct DistinctGuids {
    first_line: crate::Fingerprints<usize>,
}

/// How a kind of entry is chosen.
#[derive(Debug, Clone)]
enum Selection {
    /// Entries matching the filter (which includes the object class).
    Filter(Filter),
    /// Members of the group.
    Group { field: &'static str, text: String, dn: Dn },
}

/// Compiled scope rules: settings checked, filters and DNs parsed.
#[derive(Debug, Clone)]
pub struct Rules {
    base: Option<Dn>,
    guid_attribute: String,
    guid_binary: bool,
    user_class: String,
    group_class: String,
    users: Selection,
    groups: Option<Selection>,
    nested: bool,
    member_attribute: String,
    member_of_attribute: Option<String>,
    account_status: AccountStatus,
}

fn config(field: &'static str, message: impl Into<String>) -> SourceError {
    SourceError::Config { field, message: message.into() }
}

impl Rules {
    /// Check and compile the settings with the source's base DN (none: every entry is within
    /// it); every problem is listed.
    pub fn compile(c: &DirectoryScope, base_dn: Option<&str>) -> Result<Rules, Vec<SourceError>> {
        let mut problems = Vec::new();
        for (field, value, example) in [
            ("guid_attribute", &c.guid_attribute, "entryUUID or objectGUID"),
            ("user_object_class", &c.user_object_class, "inetOrgPerson or user"),
            ("group_object_class", &c.group_object_class, "groupOfNames or group"),
            ("member_attribute", &c.member_attribute, "member or uniqueMember"),
        ] {
            if value.trim().is_empty() {
                problems.push(config(field, format!("is empty; set it, e.g. {example}")));
            }
        }
        if c.member_of_attribute.as_deref().is_some_and(|m| m.trim().is_empty()) {
            problems.push(config("member_of_attribute", "is empty; set it (e.g. memberOf) or leave it out"));
        }
        match &c.account_status {
            AccountStatus::Flag { attribute, value, .. } => {
                if attribute.trim().is_empty() {
                    problems.push(config("account_status", "the flag attribute is empty; name it, e.g. nsAccountLock"));
                }
                if value.trim().is_empty() {
                    problems.push(config("account_status", "the flag comparison value is empty; set it, e.g. true"));
                }
            }
            AccountStatus::ActiveDirectory { attribute, .. } if attribute.trim().is_empty() => {
                problems.push(config("account_status", "the attribute is empty; it is normally userAccountControl"));
            }
            _ => {}
        }
        let mut dn = |field: &'static str, text: Option<&str>| -> Option<Dn> {
            let text = text?;
            match Dn::parse(text) {
                Ok(dn) => Some(dn),
                Err(e) => {
                    problems.push(config(field, e.to_string()));
                    None
                }
            }
        };
        let base = dn("base_dn", base_dn);
        let user_group = dn("user_group_dn", c.user_group_dn.as_deref());
        let group_group = dn("group_dn", c.group_dn.as_deref());
        let mut filter = |field: &'static str, text: &Option<String>| -> Option<Filter> {
            match text.as_deref()?.parse::<Filter>() {
                Ok(f) => Some(f),
                Err(error) => {
                    problems.push(SourceError::Filter { field, error });
                    None
                }
            }
        };
        let user_filter = filter("user_filter", &c.user_filter);
        let group_filter = filter("group_filter", &c.group_filter);
        if c.user_filter.is_some() && c.user_group_dn.is_some() {
            problems.push(config(
                "user_filter",
                "user_filter and user_group_dn are both set; choose users either by an LDAP filter or by a group's members, not both",
            ));
        }
        if c.group_filter.is_some() && c.group_dn.is_some() {
            problems.push(config(
                "group_filter",
                "group_filter and group_dn are both set; choose groups either by an LDAP filter or by a group's members, not both",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let users = match (user_group, &c.user_group_dn) {
            (Some(dn), Some(text)) => Selection::Group { field: "user_group_dn", text: text.clone(), dn },
            _ => Selection::Filter(Filter::with_object_class(&c.user_object_class, user_filter)),
        };
        let groups = match (group_group, &c.group_dn, group_filter) {
            (Some(dn), Some(text), _) => Some(Selection::Group { field: "group_dn", text: text.clone(), dn }),
            (_, _, Some(f)) => Some(Selection::Filter(Filter::with_object_class(&c.group_object_class, Some(f)))),
            _ => None,
        };
        Ok(Rules {
            base,
            guid_attribute: c.guid_attribute.trim().to_string(),
            guid_binary: c.guid_binary,
            user_class: c.user_object_class.trim().to_string(),
            group_class: c.group_object_class.trim().to_string(),
            users,
            groups,
            nested: c.nested,
            member_attribute: c.member_attribute.trim().to_string(),
            member_of_attribute: c.member_of_attribute.as_ref().map(|m| m.trim().to_string()),
            account_status: c.account_status.clone(),
        })
    }

    /// The entry's GUID, if it has one usable.
    pub(crate) fn entry_guid(&self, entry: &Entry) -> Option<String> {
        self.guid(entry).ok()
    }

    /// The entry's GUID, or why it has none usable.
    fn guid(&self, entry: &Entry) -> Result<String, String> {
        let attr = &self.guid_attribute;
        let values = entry.get(attr).unwrap_or(&[]);
        match values {
            [] => Err(format!("has no {attr} (the channel's entry GUID attribute); every entry in scope needs one")),
            [one] if self.guid_binary => crate::guid::binary_guid_from_base64(attr, one),
            [one] if one.trim().is_empty() => Err(format!("has an empty {attr}; every entry in scope needs a GUID")),
            [one] => Ok(one.trim().to_string()),
            many => Err(format!(
                "has {} values of {attr}; the entry GUID attribute must have exactly one value",
                many.len()
            )),
        }
    }

    /// Whether an entry's scope can be judged from the entry alone: users chosen by filter and no
    /// groups provisioned (so no membership to resolve). Then [`Rules::local_user`] decides each
    /// entry as it is read, and a source can be streamed.
    pub fn is_local(&self) -> bool {
        matches!(self.users, Selection::Filter(_)) && self.groups.is_none()
    }

    /// An error about one entry, placed at its line in `origin`.
    pub fn entry_error(&self, e: &Entry, origin: &str, message: String) -> SourceError {
        SourceError::Entry { origin: origin.to_string(), line: e.line, dn: e.dn.clone(), message }
    }

    /// With [`Rules::is_local`] rules: the user `entry` is, if it is in scope (`dn` is its parsed
    /// DN). Users in scope must have distinct GUIDs, checked across calls with `guids`; the
    /// same checks as [`Rules::snapshot`], one entry at a time. A duplicate GUID's error names
    /// the first entry by line only (`first_dn` is empty).
    pub fn local_user(
        &self,
        entry: Entry,
        dn: &Dn,
        origin: &str,
        guids: &mut DistinctGuids,
    ) -> Result<Option<SourceUser>, SourceError> {
        let Selection::Filter(filter) = &self.users else {
            return Ok(None);
        };
        let in_scope = self.base.as_ref().is_none_or(|b| dn.is_within(b))
            && entry.has_object_class(&self.user_class)
            && filter.matches(&entry);
        if !in_scope {
            return Ok(None);
        }
        let guid = self.guid(&entry).map_err(|m| self.entry_error(&entry, origin, m))?;
        if let Some(first_line) = guids.first_line.insert(guid.to_lowercase().as_str(), entry.line) {
            return Err(SourceError::DuplicateGuid(Box::new(crate::error::DuplicateGuid {
                origin: origin.to_string(),
                attribute: self.guid_attribute.clone(),
                guid,
                // Not kept: the caller finds it at `first_line` (see `crate::stream_file`).
                first_dn: String::new(),
                first_line,
                second_dn: entry.dn.clone(),
                second_line: entry.line,
            })));
        }
        let status = self.account_status.status_of(&entry).map_err(|m| self.entry_error(&entry, origin, m))?;
        Ok(Some(SourceUser { guid, dn: entry.dn.clone(), entry, status, groups: Vec::new() }))
    }

    /// Resolve scope and membership over `entries`; `origin` names where they came from (the
    /// file) in messages.
    pub fn snapshot(&self, entries: Vec<Entry>, origin: &str) -> Result<Snapshot, SourceError> {
        let entry_error = |e: &Entry, message: String| SourceError::Entry {
            origin: origin.to_string(),
            line: e.line,
            dn: e.dn.clone(),
            message,
        };
        // Parse every DN; keep what is inside the base DN.
        let mut all: HashMap<Dn, usize> = HashMap::new();
        let mut dns = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let dn = Dn::parse(&e.dn).map_err(|err| entry_error(e, format!("cannot be used: {err}")))?;
            all.entry(dn.clone()).or_insert(i);
            dns.push(dn);
        }
        let in_base: Vec<bool> = dns.iter().map(|d| self.base.as_ref().is_none_or(|b| d.is_within(b))).collect();
        let is_user: Vec<bool> =
            entries.iter().zip(&in_base).map(|(e, &b)| b && e.has_object_class(&self.user_class)).collect();
        let is_group: Vec<bool> =
            entries.iter().zip(&in_base).map(|(e, &b)| b && e.has_object_class(&self.group_class)).collect();

        // GUIDs, leniently, to resolve member values given as GUIDs.
        let mut by_guid: HashMap<String, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if in_base[i]
                && let Ok(g) = self.guid(e)
            {
                by_guid.entry(g.to_lowercase()).or_insert(i);
            }
        }
        let resolve = |value: &str| -> Option<usize> {
            let found = match Dn::parse(value) {
                Ok(dn) if !dn.is_empty() => all.get(&dn).copied(),
                _ => None,
            };
            found.or_else(|| by_guid.get(&value.trim().to_lowercase()).copied()).filter(|&i| in_base[i])
        };

        // Direct membership edges: member -> groups, group -> members.
        let mut groups_of: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); entries.len()];
        let mut members_of: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); entries.len()];
        match &self.member_of_attribute {
            Some(member_of) => {
                for (m, e) in entries.iter().enumerate().filter(|(i, _)| in_base[*i]) {
                    for value in e.get(member_of).unwrap_or(&[]) {
                        if let Some(g) = resolve(value).filter(|&g| is_group[g]) {
                            groups_of[m].insert(g);
                            members_of[g].insert(m);
                        }
                    }
                }
            }
            None => {
                for (g, e) in entries.iter().enumerate().filter(|(i, _)| is_group[*i]) {
                    for value in e.get(&self.member_attribute).unwrap_or(&[]) {
                        if let Some(m) = resolve(value) {
                            groups_of[m].insert(g);
                            members_of[g].insert(m);
                        }
                    }
                }
            }
        }

        // The named group of a Group selection, checked.
        let named_group = |field: &'static str, text: &str, dn: &Dn| -> Result<usize, SourceError> {
            let not_found = |message: String| SourceError::GroupNotFound { field, dn: text.to_string(), message };
            match all.get(dn) {
                None => Err(not_found(format!(
                    "no entry with this DN in {origin}; check the DN (compared case-insensitively)"
                ))),
                Some(&g) if !in_base[g] => {
                    Err(not_found("is outside base_dn; move the base DN up or name a group below it".into()))
                }
                Some(&g) if !is_group[g] => Err(not_found(format!(
                    "is not a group (it has no objectClass {}); name a group entry or change group_object_class",
                    self.group_class
                ))),
                Some(&g) => Ok(g),
            }
        };
        // Members of `root` (not `root` itself), following member groups when nested.
        let reach = |root: usize| -> BTreeSet<usize> {
            let mut found = BTreeSet::new();
            let mut visited = HashSet::from([root]);
            let mut queue = VecDeque::from([root]);
            while let Some(g) = queue.pop_front() {
                for &m in &members_of[g] {
                    if m != root {
                        found.insert(m);
                    }
                    if self.nested && is_group[m] && visited.insert(m) {
                        queue.push_back(m);
                    }
                }
            }
            found
        };

        let users: BTreeSet<usize> = match &self.users {
            Selection::Filter(f) => (0..entries.len()).filter(|&i| is_user[i] && f.matches(&entries[i])).collect(),
            Selection::Group { field, text, dn } => {
                reach(named_group(field, text, dn)?).into_iter().filter(|&i| is_user[i]).collect()
            }
        };
        let groups: BTreeSet<usize> = match &self.groups {
            None => BTreeSet::new(),
            Some(Selection::Filter(f)) => {
                (0..entries.len()).filter(|&i| is_group[i] && f.matches(&entries[i])).collect()
            }
            Some(Selection::Group { field, text, dn }) => {
                reach(named_group(field, text, dn)?).into_iter().filter(|&i| is_group[i]).collect()
            }
        };

        // GUIDs of everything in scope, unique.
        let mut guids: HashMap<usize, String> = HashMap::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &i in users.union(&groups) {
            let e = &entries[i];
            let guid = self.guid(e).map_err(|m| entry_error(e, m))?;
            if let Some(&first) = seen.get(&guid.to_lowercase()) {
                return Err(SourceError::DuplicateGuid(Box::new(crate::error::DuplicateGuid {
                    origin: origin.to_string(),
                    attribute: self.guid_attribute.clone(),
                    guid,
                    first_dn: entries[first].dn.clone(),
                    first_line: entries[first].line,
                    second_dn: e.dn.clone(),
                    second_line: e.line,
                })));
            }
            seen.insert(guid.to_lowercase(), i);
            guids.insert(i, guid);
        }
        let guids_in = |set: &BTreeSet<usize>, within: &BTreeSet<usize>, except: usize| -> Vec<String> {
            let mut v: Vec<String> =
                set.iter().filter(|&&i| i != except && within.contains(&i)).map(|i| guids[i].clone()).collect();
            v.sort();
            v
        };

        let mut snapshot = Snapshot::default();
        for &i in &users {
            let e = &entries[i];
            let status = self.account_status.status_of(e).map_err(|m| entry_error(e, m))?;
            let mut user_groups: Vec<String> =
                groups_of[i].iter().filter(|g| groups.contains(g)).map(|&g| entries[g].dn.clone()).collect();
            user_groups.sort();
            snapshot.users.push(SourceUser {
                guid: guids[&i].clone(),
                dn: e.dn.clone(),
                entry: e.clone(),
                status,
                groups: user_groups,
            });
        }
        for &g in &groups {
            let e = &entries[g];
            let cn = e.first("cn").map(str::to_string).unwrap_or_else(|| dns[g].leaf_value().to_string());
            snapshot.groups.push(SourceGroup {
                guid: guids[&g].clone(),
                dn: e.dn.clone(),
                cn,
                entry: e.clone(),
                member_guids: guids_in(&members_of[g], &users, g),
                member_group_guids: guids_in(&members_of[g], &groups, g),
            });
        }
        snapshot.users.sort_by(|a, b| a.guid.cmp(&b.guid));
        snapshot.groups.sort_by(|a, b| a.guid.cmp(&b.guid));
        Ok(snapshot)
    }
}

/// Resolve scope over entries already read (by a file parser or, later, LDAP): the settings are
/// checked first (the first problem is returned), `path` and `format` are not used.
pub fn build_snapshot(entries: Vec<Entry>, config: &FileSourceConfig, origin: &str) -> Result<Snapshot, SourceError> {
    config.rules()?.snapshot(entries, origin)
}

#[cfg(test)]
#[path = "scope_tests.rs"]
mod tests;
