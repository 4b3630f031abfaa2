//! Planning users in one cycle: turn the source's users and the state into
//! work items ([`Planner`]), each with its decision and the record to push.
//!
//! Planning is pure: it reads the snapshot and the state, and talks to no
//! target. `execute` carries the work items out.

use provisio_core::ops::{TargetUser, UserRecord};
use provisio_mapping::{Mapped, MappingSet};
use provisio_source::{SourceUser, Status};
use provisio_state::{Deprovision, UserState, UserStatus};
use std::collections::{BTreeSet, HashMap, HashSet};

use crate::decide::{Decision, Known, Policy, Source, decide};

/// One user's work this cycle.
#[derive(Debug, Clone)]
pub struct Work {
    pub guid: String,
    /// The Unique User Identifier's value (for lookups and messages).
    pub unique_id: String,
    pub decision: Decision,
    /// The record to push (None for users gone from the source).
    pub record: Option<UserRecord>,
    /// The hash of what the record pushes on update.
    pub hash: String,
    pub state: Option<UserState>,
    /// For a user to provision, what a listing of the target found
    /// ([`crate::listing`]): `Some(Some(account))` an account to link,
    /// `Some(None)` none (create at once); `None`: look the user up.
    pub at_target: Option<Option<TargetUser>>,
}

/// Where a user's state says it stands, for [`decide`].
pub fn known(state: Option<&UserState>) -> Known {
    match state {
        None => Known::Unknown,
        Some(s) if s.target_id.is_none() => Known::Unknown,
        Some(s) => match s.status {
            UserStatus::Active => Known::Active,
            UserStatus::Disabled | UserStatus::Deprovisioned(Deprovision::Disabled) => Known::Disabled,
            UserStatus::Pending => Known::Active,
            UserStatus::Deprovisioned(Deprovision::Deleted) => Known::Unknown,
        },
    }
}

/// What the cycle needs to map users.
pub struct MappingContext<'a> {
    pub mapping: &'a MappingSet,
    pub create_only: BTreeSet<String>,
    /// The field that holds the Unique User Identifier (`userName`, ...).
    pub identifier_field: String,
    pub hash_key: &'a [u8],
}

/// Map one source user.
pub fn map_user(ctx: &MappingContext<'_>, user: &SourceUser) -> (Mapped, String) {
    let lookup = |name: &str| user.entry.get(name).map(|v| v.to_vec());
    let mapped = ctx.mapping.apply(&lookup);
    let unique_id = mapped.values.get(&ctx.identifier_field).and_then(|v| v.first()).unwrap_or_default().to_owned();
    (mapped, unique_id)
}

/// Decides the users of one channel cycle as the source hands them over
/// ([`Planner::add`]), then the users the state knows that the source no
/// longer has ([`Planner::finish`]).
///
/// A user in step with the target ([`Decision::Nothing`]) leaves no work
/// behind unless `keep_unchanged` (a dry run lists every user): over a
/// large directory, memory then grows with the changes, not the size.
pub struct Planner<'a> {
    ctx: &'a MappingContext<'a>,
    state: &'a HashMap<String, UserState>,
    policy: &'a Policy,
    now: i64,
    /// Only this source user (`provision --user`).
    only: Option<&'a str>,
    keep_unchanged: bool,
    work: Vec<Work>,
    warnings: Vec<String>,
    /// The state's users the source handed over (keys borrowed from the
    /// state: no copy per user).
    seen: HashSet<&'a str>,
    in_scope: u64,
}

/// What a [`Planner`] decided.
#[derive(Debug, Default)]
pub struct Plan {
    /// The users with something to do (and, when kept, the unchanged).
    pub work: Vec<Work>,
    /// Mapping warnings, `user <id>: <warning>` (field names, never values).
    pub warnings: Vec<String>,
    /// Users the source had in scope (before `only`).
    pub in_scope: u64,
}

impl<'a> Planner<'a> {
    pub fn new(
        ctx: &'a MappingContext<'a>,
        state: &'a HashMap<String, UserState>,
        policy: &'a Policy,
        now: i64,
        only: Option<&'a str>,
        keep_unchanged: bool,
    ) -> Self {
        Planner {
            ctx,
            state,
            policy,
            now,
            only,
            keep_unchanged,
            work: Vec::new(),
            warnings: Vec::new(),
            seen: HashSet::with_capacity(state.len()),
            in_scope: 0,
        }
    }

    /// A dirty user whose source did not change waits for its next retry
    /// (crate::retry::next_retry_gap).
    fn waiting(&self, s: &UserState, changed: bool) -> bool {
        s.dirty
            && !changed
            && self.now < s.updated_at.saturating_add(crate::retry::next_retry_gap(s.attempts).as_secs() as i64)
    }

    /// Decide one user in scope.
    pub fn add(&mut self, user: SourceUser) {
        self.in_scope += 1;
        if self.only.is_some_and(|only| only != user.guid) {
            return;
        }
        let (ctx, policy) = (self.ctx, self.policy);
        let (mapped, unique_id) = map_user(ctx, &user);
        let hash = mapped.update_hash(&ctx.create_only, ctx.hash_key);
        let current = self.state.get(&user.guid);
        let enabled = user.status == Status::Enabled;
        let changed = current.is_none_or(|s| s.hash != hash);
        let dirty = current.is_some_and(|s| s.dirty);
        let decision = if current.is_some_and(|s| self.waiting(s, changed)) {
            Decision::Nothing
        } else {
            decide(Source::InScope { enabled, changed }, known(current), dirty, policy)
        };
        let mut warnings = mapped.warnings;
        if !enabled && policy.disabled_created_active && matches!(decision, Decision::Provision { .. }) {
            // The target cannot hold disabled users (Code42, spec b.3.2).
            warnings.push(
                "disabled in the source, but this target cannot hold disabled users: it is created active".to_owned(),
            );
        }
        self.warnings.extend(warnings.into_iter().map(|w| format!("user {unique_id}: {w}")));
        let SourceUser { guid, .. } = user;
        if let Some((key, _)) = self.state.get_key_value(&guid) {
            self.seen.insert(key.as_str());
        }
        if decision == Decision::Nothing && !self.keep_unchanged {
            return;
        }
        let record = UserRecord {
            source_id: guid.clone(),
            unique_id: unique_id.clone(),
            active: enabled || policy.disabled_created_active,
            attributes: mapped.values,
            clear: mapped.clear,
        };
        self.work.push(Work {
            guid,
            unique_id,
            decision,
            record: Some(record),
            hash,
            state: current.cloned(),
            at_target: None,
        });
    }

    /// Decide the users the state knows that the source did not hand over
    /// (deleted, or out of scope), and answer the plan.
    pub fn finish(mut self) -> Plan {
        let mut gone: Vec<&UserState> = self.state.values().filter(|s| !self.seen.contains(s.guid.as_str())).collect();
        gone.sort_by(|a, b| a.guid.cmp(&b.guid));
        for s in gone {
            let decision = if self.waiting(s, false) {
                Decision::Nothing
            } else {
                decide(Source::Gone, known(Some(s)), s.dirty, self.policy)
            };
            if decision == Decision::Nothing && !self.keep_unchanged {
                continue;
            }
            self.work.push(Work {
                guid: s.guid.clone(),
                unique_id: s.unique_id.clone(),
                decision,
                record: None,
                hash: s.hash.clone(),
                state: Some(s.clone()),
                at_target: None,
            });
        }
        Plan { work: self.work, warnings: self.warnings, in_scope: self.in_scope }
    }
}

/// The record without create-only fields (what an update pushes).
pub(crate) fn for_update(record: &UserRecord, create_only: &BTreeSet<String>) -> UserRecord {
    let mut r = record.clone();
    r.attributes.retain(|k, _| !create_only.contains(k));
    r
}
