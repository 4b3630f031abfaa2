//! A PingID API emulator for end-to-end tests, on 127.0.0.1:0.
//!
//! No public PingID server can run here, so this stands in for the PingID API
//! of PingOne for Enterprise (spec b.5.5, b.5.6) as strictly as the
//! documentation allows. Every request must be a `POST` to
//! `/pingid/rest/4/{operation}/do` (the `idp_url` is
//! `http://127.0.0.1:PORT/pingid`) with `Content-Type: application/json` and a
//! compact JWS body whose header is exactly `{alg: HS256, org_alias, token}`
//! for this organization, whose HS256 signature verifies under the decoded
//! key, and whose `reqHeader` carries `locale`, `orgAlias`, `secretKey`
//! (= token), `version` and a `yyyy-MM-dd HH:mm:ss.SSS` UTC `timestamp`
//! within ±5 minutes. The signature is verified with the `jsonwebtoken`
//! crate (on `ring`), answers are signed with `ring`'s HMAC: neither is the
//! RustCrypto code the connector signs with.
//!
//! Refusals: a wrong path or operation is HTTP 404, a wrong method 405, an
//! unknown `org_alias`/`token` or a bad signature HTTP 401 with a plain-JSON
//! body (the emulator cannot sign for a caller it could not authenticate);
//! everything else malformed is HTTP 400 with a signed `errorId` 400 body.
//! Operation errors use PingID's documented `errorId`s (10564 user does not
//! exist, 10556 user exists, 10561, 10562).
//!
//! The operations live in [`ops`]. Tests read the state (`users`, `devices`,
//! `requests`), seed it (`add_user`, `add_device`), inject failures
//! (`fail_next`, `fail_next_op`), and can craft their own requests
//! (`signed_request`, `post`).

mod ops;

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};

pub use ops::{EmuDevice, EmuUser};

/// How far a request's timestamp may be from the emulator's clock.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// One request the emulator received.
#[derive(Debug, Clone)]
pub struct EmuRequest {
    /// The operation's path segment (`adduser`), or the path when there is none.
    pub op: String,
    pub status: u16,
    /// The answer's `errorId`.
    pub error_id: i64,
    /// The body as received (the compact JWS).
    pub body: String,
    /// The verified `reqBody`, when the request got that far.
    pub req_body: Option<Value>,
}

/// The organization's data and the request log.
#[derive(Default)]
pub(crate) struct Org {
    pub(crate) users: BTreeMap<String, (EmuUser, Vec<EmuDevice>)>,
    pub(crate) next_device: i64,
    requests: Vec<EmuRequest>,
    /// Injected failures: (only this operation, or any; errorId).
    failures: VecDeque<(Option<String>, i64)>,
    pub(crate) unpair_all: usize,
}

struct Shared {
    org_alias: String,
    token: String,
    key: Vec<u8>,
    org: Mutex<Org>,
}

/// An answer: HTTP status, body, `errorId`.
pub(crate) struct Answer {
    status: u16,
    body: String,
    error_id: i64,
}

/// A running emulator; stops when dropped.
pub struct PingIdEmulator {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PingIdEmulator {
    /// A fresh organization with a random 32-byte key, served on 127.0.0.1:0.
    pub fn start() -> PingIdEmulator {
        let mut key = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).expect("random key");
        let stamp = now_ms();
        let shared = Arc::new(Shared {
            org_alias: format!("{:08x}-emul-4ate-8ing-{:012x}", stamp as u32 ^ 0x5eed, stamp),
            token: format!("{:x}{:02x}", stamp, key[0]),
            key,
            org: Mutex::new(Org { next_device: 128_814_249_360_301_141, ..Org::default() }),
        });
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind the emulator on 127.0.0.1:0");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let port = listener.local_addr().expect("the emulator's address").port();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("pingid-emulator-{port}"))
            .spawn(move || serve(listener, thread_shared, stop_rx))
            .expect("spawn the emulator thread");
        PingIdEmulator { port, shared, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/pingid`: the `idp_url` of the properties file.
    pub fn idp_url(&self) -> String {
        format!("http://127.0.0.1:{}/pingid", self.port)
    }

    /// The key as `use_base64_key` holds it (standard Base64, padded).
    pub fn key_b64(&self) -> String {
        STANDARD.encode(&self.shared.key)
    }

    pub fn key(&self) -> Vec<u8> {
        self.shared.key.clone()
    }

    pub fn org_alias(&self) -> String {
        self.shared.org_alias.clone()
    }

    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    /// This organization's `pingid.properties`, written as PingOne writes it
    /// (`=` and `:` escaped).
    pub fn properties(&self) -> String {
        let esc = |s: &str| s.replace('=', "\\=").replace(':', "\\:");
        format!(
            "#Auto-Generated by the provisio PingID emulator\nuse_base64_key={}\nuse_signature=true\ntoken={}\n\
             idp_url={}\norg_alias={}\nadmin_url={}\nauthenticator_url={}\n",
            esc(&self.key_b64()),
            self.shared.token,
            esc(&self.idp_url()),
            self.shared.org_alias,
            esc("https://admin.pingone.com/web-portal"),
            esc("https://authenticator.pingone.com/pingid/ppm"),
        )
    }

    fn org(&self) -> std::sync::MutexGuard<'_, Org> {
        self.shared.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every user, by username.
    pub fn users(&self) -> Vec<EmuUser> {
        self.org().users.values().map(|(u, _)| u.clone()).collect()
    }

    pub fn user(&self, name: &str) -> Option<EmuUser> {
        self.org().users.get(name).map(|(u, _)| u.clone())
    }

    /// The user's devices, in pairing order.
    pub fn devices(&self, user: &str) -> Vec<EmuDevice> {
        self.org().users.get(user).map(|(_, d)| d.clone()).unwrap_or_default()
    }

    /// The device nicknamed `nickname`, if exactly one has it.
    pub fn device(&self, user: &str, nickname: &str) -> Option<EmuDevice> {
        let all: Vec<_> = self.devices(user).into_iter().filter(|d| d.nickname.as_deref() == Some(nickname)).collect();
        (all.len() == 1).then(|| all[0].clone())
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<EmuRequest> {
        self.org().requests.clone()
    }

    /// The operations of the requests received (`getuserdetails`, ...).
    pub fn ops(&self) -> Vec<String> {
        self.org().requests.iter().map(|r| r.op.clone()).collect()
    }

    pub fn reset_requests(&self) {
        self.org().requests.clear();
    }

    /// How many UnpairDevice calls came without a `deviceId` (each removed every device).
    pub fn unpair_all_calls(&self) -> usize {
        self.org().unpair_all
    }

    /// Answer the next `n` authenticated requests with `errorId` (HTTP 400, signed).
    pub fn fail_next(&self, n: usize, error_id: i64) {
        self.org().failures.extend(std::iter::repeat_n((None, error_id), n));
    }

    /// Answer the next `n` authenticated requests for `op` (`adduser`, ...) with `errorId`.
    pub fn fail_next_op(&self, op: &str, n: usize, error_id: i64) {
        self.org().failures.extend(std::iter::repeat_n((Some(op.to_owned()), error_id), n));
    }

    /// A user created outside provisio (status ACTIVE, role REGULAR).
    pub fn add_user(&self, name: &str, fname: &str, lname: &str, email: &str) {
        let user = EmuUser {
            user_name: name.into(),
            email: Some(email.into()),
            fname: Some(fname.into()),
            lname: Some(lname.into()),
            status: "ACTIVE".into(),
            role: Some("REGULAR".into()),
        };
        self.org().users.insert(name.into(), (user, Vec::new()));
    }

    /// A device the user paired themselves; answers its `deviceId`.
    pub fn add_device(&self, user: &str, nickname: Option<&str>, kind: &str, value: &str) -> i64 {
        let mut org = self.org();
        ops::pair(&mut org, user, kind, value, nickname).expect("the user exists")
    }

    /// A compact JWS over exactly these header and payload values, signed with `key`.
    pub fn sign_with(key: &[u8], header: &Value, payload: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The header a client of this organization sends.
    pub fn header(&self) -> Value {
        json!({"alg": "HS256", "org_alias": self.shared.org_alias, "token": self.shared.token})
    }

    /// A valid payload for `req_body`, timestamped now plus `skew_ms`.
    pub fn payload(&self, req_body: Value, skew_ms: i64) -> Value {
        json!({"reqHeader": {
            "locale": "en", "orgAlias": self.shared.org_alias, "secretKey": self.shared.token,
            "timestamp": format_timestamp(now_ms() + skew_ms), "version": "4.9"
        }, "reqBody": req_body})
    }

    /// A valid signed request for `req_body`.
    pub fn signed_request(&self, req_body: Value) -> String {
        Self::sign_with(&self.shared.key, &self.header(), &self.payload(req_body, 0))
    }

    /// POST `body` to `path` (relative to the server root, e.g. `/pingid/rest/4/adduser/do`).
    pub fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let client = reqwest::blocking::Client::builder().no_proxy().build().expect("an HTTP client");
        let r = client
            .post(format!("http://127.0.0.1:{}{path}", self.port))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .expect("the emulator answers");
        (r.status().as_u16(), r.text().unwrap_or_default())
    }

    /// Send `req_body` to `op` as a well-behaved client would; the answer's status and `responseBody`.
    pub fn call(&self, op: &str, req_body: Value) -> (u16, Value) {
        let (status, body) =
            self.post(&format!("/pingid/rest/4/{op}/do"), "application/json", &self.signed_request(req_body));
        (status, self.response_body(&body))
    }

    /// The `responseBody` of an answer: verified when signed, as is when plain JSON.
    pub fn response_body(&self, body: &str) -> Value {
        if body.trim_start().starts_with('{') {
            let v: Value = serde_json::from_str(body).expect("a JSON answer");
            return v.get("responseBody").cloned().unwrap_or(v);
        }
        let payload = verify(&self.shared.key, body).expect("the emulator signs its answers");
        payload["responseBody"].clone()
    }
}

impl Drop for PingIdEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Verify an HS256 compact JWS with `jsonwebtoken`; its payload.
pub fn verify(key: &[u8], jws: &str) -> Result<Value, String> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jws, &jsonwebtoken::DecodingKey::from_secret(key), &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("{e}"))
}

fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970");
    i64::try_from(d.as_millis()).expect("a sane clock")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of the usual civil algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (exactly) to milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 23 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' || b[19] != b'.'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    let (y, mo, d, h, mi, sec, ms) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Milliseconds since the epoch as `yyyy-MM-dd HH:mm:ss.SSS`, found by search over `days_from_civil`.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let mut y = 1970 + days / 366;
    while days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    let mut m = 1;
    while m < 12 && days_from_civil(y, m + 1, 1) <= days {
        m += 1;
    }
    let d = days - days_from_civil(y, m, 1) + 1;
    let (h, mi, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{milli:03}")
}

impl Shared {
    /// A signed answer with `body` as its `responseBody`.
    fn signed(&self, status: u16, error_id: i64, error_msg: &str, mut body: serde_json::Map<String, Value>) -> Answer {
        body.insert("errorId".into(), error_id.into());
        body.insert("errorMsg".into(), error_msg.into());
        body.insert("uniqueMsgId".into(), format!("webs_emul_{}", now_ms()).into());
        body.insert("clientData".into(), Value::Null);
        let header = json!({"alg": "HS256", "org_alias": self.org_alias, "token": self.token});
        let jws = PingIdEmulator::sign_with(&self.key, &header, &json!({ "responseBody": body }));
        Answer { status, body: jws, error_id }
    }

    fn invalid(&self, msg: &str) -> Answer {
        self.signed(400, 400, &format!("Invalid input. {msg}"), serde_json::Map::new())
    }

    /// Check and carry out one request: (answer, operation, verified reqBody).
    fn process(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (Answer, String, Option<Value>) {
        let plain = |status: u16, error_id: i64, msg: &str| Answer {
            status,
            body: json!({"errorId": error_id, "errorMsg": msg, "uniqueMsgId": null, "clientData": null}).to_string(),
            error_id,
        };
        let Some(op) = path.strip_prefix("/pingid/rest/4/").and_then(|p| p.strip_suffix("/do")) else {
            return (plain(404, 404, "No such endpoint"), path.to_owned(), None);
        };
        let op = op.to_owned();
        if !ops::OPERATIONS.contains(&op.as_str()) {
            return (plain(404, 404, &format!("Unknown operation {op}")), op, None);
        }
        if method != "POST" {
            return (plain(405, 405, "Only POST is allowed"), op, None);
        }
        if !content_type
            .is_some_and(|c| c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
        {
            return (plain(400, 400, "Content-Type must be application/json"), op, None);
        }
        let parts: Vec<&str> = body.trim().split('.').collect();
        let header: Option<Value> = (parts.len() == 3)
            .then(|| URL_SAFE_NO_PAD.decode(parts[0]).ok())
            .flatten()
            .and_then(|h| serde_json::from_slice(&h).ok());
        let Some(Value::Object(header)) = header else {
            return (plain(400, 400, "The body is not a compact JWS"), op, None);
        };
        let mut keys: Vec<&str> = header.keys().map(String::as_str).collect();
        keys.sort_unstable();
        if keys != ["alg", "org_alias", "token"] || header["alg"] != "HS256" {
            return (
                plain(400, 400, &format!("The JWS header must be exactly alg=HS256, org_alias, token; got {keys:?}")),
                op,
                None,
            );
        }
        if header["org_alias"] != self.org_alias.as_str() || header["token"] != self.token.as_str() {
            return (plain(401, 401, "Unknown org_alias or token"), op, None);
        }
        let payload = match verify(&self.key, body.trim()) {
            Ok(p) => p,
            Err(e) => return (plain(401, 401, &format!("Invalid signature: {e}")), op, None),
        };
        let rh = &payload["reqHeader"];
        for field in ["locale", "orgAlias", "secretKey", "timestamp", "version"] {
            if rh.get(field).and_then(Value::as_str).is_none_or(|v| v.is_empty()) {
                return (self.invalid(&format!("reqHeader.{field} is missing")), op, None);
            }
        }
        if rh["orgAlias"] != self.org_alias.as_str() || rh["secretKey"] != self.token.as_str() {
            return (self.invalid("reqHeader.orgAlias or reqHeader.secretKey does not match the JWS header"), op, None);
        }
        let Some(ts) = rh["timestamp"].as_str().and_then(parse_timestamp) else {
            return (self.invalid("reqHeader.timestamp is not yyyy-MM-dd HH:mm:ss.SSS"), op, None);
        };
        if (ts - now_ms()).abs() > MAX_SKEW_MS {
            return (self.invalid("reqHeader.timestamp is too far from the server's clock"), op, None);
        }
        let Some(req_body) = payload.get("reqBody").filter(|b| b.is_object()).cloned() else {
            return (self.invalid("reqBody is missing"), op, None);
        };
        let mut org = self.org.lock().unwrap_or_else(|e| e.into_inner());
        let injected = org.failures.iter().position(|(only, _)| only.as_ref().is_none_or(|o| *o == op));
        if let Some((_, error_id)) = injected.and_then(|i| org.failures.remove(i)) {
            let answer = self.signed(400, error_id, "Injected failure", serde_json::Map::new());
            return (answer, op, Some(req_body));
        }
        let answer = match ops::run(&mut org, &op, &req_body) {
            Ok(body) => self.signed(200, 200, "", body),
            Err((error_id, msg)) => self.signed(400, error_id, &msg, serde_json::Map::new()),
        };
        (answer, op, Some(req_body))
    }
}

fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, stop: tokio::sync::oneshot::Receiver<()>) {
    crate::http_serve::serve(listener, "pingid-emulator", stop, move || move |req| handle(shared.clone(), req));
}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let content_type = parts.headers.get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let (answer, op, req_body) = shared.process(parts.method.as_str(), parts.uri.path(), content_type, &body);
    shared.org.lock().unwrap_or_else(|e| e.into_inner()).requests.push(EmuRequest {
        op,
        status: answer.status,
        error_id: answer.error_id,
        body,
        req_body,
    });
    let content_type = if answer.body.starts_with('{') { "application/json" } else { "application/jwt" };
    let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    Ok(response)
}
