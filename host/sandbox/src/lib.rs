//! provisio-sandbox: a built-in SCIM 2.0 server (RFC 7643/7644) on a loopback address, for
//! trying mappings safely. It backs `provisio sandbox`, `provisio demo` and the engine
//! ceiling benchmark.
//!
//! ```no_run
//! # async fn demo() -> Result<(), provisio_sandbox::SandboxError> {
//! use provisio_sandbox::{serve, SandboxConfig};
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let sandbox = serve(SandboxConfig::default(), async { let _ = stopped.await; }).await?;
//! println!("SCIM target at {}", sandbox.base_url()); // http://127.0.0.1:PORT/scim/v2
//! // … push users, then:
//! let held = sandbox.snapshot(); // {"Users":[…],"Groups":[…]}
//! let _ = stop.send(());
//! sandbox.wait().await?;
//! # Ok(()) }
//! ```
//!
//! Behaviour in short (details in the modules):
//! - Endpoints under `base_path`: `/ServiceProviderConfig` (never needs auth),
//!   `/ResourceTypes`, `/Schemas`, `/Users` and `/Groups` with POST, GET (list, paging,
//!   filter), `/{id}` GET/PUT/PATCH/DELETE, and `/Users/.search`, `/Groups/.search`.
//! - PATCH answers 200 with the resource; ETags are `W/"n"`, `If-Match` is honoured on
//!   PUT/PATCH/DELETE (412), `If-None-Match` on GET (304).
//! - Filters: `eq` on indexed attributes joined by `and` (see [`filter`]); paging by
//!   `startIndex`/`count` (default 100, max 1000), `itemsPerPage` = resources returned.
//! - Group members must be existing Users or Groups (400 `invalidValue` otherwise);
//!   deleting a resource removes it from groups.
//! - Everything lives in memory (see [`store`]); optional persistence to a JSON file.

#![forbid(unsafe_code)]

pub mod discovery;
pub mod error;
pub mod filter;
pub mod patch;
mod persist;
pub mod resource;
mod routes;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::{SandboxError, ScimError};
pub use store::Kind;

use routes::{AppState, Counters};

/// The SCIM media type, used on every response.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// How to run a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Where to listen; must be a loopback address. Default `127.0.0.1:0` (any free port).
    pub bind: SocketAddr,
    /// When set, every endpoint but `/ServiceProviderConfig` needs
    /// `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// A JSON file: loaded at start if it exists, written atomically after changes (at most
    /// once a second) and on shutdown.
    pub persist: Option<PathBuf>,
    /// The URL path the SCIM endpoints live under. Default `/scim/v2`; `""` for the root.
    pub base_path: String,
    /// How forgiving the target is (default: as strict as the RFC lets it be).
    pub modes: Modes,
}

/// Switchable behaviours of a target that forgives what a strict one refuses,
/// so a client's mistakes cannot hide behind the server: set at start
/// ([`SandboxConfig::modes`], `provisio sandbox --accept-duplicates`) or
/// while running ([`Sandbox::set_modes`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modes {
    /// Create a second User whose `userName` is taken, instead of answering
    /// 409 `uniqueness` (many real targets enforce uniqueness on another key,
    /// or on none). A client that retries a create blindly makes duplicates
    /// here, where a strict server would refuse them.
    pub accept_duplicate_user_names: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            bearer_token: None,
            persist: None,
            base_path: "/scim/v2".into(),
            modes: Modes::default(),
        }
    }
}

/// Requests the sandbox received, by HTTP method (including rejected ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// GET requests.
    pub get: u64,
    /// POST requests.
    pub post: u64,
    /// PUT requests.
    pub put: u64,
    /// PATCH requests.
    pub patch: u64,
    /// DELETE requests.
    pub delete: u64,
    /// Any other method.
    pub other: u64,
}

impl RequestCounts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.get + self.post + self.put + self.patch + self.delete + self.other
    }
}

/// A running sandbox. Dropping the handle does not stop the server: the shutdown future
/// given to [`serve`] does.
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    state: Arc<AppState>,
    task: JoinHandle<Result<(), SandboxError>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).field("base_url", &self.base_url).finish()
    }
}

impl Sandbox {
    /// The address the server listens on (with the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SCIM base URL, e.g. `http://127.0.0.1:PORT/scim/v2` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every User and Group as served: `{"Users":[…],"Groups":[…]}` in creation order.
    pub fn snapshot(&self) -> serde_json::Value {
        let export = self.state.read().export();
        export.snapshot()
    }

    /// Number of resources of a kind now held.
    pub fn len(&self, kind: Kind) -> usize {
        self.state.read().len(kind)
    }

    /// Whether the sandbox holds no User and no Group.
    pub fn is_empty(&self) -> bool {
        self.state.read().is_empty()
    }

    /// Switch the target's modes while it runs.
    pub fn set_modes(&self, modes: Modes) {
        self.state.write().accept_duplicate_user_names = modes.accept_duplicate_user_names;
    }

    /// Requests received so far, by method, counted at the server.
    pub fn request_count(&self) -> RequestCounts {
        self.state.counts.snapshot()
    }

    /// Waits until the server has stopped (after the shutdown future completed and open
    /// requests finished) and the final save, if persisting, is written.
    pub async fn wait(self) -> Result<(), SandboxError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(SandboxError::Serve(std::io::Error::other(e.to_string()))),
        }
    }
}

fn normalise_base_path(raw: &str) -> Result<String, SandboxError> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let bad = |c: char| c.is_whitespace() || matches!(c, '?' | '#' | '{' | '}' | '*');
    if !trimmed.starts_with('/') || trimmed.contains(bad) || trimmed.contains("//") {
        return Err(SandboxError::InvalidBasePath(raw.to_owned()));
    }
    Ok(trimmed.to_owned())
}

/// Starts a sandbox on the current tokio runtime. It serves until `shutdown` completes.
pub async fn serve(
    config: SandboxConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Sandbox, SandboxError> {
    if !config.bind.ip().to_canonical().is_loopback() {
        return Err(SandboxError::NotLoopback(config.bind));
    }
    let base_path = normalise_base_path(&config.base_path)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| SandboxError::Bind { addr: config.bind, source })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind { addr: config.bind, source })?;
    let base_url = format!("http://{addr}{base_path}");

    let mut store = store::Store::new(base_url.clone());
    store.accept_duplicate_user_names = config.modes.accept_duplicate_user_names;
    if let Some(path) = &config.persist
        && let Some(text) = persist::read(path).await?
    {
        store.restore(&text).map_err(|detail| SandboxError::Load { path: path.clone(), detail })?;
        tracing::info!(
            target: "provisio_sandbox",
            users = store.len(Kind::User),
            groups = store.len(Kind::Group),
            "sandbox state loaded from {}",
            path.display()
        );
    }
    let loaded = store.generation();
    let state = Arc::new(AppState {
        store: RwLock::new(store),
        token: config.bearer_token.clone(),
        base_url: base_url.clone(),
        spc_path: format!("{base_path}/ServiceProviderConfig"),
        discovery: discovery::Discovery::new(&base_url, config.bearer_token.is_some()),
        counts: Counters::default(),
    });
    let app = routes::router(Arc::clone(&state), &base_path);
    tracing::info!(target: "provisio_sandbox", "SCIM sandbox listening on {base_url}");

    let persist_path = config.persist.clone();
    let task_state = Arc::clone(&state);
    let task = tokio::spawn(async move {
        let (stop, stopped) = watch::channel(false);
        let saver =
            persist_path.clone().map(|p| tokio::spawn(persist::run(Arc::clone(&task_state), p, stopped, loaded)));
        let mut result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(SandboxError::Serve);
        if let (Some(path), Some(saver)) = (persist_path, saver) {
            let _ = stop.send(true);
            let saved = saver.await.unwrap_or(u64::MAX);
            if let Err(e) = persist::save_if_changed(&task_state, &path, saved).await {
                tracing::warn!(target: "provisio_sandbox", "{e}");
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        tracing::info!(target: "provisio_sandbox", "SCIM sandbox on {} stopped", task_state.base_url);
        result
    });
    Ok(Sandbox { addr, base_url, state, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(normalise_base_path("/scim/v2/").unwrap(), "/scim/v2");
        assert_eq!(normalise_base_path("/").unwrap(), "");
        assert_eq!(normalise_base_path("").unwrap(), "");
        assert!(normalise_base_path("scim").is_err());
        assert!(normalise_base_path("/a?b").is_err());
    }
}
