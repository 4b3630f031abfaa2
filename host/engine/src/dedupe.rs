//! Repairing the duplicates provisio's own retried creates made.
//!
//! A target that does not refuse a second account with the same Unique
//! User Identifier can end up with several accounts for one user when a
//! create's answer was lost and the create was sent again before it
//! settled. provisio repairs that, but only where it can prove the accounts
//! are its own ([`plan`]):
//!
//! - the user has an unsettled create intent, and the target holds no more
//!   accounts for the user than provisio may have made: the intent's
//!   [`attempts`](provisio_state::Intent::attempts) (creates sent whose
//!   outcome was never learnt), plus the account the state already links;
//! - every account carries the user's identifiers: its Unique User
//!   Identifier value is the intent's, and where accounts carry an
//!   `externalId` they all carry the same one (they were made from one
//!   source entry).
//!
//! One account is kept and linked: the one the state already links, else
//! the first the target lists (targets list in creation order). The others
//! are deleted, or disabled where the connector cannot delete, each audited
//! as `DEDUPLICATE`, and only when the deletion guard lets them go
//! (`settle.rs`). Anything short of that proof is never deleted: the user is
//! reported with every target id and retried on the growing schedule.

use provisio_core::error::ConnectorError;
use provisio_core::manifest::Capability;
use provisio_core::ops::{AttributeValue, Operation, TargetUser};
use provisio_runtime::connection::Connection;
use provisio_state::Intent;
use std::time::Duration;

use crate::create::ambiguity;

/// The attribute whose value, where accounts carry it, must be the same
/// on every duplicate.
const EXTERNAL_ID: &str = "externalId";

/// A repair: the account kept, and the duplicates to remove.
#[derive(Debug, Clone)]
pub struct Repair {
    pub keep: TargetUser,
    pub remove: Vec<TargetUser>,
}

/// Decide whether the `accounts` found for `intent`'s user are provably
/// provisio's own duplicates. `linked` is the target id the state links the
/// user to, if any. The refusal is the error to report (naming every id).
pub fn plan(intent: &Intent, linked: Option<&str>, accounts: Vec<TargetUser>) -> Result<Repair, String> {
    let refuse = |why: &str| ambiguity(&intent.unique_id, &accounts, why).to_string();
    let foreign =
        accounts.iter().find(|a| !a.unique_id.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&intent.unique_id)));
    if let Some(a) = foreign {
        return Err(refuse(&format!("account {} does not carry the user's identifier", a.id)));
    }
    let external: Vec<Option<&AttributeValue>> = accounts.iter().map(|a| a.attributes.get(EXTERNAL_ID)).collect();
    if external.iter().any(|e| e.is_some()) && external.windows(2).any(|w| w[0] != w[1]) {
        return Err(refuse("the accounts carry different externalId values, so they were not all made from this user"));
    }
    let linked_among = linked.is_some_and(|id| accounts.iter().any(|a| a.id == id));
    let ours = u64::from(intent.attempts) + u64::from(linked_among);
    if accounts.len() as u64 > ours {
        return Err(refuse(&format!(
            "provisio may have made at most {ours} of them, so it cannot prove they are its own and deletes none"
        )));
    }
    let keep_at = linked.and_then(|id| accounts.iter().position(|a| a.id == id)).unwrap_or(0);
    let mut remove = accounts;
    let keep = remove.remove(keep_at);
    Ok(Repair { keep, remove })
}

/// Remove one duplicate: delete it, or disable it where the connector
/// cannot delete. Answers how.
pub async fn remove(conn: &Connection, target_id: &str, timeout: Duration) -> Result<&'static str, ConnectorError> {
    let target_id = target_id.to_owned();
    if conn.manifest.supports(Capability::UserDelete) {
        conn.call::<()>(Operation::DeleteUser { target_id }, timeout).await.map(|()| "deleted")
    } else {
        conn.call::<()>(Operation::DisableUser { target_id }, timeout).await.map(|()| "disabled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_state::IntentKind;

    fn intent(attempts: u32) -> Intent {
        Intent {
            guid: "g1".into(),
            kind: IntentKind::Create,
            unique_id: "alice".into(),
            created_at: 0,
            attempts,
            checked_at: None,
        }
    }

    fn account(id: &str, user: &str, external: Option<&str>) -> TargetUser {
        let mut a = TargetUser { id: id.into(), unique_id: Some(user.into()), ..TargetUser::default() };
        if let Some(e) = external {
            a.attributes.insert(EXTERNAL_ID.into(), e.into());
        }
        a
    }

    #[test]
    fn duplicates_of_provisios_own_attempts_are_repaired_keeping_the_linked_one() {
        let accounts = vec![account("a", "alice", Some("g1")), account("b", "Alice", Some("g1"))];
        let r = plan(&intent(2), None, accounts.clone()).unwrap();
        assert_eq!((r.keep.id.as_str(), r.remove.len()), ("a", 1), "the first listed is kept");
        let r = plan(&intent(1), Some("b"), accounts).unwrap();
        assert_eq!((r.keep.id.as_str(), r.remove[0].id.as_str()), ("b", "a"), "the linked one is kept");
    }

    #[test]
    fn more_accounts_than_attempts_are_never_touched() {
        let accounts = vec![account("a", "alice", None), account("b", "alice", None), account("c", "alice", None)];
        let e = plan(&intent(2), None, accounts).unwrap_err();
        assert!(e.contains("a, b, c") && e.contains("at most 2"), "{e}");
    }

    #[test]
    fn accounts_that_do_not_carry_the_users_identifiers_are_never_touched() {
        let e = plan(&intent(5), None, vec![account("a", "alice", None), account("b", "bob", None)]).unwrap_err();
        assert!(e.contains("account b does not carry"), "{e}");
        let e = plan(&intent(5), None, vec![account("a", "alice", Some("g1")), account("b", "alice", Some("g2"))])
            .unwrap_err();
        assert!(e.contains("different externalId"), "{e}");
        let e =
            plan(&intent(5), None, vec![account("a", "alice", Some("g1")), account("b", "alice", None)]).unwrap_err();
        assert!(e.contains("different externalId"), "one without: {e}");
    }
}
