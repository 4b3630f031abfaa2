//! The Acme Directory REST API, spoken through the host's HTTP service.
//!
//! Every request goes out through [`Host::http`]: the host applies the
//! connection's timeout, TLS policy, rate limit and log redaction. This
//! module only builds requests, maps Acme's answers to typed values, and maps
//! Acme's errors to the wire error kinds the host's retry policy keys off.

use provisio_core::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An Acme user as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AcmeUser {
    pub id: String,
    pub login: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Suspended,
}

impl Status {
    pub fn from_active(active: bool) -> Status {
        if active { Status::Active } else { Status::Suspended }
    }
}

/// `GET /api/v1/me`.
#[derive(Debug, Deserialize)]
pub struct Me {
    pub organization: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `GET /api/v1/users?login=..`.
#[derive(Debug, Deserialize)]
pub struct UserList {
    pub users: Vec<AcmeUser>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    message: String,
}

/// A client for one connection: the base URL and the token.
pub struct Client {
    base: String,
    token: String,
}

impl Client {
    pub fn new(base_url: &str, token: &str) -> Client {
        Client { base: base_url.trim_end_matches('/').to_owned(), token: token.to_owned() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path` (which starts with `/api/v1`) with the token.
    pub fn request(&self, method: &str, path: &str) -> HttpRequest {
        HttpRequest::new(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json")
    }

    /// Send `request`; any non-2xx answer becomes an error saying `what` failed.
    pub async fn send(&self, host: &Host, request: HttpRequest, what: &str) -> Result<HttpResponse, ConnectorError> {
        let response = host.http(request).await.map_err(|e| e.context(what))?;
        if response.is_success() { Ok(response) } else { Err(error_from(&response, what)) }
    }

    /// Send `request` and read the answer as `T`.
    pub async fn fetch<T: DeserializeOwned>(
        &self,
        host: &Host,
        request: HttpRequest,
        what: &str,
    ) -> Result<T, ConnectorError> {
        let response = self.send(host, request, what).await?;
        serde_json::from_slice(&response.body).map_err(|e| {
            ConnectorError::protocol(format!("{what}: Acme answered JSON this connector cannot read: {e}"))
        })
    }
}

/// Map an Acme error answer to the wire error.
fn error_from(response: &HttpResponse, what: &str) -> ConnectorError {
    let message = match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) if body.error.code.is_empty() => body.error.message,
        Ok(body) => format!("{} ({})", body.error.message, body.error.code),
        Err(_) => {
            let text = response.text();
            let text: String = text.chars().take(200).collect();
            if text.trim().is_empty() { "no error body".to_owned() } else { text }
        }
    };
    let mut err = ConnectorError::from_status(response.status, format!("{what}: Acme answered: {message}"));
    if let Some(seconds) = response.header("Retry-After").and_then(|v| v.trim().parse::<u64>().ok()) {
        err = err.with_retry_after_ms(seconds.saturating_mul(1000));
    }
    err
}

/// Percent-encode `s` for a query value or a path segment (RFC 3986
/// unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
