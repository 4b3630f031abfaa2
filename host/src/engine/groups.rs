//! Groups in one cycle (spec a.7): after the users, every group in the
//! channel's group scope is matched by name (Group Name Source: CN or DN),
//! created, renamed, and given the source's membership (authoritative);
//! groups that left the scope are deleted.
//!
//! Members are the target ids of the group's users that this channel has
//! linked; nested groups are flattened to their users.

use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::ops::{GroupRecord, Operation, TargetGroup};
use provisio_source::Snapshot;
use provisio_state::{ChannelKey, GroupState, StateStore};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::connection::Connection;

/// The name a source group gets at the target.
pub fn group_name(conn: &Connection, dn: &str, cn: &str) -> String {
    match conn.config.settings.get("group_name_source").and_then(|v| v.as_str()) {
        Some(v) if v.eq_ignore_ascii_case("dn") => dn.to_owned(),
        _ => cn.to_owned(),
    }
}

/// What happened to the groups.
#[derive(Debug, Default, Clone)]
pub struct GroupCounts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub failed: Vec<(String, String)>,
}

fn members_hash(name: &str, members: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    members.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Push the channel's groups. `user_targets` maps source GUIDs to target ids.
pub async fn sync_groups(
    conn: &Connection,
    store: &StateStore,
    key: ChannelKey,
    snapshot: &Snapshot,
    user_targets: &HashMap<String, String>,
    timeout: Duration,
    now: i64,
    redactor: &crate::redact::Redactor,
) -> Result<GroupCounts, String> {
    let mut counts = GroupCounts::default();
    let state = store.groups(key).map_err(|e| e.to_string())?;
    let mut seen = BTreeSet::new();
    for g in &snapshot.groups {
        seen.insert(g.guid.clone());
        let name = group_name(conn, &g.dn, &g.cn);
        let mut members: Vec<String> = snapshot
            .flattened_member_guids(&g.guid)
            .iter()
            .filter_map(|guid| user_targets.get(guid.as_str()).cloned())
            .collect();
        members.sort();
        members.dedup();
        let hash = members_hash(&name, &members);
        let record = GroupRecord { source_id: g.guid.clone(), name: name.clone(), members: members.clone() };
        let previous = state.get(&g.guid);
        let unchanged = previous.is_some_and(|p| p.target_id.is_some() && p.members_hash == hash && !p.dirty);
        if !unchanged {
            conn.activate(super::ACTIVATION_TIMEOUT).await?;
        }
        let result = push_group(conn, previous, &record, &hash, timeout).await;
        match result {
            Ok((pushed, Some(target_id))) => {
                match pushed {
                    Pushed::Created => counts.created += 1,
                    Pushed::Updated => counts.updated += 1,
                    Pushed::Unchanged => {}
                }
                let new = GroupState {
                    guid: g.guid.clone(),
                    target_id: Some(target_id),
                    name: name.clone(),
                    members_hash: hash,
                    members,
                    dirty: false,
                    last_error: None,
                };
                store.upsert_group(key, &new, now).map_err(|e| e.to_string())?;
            }
            Ok((_, None)) => {}
            Err(e) => {
                counts.failed.push((name.clone(), e.to_string()));
                let mut new = previous.cloned().unwrap_or(GroupState {
                    guid: g.guid.clone(),
                    name: name.clone(),
                    ..Default::default()
                });
                if e.kind == ErrorKind::NotFound {
                    // Gone at the target: look it up or create it again next cycle.
                    new.target_id = None;
                }
                new.dirty = true;
                new.last_error = Some(redactor.redact(&e.to_string()));
                store.upsert_group(key, &new, now).map_err(|e| e.to_string())?;
            }
        }
    }
    for (guid, g) in &state {
        if seen.contains(guid) {
            continue;
        }
        if g.target_id.is_some() {
            conn.activate(super::ACTIVATION_TIMEOUT).await?;
        }
        let result = match &g.target_id {
            Some(id) => match conn.call::<()>(Operation::DeleteGroup { target_id: id.clone() }, timeout).await {
                Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
                other => other,
            },
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                counts.deleted += u64::from(g.target_id.is_some());
                store.remove_group(key, guid).map_err(|e| e.to_string())?;
            }
            Err(e) => counts.failed.push((g.name.clone(), e.to_string())),
        }
    }
    Ok(counts)
}

enum Pushed {
    Created,
    Updated,
    Unchanged,
}

async fn push_group(
    conn: &Connection,
    previous: Option<&GroupState>,
    record: &GroupRecord,
    hash: &str,
    timeout: Duration,
) -> Result<(Pushed, Option<String>), ConnectorError> {
    if let Some(prev) = previous
        && let Some(id) = &prev.target_id
    {
        if prev.members_hash == hash && !prev.dirty {
            return Ok((Pushed::Unchanged, Some(id.clone())));
        }
        let before: BTreeSet<&String> = prev.members.iter().collect();
        let after: BTreeSet<&String> = record.members.iter().collect();
        let added = after.difference(&before).map(|s| (*s).clone()).collect();
        let removed = before.difference(&after).map(|s| (*s).clone()).collect();
        let op = Operation::UpdateGroup { target_id: id.clone(), group: record.clone(), added, removed };
        return match conn.call::<()>(op, timeout).await {
            Ok(()) => Ok((Pushed::Updated, Some(id.clone()))),
            // Deleted at the target meanwhile: create it again next cycle.
            Err(e) if e.kind == ErrorKind::NotFound => {
                Err(e.context(format!("group '{}' vanished at the target", record.name)))
            }
            Err(e) => Err(e),
        };
    }
    let found: Option<TargetGroup> = conn.call(Operation::FindGroup { name: record.name.clone() }, timeout).await?;
    match found {
        Some(existing) => {
            // Source membership is authoritative: overwrite.
            let current: BTreeSet<&String> = existing.members.iter().collect();
            let wanted: BTreeSet<&String> = record.members.iter().collect();
            let added = wanted.difference(&current).map(|s| (*s).clone()).collect();
            let removed = current.difference(&wanted).map(|s| (*s).clone()).collect();
            let op = Operation::UpdateGroup { target_id: existing.id.clone(), group: record.clone(), added, removed };
            conn.call::<()>(op, timeout).await?;
            Ok((Pushed::Updated, Some(existing.id)))
        }
        None => {
            let created: TargetGroup = conn.call(Operation::CreateGroup { group: record.clone() }, timeout).await?;
            Ok((Pushed::Created, Some(created.id)))
        }
    }
}
