//! Carrying out one work item against the target ([`execute`]): the
//! operation its decision calls for, retried within the channel's timeout,
//! answering an [`Outcome`] that the cycle records. Work items of a channel
//! run concurrently, at most Max Threads at a time.

use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::manifest::{Capability, RemoveUserAction};
use provisio_core::ops::{Operation, UserRecord};
use provisio_runtime::connection::Connection;
use provisio_state::{Deprovision, UserState, UserStatus};
use std::collections::BTreeSet;
use std::time::Duration;

use crate::create::{CreateTries, is_ambiguity, provision};
use crate::decide::{Decision, Policy};
use crate::outcome::{Done, Event, IntentFate, Outcome};
use crate::plan::{Work, for_update};

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
