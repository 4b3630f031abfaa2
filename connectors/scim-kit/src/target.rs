//! [`ScimTarget`]: the user and group operations of a SCIM connector,
//! written once. A SCIM-based connector opens one in `Connector::open` and
//! forwards its operations to it; [`TargetOptions`] carries the target's
//! quirks.
//!
//! Policy (spec b.1.4, c.3; PingFederate's SCIM Provisioner):
//! - **find user**: `GET {users}?filter=…` with the Unique User Identifier's
//!   filter (`userName eq "v"`, `emails eq "v"`) or the Filter Expression
//!   with `%s` replaced by the escaped value. No result → `None`; several →
//!   a `Conflict` error naming the filter and the ids. With the built-in
//!   filters the results are also checked client-side, so a target that
//!   ignores `filter` cannot link the wrong user.
//! - **create user**: POST; the id from the body (`Location` only as a
//!   fallback, then a lookup). A 409 stays a `Conflict` error: the host
//!   looks the user up and links it.
//! - **update / disable / enable**: GET, overlay (or set `active`), PUT —
//!   never PATCH. `If-Match` when ETags are in use; a 412 re-reads and
//!   retries once (under failover the host answers a 412 as a conflict
//!   error instead, so the operation fails and the lease holder's next
//!   cycle takes the user on: docs/failover.md). Disable/enable skip the PUT when `active` already has
//!   the wanted value.
//! - **delete**: DELETE; 404 means already gone.
//! - **find group**: every group, paged by Results Per Page, compared with
//!   `displayName` exactly (case-sensitive: PingFederate matches names as
//!   given; two groups differing only in case are different groups).
//!   [`GroupLookup::FilterThenList`] asks `displayName eq` first (Aquera).
//! - **create group**: POST `{schemas, displayName, members}`.
//! - **update group**: PUT `{schemas, displayName, members}`; or PATCH when
//!   Use PATCH for Group Updates is on and the ServiceProviderConfig does
//!   not say PATCH is unsupported. The PATCH is computed against the
//!   target's current group (read first): `replace displayName` when it
//!   differs, `add` the missing members, `remove` the extra ones; when the
//!   target does not return `members`, it adds every wanted member and
//!   removes the `removed` delta. A 501/405 on PATCH falls back to PUT for
//!   the rest of the connection's life.
//! - **delete group**: DELETE; 404 means already gone.
//!
//! Quirk knobs beyond the SCIM Provisioner's ([`TargetOptions`]):
//! `member_display` reads each new member's user once (cached) and sends
//! `{display, value}` member references (Contentful); `group_rename` false
//! never changes a group's `displayName` and logs a warning instead (a
//! target with no documented rename).

use provisio_core::manifest::AttributeSpec;
use provisio_core::ops::{ConnectionReport, GroupRecord, TargetGroup, TargetUser, UserPage, UserRecord};
use provisio_core::{ConnectorConfig, ConnectorError, ErrorKind, Host};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::client::{ClientOptions, ScimClient};
use crate::config::{ScimSettings, UniqueUserIdentifier};
use crate::error::is_not_implemented;
use crate::filter;
use crate::group::{self, GroupPatch, MemberPatchStyle};
use crate::paging::resource_id;
use crate::payload::{UserSchema, read_active, set_active, summarize};

/// How groups are updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupUpdate {
    /// PUT the whole group.
    Put,
    /// PATCH, falling back to PUT when the target says PATCH is unsupported
    /// or answers 501/405.
    Patch,
    /// PATCH only: the target takes membership by PATCH alone; no fallback.
    PatchOnly,
}

/// How an existing group is found by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupLookup {
    /// List every group and compare `displayName` (the SCIM Provisioner).
    #[default]
    ListAll,
    /// `filter=displayName eq "…"`, then list-and-compare if the target
    /// refuses the filter (400, 403, 501).
    FilterThenList,
}

/// A target's quirks and choices.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Send `active` in user bodies (false where it is read-only, e.g.
    /// Contentful; disable/enable then answer `unsupported`).
    pub send_active: bool,
    /// Send `members` in POST/PUT group bodies. False for targets that
    /// ignore them: membership then goes by PATCH.
    pub members_in_group_body: bool,
    pub group_update: GroupUpdate,
    pub member_patch_style: MemberPatchStyle,
    pub group_lookup: GroupLookup,
    pub client: ClientOptions,
    /// Send `{display, value}` member references, the display being the
    /// member's full name read from its user resource (Contentful).
    pub member_display: bool,
    /// Push a group's new name. False keeps the target's `displayName`
    /// and warns (targets that document no rename).
    pub group_rename: bool,
}

impl TargetOptions {
    /// The SCIM Provisioner's behaviour for these settings.
    pub fn from_settings(settings: &ScimSettings) -> TargetOptions {
        TargetOptions {
            send_active: true,
            members_in_group_body: true,
            group_update: if settings.use_patch_for_group_updates { GroupUpdate::Patch } else { GroupUpdate::Put },
            member_patch_style: MemberPatchStyle::ValueFilter,
            group_lookup: GroupLookup::ListAll,
            client: ClientOptions::default(),
            member_display: false,
            group_rename: true,
        }
    }
}

/// The operations of one SCIM connection.
#[derive(Debug)]
pub struct ScimTarget {
    client: ScimClient,
    settings: ScimSettings,
    schema: UserSchema,
    options: TargetOptions,
    /// Set once the target answered 501/405 to a group PATCH.
    patch_refused: AtomicBool,
    /// Display names of members read so far (`member_display`).
    displays: Mutex<HashMap<String, String>>,
}

fn conflict(detail: String) -> ConnectorError {
    ConnectorError::new(ErrorKind::Conflict, detail)
}

impl ScimTarget {
    /// A target over `settings`, writing the fields of `attributes` (the
    /// catalogue and the connection's custom attributes).
    pub fn new(
        host: Host,
        settings: ScimSettings,
        attributes: &[AttributeSpec],
        options: TargetOptions,
    ) -> Result<ScimTarget, ConnectorError> {
        let schema = UserSchema::new(settings.version, attributes)?;
        let client = ScimClient::new(host, &settings, options.client.clone());
        Ok(ScimTarget {
            client,
            settings,
            schema,
            options,
            patch_refused: AtomicBool::new(false),
            displays: Mutex::new(HashMap::new()),
        })
    }

    /// A target for `config`: `catalogue` (the manifest's attributes) plus
    /// the connection's `extra_attributes`.
    pub fn from_config(
        config: &ConnectorConfig,
        host: Host,
        settings: ScimSettings,
        catalogue: Vec<AttributeSpec>,
        options: TargetOptions,
    ) -> Result<ScimTarget, ConnectorError> {
        let mut attributes = catalogue;
        attributes.extend(config.extra_attributes.iter().cloned());
        Self::new(host, settings, &attributes, options)
    }

    pub fn client(&self) -> &ScimClient {
        &self.client
    }

    pub fn settings(&self) -> &ScimSettings {
        &self.settings
    }

    pub fn schema(&self) -> &UserSchema {
        &self.schema
    }

    pub fn options(&self) -> &TargetOptions {
        &self.options
    }

    fn user_url(&self, id: &str) -> String {
        ScimClient::resource_url(&self.client.users_url(), id)
    }

    fn group_url(&self, id: &str) -> String {
        ScimClient::resource_url(&self.client.groups_url(), id)
    }

    /// The filter that finds the user whose Unique User Identifier is `value`.
    pub fn user_filter(&self, value: &str) -> String {
        match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
            (Some(template), _) => filter::substitute(template, value),
            (None, UniqueUserIdentifier::UserName) => filter::eq("userName", value),
            (None, UniqueUserIdentifier::WorkEmail) => filter::eq("emails", value),
        }
    }

    /// Whether a resource returned by the built-in filter really matches
    /// (a target that ignores `filter` answers every user).
    fn matches_identifier(&self, resource: &Value, value: &str) -> bool {
        if self.settings.filter_expression.is_some() {
            return true;
        }
        let object = resource.as_object();
        match self.settings.unique_user_identifier {
            UniqueUserIdentifier::UserName => {
                summarize(resource).user_name.is_none_or(|u| u.eq_ignore_ascii_case(value))
            }
            UniqueUserIdentifier::WorkEmail => {
                match object.and_then(|o| crate::path::get_ci(o, "emails")).and_then(Value::as_array) {
                    None => true,
                    Some(emails) => emails
                        .iter()
                        .any(|e| e.get("value").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(value))),
                }
            }
        }
    }

    fn target_user(&self, resource: &Value, unique_id: &str) -> Result<TargetUser, ConnectorError> {
        let summary = summarize(resource);
        let id = summary.id.ok_or_else(|| {
            ConnectorError::protocol(format!(
                "the target's user '{unique_id}' has no 'id': it cannot be linked or updated"
            ))
        })?;
        let unique = match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
            (None, UniqueUserIdentifier::UserName) => summary.user_name.unwrap_or_else(|| unique_id.to_owned()),
            _ => unique_id.to_owned(),
        };
        Ok(TargetUser { id, unique_id: Some(unique), active: summary.active, attributes: self.schema.read(resource) })
    }

    /// The activation check (see [`ScimClient::test_connection`]).
    pub async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        self.client.test_connection().await
    }

    /// Find the user whose Unique User Identifier is `unique_id`: an error
    /// (a conflict naming every id) when several accounts match.
    pub async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        let mut found = self.find_users(unique_id).await?;
        match found.len() {
            0 | 1 => Ok(found.pop()),
            n => {
                let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
                Err(conflict(format!(
                    "filter {} matches {n} users at the target ({}): the Unique User Identifier must match one \
                     user only",
                    self.user_filter(unique_id),
                    ids.join(", ")
                )))
            }
        }
    }

    /// Every user whose Unique User Identifier is `unique_id`, in the order
    /// the target answered them (capability `user_find_all`).
    pub async fn find_users(&self, unique_id: &str) -> Result<Vec<TargetUser>, ConnectorError> {
        let filter = self.user_filter(unique_id);
        let page = self.client.query(&self.client.users_url(), Some(&filter), None, None).await?;
        let returned = page.resources.len();
        let found: Vec<&Value> = page.resources.iter().filter(|r| self.matches_identifier(r, unique_id)).collect();
        if found.len() < returned {
            self.client.host().warn(&format!(
                "the target answered {returned} users to filter {filter}, {} of them not matching: it may ignore \
                 filters; only the matching ones are considered",
                returned - found.len()
            ));
        }
        found.into_iter().map(|r| self.target_user(r, unique_id)).collect()
    }

    /// The values [`ScimTarget::find_user`] finds `resource` by: its
    /// `userName`, or every email address, per the Unique User Identifier.
    fn identifier_values(&self, resource: &Value) -> Vec<String> {
        match self.settings.unique_user_identifier {
            UniqueUserIdentifier::UserName => summarize(resource).user_name.into_iter().collect(),
            UniqueUserIdentifier::WorkEmail => resource
                .as_object()
                .and_then(|o| crate::path::get_ci(o, "emails"))
                .and_then(Value::as_array)
                .map(|emails| {
                    emails.iter().filter_map(|e| e.get("value").and_then(Value::as_str)).map(str::to_owned).collect()
                })
                .unwrap_or_default(),
        }
    }

    /// One page of the target's users (`GET {users}?startIndex=&count=`),
    /// each with the values it is found by (see [`UserPage`]). The cursor is
    /// the next page's `startIndex`. With a Filter Expression the values a
    /// user is found by cannot be read off the resource: the listing is
    /// refused as unsupported and the engine looks users up one by one.
    pub async fn list_users(&self, cursor: Option<&str>, count: u32) -> Result<UserPage, ConnectorError> {
        if self.settings.filter_expression.is_some() {
            return Err(ConnectorError::unsupported("list_users")
                .context("users are found by the connection's Filter Expression, which a listing cannot apply"));
        }
        let start = match cursor {
            None => 1,
            Some(c) => c.parse::<u64>().map_err(|_| {
                ConnectorError::new(ErrorKind::Invalid, format!("'{c}' is not a page cursor of this connector"))
                    .retryable(false)
            })?,
        };
        let page = self.client.query(&self.client.users_url(), None, Some(start), Some(count.max(1))).await?;
        let returned = page.resources.len() as u64;
        let mut users = Vec::with_capacity(page.resources.len());
        for resource in &page.resources {
            let Some(id) = resource_id(resource) else { continue };
            let active = read_active(resource);
            for value in self.identifier_values(resource) {
                users.push(TargetUser {
                    id: id.clone(),
                    unique_id: Some(value),
                    active,
                    attributes: Default::default(),
                });
            }
        }
        let last = returned == 0
            || match page.total_results {
                Some(total) => start - 1 + returned >= total,
                None => returned < u64::from(count.max(1)),
            };
        Ok(UserPage { users, total: page.total_results, next: (!last).then(|| (start + returned).to_string()) })
    }

    /// The id of a created resource: the body's, else the `Location`
    /// header's last segment.
    fn created_id(response: &provisio_core::host::HttpResponse, body: Option<&Value>) -> Option<String> {
        body.and_then(resource_id).or_else(|| {
            let location = response.header("Location")?.trim_end_matches('/');
            let last = location.rsplit('/').next()?;
            (!last.is_empty()).then(|| last.to_owned())
        })
    }

    /// Create the user. A 409 comes back as a `Conflict` error.
    pub async fn create_user(&self, record: &UserRecord) -> Result<TargetUser, ConnectorError> {
        let mut body = self.schema.create(record, self.options.send_active)?;
        let has_user_name = body.get("userName").and_then(Value::as_str).is_some_and(|u| !u.is_empty());
        if !has_user_name {
            match (&self.settings.filter_expression, self.settings.unique_user_identifier) {
                (None, UniqueUserIdentifier::UserName) if !record.unique_id.is_empty() => {
                    body["userName"] = Value::from(record.unique_id.as_str());
                }
                _ => {
                    return Err(ConnectorError::new(
                        ErrorKind::Invalid,
                        format!("user '{}' has no userName: map the userName field", record.unique_id),
                    ));
                }
            }
        }
        let url = self.client.users_url();
        let (response, resource) = self.client.post(&url, &body).await?;
        let created = resource.map(|r| r.body);
        if let Some(id) = Self::created_id(&response, created.as_ref()) {
            let mut user = match &created {
                Some(resource) if resource_id(resource).is_some() => self.target_user(resource, &record.unique_id)?,
                _ => TargetUser { id: id.clone(), ..Default::default() },
            };
            user.id = id;
            if user.unique_id.is_none() {
                user.unique_id = Some(record.unique_id.clone());
            }
            if user.active.is_none() && self.options.send_active {
                user.active = Some(record.active);
            }
            return Ok(user);
        }
        self.client
            .host()
            .warn(&format!("POST {url} answered {} without an id or a Location: looking the user up", response.status));
        self.find_user(&record.unique_id).await?.ok_or_else(|| {
            ConnectorError::protocol(format!(
                "POST {url} answered {} without an id, and the user '{}' cannot be found afterwards",
                response.status, record.unique_id
            ))
        })
    }

    /// Replace the user with the record overlaid on its current state (PUT).
    pub async fn update_user(&self, id: &str, record: &UserRecord) -> Result<(), ConnectorError> {
        let send_active = self.options.send_active;
        self.client
            .read_modify_write("PUT", &self.user_url(id), |current| {
                self.schema.overlay(current, record, send_active).map(Some)
            })
            .await?;
        Ok(())
    }

    /// Set `active` (GET, PUT); nothing is sent when it already has the value.
    pub async fn set_user_active(&self, id: &str, active: bool) -> Result<(), ConnectorError> {
        if !self.options.send_active {
            return Err(ConnectorError::unsupported(if active { "enable_user" } else { "disable_user" }));
        }
        self.client
            .read_modify_write("PUT", &self.user_url(id), |current| {
                if read_active(current) == Some(active) {
                    return Ok(None);
                }
                let mut body = Value::Object(self.schema.strip_server_managed(current)?);
                set_active(&mut body, active);
                Ok(Some(body))
            })
            .await?;
        Ok(())
    }

    pub async fn disable_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.set_user_active(id, false).await
    }

    pub async fn enable_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.set_user_active(id, true).await
    }

    /// DELETE the user; already gone is success.
    pub async fn delete_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.client.delete(&self.user_url(id)).await.map(|_| ())
    }

    fn page_size(&self) -> Option<u32> {
        self.settings.results_per_page
    }

    /// Find the group called `name` (exact, case-sensitive `displayName`).
    pub async fn find_group(&self, name: &str) -> Result<Option<TargetGroup>, ConnectorError> {
        let url = self.client.groups_url();
        let mut candidates = None;
        if self.options.group_lookup == GroupLookup::FilterThenList {
            let f = filter::eq("displayName", name);
            match self.client.list_all(&url, Some(&f), self.page_size()).await {
                Ok(found) => candidates = Some(found),
                Err(e) if matches!(e.status, Some(400 | 403 | 501)) => {
                    self.client.host().info(&format!("the target refused filter {f} ({e}): listing every group"));
                }
                Err(e) => return Err(e),
            }
        }
        let candidates = match candidates {
            Some(c) => c,
            None => self.client.list_all(&url, None, self.page_size()).await?,
        };
        let matching: Vec<&Value> =
            candidates.iter().filter(|g| group::display_name(g).as_deref() == Some(name)).collect();
        match matching.as_slice() {
            [] => Ok(None),
            [one] => group::target_group(one)
                .map(Some)
                .ok_or_else(|| ConnectorError::protocol(format!("the target's group '{name}' has no 'id'"))),
            many => {
                let ids: Vec<String> = many.iter().filter_map(|g| resource_id(g)).collect();
                Err(conflict(format!("{} groups at the target are called '{name}' ({})", many.len(), ids.join(", "))))
            }
        }
    }

    /// Create the group with its members.
    pub async fn create_group(&self, record: &GroupRecord) -> Result<TargetGroup, ConnectorError> {
        let with_members = self.options.members_in_group_body;
        let displays = self.member_displays(&record.members).await?;
        let display = |id: &str| displays.get(id).cloned();
        let body = group::group_resource_with_display(
            self.client.version(),
            &record.name,
            &record.members,
            with_members,
            &display,
        );
        let url = self.client.groups_url();
        let (response, resource) = self.client.post(&url, &body).await?;
        let created = resource.map(|r| r.body);
        let id = Self::created_id(&response, created.as_ref()).ok_or_else(|| {
            ConnectorError::protocol(format!("POST {url} answered {} without the new group's id", response.status))
        })?;
        if !with_members && !record.members.is_empty() {
            let patch = GroupPatch { add: record.members.clone(), ..Default::default() };
            if let Some(body) =
                group::patch_body_with_display(self.client.version(), &patch, self.options.member_patch_style, &display)
            {
                self.client.patch(&self.group_url(&id), &body, None).await?;
            }
        }
        Ok(TargetGroup { id, name: record.name.clone(), members: record.members.clone() })
    }

    /// The display names of `ids` when `member_display` is on (empty
    /// otherwise): each member's user is read once per connection.
    async fn member_displays(&self, ids: &[String]) -> Result<HashMap<String, String>, ConnectorError> {
        let mut out = HashMap::new();
        if !self.options.member_display {
            return Ok(out);
        }
        for id in ids {
            let cached = self.displays.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
            let name = match cached {
                Some(name) => name,
                None => {
                    let user = self
                        .client
                        .get(&self.user_url(id))
                        .await
                        .map_err(|e| e.context(format!("reading group member {id} for its display name")))?;
                    let name = group::user_display_name(&user.body).unwrap_or_else(|| id.clone());
                    self.displays.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), name.clone());
                    name
                }
            };
            out.insert(id.clone(), name);
        }
        Ok(out)
    }

    /// The group's new name, or `None` with a warning when renames are
    /// not pushed to this target.
    fn rename_to(&self, current: &Value, record: &GroupRecord) -> Option<String> {
        let present = group::display_name(current);
        if present.as_deref() == Some(record.name.as_str()) {
            return None;
        }
        if !self.options.group_rename {
            self.client.host().warn(&format!(
                "group '{}' is called '{}' at the target: this target's groups are not renamed; rename it there \
                 by hand if needed",
                record.name,
                present.as_deref().unwrap_or("")
            ));
            return None;
        }
        Some(record.name.clone())
    }

    /// Whether this update goes by PATCH.
    async fn use_patch(&self) -> bool {
        match self.options.group_update {
            GroupUpdate::Put => false,
            GroupUpdate::PatchOnly => true,
            GroupUpdate::Patch => {
                if self.patch_refused.load(Ordering::Relaxed) {
                    return false;
                }
                if self.client.discovery().await.patch_unsupported() {
                    self.client.host().debug("the ServiceProviderConfig says PATCH is unsupported: groups are PUT");
                    return false;
                }
                true
            }
        }
    }

    /// The PATCH that brings `current` to `record`.
    fn group_patch(&self, current: &Value, record: &GroupRecord, removed: &[String]) -> GroupPatch {
        let rename = self.rename_to(current, record);
        let wanted: BTreeSet<&String> = record.members.iter().collect();
        let (add, remove, present) = match group::member_ids(current) {
            Some(present) => {
                let have: BTreeSet<&String> = present.iter().collect();
                let add = record.members.iter().filter(|m| !have.contains(m)).cloned().collect();
                let remove = present.iter().filter(|m| !wanted.contains(m)).cloned().collect();
                (add, remove, Some(present))
            }
            None => (record.members.clone(), removed.iter().filter(|m| !wanted.contains(m)).cloned().collect(), None),
        };
        let replace_members = (self.options.member_patch_style == MemberPatchStyle::ReplaceAll
            && present.is_none_or(|p| p.iter().collect::<BTreeSet<_>>() != wanted))
        .then(|| record.members.clone());
        if replace_members.is_some() {
            return GroupPatch { rename, add: vec![], remove: vec![], replace_members };
        }
        GroupPatch { rename, add, remove, replace_members: None }
    }

    /// Rename the group and set its membership (source membership is
    /// authoritative). `added`/`removed` are the host's deltas since the
    /// last push.
    pub async fn update_group(
        &self,
        id: &str,
        record: &GroupRecord,
        added: &[String],
        removed: &[String],
    ) -> Result<(), ConnectorError> {
        let _ = added; // membership is computed against the target's current group
        let url = self.group_url(id);
        // Display names are needed only for members the target lacks.
        let needed = if self.options.member_display {
            let current = self.client.get(&url).await?;
            match group::member_ids(&current.body) {
                Some(present) => record.members.iter().filter(|m| !present.contains(m)).cloned().collect(),
                None => record.members.clone(),
            }
        } else {
            Vec::new()
        };
        let displays = self.member_displays(&needed).await?;
        let display = |id: &str| displays.get(id).cloned();
        if self.use_patch().await {
            let version = self.client.version();
            let style = self.options.member_patch_style;
            let result = self
                .client
                .read_modify_write("PATCH", &url, |current| {
                    let patch = self.group_patch(current, record, removed);
                    Ok(group::patch_body_with_display(version, &patch, style, &display))
                })
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) if is_not_implemented(&e) && self.options.group_update == GroupUpdate::Patch => {
                    self.patch_refused.store(true, Ordering::Relaxed);
                    self.client
                        .host()
                        .warn(&format!("{e}: the target does not take PATCH; groups are replaced with PUT"));
                }
                Err(e) => return Err(e),
            }
        }
        let with_members = self.options.members_in_group_body;
        let version = self.client.version();
        let body = group::group_resource_with_display(version, &record.name, &record.members, with_members, &display);
        if !self.options.group_rename {
            // Keep the target's name: read it, and PUT the group under it.
            self.client
                .read_modify_write("PUT", &url, |current| {
                    let mut body = body.clone();
                    if self.rename_to(current, record).is_none()
                        && let Some(name) = group::display_name(current)
                    {
                        body["displayName"] = Value::from(name);
                    }
                    Ok(Some(body))
                })
                .await?;
            return Ok(());
        }
        if self.client.etag_enabled().await {
            self.client.read_modify_write("PUT", &url, |_| Ok(Some(body.clone()))).await?;
        } else {
            self.client.put(&url, &body, None).await?;
        }
        Ok(())
    }

    /// DELETE the group; already gone is success.
    pub async fn delete_group(&self, id: &str) -> Result<(), ConnectorError> {
        self.client.delete(&self.group_url(id)).await.map(|_| ())
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
