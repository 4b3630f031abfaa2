//! The service surface of a long-running `provisio sync`: an HTTP listener
//! beside the cycle loop that answers
//!
//! | path | what |
//! |---|---|
//! | `GET /health/live` | 200 while the process runs |
//! | `GET /health/ready` | 200 once the first cycle finished and no channel's last cycle hit a channel-stopping error (nor sat out in quarantine); 503 with a JSON reason otherwise, and while stopping. With failover only the channels the node ran count (a node holding none is ready), and the answer adds the node's id, backup flag and lease per channel |
//! | `GET /metrics` | Prometheus metrics ([`metrics`]), in the OpenMetrics text format |
//! | `GET /` | the read-only status page ([`page`]), refreshing itself |
//!
//! The address comes from `--listen ADDR` or `[engine.service] listen`
//! (`ServiceConfig::listen_address` refuses a non-loopback one unless
//! `allow_non_loopback = true`). `sync --once` never listens, so
//! `channels retry` and one-off cycles do not fight the service for its port.
//!
//! The listener runs on a thread of its own with its own small tokio
//! runtime, so a connector that blocks the engine's workers cannot silence
//! the health endpoints. The cycle loop (`cli/engine.rs`) tells it what each
//! cycle did ([`Service::record_cycle`]); what the state store holds (dirty
//! records, held deprovisions, quarantine, past cycles) is read from the
//! store, read-only, at each request ([`view`]). Dropping the [`Service`]
//! (the loop ends on SIGTERM or Ctrl-C) stops the listener cleanly.
//!
//! Nothing served here carries a secret: settings are never shown, and every
//! text that came from a target (errors) was redacted by the engine and is
//! redacted again on the way out.

pub mod metrics;
pub mod page;
pub mod view;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::Metrics;
use provisio_config::Config;
use provisio_engine::ChannelReport;
use provisio_redact::Redactor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// What the loop tells the listener about the cycles so far.
#[derive(Debug, Default)]
pub(crate) struct CycleStatus {
    /// Cycles (of every channel) finished since the start.
    pub finished: u64,
    pub last_finished: Option<SystemTime>,
    pub next_at: Option<SystemTime>,
    /// Per `(connection, channel)`: why its last cycle stopped the channel
    /// (an error, or the quarantine it sat out in); None when it ran.
    pub channels: BTreeMap<(String, String), Option<String>>,
}

/// What the handlers share.
pub(crate) struct Shared {
    pub config: Config,
    pub redactor: Redactor,
    pub metrics: Arc<Metrics>,
    pub started_at: SystemTime,
    pub frequency: Duration,
    pub cycles: Mutex<CycleStatus>,
    /// Failover: the node's live lease view (`None`: standalone).
    pub node: Mutex<Option<crate::node::NodeView>>,
}

impl Shared {
    fn status(&self) -> std::sync::MutexGuard<'_, CycleStatus> {
        self.cycles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Failover: the node's state now (`None`: standalone).
    pub(crate) fn node(&self) -> Option<crate::node::NodeState> {
        let view = self.node.lock().unwrap_or_else(|e| e.into_inner()).clone();
        view.map(|v| v())
    }

    /// `Ok` when ready, else why not, with the channels at fault.
    pub(crate) fn readiness(&self) -> Result<(), (String, Vec<serde_json::Value>)> {
        if provisio_engine::shutdown::requested() {
            return Err(("stopping: a stop was requested (SIGTERM or Ctrl-C)".into(), Vec::new()));
        }
        let status = self.status();
        if status.finished == 0 {
            return Err(("the first cycle has not finished yet".into(), Vec::new()));
        }
        let failed: Vec<serde_json::Value> = status
            .channels
            .iter()
            .filter_map(|((connection, channel), error)| {
                error.as_ref().map(|e| {
                    serde_json::json!({"connection": connection, "channel": channel, "error": self.redactor.redact(e)})
                })
            })
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err((format!("{} channel(s) could not run their last cycle", failed.len()), failed))
        }
    }
}

/// A running listener; dropping it stops the listener.
pub struct Service {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Service {
    /// Start the listener `--listen` (`flag`) or `[engine.service]` asks
    /// for; `None` when neither does. Binding happens here, so a taken port
    /// or a refused address is an error before the first cycle.
    pub fn start(config: &Config, redactor: &Redactor, flag: Option<&str>) -> Result<Option<Service>, String> {
        let allow = config.engine.service.as_ref().is_some_and(|s| s.allow_non_loopback);
        let (text, key) = match (flag, &config.engine.service) {
            (Some(text), _) => (text.to_owned(), "--listen"),
            (None, Some(s)) => (s.listen.clone(), "engine.service.listen"),
            (None, None) => return Ok(None),
        };
        let addr = provisio_config::ServiceConfig::parse_listen(&text, allow).map_err(|e| format!("{key}: {e}"))?;
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| format!("{key}: cannot listen on {addr}: {e}; pick a free port (or stop what holds it)"))?;
        listener.set_nonblocking(true).map_err(|e| format!("{key}: {addr}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("{key}: {addr}: {e}"))?;
        let metrics = Arc::new(Metrics::new());
        metrics::install(metrics.clone());
        let shared = Arc::new(Shared {
            config: config.clone(),
            redactor: redactor.clone(),
            metrics,
            started_at: SystemTime::now(),
            frequency: Duration::from_secs(config.engine.synchronization_frequency),
            cycles: Mutex::default(),
            node: Mutex::default(),
        });
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (stopped_tx, stopped) = std::sync::mpsc::channel();
        let app = router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("provisio-service".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("the service listener cannot start its runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("the service listener cannot use its socket: {e}");
                            return;
                        }
                    };
                    let stopping = async move {
                        let _ = stop_rx.await;
                    };
                    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopping).await {
                        tracing::error!("the service listener failed: {e}");
                    }
                });
                let _ = stopped_tx.send(());
            })
            .map_err(|e| format!("cannot start the service listener: {e}"))?;
        crate::logging::notice(&format!(
            "provisio: serving /health/live, /health/ready, /metrics and the status page on http://{addr}/"
        ));
        Ok(Some(Service { addr, shared, stop: Some(stop), stopped, thread: Some(thread) }))
    }

    /// The address the listener is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Record what one cycle did: metrics, and each channel's last outcome
    /// for readiness. `next` is when the next cycle starts, if one will.
    pub fn record_cycle(&self, reports: &[ChannelReport], next: Option<SystemTime>) {
        self.shared.metrics.record_cycle(reports);
        let failover = self.shared.node.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        let mut status = self.shared.status();
        if failover {
            // A node runs only the channels it holds: one it no longer
            // holds says nothing about this node's readiness.
            status.channels.clear();
        }
        status.finished += 1;
        status.last_finished = Some(SystemTime::now());
        status.next_at = next;
        for r in reports {
            let stopped = r.summary.error.clone().or_else(|| r.quarantined.clone());
            status.channels.insert((r.connection.clone(), r.channel.clone()), stopped);
        }
    }
}

impl Service {
    /// Failover: report this node's leases (metrics, readiness, page).
    pub fn set_node(&self, view: crate::node::NodeView) {
        *self.shared.node.lock().unwrap_or_else(|e| e.into_inner()) = Some(view);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // In-flight requests finish; a client that holds a connection open
        // does not hold the process: give up waiting after a few seconds.
        if self.stopped.recv_timeout(Duration::from_secs(3)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
        metrics::uninstall();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(scrape))
        .fallback(not_found)
        .with_state(shared)
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let body = format!("{value}\n");
    (status, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn live(State(shared): State<Arc<Shared>>) -> Response {
    let uptime = shared.started_at.elapsed().unwrap_or_default().as_secs();
    json(StatusCode::OK, serde_json::json!({"status": "live", "uptime_seconds": uptime}))
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    match shared.readiness() {
        Ok(()) => {
            let cycles = shared.status().finished;
            let mut body = serde_json::json!({"ready": true, "cycles": cycles});
            if let Some(node) = shared.node() {
                body["node"] = node_json(&node);
            }
            json(StatusCode::OK, body)
        }
        Err((reason, channels)) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"ready": false, "reason": reason, "channels": channels}),
        ),
    }
}

/// A failover node's id, backup flag and lease per channel.
fn node_json(node: &crate::node::NodeState) -> serde_json::Value {
    let channels: Vec<_> = node
        .channels
        .iter()
        .map(|c| serde_json::json!({"connection": c.connection, "channel": c.channel, "lease": c.state}))
        .collect();
    serde_json::json!({"node_id": node.node_id, "backup": node.backup, "channels": channels})
}

async fn scrape(State(shared): State<Arc<Shared>>) -> Response {
    let view = view::read(&shared.config, false);
    let ready = shared.readiness().is_ok();
    match shared.metrics.encode(&view, ready, shared.node().as_ref()) {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the metrics: {e}\n")).into_response(),
    }
}

async fn status_page(State(shared): State<Arc<Shared>>) -> Response {
    let view = view::read(&shared.config, true);
    let html = page::render(&shared, &view);
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found: try /, /health/live, /health/ready or /metrics\n").into_response()
}
