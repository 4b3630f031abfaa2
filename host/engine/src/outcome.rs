//! What one user's work item came to: the [`Event`] (created, updated,
//! failed, ...), the state to store, and what becomes of the user's create
//! intent ([`IntentFate`]). The executor (`execute`) produces an
//! [`Outcome`]; the recorder (`record`) writes it to the state store and
//! the audit log.

use provisio_core::error::ConnectorError;
use provisio_core::manifest::RemoveUserAction;
use provisio_state::{UserState, UserStatus};

use crate::decide::Decision;
use crate::plan::Work;

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
    /// What becomes of the user's create intent (see [`CreateTries`](crate::create::CreateTries)).
    pub intent: IntentFate,
    /// The failure is an ambiguity: the target holds several accounts for
    /// the user (never counted toward quarantine).
    pub ambiguous: bool,
}

/// What an operation on the target did: the event, the target id, the
/// account's status there.
pub(crate) type Done = (Event, Option<String>, Option<UserStatus>);

/// What the recorder does with a user's create intent once the work item is
/// done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentFate {
    /// Not a provision: there is no intent of this cycle's.
    None,
    /// The outcome is known (created, linked, skipped, or refused before or
    /// without any create reaching the target): remove the intent.
    Settle,
    /// A create was sent and its outcome is unknown (a timeout, a closed
    /// connection, a lost answer, a 5xx), even if a later attempt created
    /// or found the account: keep the intent, so the account is looked up
    /// before anything else is sent for the user and a late duplicate can
    /// be proved provisio's own, and count `extra` creates sent beyond the
    /// one the cycle recorded.
    ///
    /// `late`: a create may still land (it timed out, its connection failed,
    /// or a gateway answered 502 or 504 for a target that may still be
    /// working on it), so an absent account is not believed before a
    /// settling time. Without it every create was answered by the target,
    /// and one lookup settles it.
    Keep { extra: u32, late: bool },
}
