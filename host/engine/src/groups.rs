//! Groups in one cycle (spec a.7): after the users, every group in the
//! channel's group scope is matched by name (Group Name Source: CN or DN),
//! created, renamed, and given the source's membership (authoritative);
//! groups that left the scope are deleted.
//!
//! Members are the target ids of the group's users that this channel has
//! linked; nested groups are flattened to their users.
//!
//! Deleting a group at the target takes everyone's access through it, so
//! the deletions go through the accidental-deletion guard
//! ([`crate::guard::judge_of`] with [`Subject::Groups`]): when too many of
//! the channel's managed groups would go at once, or any while the source
//! returned no group, they are held (recorded in the state, listed by
//! `channels list` and the status page) until `channels approve`. Every
//! group create, update and delete is audited (`GROUP_CREATE`,
//! `GROUP_UPDATE`, `GROUP_DELETE`).
//!
//! A group operation whose failure is retryable (a busy target, a timeout)
//! is retried within the channel's timeout, as a user's is
//! ([`crate::retry`]); one still failing stays dirty for the next cycle.

use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::ops::{GroupRecord, Operation, TargetGroup};
use provisio_redact::Redactor;
use provisio_runtime::connection::Connection;
use provisio_source::Snapshot;
use provisio_state::{ChannelKey, GroupState, HeldGroup, StateStore};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::audit::{Audit, AuditEvent, now_rfc3339};
use crate::error::ChannelError;
use crate::guard::{DeletionGuard, Subject, Verdict, judge_of};
use crate::retry::with_retries;

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
    /// Deletions held by the deletion guard, with its reason.
    pub held: Option<(u64, String)>,
}

fn members_hash(name: &str, members: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    members.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// One channel's groups in one cycle: where they go and what guards them.
pub struct GroupRun<'a> {
    pub conn: &'a Connection,
    pub store: &'a StateStore,
    pub key: ChannelKey,
    pub channel: &'a str,
    pub audit: &'a Audit,
    pub cycle: i64,
    pub redactor: &'a Redactor,
    pub guard: &'a DeletionGuard,
    /// An operator released the held deletions (`channels approve`).
    pub approved: bool,
    pub timeout: Duration,
}

impl GroupRun<'_> {
    /// Push the channel's groups. `user_targets` maps source GUIDs to target ids.
    pub async fn sync(
        &self,
        snapshot: &Snapshot,
        user_targets: &HashMap<String, String>,
        now: i64,
    ) -> Result<GroupCounts, ChannelError> {
        let (conn, store, key, timeout) = (self.conn, self.store, self.key, self.timeout);
        let mut counts = GroupCounts::default();
        let state = store.groups(key)?;
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
                conn.activate(crate::ACTIVATION_TIMEOUT).await?;
            }
            // Retried within the channel's timeout like a user's operation;
            // a create is always preceded by a lookup by name, so a retry
            // after a lost answer finds the group instead of making another.
            let result = with_retries(timeout, || push_group(conn, previous, &record, &hash, timeout)).await;
            match result {
                Ok((pushed, Some(target_id))) => {
                    match pushed {
                        Pushed::Created => counts.created += 1,
                        Pushed::Updated => counts.updated += 1,
                        Pushed::Unchanged => {}
                    }
                    if let Some(event) = pushed.audit_type() {
                        self.audit_event(event, &g.guid, Some(&target_id), None);
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
                    store.upsert_group(key, &new, now)?;
                }
                Ok((_, None)) => {}
                Err(e) => {
                    counts.failed.push((name.clone(), e.to_string()));
                    let event =
                        if previous.is_some_and(|p| p.target_id.is_some()) { "GROUP_UPDATE" } else { "GROUP_CREATE" };
                    let target_id = previous.and_then(|p| p.target_id.as_deref());
                    self.audit_event(event, &g.guid, target_id, Some(e.to_string()));
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
                    new.last_error = Some(self.redactor.redact(&e.to_string()));
                    store.upsert_group(key, &new, now)?;
                }
            }
        }
        let gone: Vec<&GroupState> = state.iter().filter(|(guid, _)| !seen.contains(*guid)).map(|(_, g)| g).collect();
        self.delete_gone(&gone, &state, snapshot.groups.len() as u64, now, &mut counts).await?;
        Ok(counts)
    }

    /// Delete the groups that left the scope, unless the deletion guard
    /// holds them: then they stay at the target and in the state, and are
    /// recorded as held.
    async fn delete_gone(
        &self,
        gone: &[&GroupState],
        state: &HashMap<String, GroupState>,
        source_groups: u64,
        now: i64,
        counts: &mut GroupCounts,
    ) -> Result<(), ChannelError> {
        let (store, key) = (self.store, self.key);
        let managed = state.values().filter(|g| g.target_id.is_some()).count() as u64;
        let deletions: Vec<(&GroupState, &String)> =
            gone.iter().filter_map(|g| g.target_id.as_ref().map(|id| (*g, id))).collect();
        match judge_of(self.guard, Subject::Groups, deletions.len() as u64, managed, source_groups) {
            Verdict::Hold { reason } if !self.approved => {
                let held: Vec<HeldGroup> = deletions
                    .iter()
                    .map(|(g, id)| HeldGroup {
                        guid: g.guid.clone(),
                        name: g.name.clone(),
                        target_id: (*id).clone(),
                        held_at: now,
                    })
                    .collect();
                store.set_held_groups(key, &held)?;
                counts.held = Some((held.len() as u64, reason));
                // A group never pushed has nothing at the target to hold.
                for g in gone.iter().filter(|g| g.target_id.is_none()) {
                    store.remove_group(key, &g.guid)?;
                }
                return Ok(());
            }
            _ => store.set_held_groups(key, &[])?,
        }
        for g in gone {
            let result = match &g.target_id {
                Some(id) => {
                    self.conn.activate(crate::ACTIVATION_TIMEOUT).await?;
                    let delete =
                        || self.conn.call::<()>(Operation::DeleteGroup { target_id: id.clone() }, self.timeout);
                    let result = match with_retries(self.timeout, delete).await {
                        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
                        other => other,
                    };
                    self.audit_event("GROUP_DELETE", &g.guid, Some(id), result.as_ref().err().map(|e| e.to_string()));
                    result
                }
                None => Ok(()),
            };
            match result {
                Ok(()) => {
                    counts.deleted += u64::from(g.target_id.is_some());
                    store.remove_group(key, &g.guid)?;
                }
                Err(e) => counts.failed.push((g.name.clone(), e.to_string())),
            }
        }
        Ok(())
    }

    fn audit_event(&self, event_type: &str, guid: &str, target_id: Option<&str>, failure: Option<String>) {
        self.audit.record(AuditEvent {
            time: now_rfc3339(),
            cycle_id: self.cycle,
            connection: &self.conn.name,
            channel: self.channel,
            event_type,
            source_id: guid,
            target_id,
            is_success: failure.is_none(),
            non_success_cause: failure,
        });
    }
}

enum Pushed {
    Created,
    Updated,
    Unchanged,
}

impl Pushed {
    fn audit_type(&self) -> Option<&'static str> {
        match self {
            Pushed::Created => Some("GROUP_CREATE"),
            Pushed::Updated => Some("GROUP_UPDATE"),
            Pushed::Unchanged => None,
        }
    }
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
