//! What each user should get this cycle, and why: the pure heart of the
//! engine (spec a.5 to a.6).
//!
//! [`decide`] looks at one user's source side (in scope or not, enabled or
//! not, what the mapping produced) and its state (linked target, status,
//! last pushed hash, dirty), with the connection's provisioning options and
//! remove-user action, and answers one [`Decision`]. It does no I/O, so
//! `provisio plan` and the cycle share it, and every rule has a unit test.

use provisio_core::manifest::{OptionConstraint, ProvisioningOptions, RemoveUserAction};

/// The source side of one user this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// In scope; `enabled` per the account-status setting; `changed` when
    /// the mapped values differ from the last pushed ones.
    InScope { enabled: bool, changed: bool },
    /// Deleted from the source, or out of scope (left the group or filter).
    Gone,
}

/// What the state store knows of the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Never provisioned (or deleted at the target by an earlier cycle).
    Unknown,
    /// Linked to a target account that is active.
    Active,
    /// Linked to a target account that provisio disabled.
    Disabled,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Look the user up by the Unique User Identifier: link if found,
    /// otherwise create (`create_active` is the state to create it in).
    Provision { active: bool },
    /// Push changed attributes to the linked account.
    Update,
    /// Re-enable a disabled account (and push changes with it).
    Enable,
    /// Deprovision per the Remove User Action.
    Deprovision(RemoveUserAction),
    /// A deprovision held by the deletion guard (see `guard.rs`): not
    /// executed until an operator approves it.
    Held(RemoveUserAction),
    /// Nothing to do.
    Nothing,
    /// An action was needed but a cleared option suppresses it: a warning
    /// in the log, not an error (spec a.5).
    Suppressed { action: &'static str, option: &'static str },
    /// Not provisioned by design (a disabled user with Provision Disabled
    /// Users cleared).
    Skip { reason: &'static str },
}

/// The connection-wide rules that decide.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub options: ProvisioningOptions,
    pub remove_user_action: RemoveUserAction,
    /// The target cannot hold disabled users (Code42): a disabled source
    /// user in scope is created active, with a warning.
    pub disabled_created_active: bool,
}

impl Policy {
    pub fn new(options: ProvisioningOptions, remove_user_action: RemoveUserAction, pdu: &OptionConstraint) -> Self {
        Policy {
            options,
            remove_user_action,
            disabled_created_active: matches!(pdu, OptionConstraint::CreatesActive { .. }),
        }
    }
}

/// Decide one user. `dirty` forces a retry of the push even when the
/// values did not change.
pub fn decide(source: Source, known: Known, dirty: bool, policy: &Policy) -> Decision {
    let o = &policy.options;
    match (source, known) {
        (Source::InScope { enabled, .. }, Known::Unknown) => {
            if !enabled && !o.provision_disabled_users && !policy.disabled_created_active {
                return Decision::Skip { reason: "disabled in the source and Provision Disabled Users is cleared" };
            }
            // With User Create cleared an existing account is still linked;
            // the executor suppresses only the creation.
            Decision::Provision { active: enabled || policy.disabled_created_active }
        }
        (Source::InScope { enabled: true, changed }, Known::Active) => {
            if !(changed || dirty) {
                Decision::Nothing
            } else if o.user_update {
                Decision::Update
            } else {
                Decision::Suppressed { action: "update", option: "User Update" }
            }
        }
        (Source::InScope { enabled: true, .. }, Known::Disabled) => {
            if o.user_update {
                Decision::Enable
            } else {
                Decision::Suppressed { action: "re-enable", option: "User Update" }
            }
        }
        (Source::InScope { enabled: false, changed }, Known::Active) => {
            if policy.disabled_created_active {
                // The target cannot hold disabled users: keep it in step.
                return if (changed || dirty) && o.user_update { Decision::Update } else { Decision::Nothing };
            }
            deprovision(policy)
        }
        (Source::InScope { enabled: false, .. }, Known::Disabled) => Decision::Nothing,
        (Source::Gone, Known::Unknown) => Decision::Nothing,
        (Source::Gone, Known::Active) => deprovision(policy),
        (Source::Gone, Known::Disabled) => match policy.remove_user_action {
            // Already disabled; with Delete, finish the job.
            RemoveUserAction::Delete if policy.options.user_disable_delete => {
                Decision::Deprovision(RemoveUserAction::Delete)
            }
            _ => Decision::Nothing,
        },
    }
}

fn deprovision(policy: &Policy) -> Decision {
    if !policy.options.user_disable_delete {
        return Decision::Suppressed { action: "deprovision", option: "User Disable / Delete" };
    }
    Decision::Deprovision(policy.remove_user_action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(create: bool, update: bool, remove: bool, pdu: bool, action: RemoveUserAction) -> Policy {
        Policy {
            options: ProvisioningOptions {
                user_create: create,
                user_update: update,
                user_disable_delete: remove,
                provision_disabled_users: pdu,
            },
            remove_user_action: action,
            disabled_created_active: false,
        }
    }

    fn default_policy() -> Policy {
        policy(true, true, true, false, RemoveUserAction::Disable)
    }

    const NEW: Source = Source::InScope { enabled: true, changed: true };
    const SAME: Source = Source::InScope { enabled: true, changed: false };
    const DISABLED: Source = Source::InScope { enabled: false, changed: false };

    #[test]
    fn a_new_enabled_user_is_provisioned_active() {
        assert_eq!(decide(NEW, Known::Unknown, false, &default_policy()), Decision::Provision { active: true });
    }

    #[test]
    fn a_disabled_user_is_skipped_unless_provision_disabled_users() {
        assert!(matches!(decide(DISABLED, Known::Unknown, false, &default_policy()), Decision::Skip { .. }));
        let p = policy(true, true, true, true, RemoveUserAction::Disable);
        assert_eq!(decide(DISABLED, Known::Unknown, false, &p), Decision::Provision { active: false });
    }

    #[test]
    fn a_target_without_disabled_users_creates_them_active() {
        let mut p = default_policy();
        p.disabled_created_active = true;
        assert_eq!(decide(DISABLED, Known::Unknown, false, &p), Decision::Provision { active: true });
        assert_eq!(decide(DISABLED, Known::Active, false, &p), Decision::Nothing);
    }

    #[test]
    fn unchanged_users_get_nothing_and_dirty_ones_are_retried() {
        assert_eq!(decide(SAME, Known::Active, false, &default_policy()), Decision::Nothing);
        assert_eq!(decide(SAME, Known::Active, true, &default_policy()), Decision::Update);
        assert_eq!(decide(NEW, Known::Active, false, &default_policy()), Decision::Update);
    }

    #[test]
    fn cleared_user_update_suppresses_updates_and_re_enables() {
        let p = policy(true, false, true, false, RemoveUserAction::Disable);
        assert_eq!(
            decide(NEW, Known::Active, false, &p),
            Decision::Suppressed { action: "update", option: "User Update" }
        );
        assert_eq!(
            decide(SAME, Known::Disabled, false, &p),
            Decision::Suppressed { action: "re-enable", option: "User Update" }
        );
    }

    #[test]
    fn disabled_deleted_or_out_of_scope_users_are_deprovisioned_per_action() {
        assert_eq!(
            decide(DISABLED, Known::Active, false, &default_policy()),
            Decision::Deprovision(RemoveUserAction::Disable)
        );
        assert_eq!(
            decide(Source::Gone, Known::Active, false, &default_policy()),
            Decision::Deprovision(RemoveUserAction::Disable)
        );
        let delete = policy(true, true, true, false, RemoveUserAction::Delete);
        assert_eq!(
            decide(Source::Gone, Known::Active, false, &delete),
            Decision::Deprovision(RemoveUserAction::Delete)
        );
        assert_eq!(
            decide(Source::Gone, Known::Disabled, false, &delete),
            Decision::Deprovision(RemoveUserAction::Delete)
        );
        assert_eq!(decide(Source::Gone, Known::Disabled, false, &default_policy()), Decision::Nothing);
    }

    #[test]
    fn cleared_disable_delete_suppresses_deprovisioning() {
        let p = policy(true, true, false, false, RemoveUserAction::Disable);
        assert_eq!(
            decide(Source::Gone, Known::Active, false, &p),
            Decision::Suppressed { action: "deprovision", option: "User Disable / Delete" }
        );
    }

    #[test]
    fn a_re_enabled_user_is_enabled() {
        assert_eq!(decide(SAME, Known::Disabled, false, &default_policy()), Decision::Enable);
    }

    #[test]
    fn a_gone_user_never_provisioned_needs_nothing() {
        assert_eq!(decide(Source::Gone, Known::Unknown, false, &default_policy()), Decision::Nothing);
    }
}
