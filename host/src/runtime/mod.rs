//! The host services provisio lends to connectors: one tokio runtime, one
//! HTTP client, the clock, and logging through the [`Redactor`].
//!
//! Connectors never own sockets or timers (ARCHITECTURE.md: a plugin's copy
//! of tokio cannot run). Every HTTP request a connector makes arrives here,
//! is sent with reqwest, and is logged at debug level with its method, URL
//! and status, never its headers or body, and always redacted.

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::host::{HostServices, HttpRequest, HttpResponse, LogLevel};
use std::time::Duration;

use crate::redact::Redactor;

/// The HTTP client shared by connections with the same TLS policy.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("provisio/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Host services for one opened connection.
pub struct Services {
    pub client: reqwest::Client,
    pub redactor: Redactor,
    /// `connection 'name' (connector)` for log lines.
    pub label: String,
}

impl HostServices for Services {
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>> {
        let client = self.client.clone();
        let redactor = self.redactor.clone();
        let label = self.label.clone();
        async move {
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .map_err(|_| ConnectorError::internal(format!("'{}' is not an HTTP method", request.method)))?;
            let url = redactor.redact(&request.url);
            let mut builder = client.request(method.clone(), &request.url).body(request.body);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let started = std::time::Instant::now();
            let response = builder.send().await.map_err(|e| transport_error(&e, &method, &url, &redactor))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let body = response.bytes().await.map_err(|e| transport_error(&e, &method, &url, &redactor))?.to_vec();
            tracing::debug!(target: "provisio::http", %label, %method, %url, status, elapsed_ms = started.elapsed().as_millis() as u64, "http");
            Ok(HttpResponse { status, headers, body })
        }
        .boxed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(duration).boxed()
    }

    fn now_unix_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn log(&self, level: LogLevel, message: &str) {
        let message = self.redactor.redact(message);
        let label = &self.label;
        match level {
            LogLevel::Error => tracing::error!(target: "provisio::connector", %label, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "provisio::connector", %label, "{message}"),
            LogLevel::Info => tracing::info!(target: "provisio::connector", %label, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "provisio::connector", %label, "{message}"),
            LogLevel::Trace => tracing::trace!(target: "provisio::connector", %label, "{message}"),
        }
    }
}

fn transport_error(e: &reqwest::Error, method: &reqwest::Method, url: &str, redactor: &Redactor) -> ConnectorError {
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
    // reqwest's message may quote the URL; redact it like everything else.
    let mut cause = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if !cause.is_empty() {
            cause.push_str(": ");
        }
        cause.push_str(&s.to_string());
        source = s.source();
    }
    ConnectorError::new(kind, redactor.redact(&format!("{method} {url} failed: {cause}")))
}
