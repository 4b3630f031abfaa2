//! Linking by listing: when a cycle has many users to provision (a first
//! cycle above all), read the target's users in a few pages instead of
//! looking each new user up before creating it.
//!
//! Every user to provision must first be matched against the accounts the
//! target already holds (spec a.6: link, never duplicate). One lookup per
//! user doubles the requests of an initial sync. A connector that declares
//! the `user_list` capability can instead list the target's users page by
//! page ([`Operation::ListUsers`]); the cycle then knows, for each user to
//! provision, whether an account with its Unique User Identifier exists,
//! and creates the others straight away.
//!
//! The listing is used only when it is cheaper: with at least
//! [`MIN_PROVISIONS`] users to provision, and at most one page for every two
//! of them ([`page_budget`]). A target too large for that budget, a listing
//! that fails, or a connector that refuses it (the SCIM connector with a
//! Filter Expression) leaves the lookups in place. Identifier values are
//! compared case-insensitively, like the targets' own filters; a value that
//! several accounts share is looked up, so the lookup reports the conflict.
//! A create that still meets an existing account (created meanwhile) gets a
//! 409 and is linked after a lookup, as before.

use provisio_core::error::ErrorKind;
use provisio_core::ops::{Operation, TargetUser, UserPage};
use provisio_runtime::connection::Connection;
use std::collections::HashMap;
use std::time::Duration;

/// Fewer users to provision than this are looked up one by one.
pub const MIN_PROVISIONS: usize = 50;

/// The page size asked for (a target may answer fewer).
pub const PAGE_SIZE: u32 = 1000;

/// The most pages a listing may take for `provisions` users to provision:
/// one request for every two lookups it saves.
pub fn page_budget(provisions: usize) -> usize {
    (provisions / 2).max(1)
}

/// The target's accounts by lower-cased identifier value.
#[derive(Debug, Default)]
pub struct TargetIndex {
    /// `None`: several accounts share the value.
    by_value: HashMap<String, Option<TargetUser>>,
}

impl TargetIndex {
    fn add(&mut self, user: TargetUser) {
        let Some(value) = user.unique_id.as_deref().map(str::to_lowercase) else { return };
        match self.by_value.get_mut(&value) {
            None => {
                self.by_value.insert(value, Some(user));
            }
            Some(Some(existing)) if existing.id == user.id => {}
            Some(slot) => *slot = None,
        }
    }

    /// What the listing says of `unique_id`: `Some(Some(account))` it
    /// exists, `Some(None)` it does not, `None` it cannot tell (several
    /// accounts share the value: look it up).
    pub fn find(&self, unique_id: &str) -> Option<Option<TargetUser>> {
        match self.by_value.get(&unique_id.to_lowercase()) {
            None => Some(None),
            Some(Some(user)) => Some(Some(user.clone())),
            Some(None) => None,
        }
    }

    /// How many identifier values the listing found.
    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    /// Whether the listing found no account.
    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }
}

/// Why a listing was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// The target holds more pages than the budget.
    TooLarge { pages: usize },
    /// The connector refused or the target failed; the reason (redact
    /// before showing).
    Failed(String),
    /// The connector does not list users for this connection.
    Unsupported,
}

/// List the target's users for `provisions` users to provision, within
/// [`page_budget`].
pub async fn index_target(conn: &Connection, provisions: usize, timeout: Duration) -> Result<TargetIndex, Skipped> {
    let budget = page_budget(provisions);
    let mut index = TargetIndex::default();
    let mut cursor = None;
    for page_number in 1..=budget {
        let page: UserPage = conn
            .call(Operation::ListUsers { cursor: cursor.take(), count: PAGE_SIZE }, timeout)
            .await
            .map_err(|e| {
                if e.kind == ErrorKind::Unsupported { Skipped::Unsupported } else { Skipped::Failed(e.to_string()) }
            })?;
        if page_number == 1
            && let Some(total) = page.total
        {
            let pages = usize::try_from(total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(usize::MAX);
            if pages > budget {
                return Err(Skipped::TooLarge { pages });
            }
        }
        for user in page.users {
            index.add(user);
        }
        match page.next {
            None => return Ok(index),
            Some(next) => cursor = Some(next),
        }
    }
    Err(Skipped::TooLarge { pages: budget + 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, value: &str) -> TargetUser {
        TargetUser { id: id.into(), unique_id: Some(value.into()), ..TargetUser::default() }
    }

    #[test]
    fn values_match_case_insensitively_and_shared_values_are_looked_up() {
        let mut index = TargetIndex::default();
        index.add(user("1", "Alice"));
        index.add(user("2", "bob@example.org"));
        index.add(user("2", "BOB@example.org"));
        index.add(user("3", "carol"));
        index.add(user("4", "Carol"));
        index.add(TargetUser { id: "5".into(), ..TargetUser::default() });
        assert_eq!(index.find("alice").unwrap().unwrap().id, "1");
        assert_eq!(index.find("Bob@Example.org").unwrap().unwrap().id, "2");
        assert_eq!(index.find("carol"), None, "two accounts share the value: look it up");
        assert_eq!(index.find("dave"), Some(None));
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn the_budget_is_one_page_per_two_lookups_saved() {
        assert_eq!(page_budget(50), 25);
        assert_eq!(page_budget(1), 1);
        assert_eq!(page_budget(100_000), 50_000);
    }
}
