//! The two kinds of SCIM target every exactly-once promise is tested
//! against, behind one small API.
//!
//! A **strict** target (scim2-server) refuses a second account with a taken
//! `userName` (409), so a client's blind retry looks harmless there: the
//! server hides the mistake. A **forgiving** target (the built-in sandbox
//! with [`Modes::accept_duplicate_user_names`](provisio_sandbox::Modes))
//! creates the second account, as many real targets do, so a duplicate the
//! client made is there to be counted.
//!
//! ```no_run
//! use provisio_e2e::targets::TestTarget;
//! for target in [TestTarget::strict("faults"), TestTarget::forgiving()] {
//!     // ... run provisio against target.base_url() with target.token() ...
//!     assert!(target.duplicates().is_empty(), "{}: {:?}", target.kind(), target.duplicates());
//! }
//! ```

use std::collections::BTreeMap;

use crate::sandbox::InProcessSandbox;
use crate::scim_peer::{ScimPeer, Tenant};

/// The bearer token of the forgiving target.
const FORGIVING_TOKEN: &str = "forgiving-target-token";

/// A SCIM 2.0 target of either kind.
pub enum TestTarget {
    /// A tenant of the shared scim2-server.
    Strict(Tenant),
    /// The in-process sandbox accepting duplicate userNames.
    Forgiving(InProcessSandbox),
}

impl TestTarget {
    /// A new tenant of scim2-server (`label` names it in its log).
    pub fn strict(label: &str) -> TestTarget {
        TestTarget::Strict(ScimPeer::shared().unique_tenant(label))
    }

    /// A new in-process sandbox that accepts a second user with a taken
    /// userName.
    pub fn forgiving() -> TestTarget {
        TestTarget::Forgiving(InProcessSandbox::start_forgiving(FORGIVING_TOKEN))
    }

    /// "strict (scim2-server)" or "forgiving (sandbox)", for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            TestTarget::Strict(_) => "strict target (scim2-server)",
            TestTarget::Forgiving(_) => "forgiving target (sandbox accepting duplicates)",
        }
    }

    /// The SCIM base URL.
    pub fn base_url(&self) -> String {
        match self {
            TestTarget::Strict(t) => t.base_url.clone(),
            TestTarget::Forgiving(s) => s.base_url(),
        }
    }

    /// The bearer token it requires.
    pub fn token(&self) -> String {
        match self {
            TestTarget::Strict(t) => t.token.clone(),
            TestTarget::Forgiving(_) => FORGIVING_TOKEN.to_owned(),
        }
    }

    /// Every user it holds, as SCIM resources.
    pub fn users(&self) -> Vec<serde_json::Value> {
        match self {
            TestTarget::Strict(t) => t.users(),
            TestTarget::Forgiving(s) => s.users(),
        }
    }

    /// The accounts by lower-cased userName.
    pub fn accounts_by_user_name(&self) -> BTreeMap<String, Vec<serde_json::Value>> {
        let mut by_name: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for u in self.users() {
            let name = u["userName"].as_str().unwrap_or_default().to_lowercase();
            by_name.entry(name).or_default().push(u);
        }
        by_name
    }

    /// The userNames it holds, sorted, each once.
    pub fn user_names(&self) -> Vec<String> {
        self.accounts_by_user_name().into_keys().collect()
    }

    /// The userNames held by more than one account, with their count.
    pub fn duplicates(&self) -> Vec<(String, usize)> {
        self.accounts_by_user_name().into_iter().filter(|(_, a)| a.len() > 1).map(|(n, a)| (n, a.len())).collect()
    }
}
