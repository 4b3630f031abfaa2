//! The host services provisio lends to connectors: one tokio runtime, one
//! HTTP client per TLS policy, the clock, and logging through the
//! [`Redactor`].
//!
//! Connectors never own sockets or timers (docs/architecture.md, "The plugin
//! boundary": a plugin's copy of tokio cannot run). Every HTTP request a connector makes arrives here,
//! is sent with reqwest, and is logged at debug level with its method, URL
//! and status, never its headers or body, and always redacted. Under
//! failover each request first passes the channel's lease gate
//! ([`crate::fence`]). Before it is
//! sent, its credentials (credential headers, a form body's secret fields)
//! become secrets of the run, and so do the tokens in the answer to a token
//! request ([`provisio_redact::credentials`]); a connector registers any other
//! secret it learns with `Host::register_secret`.
//!
//! Redirects are never followed here: a connector gets the 3xx answer and
//! decides (the SCIM toolkit follows a 307 or 308 only within the SCIM URL's
//! origin), so nothing of a request reaches an origin the connector did not
//! choose.
//!
//! TLS: certificates are verified against the built-in (Mozilla) roots plus
//! the connection's `tls.ca_file`; `tls.verify_certificates = false` turns
//! verification off for that policy's client ([`http_client`]). A transport
//! error caused by a certificate says which of the two to set.

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use provisio_config::TlsConfig;
use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::host::{HostServices, HttpRequest, HttpResponse, LogLevel};
use provisio_redact::{Redactor, credentials};
use std::path::Path;
use std::time::Duration;

/// Why an HTTP client could not be made for a TLS policy.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.ca_file: cannot read {}: {source}", path.display())]
    Unreadable { path: std::path::PathBuf, source: std::io::Error },
    #[error("tls.ca_file: {} is not a PEM certificate file: {reason}", path.display())]
    NotPem { path: std::path::PathBuf, reason: String },
    #[error(
        "tls.ca_file: {} holds no certificate; it must hold the CA's certificate as PEM (-----BEGIN CERTIFICATE-----)",
        path.display()
    )]
    Empty { path: std::path::PathBuf },
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
}

/// The HTTP client shared by connections with the same TLS policy `tls`.
/// Fails, saying why, when the CA file cannot be read or holds no PEM
/// certificate.
pub fn http_client(timeout: Duration, tls: &TlsConfig) -> Result<reqwest::Client, TlsError> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .pool_idle_timeout(Duration::from_secs(90))
        // Redirects are the connector's to judge (the SCIM toolkit follows a
        // 307/308 within the SCIM URL's origin only): followed here, a
        // redirect to another origin would carry the request's body there.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("provisio/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &tls.ca_file {
        for certificate in ca_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if !tls.verify_certificates {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| TlsError::Client(crate::causes::chain(&e)))
}

/// The certificates of a PEM CA file (at least one).
pub fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Unreadable { path: path.to_owned(), source })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| TlsError::NotPem { path: path.to_owned(), reason: e.to_string() })?;
    if certificates.is_empty() {
        return Err(TlsError::Empty { path: path.to_owned() });
    }
    Ok(certificates)
}

/// Host services for one opened connection.
pub struct Services {
    pub client: reqwest::Client,
    pub redactor: Redactor,
    /// `connection 'name' (connector)` for log lines.
    pub label: String,
    /// The connection's request-rate limit, if it has one.
    pub limiter: Option<std::sync::Arc<crate::limit::RateLimiter>>,
    /// Failover: the channel's lease, checked before every request
    /// ([`crate::fence`]).
    pub gate: Option<crate::fence::LeaseGate>,
}

impl HostServices for Services {
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>> {
        let client = self.client.clone();
        let redactor = self.redactor.clone();
        let label = self.label.clone();
        let limiter = self.limiter.clone();
        let gate = self.gate.clone();
        async move {
            if let Some(limiter) = &limiter {
                limiter.acquire().await;
            }
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .map_err(|_| ConnectorError::internal(format!("'{}' is not an HTTP method", request.method)))?;
            let token_request = credentials::register_request(&redactor, &request);
            let url = redactor.redact(&request.url);
            let mut builder = client.request(method.clone(), &request.url).body(request.body);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(gate) = &gate {
                builder = gate.pass(builder, &format!("{method} {url}"))?;
            }
            let started = std::time::Instant::now();
            let response = builder.send().await.map_err(|e| transport_error(&e, &method, &url, &redactor))?;
            let status = response.status().as_u16();
            if let Some(gate) = &gate {
                gate.judge(&format!("{method} {url}"), status)?;
            }
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let body = response.bytes().await.map_err(|e| transport_error(&e, &method, &url, &redactor))?.to_vec();
            if token_request {
                credentials::token_answer_secrets(&body).iter().for_each(|t| redactor.add(t));
            }
            tracing::debug!(target: "provisio::http", %label, %method, %url, status, elapsed_ms = started.elapsed().as_millis() as u64, "http");
            Ok(HttpResponse { status, headers, body })
        }
        .boxed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(duration).boxed()
    }

    fn now_unix_ms(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    fn register_secret(&self, secret: &str) {
        self.redactor.add(secret);
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
    let cause = crate::causes::chain(e);
    let hint = if cause.to_ascii_lowercase().contains("certificate") {
        "; the target's TLS certificate was refused: if it is signed by a private CA, give that CA to the \
         connection with tls = { ca_file = \"ca.pem\" }"
    } else {
        ""
    };
    ConnectorError::new(kind, redactor.redact(&format!("{method} {url} failed: {cause}{hint}")))
}
