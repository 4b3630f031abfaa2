//! [`Engine`], a run of the engine: what lives for the whole run, and how a
//! cycle goes over the connections and channels.
//!
//! The engine holds the configuration, the loaded connectors, the
//! redactor, the observer, one tokio runtime and one HTTP client per
//! distinct TLS policy (a connection's `tls` table), made when the first
//! connection with that policy opens and shared by the others.
//! A cycle ([`Engine::cycle`]) runs each active channel of each active
//! connection ([`crate::cycle::ChannelRun`]). Before a connection's first request
//! to its target in the cycle, its credentials are checked (the activation
//! check, [`Connection::activate`]): a connection whose check fails is not
//! synced, and a cycle with nothing to send contacts no target at all.

use provisio_config::{ChannelConfig, Config, ConnectionConfig, TlsConfig};
use provisio_core::error::ConnectorError;
use provisio_core::ops::{ConnectionReport, DiscoveredSchema, Operation};
use provisio_redact::Redactor;
use provisio_runtime::connection::Connection;
use provisio_runtime::fence::LeaseGate;
use provisio_runtime::loader::LoadReport;
use provisio_state::StateStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{self, Audit};
use crate::cycle::ChannelRun;
use crate::error::EngineError;
use crate::fields::{discovered_fields, validate_discovered};
use crate::observer::{Calls, Leases, Observer, Unobserved};
use crate::report::ChannelReport;
use crate::{quarantine, shutdown, source};

/// How long the activation check may take.
pub const ACTIVATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A run of the engine.
pub struct Engine {
    pub config: Config,
    pub connectors: LoadReport,
    pub redactor: Redactor,
    runtime: tokio::runtime::Runtime,
    /// The per-call timeout of every client.
    http_timeout: Duration,
    /// One HTTP client per TLS policy.
    clients: std::sync::Mutex<std::collections::BTreeMap<TlsConfig, reqwest::Client>>,
    /// Failover: this node's leases; a cycle then runs only the channels
    /// whose lease it holds, each under its lease ([`Leases`]).
    pub leases: Option<Arc<dyn Leases>>,
    /// Told of progress, connector calls and a requested stop.
    observer: Arc<dyn Observer>,
}

/// Options of one cycle.
#[derive(Debug, Clone, Default)]
pub struct CycleOptions {
    /// Decide and report, but write nothing to the target or the state.
    pub dry_run: bool,
    /// Only this channel (`connection/channel` or `channel`).
    pub channel: Option<String>,
    /// Only this source user (GUID), for `provision --user`.
    pub user: Option<String>,
    /// With `user`: its source entry as already read, by `connection/channel`
    /// (`None`: not in that channel's scope). A channel listed here does
    /// not read its source again.
    pub user_read: Option<std::sync::Arc<std::collections::BTreeMap<String, Option<provisio_source::SourceUser>>>>,
}

impl Engine {
    pub fn new(config: Config, connectors: LoadReport) -> Result<Engine, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("provisio")
            .build()
            .map_err(EngineError::Runtime)?;
        let max_timeout = config
            .connections
            .iter()
            .flat_map(|c| c.channels.iter().map(|ch| ch.timeout))
            .max()
            .unwrap_or(60)
            .max(ACTIVATION_TIMEOUT.as_secs());
        // The process's redactor, so the CLI's error exit and every log line
        // mask what the engine knows; the configuration's secrets are
        // secrets before anything is read or opened.
        let redactor = Redactor::process().clone();
        register_configured_secrets(&config, &connectors, &redactor);
        Ok(Engine {
            config,
            connectors,
            redactor,
            runtime,
            http_timeout: Duration::from_secs(max_timeout),
            clients: Default::default(),
            leases: None,
            observer: Arc::new(Unobserved),
        })
    }

    /// Tell `observer` how runs go from now on (progress, connector calls,
    /// a requested stop).
    pub fn observe(&mut self, observer: Arc<dyn Observer>) {
        self.observer = observer;
    }

    /// The HTTP client for `conn`'s TLS policy, made on first use. Opening a
    /// connection without certificate verification logs a warning each time.
    fn http_client(&self, conn: &ConnectionConfig) -> Result<reqwest::Client, ConnectorError> {
        if !conn.tls.verify_certificates {
            tracing::warn!(
                "connection '{}': TLS certificate verification is off (tls.verify_certificates = false): \
                 any certificate is accepted, so anyone on the network path can read and change what is sent, \
                 credentials included; give the target's CA with tls.ca_file instead",
                conn.name
            );
        }
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&conn.tls) {
            return Ok(client.clone());
        }
        let client = provisio_runtime::services::http_client(self.http_timeout, &conn.tls)
            .map_err(|e| ConnectorError::config(format!("connection '{}': {e}", conn.name)))?;
        clients.insert(conn.tls.clone(), client.clone());
        Ok(client)
    }

    /// Stop cleanly on SIGTERM or Ctrl-C (see [`shutdown`]); the observer
    /// is told when a stop is requested.
    pub fn stop_on_signals(&self) {
        shutdown::install(&self.runtime, self.observer.clone());
    }

    /// Run a future on the engine's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Open a connection's connector, with the fields discovered for it.
    pub fn open(&self, conn: &ConnectionConfig, store: Option<&StateStore>) -> Result<Connection, ConnectorError> {
        self.open_gated(conn, store, None)
    }

    /// [`Engine::open`] under failover: every request it sends passes
    /// `gate` (the channel's lease, [`provisio_runtime::fence`]).
    fn open_gated(
        &self,
        conn: &ConnectionConfig,
        store: Option<&StateStore>,
        gate: Option<LeaseGate>,
    ) -> Result<Connection, ConnectorError> {
        let loaded = self.connectors.get(&conn.connector).ok_or_else(|| {
            ConnectorError::config(format!("connection '{}': connector '{}' is not loaded", conn.name, conn.connector))
        })?;
        let discovered = discovered_fields(store, &conn.name);
        // reqwest needs the runtime's context when it builds connections.
        let _guard = self.runtime.enter();
        let base = self.config.file.parent().unwrap_or(Path::new("."));
        let client = self.http_client(conn)?;
        let calls: Arc<dyn provisio_runtime::CallObserver> = Arc::new(Calls(self.observer.clone()));
        Ok(Connection::open(conn, loaded, &discovered, base, &self.redactor, client, gate)?.observed_by(calls))
    }

    /// The activation check of one connection.
    pub fn test_connection(&self, conn: &ConnectionConfig) -> Result<ConnectionReport, ConnectorError> {
        let connection = self.open(conn, None)?;
        self.block_on(connection.check(ACTIVATION_TIMEOUT))
    }

    /// Fetch a connection's schema from its target ("Refresh Fields") and
    /// record it in the state store. A schema that cannot be read, or that
    /// is invalid, records nothing: the previous fields stay.
    pub fn refresh_fields(&self, conn: &ConnectionConfig, store: &StateStore) -> Result<DiscoveredSchema, EngineError> {
        let connector = |e: ConnectorError| EngineError::Connector(self.redactor.redact(&e.to_string()));
        let connection = self.open(conn, Some(store)).map_err(connector)?;
        if !connection.manifest.supports(provisio_core::manifest::Capability::DiscoverSchema) {
            return Err(EngineError::NoSchemaDiscovery { connector: connection.manifest.id.clone() });
        }
        let schema: DiscoveredSchema =
            self.block_on(connection.call(Operation::DiscoverSchema, ACTIVATION_TIMEOUT)).map_err(connector)?;
        validate_discovered(&schema, &connection.manifest)?;
        let json = serde_json::to_string(&schema.attributes).expect("attribute specs serialize");
        store.set_discovered_fields(&conn.name, &json, audit::now_unix())?;
        Ok(schema)
    }

    /// One cycle over every active connection and channel.
    pub fn cycle(&self, store: &StateStore, audit: &Audit, options: &CycleOptions) -> Vec<ChannelReport> {
        let hash_key = match crate::keys::hash_key_of(&self.config) {
            Ok(k) => k,
            Err(e) => {
                return vec![ChannelReport {
                    connection: "*".into(),
                    channel: "*".into(),
                    summary: provisio_state::CycleSummary { error: Some(e.to_string()), ..Default::default() },
                    ..Default::default()
                }];
            }
        };
        let mut reports = Vec::new();
        for conn_cfg in self.config.connections.iter().filter(|c| c.active) {
            let selected: Vec<_> = conn_cfg
                .channels
                .iter()
                .filter(|ch| ch.active)
                .filter(|ch| match &options.channel {
                    None => true,
                    Some(sel) => sel == &ch.name || *sel == format!("{}/{}", conn_cfg.name, ch.name),
                })
                .collect();
            if let Some(leases) = &self.leases
                && !options.dry_run
            {
                for ch in selected {
                    reports.extend(self.leased_cycle(leases.as_ref(), store, audit, options, conn_cfg, ch, &hash_key));
                }
                continue;
            }
            // Quarantined channels sit this cycle out (not for a dry run or
            // a single user); a connection whose channels all do is not
            // even contacted.
            let mut channels = Vec::new();
            for ch in selected {
                match self.quarantined(store, options, conn_cfg, ch) {
                    Some(report) => reports.push(report),
                    None => channels.push(ch),
                }
            }
            if channels.is_empty() {
                continue;
            }
            let run = self.connection_cycle(store, audit, options, conn_cfg, &channels, &hash_key, None);
            if !options.dry_run && options.user.is_none() {
                for report in &run {
                    self.record_health(store, report);
                }
            }
            reports.extend(run);
        }
        reports
    }
}

impl Engine {
    /// Failover: one channel's cycle, if this node holds its lease, under
    /// that lease: the connection refuses operations and the store refuses
    /// writes once the lease is lost. Nothing when another node holds it.
    #[allow(clippy::too_many_arguments)]
    fn leased_cycle(
        &self,
        leases: &dyn Leases,
        store: &StateStore,
        audit: &Audit,
        options: &CycleOptions,
        conn_cfg: &ConnectionConfig,
        ch: &ChannelConfig,
        hash_key: &[u8],
    ) -> Vec<ChannelReport> {
        let Some(lease) = leases.begin(&conn_cfg.name, &ch.name) else { return Vec::new() };
        store.set_fence(Some(lease.fence()));
        let reports = match self.quarantined(store, options, conn_cfg, ch) {
            Some(report) => vec![report],
            None => {
                let run = self.connection_cycle(store, audit, options, conn_cfg, &[ch], hash_key, Some(lease.gate()));
                if options.user.is_none() {
                    for report in &run {
                        self.record_health(store, report);
                    }
                }
                run
            }
        };
        store.set_fence(None);
        reports
    }

    /// One cycle of the given channels of one connection.
    #[allow(clippy::too_many_arguments)]
    fn connection_cycle(
        &self,
        store: &StateStore,
        audit: &Audit,
        options: &CycleOptions,
        conn_cfg: &ConnectionConfig,
        channels: &[&ChannelConfig],
        hash_key: &[u8],
        gate: Option<LeaseGate>,
    ) -> Vec<ChannelReport> {
        let failed = |error: String| {
            channels
                .iter()
                .map(|ch| ChannelReport {
                    connection: conn_cfg.name.clone(),
                    channel: ch.name.clone(),
                    summary: provisio_state::CycleSummary { error: Some(error.clone()), ..Default::default() },
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        let connection = match self.open_gated(conn_cfg, Some(store), gate) {
            Ok(c) => c,
            Err(e) => return failed(self.redactor.redact(&e.to_string())),
        };
        // The activation check: a plan checks the credentials first; a
        // cycle checks them before its first request to the target
        // (`Connection::activate`), so one with nothing to send sends nothing.
        if options.dry_run
            && let Err(e) = self.block_on(connection.activate(ACTIVATION_TIMEOUT))
        {
            return failed(e.to_string());
        }
        if !options.dry_run
            && let Some(identifier) = conn_cfg.unique_identifier(&connection.manifest)
            && let Err(e) = store.check_connection_identifier(&conn_cfg.name, &identifier)
        {
            return failed(e.to_string());
        }
        let mut reports = Vec::new();
        for ch in channels {
            let run = ChannelRun {
                conn: &connection,
                conn_cfg,
                channel: ch,
                store,
                audit,
                redactor: &self.redactor,
                hash_key,
                dry_run: options.dry_run,
                only: options.user.clone(),
                only_read: options
                    .user_read
                    .as_ref()
                    .and_then(|read| read.get(&format!("{}/{}", conn_cfg.name, ch.name)).cloned()),
                observer: self.observer.as_ref(),
            };
            reports.push(self.block_on(run.run()));
        }
        reports
    }

    /// A report saying the channel is quarantined, if it is.
    fn quarantined(
        &self,
        store: &StateStore,
        options: &CycleOptions,
        conn_cfg: &ConnectionConfig,
        ch: &ChannelConfig,
    ) -> Option<ChannelReport> {
        if options.dry_run || options.user.is_some() {
            return None;
        }
        let key = store.find_channel(&conn_cfg.name, &ch.name).ok().flatten()?;
        let health = store.health(key).ok()?;
        let now = audit::now_unix();
        if !quarantine::is_quarantined(&health, now) {
            return None;
        }
        let until = health.quarantined_until.unwrap_or(now);
        let message = format!(
            "quarantined for another {} s after {} failing cycles in a row ({}); the next cycle after that probes the target",
            until - now,
            health.failing_cycles,
            health.reason.as_deref().unwrap_or("unknown")
        );
        Some(ChannelReport {
            connection: conn_cfg.name.clone(),
            channel: ch.name.clone(),
            quarantined: Some(message),
            ..ChannelReport::default()
        })
    }

    /// Record a cycle's outcome in the channel's health, entering or
    /// leaving quarantine as the rule says.
    fn record_health(&self, store: &StateStore, report: &ChannelReport) {
        let Ok(key) = store.channel(&report.connection, &report.channel) else { return };
        let Ok(health) = store.health(key) else { return };
        let now = audit::now_unix();
        let failure = quarantine::failing(&report.summary);
        let e = &self.config.engine;
        let (next, transition) =
            quarantine::after_cycle(&health, failure, now, e.quarantine_after, e.quarantine_interval as i64);
        match transition {
            quarantine::Transition::Entered { until } => tracing::warn!(
                connection = %report.connection,
                channel = %report.channel,
                "channel quarantined for {} s after {} failing cycles in a row: {}",
                until - now,
                next.failing_cycles,
                next.reason.as_deref().unwrap_or("")
            ),
            quarantine::Transition::Left => {
                tracing::warn!(connection = %report.connection, channel = %report.channel, "channel recovered: quarantine lifted")
            }
            quarantine::Transition::None => {}
        }
        if let Err(e) = store.set_health(key, &next) {
            tracing::error!("cannot record the health of {}/{}: {e}", report.connection, report.channel);
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // A wedged connector may still block a worker thread: do not wait
        // for it on the way out.
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread().build().expect("an empty runtime"),
        );
        runtime.shutdown_background();
    }
}

/// Register every secret the configuration holds (connection secret
/// settings, LDAP bind passwords) with `redactor`, before any source is
/// read or connection opened.
fn register_configured_secrets(config: &Config, connectors: &LoadReport, redactor: &Redactor) {
    let base = config.file.parent().unwrap_or(Path::new("."));
    for conn in &config.connections {
        if let Some(loaded) = connectors.get(&conn.connector) {
            provisio_runtime::connection::register_secrets(conn, &loaded.manifest, base, redactor);
        }
        for channel in &conn.channels {
            if let provisio_config::SourceConfig::Ldap(l) = &channel.source
                && let Ok(Some(password)) = source::bind_password(l)
            {
                redactor.add(&password);
            }
        }
    }
}
