//! The wire error: how a connector says an operation failed.
//!
//! One type crosses the boundary for every failure, so the host can decide
//! what to do without knowing the connector: retry (`retryable`, honouring
//! `retry_after_ms`), settle a conflict by lookup, mark the record dirty, or
//! stop the channel on bad credentials.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of failure this is. The host's retry and reporting policy keys
/// off this, not off the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The connector does not implement the operation.
    Unsupported,
    /// The connection's settings are wrong (missing, malformed, unusable).
    Config,
    /// The target refused the credentials (401) or the permission (403).
    Auth,
    /// The resource does not exist at the target (404).
    NotFound,
    /// The resource already exists or was changed concurrently (409, 412).
    Conflict,
    /// The target refused the request as invalid (400, 413, ...).
    Invalid,
    /// The target asked us to slow down (429).
    RateLimited,
    /// The target failed (5xx).
    Target,
    /// The request did not reach the target or the answer did not come back.
    Transport,
    /// The operation took longer than allowed.
    Timeout,
    /// The target answered something the connector could not understand.
    Protocol,
    /// The connector panicked; the host caught it.
    Panic,
    /// A bug or an impossible state inside the connector or the SDK.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "config",
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Target => "target",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Panic => "panic",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether a failure of this kind is worth retrying as it is.
    pub fn retryable_by_default(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Target | ErrorKind::Transport | ErrorKind::Timeout)
    }
}

/// A failed operation, as it crosses the plugin boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ConnectorError {
    pub kind: ErrorKind,
    /// The HTTP status the target answered, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The SCIM `scimType` of the target's error body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    /// What failed and, where it helps, what to do about it.
    pub detail: String,
    /// Whether the same request may succeed if sent again later.
    pub retryable: bool,
    /// How long the target asked us to wait (from `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.detail)?;
        match (self.status, &self.scim_type) {
            (Some(status), Some(t)) => write!(f, " (HTTP {status}, scimType {t})"),
            (Some(status), None) => write!(f, " (HTTP {status})"),
            (None, Some(t)) => write!(f, " (scimType {t})"),
            (None, None) => Ok(()),
        }
    }
}

impl ConnectorError {
    /// A new error of `kind`, retryable if the kind usually is.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            status: None,
            scim_type: None,
            detail: detail.into(),
            retryable: kind.retryable_by_default(),
            retry_after_ms: None,
        }
    }

    /// The operation is not implemented. The SDK names the connector when the
    /// error crosses the boundary.
    pub fn unsupported(operation: &str) -> Self {
        Self::new(ErrorKind::Unsupported, format!("operation '{operation}' is not supported"))
    }

    pub fn config(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, detail)
    }

    pub fn protocol(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }

    /// An error for an HTTP answer with `status`, its kind and retryability
    /// derived from the status (RFC 7644 §3.12, RFC 6585 for 429): only 408,
    /// 429, 502, 503 and 504 are retryable.
    pub fn from_status(status: u16, detail: impl Into<String>) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Auth,
            404 | 410 => ErrorKind::NotFound,
            409 | 412 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            501 => ErrorKind::Unsupported,
            500..=599 => ErrorKind::Target,
            _ => ErrorKind::Invalid,
        };
        let mut err = Self::new(kind, detail);
        err.status = Some(status);
        // Worth sending again as it is: a timeout, a rate limit, and the
        // gateway and availability failures. A plain 500 is the target's bug
        // and waits for the next cycle instead.
        err.retryable = matches!(status, 408 | 429 | 502 | 503 | 504);
        err
    }

    pub fn with_scim_type(mut self, scim_type: impl Into<String>) -> Self {
        self.scim_type = Some(scim_type.into());
        self
    }

    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Prefix the detail with context, e.g. the operation or the user.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.detail = format!("{context}: {}", self.detail);
        self
    }
}
