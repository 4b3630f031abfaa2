//! Users in one cycle: turn the source's users and the state into work
//! items ([`Planner`]), and carry one work item out against the target
//! ([`execute`]).
//!
//! Planning is pure (it reads the snapshot and the state); executing talks
//! to the connector and answers an [`Outcome`] that the cycle writes to the
//! state store and the audit log. Work items of a channel run concurrently,
//! at most Max Threads at a time.

use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::manifest::{Capability, RemoveUserAction};
use provisio_core::ops::{Operation, TargetUser, UserRecord};
use provisio_mapping::{Mapped, MappingSet};
use provisio_source::{SourceUser, Status};
use provisio_state::{Deprovision, UserState, UserStatus};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use crate::create::{CreateTries, IntentFate, is_ambiguity, provision};
use crate::decide::{Decision, Known, Policy, Source, decide};
use provisio_runtime::connection::Connection;

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

/// What happened to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Created,
    Linked,
    Updated,
    Disabled,
    Enabled,
    Deleted,
    /// Nothing was needed.
    Unchanged,
    /// Not provisioned by design, or suppressed by a cleared option.
    Skipped(String),
    Failed(ConnectorError),
}

impl Event {
    /// The audit log's event type.
    pub fn audit_type(&self, decision: &Decision) -> &'static str {
        match self {
            Event::Created => "CREATE",
            Event::Linked => "LINK",
            Event::Updated => "UPDATE",
            Event::Disabled => "DISABLE",
            Event::Enabled => "ENABLE",
            Event::Deleted => "DELETE",
            Event::Unchanged => "NONE",
            Event::Skipped(_) => "SKIP",
            Event::Failed(_) => match decision {
                Decision::Provision { .. } => "CREATE",
                Decision::Update => "UPDATE",
                Decision::Enable => "ENABLE",
                Decision::Deprovision(RemoveUserAction::Disable) => "DISABLE",
                Decision::Deprovision(RemoveUserAction::Delete) => "DELETE",
                _ => "NONE",
            },
        }
    }
}

/// The result of one work item: the event and the state to store
/// (`None` removes the user from the state).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub work: Work,
    pub event: Event,
    pub new_state: Option<UserState>,
    /// What becomes of the user's create intent (see [`CreateTries`]).
    pub intent: IntentFate,
    /// The failure is an ambiguity: the target holds several accounts for
    /// the user (never counted toward quarantine).
    pub ambiguous: bool,
}

/// The record without create-only fields (what an update pushes).
pub(super) fn for_update(record: &UserRecord, create_only: &BTreeSet<String>) -> UserRecord {
    let mut r = record.clone();
    r.attributes.retain(|k, _| !create_only.contains(k));
    r
}

/// Carry out one work item against the target.
pub async fn execute(
    conn: &Connection,
    work: Work,
    policy: &Policy,
    create_only: &BTreeSet<String>,
    timeout: Duration,
    now: i64,
) -> Outcome {
    let base = work.state.clone().unwrap_or_else(|| UserState {
        guid: work.guid.clone(),
        unique_id: work.unique_id.clone(),
        created_at: now,
        ..UserState::default()
    });
    // Retryable failures are retried within the channel's timeout; the
    // whole item (retries included) is cut there too (spec a.4.1).
    let tries = CreateTries::default();
    let attempts = crate::retry::with_retries(timeout, || run(conn, &work, policy, create_only, timeout, &tries));
    // (plus the watchdog's grace, so a blocked call can still be diagnosed).
    let result = match tokio::time::timeout(timeout + provisio_runtime::connection::WEDGE_GRACE * 2, attempts).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorError::new(
            ErrorKind::Timeout,
            format!("did not finish within the channel's timeout of {} s; retried next cycle", timeout.as_secs()),
        )),
    };
    let ambiguous = result.as_ref().err().is_some_and(is_ambiguity);
    let intent = match work.decision {
        Decision::Provision { .. } => tries.fate(ambiguous),
        _ => IntentFate::None,
    };
    let (event, new_state) = match result {
        Ok((event, target_id, status)) => {
            let new_state = match (&event, status) {
                (Event::Deleted, _) => None,
                (_, Some(status)) => Some(UserState {
                    target_id: target_id.or(base.target_id.clone()),
                    unique_id: work.unique_id.clone(),
                    hash: if matches!(event, Event::Skipped(_)) { base.hash.clone() } else { work.hash.clone() },
                    status,
                    dirty: false,
                    last_error: None,
                    attempts: 0,
                    updated_at: now,
                    ..base.clone()
                }),
                (_, None) => work.state.clone(),
            };
            (event, new_state)
        }
        Err(err) => {
            // A linked account that vanished at the target is looked up and
            // provisioned again next cycle, not updated forever.
            let vanished =
                err.kind == ErrorKind::NotFound && matches!(work.decision, Decision::Update | Decision::Enable);
            // The hash of what was attempted: a user whose source does not
            // change again waits for its next retry on the growing schedule
            // (`dirty` makes sure it is pushed then).
            let new_state = UserState {
                target_id: if vanished { None } else { base.target_id.clone() },
                status: if vanished { UserStatus::Pending } else { base.status },
                hash: work.hash.clone(),
                dirty: true,
                last_error: Some(err.to_string()),
                attempts: base.attempts.saturating_add(1),
                updated_at: now,
                ..base.clone()
            };
            (Event::Failed(err), Some(new_state))
        }
    };
    Outcome { work, event, new_state, intent, ambiguous }
}

pub(super) type Done = (Event, Option<String>, Option<UserStatus>);

async fn run(
    conn: &Connection,
    work: &Work,
    policy: &Policy,
    create_only: &BTreeSet<String>,
    timeout: Duration,
    tries: &CreateTries,
) -> Result<Done, ConnectorError> {
    let target_id = work.state.as_ref().and_then(|s| s.target_id.clone());
    match &work.decision {
        Decision::Nothing | Decision::Held(_) => Ok((Event::Unchanged, None, None)),
        Decision::Skip { reason } => Ok((Event::Skipped((*reason).to_owned()), None, None)),
        Decision::Suppressed { action, option } => {
            Ok((Event::Skipped(format!("{action} needed, but {option} is cleared")), None, None))
        }
        Decision::Provision { active } => {
            let record = work.record.as_ref().ok_or_else(|| ConnectorError::internal("no record to provision"))?;
            provision(conn, work, record, *active, policy, create_only, timeout, tries).await
        }
        Decision::Update => {
            let id = target_id.ok_or_else(|| ConnectorError::internal("update without a target id"))?;
            let record = work.record.as_ref().ok_or_else(|| ConnectorError::internal("no record to update"))?;
            update_or_relink(conn, work, &id, record, create_only, timeout).await
        }
        Decision::Enable => {
            let id = target_id.ok_or_else(|| ConnectorError::internal("enable without a target id"))?;
            let record = work.record.as_ref().ok_or_else(|| ConnectorError::internal("no record to enable"))?;
            let mut record = for_update(record, create_only);
            record.active = true;
            if conn.manifest.supports(Capability::UserEnable) {
                conn.call::<()>(Operation::EnableUser { target_id: id.clone() }, timeout).await?;
            }
            if conn.manifest.supports(Capability::UserUpdate) && policy.options.user_update {
                conn.call::<()>(Operation::UpdateUser { target_id: id.clone(), user: record }, timeout).await?;
            }
            Ok((Event::Enabled, Some(id), Some(UserStatus::Active)))
        }
        Decision::Deprovision(RemoveUserAction::Disable) => {
            let id = target_id.ok_or_else(|| ConnectorError::internal("disable without a target id"))?;
            match conn.call::<()>(Operation::DisableUser { target_id: id.clone() }, timeout).await {
                Ok(()) => Ok((Event::Disabled, Some(id), Some(UserStatus::Deprovisioned(Deprovision::Disabled)))),
                // Gone at the target: nothing left to disable; forget it.
                Err(e) if e.kind == ErrorKind::NotFound => Ok((Event::Deleted, None, None)),
                Err(e) => Err(e),
            }
        }
        Decision::Deprovision(RemoveUserAction::Delete) => {
            let id = target_id.ok_or_else(|| ConnectorError::internal("delete without a target id"))?;
            match conn.call::<()>(Operation::DeleteUser { target_id: id }, timeout).await {
                Ok(()) => Ok((Event::Deleted, None, None)),
                Err(e) if e.kind == ErrorKind::NotFound => Ok((Event::Deleted, None, None)),
                Err(e) => Err(e),
            }
        }
    }
}

/// Update; if the account vanished at the target, provision it again.
async fn update_or_relink(
    conn: &Connection,
    work: &Work,
    id: &str,
    record: &UserRecord,
    create_only: &BTreeSet<String>,
    timeout: Duration,
) -> Result<Done, ConnectorError> {
    let update = for_update(record, create_only);
    let active = record.active;
    match conn.call::<()>(Operation::UpdateUser { target_id: id.to_owned(), user: update }, timeout).await {
        Ok(()) => Ok((Event::Updated, Some(id.to_owned()), Some(if active { UserStatus::Active } else { UserStatus::Disabled }))),
        Err(e) if e.kind == ErrorKind::NotFound => Err(e.context(format!(
            "user {} is linked to target id {id}, which no longer exists; it will be looked up and provisioned again next cycle",
            work.unique_id
        ))),
        Err(e) => Err(e),
    }
}
