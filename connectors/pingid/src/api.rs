//! The PingID API client: signed requests, verified answers, `errorId`s.
//!
//! [`Api::call`] sends one operation as `POST {idp_url}/rest/4/{op}/do` with
//! `Content-Type: application/json` and a compact JWS body (spec b.5.5):
//! header `{"alg":"HS256","org_alias":…,"token":…}`, payload
//! `{"reqHeader":{locale, orgAlias, secretKey, timestamp, version},
//! "reqBody":{…}}`. The answer is a JWS whose signature is verified with the
//! same key (a bad one is a `protocol` error) or, for some errors, plain JSON
//! (detected by its leading `{`; an unsigned *success* is refused). Its
//! `responseBody.errorId` decides: 200 is success, 10564 "user does not
//! exist" is `not_found`, 10556/10563 "already exists" `conflict`, 10551
//! "failed transaction, retry" a retryable `target` error, anything else an
//! error carrying PingID's `errorMsg`. HTTP 401/403 are `auth` errors that
//! point at `pingid.properties`.
//!
//! Only the host's HTTP service is used; nothing logs the key or the body.

use provisio_core::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::jws;
use crate::properties::PingIdProperties;

/// `reqHeader.version`: the PingID API version the provisioner speaks.
pub const API_VERSION: &str = "4.9";
/// `reqHeader.locale`.
pub const LOCALE: &str = "en";

/// `errorId` of a successful call.
pub const OK: i64 = 200;
/// `errorId` "User does not exist".
pub const USER_NOT_FOUND: i64 = 10564;
/// `errorId` "Failed transaction. Please retry."
pub const RETRY: i64 = 10551;
/// `errorId` "User already exists".
pub const USER_EXISTS: i64 = 10556;
/// `errorId` "Username already exists for the user in the service".
pub const USERNAME_EXISTS: i64 = 10563;
/// `errorId` "User suspension failed. The user is not active and cannot be suspended."
pub const NOT_ACTIVE: i64 = 10561;
/// `errorId` "Activation failed. Active user can not be activated again."
pub const ALREADY_ACTIVE: i64 = 10562;

/// A failed call: the error, and PingID's `errorId` when it sent one.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error_id: Option<i64>,
    pub error: ConnectorError,
}

impl From<ConnectorError> for Failure {
    fn from(error: ConnectorError) -> Self {
        Failure { error_id: None, error }
    }
}

impl From<Failure> for ConnectorError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

/// The PingID API operations the connector uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AddUser,
    GetUserDetails,
    EditUser,
    SuspendUser,
    ActivateUser,
    DeleteUser,
    OfflinePairing,
    UnpairDevice,
    UpdateDeviceAttributes,
}

impl Op {
    /// The path segment of `rest/4/{segment}/do`.
    pub fn segment(self) -> &'static str {
        match self {
            Op::AddUser => "adduser",
            Op::GetUserDetails => "getuserdetails",
            Op::EditUser => "edituser",
            Op::SuspendUser => "suspenduser",
            Op::ActivateUser => "activateuser",
            Op::DeleteUser => "deleteuser",
            Op::OfflinePairing => "offlinepairing",
            Op::UnpairDevice => "unpairdevice",
            Op::UpdateDeviceAttributes => "updatedeviceattr",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::AddUser => "AddUser",
            Op::GetUserDetails => "GetUserDetails",
            Op::EditUser => "EditUser",
            Op::SuspendUser => "SuspendUser",
            Op::ActivateUser => "ActivateUser",
            Op::DeleteUser => "DeleteUser",
            Op::OfflinePairing => "OfflinePairing",
            Op::UnpairDevice => "UnpairDevice",
            Op::UpdateDeviceAttributes => "UpdateDeviceAttributes",
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    org_alias: &'a str,
    token: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReqHeader<'a> {
    locale: &'static str,
    org_alias: &'a str,
    secret_key: &'a str,
    timestamp: String,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    req_header: ReqHeader<'a>,
    req_body: &'a Value,
}

/// A PingID API client for one organization.
pub struct Api {
    host: Host,
    base: String,
    org_alias: String,
    token: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).field("org_alias", &self.org_alias).finish_non_exhaustive()
    }
}

impl Api {
    /// A client for the organization of `properties`. Fails when the key does not decode.
    pub fn new(properties: &PingIdProperties, host: Host) -> Result<Api, jws::JwsError> {
        Ok(Api {
            host,
            base: properties.idp_url.clone(),
            org_alias: properties.org_alias.clone(),
            token: properties.token.clone(),
            key: jws::decode_key(&properties.use_base64_key)?,
        })
    }

    /// `{idp_url}/rest/4/{op}/do`.
    pub fn url(&self, op: Op) -> String {
        format!("{}/rest/4/{}/do", self.base, op.segment())
    }

    pub fn idp_url(&self) -> &str {
        &self.base
    }

    pub fn org_alias(&self) -> &str {
        &self.org_alias
    }

    /// The signed body of a request with `req_body`, timestamped `now_ms`.
    pub fn signed_request(&self, req_body: &Value, now_ms: u64) -> String {
        let header = Header { alg: "HS256", org_alias: &self.org_alias, token: &self.token };
        let payload = Payload {
            req_header: ReqHeader {
                locale: LOCALE,
                org_alias: &self.org_alias,
                secret_key: &self.token,
                timestamp: jws::timestamp(now_ms),
                version: API_VERSION,
            },
            req_body,
        };
        // Serializing these plain structs cannot fail.
        let header = serde_json::to_vec(&header).expect("a JWS header serializes");
        let payload = serde_json::to_vec(&payload).expect("a JWS payload serializes");
        jws::sign(&self.key, &header, &payload)
    }

    /// Send `op` with `req_body`; the answer's `responseBody` when its `errorId` is 200.
    pub async fn call(&self, op: Op, req_body: Value) -> Result<Value, Failure> {
        let body = self.signed_request(&req_body, self.host.now_unix_ms());
        let request = HttpRequest::post(self.url(op)).header("Content-Type", "application/json").body(body);
        let response = self.host.http(request).await.map_err(|e| e.context(format!("PingID {}", op.name())))?;
        let result = self.interpret(op, &response);
        match &result {
            Ok(_) => self.host.debug(&format!("PingID {}: HTTP {}, errorId 200", op.name(), response.status)),
            Err(f) => self.host.debug(&format!("PingID {}: {}", op.name(), f.error)),
        }
        result
    }

    /// Turn an HTTP answer into the `responseBody` of a success, or an error.
    pub fn interpret(&self, op: Op, response: &HttpResponse) -> Result<Value, Failure> {
        let status = response.status;
        let text = response.text();
        let trimmed = text.trim();
        let (body, signed) = if trimmed.starts_with('{') {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(v) => (v.get("responseBody").cloned().unwrap_or(v), false),
                Err(_) => return Err(self.http_error(op, response).into()),
            }
        } else if trimmed.split('.').count() == 3 {
            let verified = jws::verify(&self.key, trimmed).map_err(|e| {
                ConnectorError::protocol(format!(
                    "PingID {} (HTTP {status}): the answer failed verification: {e}; if use_base64_key is right, \
                     the answer did not come from PingID. Check idp_url and the key in pingid.properties",
                    op.name()
                ))
            })?;
            let body = verified.payload.get("responseBody").cloned().ok_or_else(|| {
                ConnectorError::protocol(format!("PingID {}: the signed answer has no responseBody", op.name()))
            })?;
            (body, true)
        } else {
            return Err(self.http_error(op, response).into());
        };
        let error_id = match body.get("errorId") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let Some(error_id) = error_id else {
            return Err(if response.is_success() {
                ConnectorError::protocol(format!("PingID {}: the answer has no errorId", op.name()))
            } else {
                self.http_error(op, response)
            }
            .into());
        };
        if error_id == OK {
            if !signed {
                return Err(ConnectorError::protocol(format!(
                    "PingID {} answered success without a signature; refusing an answer that cannot be verified",
                    op.name()
                ))
                .into());
            }
            return Ok(body);
        }
        let message = body.get("errorMsg").and_then(Value::as_str).unwrap_or("").trim();
        let detail = format!(
            "PingID {} failed: errorId {error_id}: {}",
            op.name(),
            if message.is_empty() { "(no errorMsg)" } else { message }
        );
        let err = match (status, error_id) {
            (401 | 403, _) => auth_error(op, &detail),
            (_, USER_NOT_FOUND) => ConnectorError::new(ErrorKind::NotFound, detail),
            (_, USER_EXISTS | USERNAME_EXISTS) => ConnectorError::new(ErrorKind::Conflict, detail),
            (_, RETRY) => ConnectorError::new(ErrorKind::Target, detail).retryable(true),
            (500..=599, _) => ConnectorError::new(ErrorKind::Target, detail),
            _ => ConnectorError::new(ErrorKind::Invalid, detail).retryable(false),
        };
        let mut err = err;
        err.status = Some(status);
        Err(Failure { error_id: Some(error_id), error: with_retry_after(err, response) })
    }

    /// An answer that is not PingID's JSON: judged by its HTTP status.
    fn http_error(&self, op: Op, response: &HttpResponse) -> ConnectorError {
        let status = response.status;
        let url = self.url(op);
        let err = match status {
            401 | 403 => auth_error(op, &format!("PingID {} was refused", op.name())),
            404 => ConnectorError::new(
                ErrorKind::Config,
                format!("PingID {}: no PingID API answers at {url}; check idp_url in pingid.properties", op.name()),
            ),
            _ if response.is_success() => ConnectorError::protocol(format!(
                "PingID {}: the answer from {url} is neither a signed JWS nor JSON; check idp_url in pingid.properties",
                op.name()
            )),
            _ => ConnectorError::from_status(status, format!("PingID {} failed at {url}", op.name())),
        };
        let mut err = with_retry_after(err, response);
        err.status = Some(status);
        err
    }
}

/// Credentials refused; the error's own HTTP status is shown with it.
fn auth_error(op: Op, detail: &str) -> ConnectorError {
    let mut err = ConnectorError::new(
        ErrorKind::Auth,
        format!(
            "{detail}: PingID did not accept the credentials of pingid.properties for {}; check that \
             use_base64_key, token and org_alias come from the organization's current file",
            op.name()
        ),
    );
    err.retryable = false;
    err
}

fn with_retry_after(err: ConnectorError, response: &HttpResponse) -> ConnectorError {
    if response.status != 429 {
        return err;
    }
    let err = ConnectorError { kind: ErrorKind::RateLimited, retryable: true, ..err };
    match response.header("Retry-After").and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(secs) => err.with_retry_after_ms(secs.saturating_mul(1000)),
        None => err,
    }
}
