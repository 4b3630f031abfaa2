//! # provisio-engine
//!
//! The provisioning engine: source → mapping → plan (the difference against
//! the state store) → execute through connectors → state + audit.
//!
//! [`Engine`] is a run: the configuration, the loaded connectors, the
//! redactor, one tokio runtime. [`Engine::cycle`] runs each active channel
//! of each active connection once and returns a [`ChannelReport`] for each.
//! What the terminal, the metrics and the status page want to know while it
//! runs reaches them through an [`Observer`]; failover's leases come in
//! through [`Leases`]. The engine knows nothing of the command line, the
//! terminal, the service surface or the logging setup.
//!
//! | module | job |
//! |---|---|
//! | [`run`] | [`Engine`]: connections opened and checked, channels run, quarantine and leases applied |
//! | [`cycle`] | one channel's cycle: read, decide, execute, record |
//! | [`source`] | reading a channel's source (file or LDAP), with change detection |
//! | [`decide`] | what to do with one user, and why |
//! | [`plan`] | turning the source's users and the state into work items |
//! | [`execute`] | carrying one work item out against the target |
//! | [`outcome`] | what a work item came to, and what becomes of its create intent |
//! | [`create`] | what becomes of a create whose answer was lost (intents, lookups) |
//! | [`settle`] | settling the create intents a killed or cut-off run left |
//! | [`dedupe`] | removing the duplicates a forgiving target let through, with proof |
//! | [`listing`] | linking users to accounts the target already holds |
//! | [`groups`] | provisioning groups and their members |
//! | [`guard`] | the accidental-deletion guard |
//! | [`retry`] | retries within an operation and back-off across cycles |
//! | [`quarantine`] | channels that keep failing sit cycles out |
//! | [`record`] | writing outcomes to the state store and the audit log |
//! | [`audit`] | the audit log (JSON lines) |
//! | [`dry_run`] | the plan of a dry run |
//! | [`report`] | what a cycle returns |
//! | [`fields`] | the fields a target declares (Refresh Fields) |
//! | [`keys`] | the hash key of the state store |
//! | [`shutdown`] | stopping cleanly on SIGTERM or Ctrl-C |
//! | [`observer`] | what the engine tells (and asks of) the program that runs it |
//! | [`error`] | the engine's typed errors |
//!
//! Beneath it, `provisio-runtime` loads connectors and runs their
//! operations; beside it, `provisio-source`, `provisio-mapping` and
//! `provisio-state` do the pure work. docs/architecture.md has the whole map.

#![forbid(unsafe_code)]

pub mod audit;
pub mod create;
pub mod cycle;
pub mod decide;
pub mod dedupe;
pub mod dry_run;
pub mod error;
pub mod execute;
pub mod fields;
pub mod groups;
pub mod guard;
pub mod keys;
pub mod listing;
pub mod observer;
pub mod outcome;
pub mod plan;
pub mod quarantine;
pub mod record;
pub mod report;
pub mod retry;
pub mod run;
pub mod settle;
pub mod shutdown;
pub mod source;

pub use error::EngineError;
pub use observer::{CycleLease, Leases, Observer, Unobserved};
pub use report::{ChannelReport, PlanRow};
pub use run::{ACTIVATION_TIMEOUT, CycleOptions, Engine};
