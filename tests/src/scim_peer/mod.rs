//! A real SCIM 2.0 server for end-to-end tests: `scim2-server` (python-scim),
//! installed by `scripts/peers/install-scim2-server` into `<repo>/.peers/scim2`.
//!
//! [`ScimPeer`] starts the server on 127.0.0.1 on a free port, with a random
//! bearer token and `--dynamic-tenants`, waits until it answers, and stops it
//! (SIGTERM, then SIGKILL) when dropped. The process is spawned directly, not
//! through a shell, so SIGINT reaches it (see [`ScimPeer::stop_and_dump`]).
//! On Linux the child also gets SIGTERM when the test process exits, so the
//! process-wide [`ScimPeer::shared`] peer never outlives its test binary.
//!
//! Each test takes its own tenant (its own in-memory store) from a peer:
//!
//! ```no_run
//! use provisio_e2e::scim_peer::ScimPeer;
//! let tenant = ScimPeer::shared().unique_tenant("sync");
//! let id = tenant.create_user(serde_json::json!({"userName": "alice"}));
//! assert_eq!(tenant.find_user("ALICE").unwrap()["id"], id.as_str());
//! assert_eq!(tenant.users().len(), 1);
//! ```
//!
//! A missing install fails the test with the command that installs it; nothing
//! is ever skipped.
//!
//! | module | what it holds |
//! |---|---|
//! | `install` | where the server is installed, and ServiceProviderConfig variants made with the venv's python |
//! | `peer` | [`ScimPeer`]: starting the server, waiting until it answers, stopping it |
//! | `output` | the server's output: the readers draining its pipes and the tail kept for failure messages |
//! | `process` | spawning helper processes that stop with the test binary, and free ports (also used by the LDAP and PostgreSQL peers) |
//! | `tenant` | [`Tenant`]: the client side, requests to one tenant and the helpers over them (listing, lookups, bulk creation) |

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::blocking::Client;

mod install;
mod output;
mod peer;
mod process;
mod tenant;

pub use install::{repo_root, scim2_server_bin, spc_variant, venv_dir};
pub use peer::{ScimPeer, ScimPeerBuilder, random_token};
pub(crate) use process::{die_with_parent, free_port, spawn_kept};
pub use tenant::{GROUP_SCHEMA, ScimResponse, Tenant, USER_SCHEMA};

/// The blocking HTTP client of the harness (one for the whole process).
fn http() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("build the test HTTP client")
    })
}

/// Locks `m`, also when a thread that held it panicked.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
