//! A request-counting HTTP proxy for end-to-end tests, on 127.0.0.1:0.
//!
//! The proxy's root stands for an upstream base URL: a request to
//! `{proxy.url()}/Users?x` is forwarded to `{upstream}/Users?x`, so the engine
//! is configured with `proxy.url()` wherever it would use the upstream base.
//! Every request received is recorded (method, path, status), so a test can
//! assert, for example, that a second sync cycle sent no write:
//!
//! ```no_run
//! use provisio_e2e::{proxy::Proxy, scim_peer::ScimPeer};
//! let tenant = ScimPeer::shared().unique_tenant("idem");
//! let proxy = Proxy::start(&tenant.base_url);
//! // ... run the engine against proxy.url() twice, proxy.reset_counts() between ...
//! assert_eq!(proxy.writes(), 0, "{:?}", proxy.counts());
//! ```
//!
//! Auth rewriting, for targets that take HTTP Basic when the peer only knows
//! bearer tokens: `Proxy::builder(upstream).require_basic(user, pass).forward_bearer(token)`
//! answers 401 unless the exact `Authorization: Basic …` header is present, and
//! forwards with `Authorization: Bearer <token>`.
//!
//! A fault hook (`fault`/`set_fault`) may answer a request instead of the
//! upstream ([`Response::reset`] closes the connection unanswered,
//! [`Response::delayed`] holds the request and then forwards it,
//! [`Response::held`] forwards it at once and holds the answer,
//! [`Response::lost`] forwards it and then closes the connection, so the
//! target acted and the answer is lost); it runs after the auth check. Each
//! request is recorded with the moment it was received. The proxy runs on its own tokio
//! runtime in a background thread, so tests stay synchronous, and stops on Drop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

/// One request as a test server sees it: what the proxy's fault hook and
/// the emulators' rules judge (`path` is relative to the server's base).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query as received by the proxy (relative to the upstream base).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// The path's segments (`/Users/abc` → `["Users", "abc"]`).
    pub fn segments(&self) -> Vec<&str> {
        self.path_only().split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The decoded query parameters (`+` is a space).
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.path.split_once('?') else { return Vec::new() };
        form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    /// The body as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An answer injected by the fault hook.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A response with a JSON body (`Content-Type: application/scim+json`).
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response::new(status).header("Content-Type", "application/scim+json").body(body.to_string())
    }

    /// A SCIM error (`urn:ietf:params:scim:api:messages:2.0:Error`).
    pub fn scim_error(status: u16, detail: &str) -> Self {
        Response::json(
            status,
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status.to_string(),
                "detail": detail,
            }),
        )
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A fault that closes the connection without answering (a reset, as the
    /// client sees it).
    pub fn reset() -> Self {
        Response::new(RESET)
    }

    /// A fault that waits `delay` and then forwards the request upstream, so
    /// the target does the work after the client may have given up.
    pub fn delayed(delay: std::time::Duration) -> Self {
        Response::new(DELAYED).header("x-proxy-delay-ms", &delay.as_millis().to_string())
    }

    /// A fault that forwards the request upstream at once and holds the
    /// upstream's answer for `delay`: the target has acted (or been read),
    /// and the client is kept in the middle of its operation meanwhile.
    pub fn held(delay: std::time::Duration) -> Self {
        Response::new(HELD).header("x-proxy-delay-ms", &delay.as_millis().to_string())
    }

    /// A fault that forwards the request, lets the target act on it, and
    /// then closes the connection without the answer: the client cannot
    /// know whether its request took effect.
    pub fn lost() -> Self {
        Response::new(LOST)
    }

    /// A fault that answers 502 at once and forwards the request `delay`
    /// later all the same: a gateway that gave up on a request the target
    /// still carries out, after the client has moved on.
    pub fn late(delay: std::time::Duration) -> Self {
        Response::new(LATE).header("x-proxy-delay-ms", &delay.as_millis().to_string())
    }
}

/// Marker statuses of [`Response::reset`], [`Response::delayed`],
/// [`Response::held`], [`Response::lost`] and [`Response::late`].
const RESET: u16 = 1;
const DELAYED: u16 = 2;
const HELD: u16 = 3;
const LOST: u16 = 4;
const LATE: u16 = 5;

/// The fault hook: `Some(response)` answers instead of the upstream.
pub type Fault = dyn Fn(&Request) -> Option<Response> + Send + Sync;

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as received.
    pub path: String,
    /// The status the proxy answered (502 when the upstream failed).
    pub status: u16,
    /// Answered by the proxy itself (401 of the Basic check, or the fault hook).
    pub local: bool,
    /// When the proxy received it (before any delay), to compare with a
    /// client's deadlines.
    pub received: std::time::Instant,
}

impl Recorded {
    /// POST/PUT/PATCH/DELETE, except a POST search (`…/.search`), which only reads.
    pub fn is_write(&self) -> bool {
        let path = self.path.split('?').next().unwrap_or("");
        match self.method.as_str() {
            "PUT" | "PATCH" | "DELETE" => true,
            "POST" => !path.ends_with("/.search"),
            _ => false,
        }
    }

    /// `"POST /Users"`: the method and the first path segment.
    pub fn route(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        format!("{} /{}", self.method, first)
    }
}

/// Counts of the requests received since the start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    /// `"GET" -> 3`
    pub by_method: BTreeMap<String, usize>,
    /// `"POST /Users" -> 2` (see [`Recorded::route`])
    pub by_route: BTreeMap<String, usize>,
    /// POST (except `/.search`), PUT, PATCH and DELETE.
    pub writes: usize,
}

impl Counts {
    pub fn method(&self, method: &str) -> usize {
        self.by_method.get(&method.to_ascii_uppercase()).copied().unwrap_or(0)
    }

    /// `counts.route("POST", "/Users")`
    pub fn route(&self, method: &str, first_segment: &str) -> usize {
        let key = format!("{} /{}", method.to_ascii_uppercase(), first_segment.trim_start_matches('/'));
        self.by_route.get(&key).copied().unwrap_or(0)
    }
}

struct State {
    upstream: String,
    proxy_url: String,
    basic: Option<String>,
    bearer: Option<String>,
    fault: RwLock<Option<Arc<Fault>>>,
    log: Mutex<Vec<Recorded>>,
    /// Requests being answered now, and the most at once since the last reset.
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
    /// Added latency per request, in milliseconds (without blocking a thread).
    delay_ms: std::sync::atomic::AtomicU64,
}

/// Options: `Proxy::builder(upstream).require_basic(u, p).forward_bearer(t).start()`.
pub struct ProxyBuilder {
    upstream: String,
    basic: Option<(String, String)>,
    bearer: Option<String>,
    fault: Option<Arc<Fault>>,
}

impl ProxyBuilder {
    /// Answer 401 unless `Authorization: Basic base64(user:pass)` is sent.
    pub fn require_basic(mut self, user: &str, pass: &str) -> Self {
        self.basic = Some((user.to_string(), pass.to_string()));
        self
    }

    /// Forward every request with `Authorization: Bearer <token>` (replacing the client's).
    pub fn forward_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_string());
        self
    }

    /// Install a fault hook from the start.
    pub fn fault(mut self, f: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) -> Self {
        self.fault = Some(Arc::new(f));
        self
    }

    /// Binds 127.0.0.1:0 and starts serving in a background thread.
    pub fn start(self) -> Proxy {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind the proxy on 127.0.0.1:0");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the proxy's address");
        let basic = self
            .basic
            .map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))));
        let state = Arc::new(State {
            upstream: self.upstream.trim_end_matches('/').to_string(),
            proxy_url: format!("http://{addr}"),
            basic,
            bearer: self.bearer,
            fault: RwLock::new(self.fault),
            log: Mutex::new(Vec::new()),
            in_flight: Default::default(),
            max_in_flight: Default::default(),
            delay_ms: Default::default(),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-proxy-{}", addr.port()))
            .spawn(move || serve(listener, thread_state, stop_rx))
            .expect("spawn the proxy thread");
        Proxy { addr, state, stop: Some(stop_tx), thread: Some(thread) }
    }
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    pub fn builder(upstream: &str) -> ProxyBuilder {
        ProxyBuilder { upstream: upstream.to_string(), basic: None, bearer: None, fault: None }
    }

    /// A plain counting proxy to `upstream`.
    pub fn start(upstream: &str) -> Proxy {
        Self::builder(upstream).start()
    }

    /// `http://127.0.0.1:PORT`: stands for the upstream base URL.
    pub fn url(&self) -> String {
        self.state.proxy_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received since the start or the last reset, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for r in self.state.log.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            counts.total += 1;
            *counts.by_method.entry(r.method.clone()).or_default() += 1;
            *counts.by_route.entry(r.route()).or_default() += 1;
            counts.writes += usize::from(r.is_write());
        }
        counts
    }

    /// Requests with this method whose path starts with `path_prefix` (`"/Users"`).
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        let log = self.state.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.starts_with(path_prefix)).count()
    }

    /// The number of writes: POST (except `/.search`), PUT, PATCH, DELETE.
    pub fn writes(&self) -> usize {
        self.counts().writes
    }

    pub fn reset_counts(&self) {
        self.state.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.state.max_in_flight.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// The most requests the proxy was answering at once since the last
    /// reset (a client's concurrency, seen from the target's side).
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Add `delay` to every answer, without blocking a thread.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.state.delay_ms.store(delay.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    }

    /// Replace the fault hook.
    pub fn set_fault(&self, f: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) {
        *self.state.fault.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(f));
    }

    pub fn clear_fault(&self) {
        *self.state.fault.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: std::net::TcpListener, state: Arc<State>, stop: tokio::sync::oneshot::Receiver<()>) {
    crate::http_serve::serve(listener, "test-proxy", stop, move || {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .expect("the proxy's upstream client");
        move |req| handle(state.clone(), client.clone(), req)
    });
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

async fn handle(
    state: Arc<State>,
    client: reqwest::Client,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let received = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(to_hyper(Response::new(400).body(format!("proxy: unreadable request body: {e}")))),
    };
    let request = Request {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: body.to_vec(),
    };
    use std::sync::atomic::Ordering;
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let (response, local) = answer(&state, &client, &request).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    state.log.lock().unwrap_or_else(|e| e.into_inner()).push(Recorded {
        method: request.method.clone(),
        path: request.path.clone(),
        status: response.status,
        local,
        received,
    });
    if response.status == RESET {
        // Failing the service makes hyper drop the connection unanswered.
        return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "test proxy: injected reset"));
    }
    Ok(to_hyper(response))
}

/// The answer to one request, and whether the proxy made it itself.
async fn answer(state: &Arc<State>, client: &reqwest::Client, request: &Request) -> (Response, bool) {
    if let Some(expected) = &state.basic
        && request.header("authorization") != Some(expected.as_str())
    {
        let r = Response::scim_error(401, "test proxy: missing or wrong Basic credentials")
            .header("WWW-Authenticate", "Basic realm=\"provisio-test-proxy\"");
        return (r, true);
    }
    let fault = state.fault.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(r) = fault.and_then(|f| f(request)) {
        let ms = || r.headers.iter().find(|(n, _)| n == "x-proxy-delay-ms").and_then(|(_, v)| v.parse().ok());
        let pause = std::time::Duration::from_millis(ms().unwrap_or(0));
        if r.status == DELAYED {
            tokio::time::sleep(pause).await;
            return (forward(state, client, request).await, true);
        }
        if r.status == HELD {
            let answer = forward(state, client, request).await;
            tokio::time::sleep(pause).await;
            return (answer, true);
        }
        if r.status == LOST {
            let _acted = forward(state, client, request).await;
            return (Response::reset(), true);
        }
        if r.status == LATE {
            let (state, client, request) = (state.clone(), client.clone(), request.clone());
            tokio::spawn(async move {
                tokio::time::sleep(pause).await;
                let _acted = forward(&state, &client, &request).await;
            });
            return (Response::scim_error(502, "test proxy: the gateway gave up (the target acts later)"), true);
        }
        return (r, true);
    }
    (forward(state, client, request).await, false)
}

async fn forward(state: &State, client: &reqwest::Client, request: &Request) -> Response {
    let url = format!("{}{}", state.upstream, request.path);
    let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
        return Response::new(400).body("proxy: bad method");
    };
    let mut out = client.request(method, &url);
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&lower.as_str()) || (lower == "authorization" && state.bearer.is_some()) {
            continue;
        }
        out = out.header(name.as_str(), value.as_str());
    }
    if let Some(token) = &state.bearer {
        out = out.header("Authorization", format!("Bearer {token}"));
    }
    if !request.body.is_empty() {
        out = out.body(request.body.clone());
    }
    let upstream = match out.send().await {
        Ok(r) => r,
        Err(e) => return Response::new(502).body(format!("proxy: upstream {url}: {e}")),
    };
    let mut response = Response::new(upstream.status().as_u16());
    for (name, value) in upstream.headers() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let mut value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        // Point Location headers at the proxy, so a client following them stays behind it.
        if matches!(name.as_str(), "location" | "content-location") && value.starts_with(&state.upstream) {
            value = format!("{}{}", state.proxy_url, &value[state.upstream.len()..]);
        }
        response.headers.push((name.as_str().to_string(), value));
    }
    match upstream.bytes().await {
        Ok(b) => response.body = b.to_vec(),
        Err(e) => return Response::new(502).body(format!("proxy: upstream body {url}: {e}")),
    }
    response
}

fn to_hyper(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(r.status);
    for (name, value) in &r.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|e| {
        let mut fallback = hyper::Response::new(Full::new(Bytes::from(format!("proxy: bad response: {e}"))));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
