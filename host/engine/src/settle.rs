//! Settling creates whose outcome is unknown, before a cycle decides
//! anything.
//!
//! A create intent (`provisio_state::intents`) outlives its cycle when the
//! create's outcome is unknown: the run was killed after sending it, or the
//! create timed out, lost its answer or met a 5xx. The account may exist at
//! the target, or may still appear (a request held somewhere on the way). So
//! at the start of each cycle, before the source's users are decided, every
//! such intent is looked up at the target by its Unique User Identifier:
//!
//! - **one account**: it is linked (its state row gets the target id, marked
//!   dirty so this cycle pushes the current record onto it), and then the
//!   normal decision applies: a user disabled or removed since is
//!   deprovisioned by the Remove User Action, through the deletion guard;
//! - **none**: the intent is cleared only by a lookup at least
//!   [`settle_time`] after the last create was given up on (noted when the
//!   failure was recorded) or, after a run died, after the first lookup that
//!   found nothing. Until then the user is *waiting*: nothing is created for
//!   it, so a create held on its way cannot land beside a second one;
//! - **several**: the duplicates are repaired when provisio can prove it
//!   made them all ([`crate::dedupe`]), else the user is reported
//!   with every target id and retried on the growing schedule.
//!
//! With many intents (a run killed in the middle of an initial sync) the
//! target is listed once instead of looked up per user, as a cycle does for
//! its creates (see [`crate::listing`]).

use futures_util::StreamExt as _;
use provisio_core::error::ConnectorError;
use provisio_core::manifest::Capability;
use provisio_core::ops::TargetUser;
use provisio_state::{ChannelKey, Intent, UserState, UserStatus};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::audit::{AuditEvent, now_rfc3339};
use crate::create::{ambiguity, find_accounts};
use crate::cycle::ChannelRun;
use crate::dedupe::{self, Repair};
use crate::error::ChannelError;
use crate::listing;
use crate::report::ChannelReport;

/// How long after a lookup that found no account a create of unknown
/// outcome may still land: twice the channel's timeout (a request is given
/// up by the client after one timeout; the second covers one held on the
/// way, as far as this side can see). Documented in docs/configuration.md.
pub fn settle_time(timeout: Duration) -> Duration {
    timeout * 2
}

/// What settling found, for the cycle that follows.
#[derive(Debug, Default)]
pub struct Settlement {
    /// Users whose earlier create may still land: this cycle creates
    /// nothing for them.
    pub waiting: HashSet<String>,
    pub linked: u64,
    pub cleared: u64,
    /// Duplicate accounts removed.
    pub deduplicated: u64,
    /// Users left with several accounts provisio cannot prove it made.
    pub ambiguous: u64,
}

impl Settlement {
    /// One line for the log: how many creates were settled and how.
    pub fn describe(&self, settled: usize) -> String {
        format!(
            "{settled} create(s) of an earlier run or cycle had an unknown outcome: {} found and linked, {} not found \
             and cleared, {} duplicate account(s) removed, {} ambiguous, {} waiting for a late create to land",
            self.linked,
            self.cleared,
            self.deduplicated,
            self.ambiguous,
            self.waiting.len()
        )
    }
}

/// One intent's lookup.
type Looked = (Intent, Result<Vec<TargetUser>, ConnectorError>);

impl ChannelRun<'_> {
    /// Settle the channel's unsettled creates against the target (see the
    /// module documentation), updating `state` and the store. `cycle` is the
    /// audit's cycle id.
    pub(super) async fn settle_creates(
        &self,
        key: ChannelKey,
        cycle: i64,
        intents: Vec<Intent>,
        state: &mut HashMap<String, UserState>,
        report: &mut ChannelReport,
    ) -> Result<Settlement, ChannelError> {
        let mut out = Settlement::default();
        let settled = intents.len();
        if intents.is_empty() {
            return Ok(out);
        }
        self.conn.activate(crate::ACTIVATION_TIMEOUT).await?;
        let timeout = Duration::from_secs(self.channel.timeout);
        let looked = self.look_up(intents, timeout).await;
        let now = crate::audit::now_unix();
        // Whether no create of an intent noted `since` can land any more.
        let quiet = settle_time(timeout).as_secs() as i64;
        let landed = |since: i64| now >= since.saturating_add(quiet);
        let linked_before = crate::cycle::linked_count(state);
        let approved = self.store.approval(key)?.is_some();
        let mut repairs = Vec::new();
        let mut writes: Vec<(Intent, Fate)> = Vec::new();
        for (intent, found) in looked {
            let fate = match found {
                Err(e) => {
                    // Nothing is known: keep the intent, create nothing.
                    let e = self.redactor.redact(&e.to_string());
                    report.warnings.push(format!(
                        "user {}: the outcome of an earlier create is unknown and looking it up failed ({e}); \
                         nothing is created for it until it is settled",
                        intent.unique_id
                    ));
                    out.waiting.insert(intent.guid.clone());
                    Fate::Wait
                }
                Ok(accounts) if accounts.is_empty() => match intent.checked_at {
                    Some(since) if landed(since) => {
                        out.cleared += 1;
                        Fate::Clear
                    }
                    _ => {
                        out.waiting.insert(intent.guid.clone());
                        Fate::Absent
                    }
                },
                Ok(mut accounts) if accounts.len() == 1 => {
                    let account = accounts.remove(0);
                    // A late create may still land beside it until the
                    // settling time has passed: keep the intent till then.
                    let settled = intent.checked_at.is_none_or(landed);
                    let linked =
                        state.get(&intent.guid).and_then(|s| s.target_id.as_deref()) == Some(account.id.as_str());
                    if linked {
                        if settled { Fate::Clear } else { Fate::Wait }
                    } else {
                        out.linked += 1;
                        Fate::Link { account, settled }
                    }
                }
                Ok(accounts) => {
                    let linked = state.get(&intent.guid).and_then(|s| s.target_id.clone());
                    match dedupe::plan(&intent, linked.as_deref(), accounts) {
                        Ok(repair) => {
                            repairs.push((intent, repair));
                            continue;
                        }
                        Err(refused) => {
                            // Reported, and retried on the growing schedule
                            // from the next cycle; the intent proves nothing
                            // more.
                            out.ambiguous += 1;
                            out.waiting.insert(intent.guid.clone());
                            Fate::Ambiguous(refused)
                        }
                    }
                }
            };
            writes.push((intent, fate));
        }
        // Removing duplicates deletes (or disables) accounts: the deletion
        // guard judges them as it judges deprovisions.
        let removals: u64 = repairs.iter().map(|(_, r)| r.remove.len() as u64).sum();
        let verdict = crate::guard::judge(&self.channel.deletion_guard, removals, linked_before, u64::MAX);
        let held = matches!(verdict, crate::guard::Verdict::Hold { .. }) && !approved;
        if let crate::guard::Verdict::Hold { reason } = &verdict
            && held
        {
            let reason = format!("{reason} (duplicate accounts of retried creates)");
            report.warnings.push(crate::guard::hold_message(
                &reason,
                "none removed",
                &self.conn.name,
                &self.channel.name,
            ));
        }
        for (intent, repair) in repairs {
            let fate = if held {
                out.waiting.insert(intent.guid.clone());
                Fate::Held(repair)
            } else {
                match self.remove_duplicates(&repair, cycle, &intent, timeout).await {
                    Ok(removed) => {
                        out.deduplicated += removed;
                        let linked = state.get(&intent.guid).and_then(|s| s.target_id.as_deref());
                        if linked == Some(repair.keep.id.as_str()) {
                            Fate::Clear
                        } else {
                            out.linked += 1;
                            Fate::Link { account: repair.keep, settled: true }
                        }
                    }
                    Err(e) => {
                        out.waiting.insert(intent.guid.clone());
                        Fate::Failed(e.to_string())
                    }
                }
            };
            writes.push((intent, fate));
        }
        self.record_settlement(key, cycle, now, writes, state)?;
        report.summary.linked += out.linked;
        report.summary.deduplicated += out.deduplicated;
        if out.deduplicated > 0 {
            report.warnings.push(format!(
                "{} duplicate account(s) made by provisio's own retried creates were removed (audited as DEDUPLICATE)",
                out.deduplicated
            ));
        }
        let line = out.describe(settled);
        tracing::info!(target: "provisio::workflow", connection = %self.conn.name, channel = %self.channel.name, "{line}");
        Ok(out)
    }

    /// Look every intent up: from one listing of the target when there are
    /// many and the connector lists users, else one by one, Max Threads at
    /// a time, each retried within the channel's timeout.
    async fn look_up(&self, intents: Vec<Intent>, timeout: Duration) -> Vec<Looked> {
        let index = if intents.len() >= listing::MIN_PROVISIONS && self.conn.manifest.supports(Capability::UserList) {
            listing::index_target(self.conn, intents.len(), timeout).await.ok()
        } else {
            None
        };
        futures_util::stream::iter(intents)
            .map(|intent| {
                let listed = index.as_ref().and_then(|i| i.find(&intent.unique_id));
                async move {
                    let found = match listed {
                        Some(listed) => Ok(listed.into_iter().collect()),
                        None => {
                            crate::retry::with_retries(timeout, || find_accounts(self.conn, &intent.unique_id, timeout))
                                .await
                        }
                    };
                    (intent, found)
                }
            })
            .buffer_unordered(self.channel.max_threads.max(1))
            .collect()
            .await
    }

    /// Remove a repair's duplicates (delete, or disable where the target
    /// cannot delete), auditing each; the number removed.
    async fn remove_duplicates(
        &self,
        repair: &Repair,
        cycle: i64,
        intent: &Intent,
        timeout: Duration,
    ) -> Result<u64, ChannelError> {
        let mut removed = 0;
        for account in &repair.remove {
            let result = crate::retry::with_retries(timeout, || dedupe::remove(self.conn, &account.id, timeout)).await;
            let (ok, cause) = match &result {
                Ok(how) => (true, format!("duplicate of account {} made by retried creates: {how}", repair.keep.id)),
                Err(e) => (false, format!("removing a duplicate of account {} failed: {e}", repair.keep.id)),
            };
            self.audit_user(cycle, "DEDUPLICATE", &intent.guid, &account.id, ok, cause);
            match result {
                Ok(_) => removed += 1,
                Err(e) => return Err(ChannelError::Connector(self.redactor.redact(&e.to_string()))),
            }
        }
        Ok(removed)
    }

    /// Audit one settling event of user `guid` on account `target_id`.
    fn audit_user(&self, cycle: i64, event_type: &str, guid: &str, target_id: &str, ok: bool, cause: String) {
        self.audit.record(AuditEvent {
            time: now_rfc3339(),
            cycle_id: cycle,
            connection: &self.conn.name,
            channel: &self.channel.name,
            event_type,
            source_id: guid,
            target_id: Some(target_id),
            is_success: ok,
            non_success_cause: Some(cause),
        });
    }

    /// Store what settling decided, in one transaction, and audit the links.
    fn record_settlement(
        &self,
        key: ChannelKey,
        cycle: i64,
        now: i64,
        writes: Vec<(Intent, Fate)>,
        state: &mut HashMap<String, UserState>,
    ) -> Result<(), ChannelError> {
        let mut rows: Vec<UserState> = Vec::new();
        let mut absent = Vec::new();
        let mut settle = Vec::new();
        for (intent, fate) in writes {
            let ambiguous = matches!(fate, Fate::Ambiguous(_));
            let mut row = state.get(&intent.guid).cloned().unwrap_or_else(|| UserState {
                guid: intent.guid.clone(),
                unique_id: intent.unique_id.clone(),
                created_at: now,
                status: UserStatus::Pending,
                ..UserState::default()
            });
            match fate {
                Fate::Wait => {}
                Fate::Absent => absent.push(intent.guid.clone()),
                Fate::Clear => settle.push(intent.guid.clone()),
                Fate::Link { account, settled } => {
                    row.status = if account.active == Some(false) { UserStatus::Disabled } else { UserStatus::Active };
                    row.target_id = Some(account.id.clone());
                    // Pushed this cycle: the account may hold an older record.
                    row.dirty = true;
                    row.attempts = 0;
                    row.last_error = None;
                    row.updated_at = now;
                    let cause = "an earlier create whose outcome was unknown had made it".to_owned();
                    self.audit_user(cycle, "LINK", &intent.guid, &account.id, true, cause);
                    if settled {
                        settle.push(intent.guid.clone());
                    }
                    rows.push(row);
                }
                Fate::Ambiguous(error) | Fate::Failed(error) => {
                    if ambiguous {
                        settle.push(intent.guid.clone());
                    }
                    row.dirty = true;
                    row.last_error = Some(self.redactor.redact(&error));
                    row.attempts = row.attempts.saturating_add(1);
                    row.updated_at = now;
                    rows.push(row);
                }
                Fate::Held(repair) => {
                    let accounts = std::iter::once(&repair.keep).chain(&repair.remove);
                    let e =
                        ambiguity(&intent.unique_id, accounts, "removing the duplicates is held by the deletion guard");
                    row.dirty = true;
                    row.last_error = Some(self.redactor.redact(&e.to_string()));
                    row.updated_at = now;
                    rows.push(row);
                }
            }
        }
        self.store
            .transaction(|tx| {
                for row in &rows {
                    tx.upsert_user(key, row)?;
                }
                for guid in &settle {
                    tx.settle_intent(key, guid)?;
                }
                for guid in &absent {
                    tx.note_intent_absent(key, guid, now)?;
                }
                Ok(())
            })
            .map_err(ChannelError::SettledIntents)?;
        self.audit.flush();
        for row in rows {
            state.insert(row.guid.clone(), row);
        }
        Ok(())
    }
}

/// What settling does with one intent.
enum Fate {
    /// The lookup failed, or the linked account was found while a late
    /// create may still land: keep the intent.
    Wait,
    /// Not found, not long enough: note the lookup, keep the intent.
    Absent,
    /// Not found twice, a settling time apart: remove the intent.
    Clear,
    /// Found (or repaired down to) one account the state does not link yet:
    /// link it; remove the intent when `settled` (no late create can land).
    Link { account: TargetUser, settled: bool },
    /// Several accounts provisio cannot prove it made: report them.
    Ambiguous(String),
    /// The duplicates' removal is held by the deletion guard.
    Held(Repair),
    /// Removing a duplicate failed: keep the intent, retry next cycle.
    Failed(String),
}
