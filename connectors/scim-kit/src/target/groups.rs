//! The group operations of [`ScimTarget`]. Policy (spec b.1.4, c.3;
//! PingFederate's SCIM Provisioner):
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
//! `member_display` and `group_rename` ([`TargetOptions`](super::TargetOptions)) change what is
//! sent for members and names.

use provisio_core::ConnectorError;
use provisio_core::ops::{GroupRecord, TargetGroup};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use super::{GroupLookup, GroupUpdate, ScimTarget, conflict};
use crate::error::is_not_implemented;
use crate::filter;
use crate::group::{self, GroupPatch, MemberPatchStyle};
use crate::paging::resource_id;

impl ScimTarget {
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
