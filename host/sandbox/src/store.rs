//! The in-memory SCIM store: Users and Groups with the indexes that keep every request
//! cheap at 100,000 users.
//!
//! Each resource is kept as its serialised JSON (a `Box<str>`, returned as is on GET) plus a
//! version counter; a creation-ordered key list gives O(1) paging; hash indexes on the
//! lowercased `userName` (unique), `externalId`, lowercased `displayName`, lowercased
//! `emails.value` and (Groups) `members.value` answer every supported filter without a scan.
//! A write re-parses only the resource it touches.
//!
//! Group members must refer to an existing User or Group (else 400 `invalidValue`), and
//! deleting a User or Group removes it from every group's `members` (those groups get a new
//! version). The read-only User attribute `groups` is not maintained.
//!
//! The store is a plain struct; the server wraps it in a lock.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{Attr, Clause, Filter};
use crate::patch::PatchRequest;
use crate::resource::{self, Keys, Meta};

/// The two resource types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `User`, served at `/Users`.
    User,
    /// `Group`, served at `/Groups`.
    Group,
}

impl Kind {
    /// The resource type name (`meta.resourceType`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint without slash (`Users`).
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    /// The core schema URN.
    pub fn schema(self) -> &'static str {
        match self {
            Kind::User => resource::USER_URN,
            Kind::Group => resource::GROUP_URN,
        }
    }
}

/// A resource as answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its id.
    pub id: String,
    /// Its version (the ETag is `W/"version"`).
    pub version: u64,
    /// Its JSON representation.
    pub json: String,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// All matches.
    pub total: usize,
    /// Resources in this page.
    pub items: usize,
    /// Their JSON representations joined by commas.
    pub joined: String,
}

/// The stored JSON of all resources; see [`Store::export`].
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// Users in creation order.
    pub users: Vec<Arc<str>>,
    /// Groups in creation order.
    pub groups: Vec<Arc<str>>,
}

impl Export {
    /// Every resource, parsed: `{"Users":[…],"Groups":[…]}`.
    pub fn snapshot(&self) -> Value {
        let all =
            |list: &[Arc<str>]| -> Vec<Value> { list.iter().filter_map(|j| serde_json::from_str(j).ok()).collect() };
        serde_json::json!({ "Users": all(&self.users), "Groups": all(&self.groups) })
    }

    /// The persistence document: `{"schemas":[…],"Users":[…],"Groups":[…]}`, one resource
    /// a line.
    pub fn to_json(&self) -> String {
        let size: usize = self.users.iter().chain(&self.groups).map(|j| j.len() + 2).sum();
        let mut out = String::with_capacity(size + 100);
        out.push_str("{\"schemas\":[\"urn:provisio:sandbox:state:1\"]");
        for (name, list) in [("Users", &self.users), ("Groups", &self.groups)] {
            out.push_str(",\n\"");
            out.push_str(name);
            out.push_str("\":[");
            for (i, j) in list.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(j);
            }
            out.push(']');
        }
        out.push_str("}\n");
        out
    }
}

/// Internal keys of a multi-valued index entry, without allocating for the usual single one.
#[derive(Debug)]
enum Ids {
    One(u64),
    Many(Vec<u64>),
}

impl Ids {
    fn as_slice(&self) -> &[u64] {
        match self {
            Ids::One(k) => std::slice::from_ref(k),
            Ids::Many(v) => v,
        }
    }
}

#[derive(Debug, Default)]
struct MultiIndex(HashMap<Box<str>, Ids>);

impl MultiIndex {
    fn insert(&mut self, value: &str, key: u64) {
        match self.0.get_mut(value) {
            None => {
                self.0.insert(value.into(), Ids::One(key));
            }
            Some(ids) => match ids {
                Ids::One(k) if *k == key => {}
                Ids::One(k) => *ids = Ids::Many(vec![*k, key]),
                Ids::Many(v) if !v.contains(&key) => v.push(key),
                Ids::Many(_) => {}
            },
        }
    }

    fn remove(&mut self, value: &str, key: u64) {
        let Some(ids) = self.0.get_mut(value) else { return };
        match ids {
            Ids::One(k) if *k == key => {
                self.0.remove(value);
            }
            Ids::One(_) => {}
            Ids::Many(v) => {
                v.retain(|k| *k != key);
                if v.len() == 1 {
                    *ids = Ids::One(v[0]);
                } else if v.is_empty() {
                    self.0.remove(value);
                }
            }
        }
    }

    fn get(&self, value: &str) -> &[u64] {
        self.0.get(value).map(Ids::as_slice).unwrap_or(&[])
    }
}

#[derive(Debug)]
struct Entry {
    version: u64,
    /// Shared so that a save can copy the pointers under the lock and write outside it.
    json: Arc<str>,
}

#[derive(Debug, Default)]
struct Collection {
    entries: HashMap<u64, Entry>,
    /// Live keys in creation order (keys only grow, so this stays sorted).
    order: Vec<u64>,
    by_id: HashMap<Box<str>, u64>,
    /// Unique unless the store accepts duplicate userNames.
    user_name: MultiIndex,
    external_id: MultiIndex,
    display_name: MultiIndex,
    emails: MultiIndex,
    members: MultiIndex,
}

impl Collection {
    fn index(&mut self, key: u64, keys: &Keys) {
        if let Some(u) = &keys.user_name {
            self.user_name.insert(u, key);
        }
        if let Some(e) = &keys.external_id {
            self.external_id.insert(e, key);
        }
        if let Some(d) = &keys.display_name {
            self.display_name.insert(d, key);
        }
        keys.emails.iter().for_each(|e| self.emails.insert(e, key));
        keys.members.iter().for_each(|m| self.members.insert(m, key));
    }

    fn unindex(&mut self, key: u64, keys: &Keys) {
        if let Some(u) = &keys.user_name {
            self.user_name.remove(u, key);
        }
        if let Some(e) = &keys.external_id {
            self.external_id.remove(e, key);
        }
        if let Some(d) = &keys.display_name {
            self.display_name.remove(d, key);
        }
        keys.emails.iter().for_each(|e| self.emails.remove(e, key));
        keys.members.iter().for_each(|m| self.members.remove(m, key));
    }

    fn candidates(&self, clause: &Clause) -> Cow<'_, [u64]> {
        let v = clause.value.as_str();
        match clause.attr {
            Attr::Id => Cow::Owned(self.by_id.get(v).copied().into_iter().collect()),
            Attr::UserName => Cow::Borrowed(self.user_name.get(v)),
            Attr::ExternalId => Cow::Borrowed(self.external_id.get(v)),
            Attr::DisplayName => Cow::Borrowed(self.display_name.get(v)),
            Attr::Email => Cow::Borrowed(self.emails.get(v)),
            Attr::Member => Cow::Borrowed(self.members.get(v)),
        }
    }

    fn matches(&self, key: u64, clause: &Clause) -> bool {
        let v = clause.value.as_str();
        match clause.attr {
            Attr::Id => self.by_id.get(v) == Some(&key),
            Attr::UserName => self.user_name.get(v).contains(&key),
            Attr::ExternalId => self.external_id.get(v).contains(&key),
            Attr::DisplayName => self.display_name.get(v).contains(&key),
            Attr::Email => self.emails.get(v).contains(&key),
            Attr::Member => self.members.get(v).contains(&key),
        }
    }

    /// The key, version and parsed representation of resource `id`.
    fn load(&self, id: &str) -> Option<(u64, u64, Map<String, Value>)> {
        let key = *self.by_id.get(id)?;
        let entry = &self.entries[&key];
        match serde_json::from_str(&entry.json) {
            Ok(Value::Object(map)) => Some((key, entry.version, map)),
            _ => unreachable!("stored resources are JSON objects"),
        }
    }
}

/// All Users and Groups of one sandbox.
#[derive(Debug)]
pub struct Store {
    base_url: String,
    next_key: u64,
    generation: u64,
    users: Collection,
    groups: Collection,
    /// A forgiving target's mode: a second User with a taken `userName` is
    /// created instead of refused with 409 (see `Modes`).
    pub accept_duplicate_user_names: bool,
}

impl Store {
    /// An empty store whose `meta.location`s start with `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Store {
            base_url: base_url.into(),
            next_key: 0,
            generation: 0,
            users: Collection::default(),
            groups: Collection::default(),
            accept_duplicate_user_names: false,
        }
    }

    /// Counts changes; it moves on every successful write.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of resources of a kind.
    pub fn len(&self, kind: Kind) -> usize {
        self.coll(kind).order.len()
    }

    /// Whether the store holds no resource at all.
    pub fn is_empty(&self) -> bool {
        self.users.order.is_empty() && self.groups.order.is_empty()
    }

    fn coll(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    fn coll_mut(&mut self, kind: Kind) -> &mut Collection {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    /// One resource.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Stored> {
        let c = self.coll(kind);
        let entry = &c.entries[c.by_id.get(id)?];
        Some(Stored { id: id.to_owned(), version: entry.version, json: entry.json.to_string() })
    }

    /// POST: validates, assigns an id and stores.
    pub fn create(&mut self, kind: Kind, body: Value, now: &str) -> Result<Stored, ScimError> {
        let body = resource::prepare(kind, body)?;
        let keys = Keys::of(kind, &body);
        self.check(&keys, None, None)?;
        let id = uuid::Uuid::new_v4().to_string();
        Ok(self.insert(kind, id, body, keys, now, now, 1))
    }

    /// PUT: full replace, keeping `id` and `meta.created`.
    pub fn replace(
        &mut self,
        kind: Kind,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        now: &str,
    ) -> Result<Stored, ScimError> {
        let (key, version, old) = self.load_checked(kind, id, if_match)?;
        let body = resource::prepare(kind, body)?;
        self.commit(kind, id, key, version, &old, body, now)
    }

    /// PATCH: applies the operations in order, atomically; an update that changes nothing
    /// keeps the version.
    pub fn patch(
        &mut self,
        kind: Kind,
        id: &str,
        patch: &PatchRequest,
        if_match: Option<&str>,
        now: &str,
    ) -> Result<Stored, ScimError> {
        let (key, version, old) = self.load_checked(kind, id, if_match)?;
        let mut work = Value::Object(old.clone());
        patch.apply(kind, &mut work)?;
        if work == Value::Object(old.clone()) {
            return Ok(self.get(kind, id).expect("just loaded"));
        }
        let body = resource::prepare(kind, work)?;
        self.commit(kind, id, key, version, &old, body, now)
    }

    /// DELETE, removing the resource from every group's members.
    pub fn delete(&mut self, kind: Kind, id: &str, if_match: Option<&str>, now: &str) -> Result<(), ScimError> {
        let (key, _, old) = self.load_checked(kind, id, if_match)?;
        let old_keys = Keys::of(kind, &old);
        let c = self.coll_mut(kind);
        c.unindex(key, &old_keys);
        c.by_id.remove(id);
        c.entries.remove(&key);
        if let Ok(pos) = c.order.binary_search(&key) {
            c.order.remove(pos);
        }
        self.generation += 1;
        let holders: Vec<u64> = self.groups.members.get(id).to_vec();
        for gkey in holders {
            let entry = &self.groups.entries[&gkey];
            let Ok(Value::Object(mut group)) = serde_json::from_str::<Value>(&entry.json) else { continue };
            let version = entry.version;
            let old_group = group.clone();
            let gid = group["id"].as_str().unwrap_or_default().to_owned();
            if let Some(Value::Array(members)) = group.get_mut("members") {
                members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
            }
            if let Ok(body) = resource::prepare(Kind::Group, Value::Object(group)) {
                self.commit_unchecked(Kind::Group, &gid, gkey, version, &old_group, body, now);
            }
        }
        Ok(())
    }

    /// A page of the resources matching `filter`, in creation order; `start_index` is 1-based.
    pub fn query(&self, kind: Kind, filter: Option<&Filter>, start_index: usize, count: usize) -> Page {
        let c = self.coll(kind);
        let keys: Cow<'_, [u64]> = match filter {
            None => Cow::Borrowed(&c.order),
            Some(f) => {
                let lists: Vec<_> = f.clauses.iter().map(|cl| c.candidates(cl)).collect();
                let (best, list) = lists.iter().enumerate().min_by_key(|(_, l)| l.len()).expect("a filter has clauses");
                let mut keys: Vec<u64> = list
                    .iter()
                    .copied()
                    .filter(|k| f.clauses.iter().enumerate().all(|(i, cl)| i == best || c.matches(*k, cl)))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                Cow::Owned(keys)
            }
        };
        let total = keys.len();
        let from = start_index.saturating_sub(1).min(total);
        let to = from.saturating_add(count).min(total);
        let mut joined = String::new();
        for (i, key) in keys[from..to].iter().enumerate() {
            if i > 0 {
                joined.push(',');
            }
            joined.push_str(&c.entries[key].json);
        }
        Page { total, items: to - from, joined }
    }

    /// The JSON of every resource, in creation order, cheap to take under the lock.
    pub fn export(&self) -> Export {
        let all = |c: &Collection| c.order.iter().map(|k| Arc::clone(&c.entries[k].json)).collect();
        Export { users: all(&self.users), groups: all(&self.groups) }
    }

    /// Loads resources written by [`Store::dump`], keeping ids, `meta.created`,
    /// `meta.lastModified` and versions, and rewriting `meta.location` for this server.
    pub fn restore(&mut self, text: &str) -> Result<(), String> {
        #[derive(serde::Deserialize)]
        struct StateFile {
            #[serde(rename = "Users", default)]
            users: Vec<Value>,
            #[serde(rename = "Groups", default)]
            groups: Vec<Value>,
        }
        let file: StateFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let now = resource::now_rfc3339();
        for (kind, list) in [(Kind::User, file.users), (Kind::Group, file.groups)] {
            for value in list {
                let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
                let id = id.ok_or_else(|| format!("a {} without id", kind.name()))?;
                let meta = value.get("meta").cloned().unwrap_or(Value::Null);
                let text = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or(&now).to_owned();
                let (created, modified) = (text("created"), text("lastModified"));
                let version = meta
                    .get("version")
                    .and_then(Value::as_str)
                    .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok())
                    .unwrap_or(1);
                let body = resource::prepare(kind, value).map_err(|e| format!("{} {id}: {e}", kind.name()))?;
                let keys = Keys::of(kind, &body);
                if self.coll(kind).by_id.contains_key(id.as_str()) {
                    return Err(format!("duplicate {} id {id}", kind.name()));
                }
                if kind == Kind::User {
                    self.check(&keys, None, None).map_err(|e| format!("User {id}: {e}"))?;
                }
                self.insert(kind, id, body, keys, &created, &modified, version);
            }
        }
        Ok(())
    }

    fn load_checked(
        &self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(u64, u64, Map<String, Value>), ScimError> {
        let (key, version, old) = self.coll(kind).load(id).ok_or_else(|| ScimError::not_found(kind.name(), id))?;
        if let Some(tag) = if_match
            && !resource::etag_matches(tag, version)
        {
            return Err(ScimError::precondition_failed(&resource::etag(version)));
        }
        Ok((key, version, old))
    }

    /// Uniqueness of `userName` and existence of group members.
    fn check(&self, keys: &Keys, own_key: Option<u64>, own_id: Option<&str>) -> Result<(), ScimError> {
        if let Some(u) = &keys.user_name
            && !self.accept_duplicate_user_names
            && self.users.user_name.get(u.as_str()).iter().any(|k| Some(*k) != own_key)
        {
            return Err(ScimError::uniqueness(format!(
                "userName {u:?} is already taken (userName is unique, case-insensitive)"
            )));
        }
        for m in &keys.members {
            if Some(m.as_str()) == own_id {
                return Err(ScimError::invalid_value("a group cannot be a member of itself"));
            }
            if !self.users.by_id.contains_key(m.as_str()) && !self.groups.by_id.contains_key(m.as_str()) {
                return Err(ScimError::invalid_value(format!(
                    "members: {m:?} is not the id of a User or Group in this sandbox"
                )));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &mut self,
        kind: Kind,
        id: String,
        body: Map<String, Value>,
        keys: Keys,
        created: &str,
        modified: &str,
        version: u64,
    ) -> Stored {
        let meta = Meta { id: &id, created, last_modified: modified, version, base_url: &self.base_url };
        let json = resource::finish(kind, body, &meta);
        let key = self.next_key;
        self.next_key += 1;
        let c = self.coll_mut(kind);
        c.index(key, &keys);
        c.by_id.insert(id.as_str().into(), key);
        c.entries.insert(key, Entry { version, json: json.as_str().into() });
        c.order.push(key);
        self.generation += 1;
        Stored { id, version, json }
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        kind: Kind,
        id: &str,
        key: u64,
        version: u64,
        old: &Map<String, Value>,
        body: Map<String, Value>,
        now: &str,
    ) -> Result<Stored, ScimError> {
        self.check(&Keys::of(kind, &body), Some(key), Some(id))?;
        Ok(self.commit_unchecked(kind, id, key, version, old, body, now))
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_unchecked(
        &mut self,
        kind: Kind,
        id: &str,
        key: u64,
        version: u64,
        old: &Map<String, Value>,
        body: Map<String, Value>,
        now: &str,
    ) -> Stored {
        let new_keys = Keys::of(kind, &body);
        let created = old.get("meta").and_then(|m| m.get("created")).and_then(Value::as_str).unwrap_or(now);
        let meta = Meta { id, created, last_modified: now, version: version + 1, base_url: &self.base_url };
        let json = resource::finish(kind, body, &meta);
        let c = self.coll_mut(kind);
        c.unindex(key, &Keys::of(kind, old));
        c.index(key, &new_keys);
        let entry = c.entries.get_mut(&key).expect("live key");
        entry.version = version + 1;
        entry.json = json.as_str().into();
        self.generation += 1;
        Stored { id: id.to_owned(), version: version + 1, json }
    }
}
