//! An in-process harness for connector unit tests, with recorded HTTP.
//!
//! [`Harness`] opens a connector with settings and a script of HTTP
//! exchanges ([`RecordedHttp`]), runs operations on a small local executor
//! (no tokio needed), and lets the test read every request the connector
//! sent and every line it logged. Sleeping advances a virtual clock
//! instantly, so retry and back-off logic runs at full speed.
//!
//! By default operations go through the same JSON encoding, panic guard and
//! `unsupported` naming as a loaded plugin ([`crate::ffi::plugin::invoke_json`]).
//!
//! ```
//! use provisio_core::prelude::*;
//! use provisio_core::testing::{Harness, RecordedHttp};
//!
//! struct Ping { host: Host, url: String }
//! impl Connector for Ping {
//!     fn manifest() -> Manifest {
//!         let mut m = provisio_core::testing::minimal_manifest("ping");
//!         m.capabilities.insert(Capability::TestConnection);
//!         m
//!     }
//!     fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
//!         Ok(Ping { host, url: config.require_str("url")?.to_owned() })
//!     }
//!     async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
//!         let r = self.host.http(HttpRequest::get(&self.url)).await?;
//!         Ok(ConnectionReport { summary: format!("HTTP {}", r.status), details: vec![] })
//!     }
//! }
//!
//! let http = RecordedHttp::new().on("GET", "https://t.example/ok", 200, "{}");
//! let h = Harness::open::<Ping>(serde_json::json!({"url": "https://t.example/ok"}), http).unwrap();
//! let report = h.run(Operation::TestConnection).unwrap();
//! assert_eq!(report["summary"], "HTTP 200");
//! assert_eq!(h.requests()[0].url, "https://t.example/ok");
//! ```

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::connector::{Connector, ConnectorConfig, DynConnector, Registration};
use crate::error::{ConnectorError, ErrorKind};
use crate::host::{Host, HostServices, HttpRequest, HttpResponse, LogLevel};
use crate::manifest::*;
use crate::ops::Operation;

/// The smallest manifest that passes validation: one required `userName`,
/// Disable/Delete with Disable by default, PingFederate's default options and
/// no capabilities. A starting point for tests and examples.
pub fn minimal_manifest(id: &str) -> Manifest {
    Manifest {
        id: id.to_owned(),
        display_name: id.to_owned(),
        description: String::new(),
        version: "0.0.0".to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: Vec::new(),
        attributes: vec![AttributeSpec::new("userName", "userName").required()],
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable, RemoveUserAction::Delete],
            default: RemoveUserAction::Disable,
            notes: String::new(),
        },
        options: ProvisioningOptionsSpec::defaults(true, true, true, false),
        capabilities: BTreeSet::new(),
        notes: Vec::new(),
    }
}

/// One scripted exchange: a request the connector is expected to send and
/// the answer it gets.
#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    url: String,
    response: Result<HttpResponse, ConnectorError>,
}

/// A script of HTTP exchanges, answered in order. A request that does not
/// match the next exchange gets a `protocol` error naming both, so a test
/// fails where the connector went wrong.
#[derive(Debug, Clone, Default)]
pub struct RecordedHttp {
    script: VecDeque<Exchange>,
}

impl RecordedHttp {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expect `method url` next; answer `status` with `body`.
    pub fn on(self, method: &str, url: &str, status: u16, body: &str) -> Self {
        self.on_response(method, url, HttpResponse { status, headers: Vec::new(), body: body.as_bytes().to_vec() })
    }

    /// Expect `method url` next; answer `response`.
    pub fn on_response(mut self, method: &str, url: &str, response: HttpResponse) -> Self {
        self.script.push_back(Exchange { method: method.to_owned(), url: url.to_owned(), response: Ok(response) });
        self
    }

    /// Expect `method url` next; fail it as the host would on a transport error.
    pub fn on_failure(mut self, method: &str, url: &str, error: ConnectorError) -> Self {
        self.script.push_back(Exchange { method: method.to_owned(), url: url.to_owned(), response: Err(error) });
        self
    }
}

#[derive(Default)]
struct Recorder {
    script: Mutex<VecDeque<Exchange>>,
    requests: Mutex<Vec<HttpRequest>>,
    logs: Mutex<Vec<(LogLevel, String)>>,
    secrets: Mutex<Vec<String>>,
    clock_ms: AtomicU64,
}

struct RecordingHost(Arc<Recorder>);

impl HostServices for RecordingHost {
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>> {
        self.0.requests.lock().expect("recorder lock").push(request.clone());
        let next = self.0.script.lock().expect("recorder lock").pop_front();
        let answer = match next {
            Some(ex) if ex.method == request.method && ex.url == request.url => ex.response,
            Some(ex) => Err(ConnectorError::protocol(format!(
                "recorded HTTP expected {} {} but the connector sent {} {}",
                ex.method, ex.url, request.method, request.url
            ))),
            None => Err(ConnectorError::protocol(format!(
                "recorded HTTP has no more exchanges, but the connector sent {} {}",
                request.method, request.url
            ))),
        };
        std::future::ready(answer).boxed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.0.clock_ms.fetch_add(ms, Ordering::SeqCst);
        std::future::ready(()).boxed()
    }

    fn now_unix_ms(&self) -> u64 {
        // A fixed, recognisable epoch (2026-01-01T00:00:00Z) plus slept time.
        1_767_225_600_000 + self.0.clock_ms.load(Ordering::SeqCst)
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.0.logs.lock().expect("recorder lock").push((level, message.to_owned()));
    }

    fn register_secret(&self, secret: &str) {
        self.0.secrets.lock().expect("recorder lock").push(secret.to_owned());
    }
}

/// An opened connector driven in-process.
pub struct Harness {
    id: String,
    recorder: Arc<Recorder>,
    connector: Arc<dyn DynConnector>,
}

impl Harness {
    /// Open connector `C` with `settings` (a JSON object; the manifest's
    /// defaults are applied first) and the options and remove-user action
    /// its manifest declares as defaults.
    pub fn open<C: Connector>(settings: serde_json::Value, http: RecordedHttp) -> Result<Self, ConnectorError> {
        let manifest = C::manifest();
        let config = default_config(&manifest, settings)?;
        Self::open_with::<C>(config, http)
    }

    /// Open connector `C` with a complete configuration.
    pub fn open_with<C: Connector>(config: ConnectorConfig, http: RecordedHttp) -> Result<Self, ConnectorError> {
        let recorder = Arc::new(Recorder { script: Mutex::new(http.script), ..Recorder::default() });
        let host = Host::new(RecordingHost(recorder.clone()));
        let registration = Registration::of::<C>();
        let id = (registration.manifest)().id;
        let connector = (registration.open)(config, host)?;
        Ok(Harness { id, recorder, connector })
    }

    /// Run one operation through the plugin guard (JSON encoding, panic
    /// catching, `unsupported` naming) and decode the answer.
    pub fn run(&self, operation: Operation) -> Result<serde_json::Value, ConnectorError> {
        let name = operation.name();
        let raw = serde_json::to_string(&operation).map_err(|e| ConnectorError::internal(e.to_string()))?;
        let reply =
            futures_executor::block_on(crate::ffi::plugin::invoke_json(self.id.clone(), self.connector.clone(), raw));
        crate::ffi::remote::decode_reply(name, &reply)
    }

    /// Every request the connector sent, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.recorder.requests.lock().expect("recorder lock").clone()
    }

    /// Every line the connector logged.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.recorder.logs.lock().expect("recorder lock").clone()
    }

    /// Every secret the connector registered (`Host::register_secret`), in order.
    pub fn secrets(&self) -> Vec<String> {
        self.recorder.secrets.lock().expect("recorder lock").clone()
    }

    /// Exchanges of the script the connector never asked for.
    pub fn unused_exchanges(&self) -> usize {
        self.recorder.script.lock().expect("recorder lock").len()
    }

    /// How long the connector slept in total (virtual time).
    pub fn slept(&self) -> Duration {
        Duration::from_millis(self.recorder.clock_ms.load(Ordering::SeqCst))
    }
}

/// A configuration with the manifest's defaults, overlaid with `settings`.
pub fn default_config(manifest: &Manifest, settings: serde_json::Value) -> Result<ConnectorConfig, ConnectorError> {
    let mut values = std::collections::BTreeMap::new();
    for s in &manifest.settings {
        if let Some(d) = &s.default {
            values.insert(s.name.clone(), d.clone());
        }
    }
    match settings {
        serde_json::Value::Object(map) => values.extend(map),
        serde_json::Value::Null => {}
        other => {
            return Err(ConnectorError::new(ErrorKind::Config, format!("settings must be a JSON object, not {other}")));
        }
    }
    Ok(ConnectorConfig {
        connection: "test".to_owned(),
        settings: values,
        options: manifest.options.default_values(),
        remove_user_action: manifest.remove_user.default,
        extra_attributes: Vec::new(),
    })
}
