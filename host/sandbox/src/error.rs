//! Errors of the sandbox: [`SandboxError`] for starting and running the server, and
//! [`ScimError`], the RFC 7644 §3.12 error a request handler answers with.
//!
//! A `ScimError` renders as `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
//! "status":"400","scimType":"invalidFilter","detail":"…"}` with `Content-Type:
//! application/scim+json`; `status` is a string, as the RFC says. A 401 also carries
//! `WWW-Authenticate: Bearer realm="provisio-sandbox"`.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The SCIM error message URN.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Starting or running the sandbox failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The sandbox only serves on loopback addresses (127.0.0.0/8, ::1).
    #[error("refusing to bind the SCIM sandbox to {0}: it only listens on a loopback address (127.0.0.1 or ::1)")]
    NotLoopback(SocketAddr),
    /// The base path is not a usable URL path.
    #[error("invalid base path {0:?}: it must be empty or start with '/' and contain no '?', '#', '{{' or '}}'")]
    InvalidBasePath(String),
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The persistence file exists but cannot be read or parsed.
    #[error("cannot load the sandbox state from {path}: {detail}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Writing the persistence file failed.
    #[error("cannot save the sandbox state to {path}: {source}")]
    Save {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP server stopped with an I/O error.
    #[error("the SCIM sandbox server failed: {0}")]
    Serve(std::io::Error),
}

/// An error answer to one SCIM request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The RFC 7644 `scimType` (only for 400 and some 409s).
    pub scim_type: Option<&'static str>,
    /// Human-readable detail.
    pub detail: String,
}

impl ScimError {
    /// A 400 with a `scimType`.
    pub fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, scim_type: Some(scim_type), detail: detail.into() }
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidValue", detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidSyntax", detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidFilter", detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidPath", detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request("noTarget", detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request("mutability", detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self { status: StatusCode::CONFLICT, scim_type: Some("uniqueness"), detail: detail.into() }
    }

    /// 404 for a resource id.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, scim_type: None, detail: format!("{what} {id} not found") }
    }

    /// 412: the `If-Match` version is stale.
    pub fn precondition_failed(current: &str) -> Self {
        Self {
            status: StatusCode::PRECONDITION_FAILED,
            scim_type: None,
            detail: format!("If-Match does not match the current version {current}"),
        }
    }

    /// 401: missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self { status: StatusCode::UNAUTHORIZED, scim_type: None, detail: "missing or invalid bearer token".into() }
    }

    /// Any other status without a `scimType`.
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, scim_type: None, detail: detail.into() }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR_URN],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = serde_json::Value::from(t);
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status.as_u16(), t, self.detail),
            None => write!(f, "{}: {}", self.status.as_u16(), self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::SCIM_CONTENT_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"provisio-sandbox\""));
        }
        response
    }
}
