//! Host services: the only way a connector reaches the outside world.
//!
//! Each plugin library carries its own copy of every static, so tokio and
//! reqwest cannot run inside one. The host therefore owns all I/O and lends
//! it to connectors through [`Host`]: HTTP, sleeping, the clock, logging, and
//! registering a secret learned at run time ([`Host::register_secret`]).
//! One connection pool, timeouts, retries, rate limits, TLS policy and
//! redaction of secrets then live in one place, in the host.
//!
//! [`HostServices`] is the trait behind a [`Host`]. The host implements it
//! over the FFI boundary; [`crate::testing`] implements it in-process with
//! recorded HTTP for unit tests.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ConnectorError;

/// An HTTP request a connector asks the host to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        HttpRequest { method: method.to_owned(), url: url.into(), headers: Vec::new(), body: Vec::new() }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    /// Serialize `value` as the body, with the given content type.
    pub fn json(self, content_type: &str, value: &impl Serialize) -> Result<Self, ConnectorError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| ConnectorError::internal(format!("cannot serialize request body: {e}")))?;
        Ok(self.header("Content-Type", content_type).body(body))
    }
}

/// The target's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Log levels, as the host's tracing levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl LogLevel {
    pub fn from_u8(n: u8) -> LogLevel {
        match n {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// What a host lends to a connector.
pub trait HostServices: Send + Sync + 'static {
    /// Send one HTTP request. The host applies the connection's timeout,
    /// TLS policy, rate limit and redaction. A transport failure or timeout is
    /// an error; any HTTP status is an `Ok` response.
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>>;
    /// Wait without blocking a thread.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> u64;
    /// Write a log line. The host redacts secrets before anything is written.
    fn log(&self, level: LogLevel, message: &str);
    /// Make `secret` a secret of the run: from now on the host masks it
    /// wherever it would show (logs, errors, the audit log, the state).
    /// The default does nothing, for services that keep no secrets.
    fn register_secret(&self, secret: &str) {
        let _ = secret;
    }
}

/// The connector's handle on the host. Cheap to clone.
///
/// ```
/// # use provisio_core::host::*;
/// # async fn demo(host: Host) -> Result<(), provisio_core::ConnectorError> {
/// let response = host.http(HttpRequest::get("https://target.example/v2/ServiceProviderConfig")).await?;
/// host.info(&format!("target answered {}", response.status));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Host(Arc<dyn HostServices>);

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Host")
    }
}

impl Host {
    pub fn new(services: impl HostServices) -> Self {
        Host(Arc::new(services))
    }

    pub fn from_arc(services: Arc<dyn HostServices>) -> Self {
        Host(services)
    }

    pub async fn http(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        self.0.http(request).await
    }

    pub async fn sleep(&self, duration: Duration) {
        self.0.sleep(duration).await
    }

    pub fn now_unix_ms(&self) -> u64 {
        self.0.now_unix_ms()
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        self.0.log(level, message)
    }

    /// Tell the host about a secret learned at run time, before anything
    /// that might hold it is logged or returned in an error: a token read
    /// from a response body, a session id, a signing key fetched from the
    /// target. The host already treats as secrets the connection's secret
    /// settings, every credential header it sends (`Authorization`, API-key
    /// headers), credential fields of form bodies and the tokens of a
    /// token endpoint's answer; register anything else. Register each
    /// distinct value once: each one is kept for the rest of the run.
    ///
    /// ```
    /// # use provisio_core::host::*;
    /// # async fn demo(host: Host) -> Result<(), provisio_core::ConnectorError> {
    /// let login = host.http(HttpRequest::post("https://target.example/login")).await?;
    /// let session = login.text();
    /// host.register_secret(&session);
    /// # Ok(()) }
    /// ```
    pub fn register_secret(&self, secret: &str) {
        self.0.register_secret(secret)
    }
    pub fn error(&self, message: &str) {
        self.log(LogLevel::Error, message)
    }
    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message)
    }
    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, message)
    }
    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message)
    }
}
