//! One provisioning cycle of one channel (spec a.6): read the source,
//! decide every user, push the differences through the connector at most
//! Max Threads at a time, and record the results in the state store and the
//! audit log.
//!
//! A source that cannot be read stops the channel's cycle before anything
//! is decided, so a failed read never deprovisions anyone. A failing user is
//! marked dirty and retried next cycle; it never aborts the cycle.
//!
//! With an incremental source (LDAP with change detection) the read holds
//! every GUID in scope but whole entries only for the users that changed
//! since the high-water mark or are not in step with the state: users in
//! scope and unchanged are left out of the decisions, users the state knows
//! but the scope lacks are gone (deprovisioned), whatever else changed. The
//! new mark is stored after the users were pushed, unless a user read from
//! the source failed: then it stays, and the next cycle reads those changes
//! again (the hash comparison skips what was already pushed).

use futures_util::StreamExt as _;
use provisio_config::catalogue::Catalogue;
use provisio_config::{ChannelConfig, ConnectionConfig};
use provisio_core::manifest::Capability;
use provisio_mapping::MappingSet;
use provisio_redact::Redactor;
use provisio_runtime::connection::Connection;
use provisio_source::{Snapshot, SourceUser};
use provisio_state::Held;
use provisio_state::{ChannelKey, StateStore, UserState, UserStatus};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::audit::{Audit, now_unix};
use crate::decide::{Decision, Policy};
use crate::error::ChannelError;
use crate::execute::execute;
use crate::groups::GroupRun;
use crate::guard::{Verdict, hold_message, judge};
use crate::listing;
use crate::observer::Observer;
use crate::outcome::Event;
use crate::plan::{MappingContext, Planner, Work};
use crate::record::Recorder;
use crate::report::ChannelReport;
use crate::source::{ChannelRead, ChannelScope, has_change_detection, read_channel};

/// The field holding the Unique User Identifier: the connection's
/// `unique_user_identifier` setting when the connector has one (`userName`,
/// `workEmail`), else the first required attribute of the catalogue.
pub fn identifier_field(conn: &Connection) -> String {
    if let Some(v) = conn.config.settings.get("unique_user_identifier").and_then(|v| v.as_str())
        && let Some(a) = conn.manifest.attribute(v)
    {
        return a.code.clone();
    }
    conn.manifest.attributes.iter().find(|a| a.required).map(|a| a.code.clone()).unwrap_or_else(|| "userName".into())
}

/// Compile a channel's mapping against the connection's catalogue.
pub fn compile_mapping(ch: &ChannelConfig, catalogue: &Catalogue) -> Result<MappingSet, ChannelError> {
    let multi = |code: &str| catalogue.multi_valued(code);
    // Canonical codes: an alias in the configuration maps to the catalogue's code.
    let mut fields = ch.mapping.clone();
    for f in &mut fields {
        if let Some(a) = catalogue.find(&f.field) {
            f.field = a.code.clone();
        }
    }
    MappingSet::compile(&fields, &multi).map_err(|errors| {
        ChannelError::Mapping(
            errors.iter().map(|e| format!("channel '{}': {e}", ch.name)).collect::<Vec<_>>().join("\n"),
        )
    })
}

/// Whether the state holds a user in step with the target: provisioned,
/// not dirty. An incremental read skips such users unless they changed.
pub fn is_in_step(s: &UserState) -> bool {
    !s.dirty && s.target_id.is_some() && matches!(s.status, UserStatus::Active | UserStatus::Disabled)
}

/// Everything a channel cycle needs.
pub struct ChannelRun<'a> {
    pub conn: &'a Connection,
    pub conn_cfg: &'a ConnectionConfig,
    pub channel: &'a ChannelConfig,
    pub store: &'a StateStore,
    pub audit: &'a Audit,
    pub redactor: &'a Redactor,
    pub hash_key: &'a [u8],
    pub dry_run: bool,
    /// Restrict the cycle to one source user (by GUID): `provision --user`.
    pub only: Option<String>,
    /// With `only`: that user's source entry as already read, `None` when
    /// it is not in this channel's scope; the source is then not read again.
    pub only_read: Option<Option<SourceUser>>,
    /// Told how the channel's operations progress.
    pub observer: &'a dyn Observer,
}

impl ChannelRun<'_> {
    /// Run the cycle. Errors that stop the whole channel (source unreadable,
    /// mapping broken, state store failing) come back in `summary.error`.
    pub async fn run(&self) -> ChannelReport {
        let started = Instant::now();
        let mut report = ChannelReport {
            connection: self.conn.name.clone(),
            channel: self.channel.name.clone(),
            ..ChannelReport::default()
        };
        let mut begun = None;
        if let Err(e) = self.run_inner(&mut report, started, &mut begun).await {
            report.summary.error = Some(self.redactor.redact(&e.to_string()));
            // A cycle begun early (to settle creates) and then stopped is
            // finished with its error, so it does not read as a dead run.
            if let Some((key, cycle)) = begun {
                report.summary.duration_ms = started.elapsed().as_millis() as u64;
                let _ = self.store.finish_cycle(key, cycle, &report.summary, now_unix());
            }
        }
        // The masked values of this cycle's users were secrets while they
        // were being pushed; everything shown of the cycle is redacted by now.
        self.redactor.clear_transient();
        report.summary.duration_ms = started.elapsed().as_millis() as u64;
        report
    }

    async fn run_inner(
        &self,
        report: &mut ChannelReport,
        cycle_started: Instant,
        begun: &mut Option<(ChannelKey, provisio_state::CycleId)>,
    ) -> Result<(), ChannelError> {
        // A dry run never writes, not even the channel's row.
        let key = if self.dry_run {
            self.store.find_channel(&self.conn.name, &self.channel.name)?
        } else {
            Some(self.store.channel(&self.conn.name, &self.channel.name)?)
        };
        let mut state = match (key, &self.only) {
            // One user: only its row.
            (Some(key), Some(guid)) => self.store.user(key, guid)?.map(|u| (u.guid.clone(), u)).into_iter().collect(),
            (Some(key), None) => self.store.users(key)?,
            (None, _) => Default::default(),
        };
        // An incremental source reads from the stored high-water mark and
        // reads whole only the users that changed or are not in step.
        let mark = match key {
            Some(key) if self.only.is_none() && has_change_detection(&self.channel.source) => {
                self.store.high_water(key)?
            }
            _ => None,
        };
        // Only an incremental read asks which users are in step.
        let in_step: HashSet<String> = match mark {
            Some(_) => state.values().filter(|s| is_in_step(s)).map(|s| s.guid.clone()).collect(),
            None => HashSet::new(),
        };
        if let Some(guid) = &self.only {
            state.retain(|g, _| g == guid);
        }
        // Creates of an earlier run or cycle whose outcome is unknown are
        // settled at the target before anything is decided (`settle.rs`).
        let waiting = match key {
            Some(key) if !self.dry_run => {
                let mut intents = self.store.unsettled_intents(key)?;
                intents.retain(|i| self.only.as_ref().is_none_or(|only| *only == i.guid));
                if intents.is_empty() {
                    Default::default()
                } else {
                    let cycle = self.store.begin_cycle(key, now_unix())?;
                    *begun = Some((key, cycle));
                    let waiting = self.settle_creates(key, cycle.get(), intents, &mut state, report).await?.waiting;
                    if !waiting.is_empty() {
                        report.warnings.push(format!(
                            "{} user(s) wait for an earlier create of unknown outcome to settle at the target; \
                             nothing is created for them until it does",
                            waiting.len()
                        ));
                    }
                    waiting
                }
            }
            _ => Default::default(),
        };
        // (Used by the deletion guard, which judges whole cycles only.)
        let linked = linked_count(&state);
        let mapping = compile_mapping(self.channel, self.conn.catalogue())?;
        let ctx = MappingContext {
            mapping: &mapping,
            create_only: mapping.create_only_fields(),
            identifier_field: identifier_field(self.conn),
            hash_key: self.hash_key,
        };
        let policy = Policy::new(
            self.conn.config.options,
            self.conn.config.remove_user_action,
            &self.conn.manifest.options.provision_disabled_users.constraint,
        );
        let now = now_unix();
        let (only, keep) = (self.only.as_deref(), self.dry_run);
        // A file source hands its users to the planner as it reads them
        // (streamed when the scope allows); an LDAP read comes back whole.
        let mut planner = Planner::new(&ctx, &state, &policy, now, only, keep);
        let read = match (&self.only_read, only) {
            (Some(given), Some(_)) => {
                given.iter().cloned().for_each(|user| planner.add(user));
                ChannelRead {
                    scope: ChannelScope::Streamed { groups: Vec::new() },
                    high_water: None,
                    warnings: Vec::new(),
                }
            }
            _ => read_channel(self.channel, self.redactor, mark.as_deref(), &in_step, &mut |user| planner.add(user))
                .await
                .map_err(ChannelError::Source)?,
        };
        report.warnings.extend(read.warnings.iter().map(|w| format!("source: {w}")));
        let high_water = read.high_water.clone();
        let (plan, source_entries, groups) = match read.scope {
            ChannelScope::Streamed { groups } => {
                let plan = planner.finish();
                let in_scope = plan.in_scope;
                (plan, in_scope, groups)
            }
            ChannelScope::Full(Snapshot { users, groups }) => {
                for user in users {
                    planner.add(user);
                }
                let plan = planner.finish();
                let in_scope = plan.in_scope;
                (plan, in_scope, groups)
            }
            ChannelScope::Delta(delta) => {
                drop(planner);
                // In scope and not read: unchanged, nothing to decide.
                let read: HashSet<&str> = delta.users.iter().map(|u| u.guid.as_str()).collect();
                state.retain(|guid, _| read.contains(guid.as_str()) || !delta.in_scope.contains(guid));
                let mut planner = Planner::new(&ctx, &state, &policy, now, only, keep);
                for user in delta.users {
                    planner.add(user);
                }
                (planner.finish(), delta.in_scope.len() as u64, delta.groups)
            }
        };
        let mut work = plan.work;
        // A user whose earlier create may still land gets no create now.
        for w in work.iter_mut().filter(|w| waiting.contains(&w.guid)) {
            if matches!(w.decision, Decision::Provision { .. }) {
                w.decision = Decision::Nothing;
            }
        }
        // An operator's approval releases this cycle's held deprovisions and
        // group deletions; it is used up once both were judged.
        let approved = match (key, &self.only) {
            (Some(key), None) => self.store.approval(key)?.is_some(),
            _ => false,
        };
        if self.only.is_none() {
            self.guard_deletions(key, &mut work, linked, source_entries, approved, report)?;
        }
        for message in plan.warnings {
            if !self.dry_run {
                tracing::warn!(target: "provisio::workflow", connection = %self.conn.name, channel = %self.channel.name, "{message}");
            }
            report.warnings.push(message);
        }

        if self.dry_run {
            report.plan = self.dry_run_rows(&work, &policy).await;
            return Ok(());
        }

        let key = key.ok_or(ChannelError::NoChannelKey)?;
        // The target is contacted only when there is something to send.
        let sends = work.iter().any(|w| !matches!(w.decision, Decision::Nothing | Decision::Held(_)));
        if sends {
            self.conn.activate(crate::ACTIVATION_TIMEOUT).await?;
        }
        let cycle = match *begun {
            Some((_, cycle)) => cycle,
            None => self.store.begin_cycle(key, now_unix())?,
        };
        let timeout = Duration::from_secs(self.channel.timeout);
        let create_only = ctx.create_only.clone();
        let runs = |w: &Work| !matches!(w.decision, Decision::Nothing | Decision::Held(_));
        let progress = Progress::start(
            self.observer,
            &self.conn.name,
            &self.channel.name,
            work.iter().filter(|w| runs(w)).count(),
        );
        let mut active: Vec<Work> = work.into_iter().filter(|w| runs(w)).collect();
        self.link_by_listing(&mut active, timeout, report).await;
        // Masked values about to be sent are secrets for the rest of the
        // cycle: a target that quotes one in an error is redacted like a
        // token would be.
        let masked = mapping.masked_fields();
        for record in active.iter().filter_map(|w| w.record.as_ref()) {
            for value in masked.iter().filter_map(|field| record.attributes.get(field)) {
                match value {
                    provisio_mapping::AttributeValue::Single(v) => self.redactor.add_transient(v),
                    provisio_mapping::AttributeValue::Multi(vs) => {
                        vs.iter().for_each(|v| self.redactor.add_transient(v))
                    }
                }
            }
        }
        // A durable intent before every create, recorded one chunk ahead of
        // the sends (one commit per chunk): a run killed between a create and
        // its state row is settled by lookup (`settle.rs`), and few intents
        // are left whose create was never sent.
        let total = active.len();
        let mut started = 0usize;
        let intent_failure: std::cell::RefCell<Option<provisio_state::StateError>> = Default::default();
        // The creates whose intent is recorded and that were not started yet.
        let unsent: std::cell::RefCell<HashSet<String>> = Default::default();
        let mut results = futures_util::stream::iter(active)
            // On SIGTERM, start nothing new; what is in flight finishes.
            .take_while(|_| std::future::ready(!crate::shutdown::requested()))
            .chunks(intent_chunk(self.channel.max_threads))
            .map(|items| match record_create_intents(self.store, key, &items) {
                Ok(()) => {
                    let creates = items.iter().filter(|w| matches!(w.decision, Decision::Provision { .. }));
                    unsent.borrow_mut().extend(creates.map(|w| w.guid.clone()));
                    items
                }
                Err(e) => {
                    *intent_failure.borrow_mut() = Some(e);
                    Vec::new()
                }
            })
            .take_while(|items| std::future::ready(!items.is_empty()))
            .flat_map(futures_util::stream::iter)
            .inspect(|w| {
                started += 1;
                unsent.borrow_mut().remove(&w.guid);
            })
            .map(|w| {
                let policy = &policy;
                let create_only = &create_only;
                async move { execute(self.conn, w, policy, create_only, timeout, now_unix()).await }
            })
            .buffer_unordered(self.channel.max_threads.max(1));
        // The high-water mark is held back when a user read from the source
        // failed (see `docs/configuration.md`, change detection).
        let mut hold_mark = false;
        let mut recorder =
            Recorder::new(self.store, self.audit, self.redactor, &self.conn.name, &self.channel.name, key, cycle.get());
        while let Some(outcome) = results.next().await {
            hold_mark |= matches!(outcome.event, Event::Failed(_)) && outcome.work.record.is_some();
            recorder.record(&outcome, report)?;
            progress.one_done();
        }
        recorder.flush()?;
        drop(progress);
        drop(results);
        if let Some(e) = intent_failure.into_inner() {
            return Err(ChannelError::Intents(e));
        }
        // Stopped on request: a create never started was never sent.
        let unsent = unsent.into_inner();
        if !unsent.is_empty() {
            self.store
                .transaction(|tx| unsent.iter().try_for_each(|guid| tx.settle_intent(key, guid).map(drop)))
                .map_err(ChannelError::UnsentIntents)?;
        }
        if started < total {
            report.warnings.push(format!(
                "stopped on request: {} user operation(s) not started; the next run picks them up",
                total - started
            ));
            hold_mark = true;
        }
        if let Some(mark) = &high_water
            && !hold_mark
            && self.only.is_none()
        {
            self.store.set_high_water(key, mark)?;
        }
        if self.channel.groups && self.only.is_none() {
            let user_targets: HashMap<String, String> = self
                .store
                .users(key)?
                .into_values()
                .filter(|u| matches!(u.status, UserStatus::Active | UserStatus::Disabled))
                .filter_map(|u| u.target_id.map(|t| (u.guid, t)))
                .collect();
            let snapshot = Snapshot { users: Vec::new(), groups };
            let run = GroupRun {
                conn: self.conn,
                store: self.store,
                key,
                channel: &self.channel.name,
                audit: self.audit,
                cycle: cycle.get(),
                redactor: self.redactor,
                guard: &self.channel.deletion_guard,
                approved,
                timeout,
            };
            let counts = run.sync(&snapshot, &user_targets, now_unix()).await?;
            self.audit.flush();
            if approved {
                self.store.clear_approval(key)?;
            }
            report.summary.groups_created = counts.created;
            report.summary.groups_updated = counts.updated;
            report.summary.groups_deleted = counts.deleted;
            if let Some((held, reason)) = counts.held {
                let message = hold_message(
                    &reason,
                    &format!("{held} group deletion(s) held, no group deleted"),
                    &self.conn.name,
                    &self.channel.name,
                );
                tracing::warn!(target: "provisio::workflow", connection = %self.conn.name, channel = %self.channel.name, "{message}");
                report.warnings.push(message);
            }
            for (name, error) in counts.failed {
                report.summary.failed += 1;
                report.failures.push((format!("group {name}"), self.redactor.redact(&error)));
            }
        }
        // The stored summary carries the cycle's duration so far.
        report.summary.duration_ms = cycle_started.elapsed().as_millis() as u64;
        self.store.finish_cycle(key, cycle, &report.summary, now_unix())?;
        Ok(())
    }

    /// With many users to provision, list the target once and tell each
    /// whether an account exists (see [`crate::listing`]).
    async fn link_by_listing(&self, active: &mut [Work], timeout: Duration, report: &mut ChannelReport) {
        let provisions = active.iter().filter(|w| matches!(w.decision, Decision::Provision { .. })).count();
        if provisions < listing::MIN_PROVISIONS || !self.conn.manifest.supports(Capability::UserList) {
            return;
        }
        let index = match listing::index_target(self.conn, provisions, timeout).await {
            Ok(index) => index,
            Err(skipped) => {
                let why = match skipped {
                    listing::Skipped::Unsupported => None,
                    listing::Skipped::TooLarge { pages } => Some(format!(
                        "listing the target would take {pages} pages or more, over one page per two of the {provisions} lookups it saves"
                    )),
                    listing::Skipped::Failed(e) => {
                        let e = self.redactor.redact(&e);
                        report.warnings.push(format!(
                            "listing the target's users failed ({e}); each new user is looked up instead"
                        ));
                        Some(e)
                    }
                };
                if let Some(why) = why {
                    tracing::info!(connection = %self.conn.name, channel = %self.channel.name, "users looked up one by one: {why}");
                }
                return;
            }
        };
        tracing::info!(
            connection = %self.conn.name, channel = %self.channel.name,
            "{provisions} users to provision matched against one listing of the target ({} accounts)", index.len()
        );
        for w in active.iter_mut().filter(|w| matches!(w.decision, Decision::Provision { .. })) {
            w.at_target = index.find(&w.unique_id);
        }
    }

    /// The accidental-deletion guard (see [`crate::guard`]): hold this
    /// cycle's deprovisions when there are too many, unless an operator
    /// `approved` them. A channel that manages groups keeps the approval
    /// for its group deletions (see [`crate::groups`]).
    fn guard_deletions(
        &self,
        key: Option<ChannelKey>,
        work: &mut [Work],
        linked: u64,
        source_entries: u64,
        approved: bool,
        report: &mut ChannelReport,
    ) -> Result<(), ChannelError> {
        let deprovisions = work.iter().filter(|w| matches!(w.decision, Decision::Deprovision(_))).count() as u64;
        let verdict = judge(&self.channel.deletion_guard, deprovisions, linked, source_entries);
        let reason = match verdict {
            Verdict::Hold { reason } if !approved => reason,
            _ => {
                // Allowed (or approved): nothing stays held.
                if let (Some(key), false) = (key, self.dry_run) {
                    self.store.set_held(key, &[])?;
                    if approved && !self.channel.groups {
                        self.store.clear_approval(key)?;
                    }
                }
                return Ok(());
            }
        };
        let mut held = Vec::new();
        for w in work.iter_mut() {
            if let Decision::Deprovision(action) = w.decision {
                held.push(Held {
                    guid: w.guid.clone(),
                    unique_id: w.unique_id.clone(),
                    action: action.to_string(),
                    held_at: now_unix(),
                });
                w.decision = Decision::Held(action);
            }
        }
        let message = hold_message(
            &reason,
            &format!("{} deprovision(s) held, nothing deleted or disabled", held.len()),
            &self.conn.name,
            &self.channel.name,
        );
        if !self.dry_run {
            tracing::warn!(target: "provisio::workflow", connection = %self.conn.name, channel = %self.channel.name, "{message}");
            if let Some(key) = key {
                self.store.set_held(key, &held)?;
            }
        }
        report.warnings.push(message);
        Ok(())
    }
}

/// How many of `state`'s users are linked to an account that exists at the
/// target (what the deletion guard judges removals against).
pub(super) fn linked_count(state: &HashMap<String, UserState>) -> u64 {
    state.values().filter(|s| s.target_id.is_some() && s.status.exists_at_target()).count() as u64
}

/// Create intents are recorded this many work items ahead of the sends: a
/// few times Max Threads, so that the commits are few and a killed run
/// leaves few intents whose create was never sent.
fn intent_chunk(max_threads: usize) -> usize {
    (max_threads.max(1) * 4).clamp(16, 256)
}

/// Record the create intents of `items`' provisions, in one transaction.
fn record_create_intents(
    store: &StateStore,
    key: ChannelKey,
    items: &[Work],
) -> Result<(), provisio_state::StateError> {
    let creates = items.iter().filter(|w| matches!(w.decision, Decision::Provision { .. }));
    store.transaction(|tx| {
        for w in creates.clone() {
            tx.record_create_intent(key, &w.guid, &w.unique_id, now_unix())?;
        }
        Ok(())
    })
}

/// A channel's operations as its observer sees them: started with their
/// number, each one done, and finished when this is dropped (also when the
/// cycle stops early on an error).
struct Progress<'a> {
    observer: &'a dyn Observer,
    connection: &'a str,
    channel: &'a str,
}

impl<'a> Progress<'a> {
    fn start(observer: &'a dyn Observer, connection: &'a str, channel: &'a str, operations: usize) -> Progress<'a> {
        observer.operations_started(connection, channel, operations);
        Progress { observer, connection, channel }
    }

    fn one_done(&self) {
        self.observer.operation_done(self.connection, self.channel);
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.observer.operations_finished(self.connection, self.channel);
    }
}
