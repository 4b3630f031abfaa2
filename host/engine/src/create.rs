//! Creating a user exactly once: the lookup that comes before every
//! create, the create itself, and what a failed create leaves behind.
//!
//! A create whose answer did not come back cleanly (a timeout, a closed
//! connection, a lost answer, a 5xx) may have made the account. So a retry
//! never sends it blind: [`CreateTries`] remembers, across the retries of
//! one work item, that a create was sent, and every later attempt looks the
//! account up first (the cycle's listing of the target is not trusted again
//! for the user). The work item's [`IntentFate`] tells the recorder whether
//! the user's create intent is settled or kept for the next cycle's
//! settling (`settle.rs`), and with how many creates of unknown outcome,
//! which is what proves a later duplicate provisio's own (`dedupe.rs`).
//! Several accounts for one user are an [`ambiguity`], never guessed at.

use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::manifest::Capability;
use provisio_core::ops::{Operation, TargetUser, UserRecord};
use provisio_runtime::connection::Connection;
use provisio_state::UserStatus;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use crate::decide::Policy;
use crate::outcome::{Done, Event, IntentFate};
use crate::plan::{Work, for_update};

/// The creates one work item sent, across its retries within the cycle.
///
/// Once a create has been sent, the cycle's listing of the target is never
/// trusted again for the user: every retry looks the account up first, and
/// only an absent account is created again.
#[derive(Debug, Default)]
pub struct CreateTries {
    sent: AtomicU32,
    unknown: AtomicBool,
    /// A create is on its way and unanswered: if the work item is cut off
    /// now (the channel's timeout), its outcome is unknown.
    in_flight: AtomicBool,
    /// A create of unknown outcome may still land later ([`IntentFate::Keep`]).
    late: AtomicBool,
}

impl CreateTries {
    pub(super) fn sent(&self) -> u32 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Whether a create sent may have made an account nobody answered for.
    pub(super) fn unknown(&self) -> bool {
        self.unknown.load(Ordering::SeqCst) || self.in_flight.load(Ordering::SeqCst)
    }

    /// What becomes of a provision's create intent once its work item is
    /// done. It is kept when a create's outcome is unknown: that create may
    /// still land beside the account a later attempt made or found, and the
    /// intent is the proof that both are provisio's (see `dedupe`). It is
    /// kept too when the item ended `ambiguous` after a create of its own.
    pub(super) fn fate(&self, ambiguous: bool) -> IntentFate {
        let extra = self.sent().saturating_sub(1);
        if self.unknown() {
            let late = self.late.load(Ordering::SeqCst) || self.in_flight.load(Ordering::SeqCst);
            IntentFate::Keep { extra, late }
        } else if ambiguous && self.sent() > 0 {
            IntentFate::Keep { extra, late: false }
        } else {
            IntentFate::Settle
        }
    }
}

/// Whether a failed create may have created the account: the request may
/// have reached the target and the answer was lost, cut short or a server
/// error. A refusal (400, 401, 403, 404, 409, 429) or an operation the
/// connector does not have is known not to have created anything.
pub fn outcome_unknown(e: &ConnectorError) -> bool {
    !matches!(
        e.kind,
        ErrorKind::Invalid
            | ErrorKind::Auth
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::RateLimited
            | ErrorKind::Unsupported
            | ErrorKind::Config
    )
}

/// Whether a create that failed with `e` may still be carried out by the
/// target later: no answer came (a timeout, a connection error), or a
/// gateway gave up on the target (502, 504).
fn may_land_late(e: &ConnectorError) -> bool {
    matches!(e.kind, ErrorKind::Timeout | ErrorKind::Transport) || matches!(e.status, Some(502 | 504))
}

/// The marker of an ambiguity error: the target holds several accounts for
/// one user ([`ambiguity`]).
const AMBIGUOUS: &str = "accounts at the target share the Unique User Identifier";

/// The error of a user the target holds several `accounts` for, naming each.
pub fn ambiguity<'a>(unique_id: &str, accounts: impl IntoIterator<Item = &'a TargetUser>, why: &str) -> ConnectorError {
    let ids: Vec<&str> = accounts.into_iter().map(|a| a.id.as_str()).collect();
    ConnectorError::new(
        ErrorKind::Conflict,
        format!(
            "{} {AMBIGUOUS} '{unique_id}' ({}): {why}; remove the extra accounts at the target (or make the identifier \
             unique), then run `provisio channels retry`",
            ids.len(),
            ids.join(", ")
        ),
    )
    .retryable(false)
}

pub(super) fn is_ambiguity(e: &ConnectorError) -> bool {
    e.kind == ErrorKind::Conflict && (e.detail.contains(AMBIGUOUS) || e.detail.contains(" users at the target ("))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn provision(
    conn: &Connection,
    work: &Work,
    record: &UserRecord,
    active: bool,
    policy: &Policy,
    create_only: &BTreeSet<String>,
    timeout: Duration,
    tries: &CreateTries,
) -> Result<Done, ConnectorError> {
    if work.unique_id.is_empty() {
        return Err(ConnectorError::new(
            ErrorKind::Invalid,
            format!("source entry {} has no value for the Unique User Identifier; check the mapping", work.guid),
        )
        .retryable(false));
    }
    let status = if active { UserStatus::Active } else { UserStatus::Disabled };
    // The listing taken at the start of the cycle holds only until a create
    // is sent for the user; after that the account is looked up.
    let found = match (&work.at_target, tries.sent()) {
        (Some(listed), 0) => listed.iter().cloned().collect(),
        _ => find_accounts(conn, &work.unique_id, timeout).await?,
    };
    match found.as_slice() {
        [] => {}
        [existing] => {
            return link(conn, existing.clone(), record, active, policy, create_only, timeout)
                .await
                .map(|id| (Event::Linked, Some(id), Some(status)));
        }
        many => {
            let why = "provisio cannot tell which one is the user's, and deletes none it cannot prove it made";
            return Err(ambiguity(&work.unique_id, many, why));
        }
    }
    if !policy.options.user_create {
        return Ok((Event::Skipped("create needed, but User Create is cleared".into()), None, None));
    }
    let mut record = record.clone();
    record.active = active;
    tries.sent.fetch_add(1, Ordering::SeqCst);
    tries.in_flight.store(true, Ordering::SeqCst);
    let answer = conn.call::<TargetUser>(Operation::CreateUser { user: record.clone() }, timeout).await;
    tries.in_flight.store(false, Ordering::SeqCst);
    match answer {
        Ok(created) => Ok((Event::Created, Some(created.id), Some(status))),
        // Created meanwhile, or matched case-insensitively where the lookup
        // was not: look it up again and link, never fail the user for good.
        Err(e) if e.kind == ErrorKind::Conflict => {
            match find_accounts(conn, &work.unique_id, timeout).await?.as_slice() {
                [existing] => link(conn, existing.clone(), &record, active, policy, create_only, timeout)
                    .await
                    .map(|id| (Event::Linked, Some(id), Some(status))),
                [] => Err(e.context("the target reported a conflict but the lookup finds no such user")),
                many => Err(ambiguity(&work.unique_id, many, "the target refused the create as a conflict")),
            }
        }
        Err(e) => {
            if outcome_unknown(&e) {
                if may_land_late(&e) {
                    tries.late.store(true, Ordering::SeqCst);
                }
                // The account may exist now: the next attempt (this cycle's
                // retry, or the next cycle's settling) looks it up first.
                tries.unknown.store(true, Ordering::SeqCst);
            }
            Err(e)
        }
    }
}

/// Every account the target holds for `unique_id`: through `find_users`
/// where the connector has it, else `find_user` (which reports several
/// accounts as an error of its own).
pub async fn find_accounts(
    conn: &Connection,
    unique_id: &str,
    timeout: Duration,
) -> Result<Vec<TargetUser>, ConnectorError> {
    if conn.manifest.supports(Capability::UserFindAll) {
        conn.call(Operation::FindUsers { unique_id: unique_id.to_owned() }, timeout).await
    } else {
        let one: Option<TargetUser> =
            conn.call(Operation::FindUser { unique_id: unique_id.to_owned() }, timeout).await?;
        Ok(one.into_iter().collect())
    }
}

/// Link an existing target account, pushing the record onto it when User
/// Update allows.
async fn link(
    conn: &Connection,
    existing: TargetUser,
    record: &UserRecord,
    active: bool,
    policy: &Policy,
    create_only: &BTreeSet<String>,
    timeout: Duration,
) -> Result<String, ConnectorError> {
    if policy.options.user_update && conn.manifest.supports(Capability::UserUpdate) {
        let mut update = for_update(record, create_only);
        update.active = active;
        conn.call::<()>(Operation::UpdateUser { target_id: existing.id.clone(), user: update }, timeout).await?;
    }
    Ok(existing.id)
}
