//! An opened connection: the connector library's instance for one
//! configured connection, with typed operations and a timeout on each.
//!
//! Opening resolves the settings (defaults, secrets by reference, files read
//! for `file` settings), registers every secret with the redactor, and calls
//! the plugin's `open` across the boundary.

use provisio_config::catalogue::Catalogue;
use provisio_config::{ConnectionConfig, secret};
use provisio_core::connector::ConnectorConfig;
use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::manifest::{AttributeSpec, Manifest, ProvisioningOption, ProvisioningOptions, SettingKind};
use provisio_core::ops::*;
use provisio_redact::Redactor;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::fence::LeaseGate;
use crate::instance::{InProcess, Instance};
use crate::loader::LoadedConnector;
use crate::services::Services;

/// One connection's live connector.
pub struct Connection {
    pub name: String,
    pub manifest: Manifest,
    pub config: ConnectorConfig,
    /// The connector itself, wherever it runs ([`crate::instance`]).
    instance: Arc<dyn Instance>,
    /// Every attribute mappings of this connection may target.
    catalogue: Catalogue,
    /// Set by the watchdog when an operation blocked its thread.
    wedged: Arc<std::sync::atomic::AtomicBool>,
    /// The activation check's result, once run ([`Connection::activate`]).
    activation: tokio::sync::OnceCell<Result<(), ActivationFailed>>,
    redactor: Redactor,
    /// Failover: the channel's lease, checked before every operation and
    /// every request; an operation still running at its deadline is cancelled.
    gate: Option<LeaseGate>,
    /// Told of every operation's outcome and duration.
    observer: Option<Arc<dyn CallObserver>>,
}

/// What a connection tells its owner about each operation it performed:
/// the service's metrics count and time them. The connection knows nothing
/// of metrics; whoever opens it may pass an observer
/// ([`Connection::observed_by`]).
pub trait CallObserver: Send + Sync {
    /// `operation` (its name, e.g. `create_user`) of `connection` finished
    /// after `elapsed`, successfully or not.
    fn call_finished(&self, connection: &str, operation: &'static str, elapsed: Duration, ok: bool);
}

/// A connection failed its activation check (its credentials against the
/// target): it is not synced this cycle. The reason is redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("activation check failed, connection not synced: {reason}")]
pub struct ActivationFailed {
    pub reason: String,
}

/// How long a timed-out operation, once aborted, may take to go away
/// before the watchdog concludes it is blocking its thread.
pub const WEDGE_GRACE: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("name", &self.name).field("connector", &self.manifest.id).finish()
    }
}

/// The configuration a connector is opened with: settings with defaults and
/// resolved references, options with defaults, the remove-user action and
/// the custom attributes.
pub fn connector_config(
    conn: &ConnectionConfig,
    manifest: &Manifest,
    discovered: &[AttributeSpec],
    base: &std::path::Path,
    redactor: &Redactor,
) -> Result<ConnectorConfig, ConnectorError> {
    let mut settings = BTreeMap::new();
    for spec in &manifest.settings {
        if let Some(d) = &spec.default {
            settings.insert(spec.name.clone(), d.clone());
        }
    }
    for (name, value) in &conn.settings {
        let spec = manifest.setting(name);
        let failed = |e: secret::ResolveError| {
            ConnectorError::config(format!("connection '{}': setting '{name}': {e}", conn.name))
        };
        let resolved = if spec.is_some_and(|s| s.kind == SettingKind::File) {
            // The value names a file; the connector gets its contents.
            let path = secret::file_setting_path(value, base).map_err(failed)?;
            serde_json::Value::String(secret::read_text(&path).map_err(failed)?)
        } else {
            value.resolve().map_err(failed)?
        };
        if spec.is_some_and(|s| s.secret) {
            register_secret_value(&resolved, redactor);
        }
        settings.insert(name.clone(), resolved);
    }
    let option = |o: ProvisioningOption| conn.options.get(o).unwrap_or(manifest.options.get(o).default);
    let options = ProvisioningOptions {
        user_create: option(ProvisioningOption::UserCreate),
        user_update: option(ProvisioningOption::UserUpdate),
        user_disable_delete: option(ProvisioningOption::UserDisableDelete),
        provision_disabled_users: option(ProvisioningOption::ProvisionDisabledUsers),
    };
    let remove_user_action = match &conn.remove_user_action {
        Some(a) => a
            .parse()
            .map_err(|e| ConnectorError::config(format!("connection '{}': remove_user_action {e}", conn.name)))?,
        None => manifest.remove_user.default,
    };
    let extra_attributes = provisio_config::catalogue::extra_attributes(conn, discovered);
    Ok(ConnectorConfig { connection: conn.name.clone(), settings, options, remove_user_action, extra_attributes })
}

/// Register a resolved secret setting with `redactor`: its text (a number
/// or a boolean as written), and in a secret file (e.g. pingid.properties)
/// the values of keys named like secrets, which are secrets of their own
/// wherever they turn up.
fn register_secret_value(resolved: &serde_json::Value, redactor: &Redactor) {
    let text = match resolved {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => return,
        other => other.to_string(),
    };
    redactor.add(&text);
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if let Some((k, v)) = line.split_once(['=', ':']) {
            let k = k.trim().to_ascii_lowercase();
            if ["key", "secret", "token", "password"].iter().any(|w| k.contains(w)) {
                redactor.add(v.trim());
            }
        }
    }
}

/// Register every secret setting of `conn` that resolves (a reference that
/// does not is reported when the connection is opened), before anything of
/// the run is read or shown: `provision --user` and a source's parse
/// errors come before any connection is open.
pub fn register_secrets(conn: &ConnectionConfig, manifest: &Manifest, base: &std::path::Path, redactor: &Redactor) {
    for (name, value) in &conn.settings {
        let Some(spec) = manifest.setting(name).filter(|s| s.secret) else { continue };
        let resolved = if spec.kind == SettingKind::File {
            secret::file_setting_path(value, base).ok().and_then(|p| secret::read_text(&p).ok()).map(Into::into)
        } else {
            value.resolve().ok()
        };
        if let Some(resolved) = resolved {
            register_secret_value(&resolved, redactor);
        }
    }
}

impl Connection {
    /// Open `loaded`'s connector for `conn`.
    pub fn open(
        conn: &ConnectionConfig,
        loaded: &LoadedConnector,
        discovered: &[AttributeSpec],
        base: &std::path::Path,
        redactor: &Redactor,
        client: reqwest::Client,
        gate: Option<LeaseGate>,
    ) -> Result<Connection, ConnectorError> {
        let config = connector_config(conn, &loaded.manifest, discovered, base, redactor)?;
        let services = Services {
            client,
            redactor: redactor.clone(),
            label: format!("{} ({})", conn.name, loaded.manifest.id),
            limiter: conn.rate_limit.and_then(crate::limit::RateLimiter::per_second).map(Arc::new),
            gate: gate.clone(),
        };
        let instance = InProcess::open(loaded, &config, Arc::new(services)).map_err(|e| {
            e.context(format!("connection '{}': opening connector '{}'", conn.name, loaded.manifest.id))
        })?;
        Ok(Connection {
            name: conn.name.clone(),
            manifest: loaded.manifest.clone(),
            config,
            instance: Arc::new(instance),
            catalogue: Catalogue::new(conn, &loaded.manifest, discovered),
            wedged: Arc::default(),
            activation: tokio::sync::OnceCell::new(),
            redactor: redactor.clone(),
            gate,
            observer: None,
        })
    }

    /// Tell `observer` of every operation from now on.
    pub fn observed_by(mut self, observer: Arc<dyn CallObserver>) -> Connection {
        self.observer = Some(observer);
        self
    }

    /// Whether the watchdog found this connector blocking a thread.
    pub fn is_wedged(&self) -> bool {
        self.wedged.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Run `operation`, cut at `timeout`, and decode its typed answer.
    ///
    /// Each operation runs as a task of its own, so a connector that blocks
    /// its thread (which no in-process plugin may do) costs one worker
    /// thread, not the cycle: the timeout still fires. The watchdog then
    /// aborts the task; if it does not go away, the connector is blocking
    /// and is marked wedged, and every later call fails at once instead of
    /// losing another thread. That is the documented limit of native plugins.
    pub async fn call<T: DeserializeOwned>(
        &self,
        operation: Operation,
        timeout: Duration,
    ) -> Result<T, ConnectorError> {
        let name = operation.name();
        let started = std::time::Instant::now();
        let result = self.call_untimed(operation, timeout).await;
        if let Some(observer) = &self.observer {
            observer.call_finished(&self.name, name, started.elapsed(), result.is_ok());
        }
        result
    }

    async fn call_untimed<T: DeserializeOwned>(
        &self,
        operation: Operation,
        timeout: Duration,
    ) -> Result<T, ConnectorError> {
        let name = operation.name();
        if let Some(gate) = &self.gate {
            gate.admit(&format!("'{name}'"))?;
        }
        if self.is_wedged() {
            return Err(ConnectorError::new(
                ErrorKind::Internal,
                format!(
                    "connector '{}' is wedged: an earlier operation blocked its thread; restart provisio after fixing or removing the connector",
                    self.manifest.id
                ),
            )
            .retryable(false));
        }
        let task = tokio::spawn(self.instance.clone().invoke(operation));
        let abort = task.abort_handle();
        let timed = tokio::time::timeout(timeout, task);
        let finished = match &self.gate {
            None => timed.await,
            // Failover: an operation still running when the lease's
            // deadline passes is cancelled, so it sends nothing more.
            Some(gate) => tokio::select! {
                biased;
                _ = gate.closed() => {
                    abort.abort();
                    return Err(gate.refused(&format!("the rest of '{name}' (cancelled)")));
                }
                finished = timed => finished,
            },
        };
        let value = match finished {
            Ok(Ok(result)) => result?,
            Ok(Err(join)) => {
                return Err(ConnectorError::new(ErrorKind::Panic, format!("'{name}' failed in the host: {join}"))
                    .retryable(false));
            }
            Err(_) => {
                let mut err = ConnectorError::new(
                    ErrorKind::Timeout,
                    format!("'{name}' did not finish within {} s (the channel's timeout)", timeout.as_secs()),
                );
                if self.watch(abort, name).await {
                    err.detail.push_str(&format!(
                        "; the watchdog found it blocking its thread, so connector '{}' is marked wedged",
                        self.manifest.id
                    ));
                    err.retryable = false;
                }
                return Err(err);
            }
        };
        serde_json::from_value(value).map_err(|e| {
            ConnectorError::protocol(format!(
                "connector '{}' answered '{name}' with an unexpected shape: {e}",
                self.manifest.id
            ))
        })
    }

    /// The watchdog: abort a timed-out task; one that is still there after
    /// the grace period is stuck in a poll, i.e. blocking its thread. Marks
    /// the connector wedged (once, with an error in the log) and answers
    /// whether it did.
    async fn watch(&self, task: tokio::task::AbortHandle, operation: &'static str) -> bool {
        task.abort();
        let deadline = tokio::time::Instant::now() + WEDGE_GRACE;
        while !task.is_finished() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if task.is_finished() {
            return false;
        }
        if !self.wedged.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tracing::error!(
                connection = %self.name,
                connector = %self.manifest.id,
                "watchdog: '{operation}' is blocking a thread past its timeout; connector '{}' is marked wedged and gets no more operations in this run",
                self.manifest.id
            );
        }
        true
    }

    /// One test of the credentials against the target.
    pub async fn test_connection(&self, timeout: Duration) -> Result<ConnectionReport, ConnectorError> {
        self.call(Operation::TestConnection, timeout).await
    }

    /// The activation check: [`Connection::test_connection`] under the
    /// retry policy of an operation (a 429, 503 or timeout is tried again
    /// after `Retry-After` or a back-off), all within `timeout`.
    pub async fn check(&self, timeout: Duration) -> Result<ConnectionReport, ConnectorError> {
        crate::retry::retry_within(timeout, "activation timeout", || self.test_connection(timeout)).await
    }

    /// The activation check (credentials against the target, retried as
    /// [`Connection::check`] says), run at most once per opened connection,
    /// when a cycle first needs the target; its outcome serves every channel
    /// of the connection: a connection whose check fails is not synced, and
    /// a cycle with nothing to send never contacts the target. The error is redacted and says
    /// that the connection was not synced.
    pub async fn activate(&self, timeout: Duration) -> Result<(), ActivationFailed> {
        self.activation
            .get_or_init(|| async {
                self.check(timeout)
                    .await
                    .map(|_| ())
                    .map_err(|e| ActivationFailed { reason: self.redactor.redact(&e.to_string()) })
            })
            .await
            .clone()
    }

    /// Every attribute mappings of this connection may target: the same
    /// catalogue `config check` judges them by.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
}
