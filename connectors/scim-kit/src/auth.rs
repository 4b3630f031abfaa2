//! The `Authorization` header of SCIM requests, for each method of the
//! SCIM Provisioner's form.
//!
//! | method | header |
//! |---|---|
//! | None | none |
//! | Basic Authentication | `Basic base64(user:password)` |
//! | OAuth 2 Bearer Token | `<type> <token>`, `<type>` the Authorization Header Type (`Bearer` by default) |
//! | OAuth 2 Client Credentials | `<type> <token>`, the token from the token endpoint |
//!
//! Client credentials (RFC 6749 §4.4): `POST` to the Token Request Endpoint
//! with `grant_type=client_credentials` (and `scope`, the scopes joined by
//! spaces) as a form, the client id and secret in HTTP Basic (§2.3.1: each
//! form-encoded first). The token is cached until `expires_in` minus a
//! margin (a tenth of the lifetime, at most 30 s); without `expires_in` it
//! is kept until the target refuses it. When the target answers 401,
//! [`Authenticator::refused`] drops the token so the caller can fetch a new
//! one and retry once. The cache is a `std::sync::Mutex` never held across
//! an await; two concurrent first requests may both fetch a token, which is
//! harmless.

use provisio_core::host::{Host, HttpRequest};
use provisio_core::{ConnectorError, ErrorKind};
use serde_json::Value;
use std::sync::Mutex;

use crate::config::Credentials;
use crate::error::{error_from_response, lenient_u64};
use crate::filter::encode_form;
use crate::form::AuthMethod;

/// Standard base64 (RFC 4648 §4) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Basic base64(user:password)`.
pub fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

#[derive(Clone)]
struct CachedToken {
    token: String,
    /// When to stop using it (host clock, ms); `None` until refused.
    renew_at_ms: Option<u64>,
}

/// Produces the `Authorization` header of one connection.
pub struct Authenticator {
    credentials: Credentials,
    header_type: String,
    cache: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authenticator({:?}, {})", self.credentials, self.header_type)
    }
}

impl Authenticator {
    /// `header_type` is the scheme word for tokens (`Bearer` when blank).
    pub fn new(credentials: Credentials, header_type: &str) -> Self {
        let header_type = if header_type.trim().is_empty() { "Bearer" } else { header_type.trim() };
        Authenticator { credentials, header_type: header_type.to_owned(), cache: Mutex::new(None) }
    }

    pub fn method(&self) -> AuthMethod {
        self.credentials.method()
    }

    /// The header value for the next request (`None` with method None),
    /// fetching a client-credentials token when none is cached or it is due.
    pub async fn header(&self, host: &Host) -> Result<Option<String>, ConnectorError> {
        match &self.credentials {
            Credentials::None => Ok(None),
            Credentials::Basic { username, password } => Ok(Some(basic_header(username, password))),
            Credentials::Bearer { token } => Ok(Some(format!("{} {token}", self.header_type))),
            Credentials::ClientCredentials { token_endpoint, client_id, client_secret, scopes } => {
                let now = host.now_unix_ms();
                let cached = self.lock().clone();
                if let Some(c) = cached
                    && c.renew_at_ms.is_none_or(|at| now < at)
                {
                    return Ok(Some(format!("{} {}", self.header_type, c.token)));
                }
                let fresh = fetch_token(host, token_endpoint, client_id, client_secret, scopes).await?;
                let header = format!("{} {}", self.header_type, fresh.token);
                *self.lock() = Some(fresh);
                Ok(Some(header))
            }
        }
    }

    /// The target answered 401 to a request sent with `header`. Drops the
    /// cached token if it is still that one, and says whether asking again
    /// with a new token makes sense (client credentials only).
    pub fn refused(&self, header: Option<&str>) -> bool {
        if !matches!(self.credentials, Credentials::ClientCredentials { .. }) {
            return false;
        }
        let mut cache = self.lock();
        if let (Some(c), Some(h)) = (cache.as_ref(), header)
            && h.ends_with(&c.token)
        {
            *cache = None;
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedToken>> {
        // A poisoned cache only ever holds a token: use it anyway.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn fetch_token(
    host: &Host,
    endpoint: &str,
    client_id: &str,
    client_secret: &str,
    scopes: &[String],
) -> Result<CachedToken, ConnectorError> {
    let mut body = "grant_type=client_credentials".to_owned();
    if !scopes.is_empty() {
        body.push_str("&scope=");
        body.push_str(&encode_form(&scopes.join(" ")));
    }
    let request = HttpRequest::post(endpoint)
        .header("Authorization", basic_header(&encode_form(client_id), &encode_form(client_secret)))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body);
    let what = format!("POST {endpoint} (OAuth 2 client credentials)");
    let response = host.http(request).await.map_err(|e| e.context(format!("cannot get a token: {what}")))?;
    if !response.is_success() {
        let mut err = error_from_response(&what, &response, host.now_unix_ms());
        // RFC 6749 §5.2: refused client credentials come back as 400 (or 401).
        if matches!(response.status, 400 | 401 | 403) {
            err.kind = ErrorKind::Auth;
            err.retryable = false;
            err.detail = format!("the token endpoint refused the client credentials: {}", err.detail);
        }
        return Err(err);
    }
    let json: Value = serde_json::from_slice(&response.body).map_err(|e| {
        ConnectorError::protocol(format!("{what} answered HTTP {} with a body that is not JSON: {e}", response.status))
    })?;
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ConnectorError::protocol(format!("{what} answered without an access_token")))?;
    // A secret from here on, before anything can quote it (the host does
    // this too for a token answer; an older host does not).
    host.register_secret(token);
    let renew_at_ms = json.get("expires_in").and_then(lenient_u64).map(|secs| {
        let lifetime = secs.saturating_mul(1000);
        host.now_unix_ms() + lifetime - (lifetime / 10).min(30_000)
    });
    host.debug(&format!("got an OAuth token from {endpoint}"));
    Ok(CachedToken { token: token.to_owned(), renew_at_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, out) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), out);
        }
        assert_eq!(basic_header("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn static_methods_need_no_request() {
        let a = Authenticator::new(Credentials::Bearer { token: "t0k".into() }, "oauth2");
        assert!(!a.refused(Some("oauth2 t0k")), "a static token cannot be refreshed");
        assert_eq!(format!("{a:?}"), "Authenticator(Credentials(OAuth 2 Bearer Token), oauth2)");
    }
}
