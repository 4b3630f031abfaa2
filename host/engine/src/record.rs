//! Writing a cycle's outcomes: the report's counts and failures at once, the
//! audit log and the state store in batches ([`Recorder`]).
//!
//! A cycle over many users would otherwise spend most of its time in SQLite
//! committing one small transaction per user. The recorder keeps the
//! outcomes' state writes (the user's new row, or its removal, and the
//! settling of its create intent) and commits them together, every
//! [`BATCH`] outcomes or [`MAX_AGE`] after the oldest unwritten one, and
//! when the cycle ends.
//!
//! Crash safety does not depend on the batch: the intent to create a user
//! is committed before the create is sent (see `cycle.rs`), and stays
//! unsettled until the batch holding the user's row commits, or, when the
//! create's outcome is unknown, until a later cycle settles it at the target
//! (`settle.rs`). A run killed in between leaves the intent, and the next
//! cycle looks the account up before it decides anything, and links it
//! instead of creating it again. Other lost writes are repeated harmlessly:
//! an update or disable is sent again, a delete finds the account gone.

use provisio_redact::Redactor;
use provisio_state::{ChannelKey, StateStore, UserState};
use std::time::{Duration, Instant};

use crate::audit::{Audit, AuditEvent, now_rfc3339};
use crate::decide::Decision;
use crate::error::ChannelError;
use crate::outcome::{Event, IntentFate, Outcome};
use crate::report::ChannelReport;

/// Outcomes written to the state store in one transaction, at most.
pub const BATCH: usize = 500;

/// How long an outcome may wait for its batch.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// One pending state write.
enum Write {
    Upsert { user: UserState, intent: IntentFate },
    Remove { guid: String, intent: IntentFate },
}

/// Records one channel cycle's outcomes (see the module documentation).
pub struct Recorder<'a> {
    pub store: &'a StateStore,
    pub audit: &'a Audit,
    pub redactor: &'a Redactor,
    pub connection: &'a str,
    pub channel: &'a str,
    pub key: ChannelKey,
    pub cycle: i64,
    pending: Vec<Write>,
    oldest: Option<Instant>,
}

impl<'a> Recorder<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &'a StateStore,
        audit: &'a Audit,
        redactor: &'a Redactor,
        connection: &'a str,
        channel: &'a str,
        key: ChannelKey,
        cycle: i64,
    ) -> Self {
        Recorder {
            store,
            audit,
            redactor,
            connection,
            channel,
            key,
            cycle,
            pending: Vec::with_capacity(BATCH),
            oldest: None,
        }
    }

    /// Count one outcome in the report, audit it, and queue its state
    /// write; the queue is committed when a batch is due.
    pub fn record(&mut self, o: &Outcome, report: &mut ChannelReport) -> Result<(), ChannelError> {
        let s = &mut report.summary;
        match &o.event {
            Event::Created => s.created += 1,
            Event::Linked => s.linked += 1,
            Event::Updated => s.updated += 1,
            Event::Disabled => s.disabled += 1,
            Event::Enabled => s.enabled += 1,
            Event::Deleted => s.deleted += 1,
            Event::Unchanged => {}
            Event::Skipped(why) => {
                s.skipped += 1;
                let message = format!("user {}: {why}", o.work.unique_id);
                tracing::warn!(target: "provisio::workflow", connection = %self.connection, channel = %self.channel, "{message}");
                report.warnings.push(message);
            }
            Event::Failed(e) => {
                s.failed += 1;
                s.ambiguous += u64::from(o.ambiguous);
                let kind = match o.work.decision {
                    Decision::Update => "update",
                    Decision::Enable => "enable",
                    Decision::Deprovision(provisio_core::manifest::RemoveUserAction::Disable) => "disable",
                    Decision::Deprovision(provisio_core::manifest::RemoveUserAction::Delete) => "delete",
                    _ => "create",
                };
                *report.failed_by_kind.entry(kind).or_default() += 1;
                let message = self.redactor.redact(&e.to_string());
                tracing::warn!(target: "provisio::workflow", connection = %self.connection, channel = %self.channel, user = %o.work.unique_id, "{message}");
                report.failures.push((o.work.unique_id.clone(), message));
            }
        }
        let intent = o.intent;
        let write = match &o.new_state {
            Some(state) => {
                let mut user = state.clone();
                // The state store keeps the error as shown: redacted.
                user.last_error = user.last_error.map(|e| self.redactor.redact(&e));
                Write::Upsert { user, intent }
            }
            None => Write::Remove { guid: o.work.guid.clone(), intent },
        };
        if o.event != Event::Unchanged {
            let target_id = o.new_state.as_ref().and_then(|s| s.target_id.as_deref()).or(o
                .work
                .state
                .as_ref()
                .and_then(|s| s.target_id.as_deref()));
            let (ok, cause) = match &o.event {
                Event::Failed(e) => (false, Some(e.to_string())),
                Event::Skipped(why) => (true, Some(why.clone())),
                _ => (true, None),
            };
            self.audit.record(AuditEvent {
                time: now_rfc3339(),
                cycle_id: self.cycle,
                connection: self.connection,
                channel: self.channel,
                event_type: o.event.audit_type(&o.work.decision),
                source_id: &o.work.guid,
                target_id,
                is_success: ok,
                non_success_cause: cause,
            });
        }
        self.pending.push(write);
        let oldest = *self.oldest.get_or_insert_with(Instant::now);
        if self.pending.len() >= BATCH || oldest.elapsed() >= MAX_AGE {
            self.flush()?;
        }
        Ok(())
    }

    /// Commit every queued state write in one transaction (the audit lines
    /// first).
    pub fn flush(&mut self) -> Result<(), ChannelError> {
        self.oldest = None;
        if self.pending.is_empty() {
            return Ok(());
        }
        self.audit.flush();
        let key = self.key;
        let now = crate::audit::now_unix();
        let pending = std::mem::take(&mut self.pending);
        self.store
            .transaction(|tx| {
                for write in &pending {
                    let (guid, intent) = match write {
                        Write::Upsert { user, intent } => {
                            tx.upsert_user(key, user)?;
                            (&user.guid, intent)
                        }
                        Write::Remove { guid, intent } => {
                            tx.remove_user(key, guid)?;
                            (guid, intent)
                        }
                    };
                    match intent {
                        IntentFate::None => {}
                        IntentFate::Settle => {
                            tx.settle_intent(key, guid)?;
                        }
                        // Nothing can land any more once every create was
                        // answered: an absent account is then believed at
                        // the next lookup (`since` 0).
                        IntentFate::Keep { extra, late } => {
                            tx.keep_intent(key, guid, *extra, if *late { now } else { 0 })?
                        }
                    }
                }
                Ok(())
            })
            .map_err(|source| ChannelError::Outcomes { count: pending.len(), source })
    }
}
