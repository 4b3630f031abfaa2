//! A small, strict SCIM **1.1** server for end-to-end tests, on 127.0.0.1:0.
//!
//! No SCIM 1.1 server is packaged in a registry we use, so this one is ours.
//! It keeps users and groups in memory and refuses whatever a SCIM 1.1 client
//! must not send (SCIM Core Schema 1.1 / SCIM REST API 1.1):
//!
//! * request bodies only as `Content-Type: application/json` (415 otherwise,
//!   `application/scim+json` included); an `Accept` header, when sent, must
//!   allow `application/json` (406);
//! * `schemas` must hold `urn:scim:schemas:core:1.0`, and a SCIM 2.0 URN
//!   (`urn:ietf:params:scim:…`) anywhere in a body is a 400;
//! * `Authorization: Bearer <token>` on every request, discovery included (401);
//! * discovery at `GET /ServiceProviderConfigs` (plural); the 2.0 name
//!   `/ServiceProviderConfig` is a 404; PATCH is advertised unsupported and
//!   answers 501; ETags are not supported;
//! * `GET/POST /Users`, `GET/PUT/DELETE /Users/{id}` (and the same for
//!   `/Groups`); DELETE answers 200, as SCIM 1.1 says;
//! * filters `userName eq "x"` (case-insensitive), `externalId eq "x"` and,
//!   on groups, `displayName eq "x"`; anything else is a 400;
//! * list responses `{"schemas":["urn:scim:schemas:core:1.0"], totalResults,
//!   itemsPerPage, startIndex, Resources}`, paged with `startIndex`/`count`;
//! * errors as `{"Errors":[{"description":…,"code":"400"}]}`; a duplicate
//!   userName (case-insensitive) is a 409.
//!
//! ```no_run
//! use provisio_e2e::scim11_server::Scim11Server;
//! let server = Scim11Server::start();
//! let id = server.insert_user(serde_json::json!({"userName": "alice"}));
//! // ... configure the engine with server.base_url(), scim_version = "1.1",
//! //     and server.token() as its bearer token ...
//! assert_eq!(server.users().len(), 1);
//! # let _ = id;
//! ```
//!
//! Every request is logged ([`Scim11Server::requests`]) with the status it
//! got, so a test can assert that nothing was refused. The server runs on its
//! own tokio runtime in a background thread and stops when dropped.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};

/// The SCIM 1.1 core schema URN (users, groups and list responses).
pub const CORE_1_0: &str = "urn:scim:schemas:core:1.0";
/// The prefix of every SCIM 2.0 URN, refused here.
const URN_2_0_PREFIX: &str = "urn:ietf:params:scim:";
/// The largest page served (also the default `count`).
pub const MAX_RESULTS: usize = 100;
/// Where the SCIM endpoints live below the server's root.
const PREFIX: &str = "/scim/v1";

/// One request the server received, with the status it answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query, relative to [`Scim11Server::base_url`].
    pub path: String,
    pub content_type: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
}

impl Logged {
    /// POST, PUT, PATCH or DELETE.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

#[derive(Default)]
struct Store {
    users: Vec<Value>,
    groups: Vec<Value>,
    /// Users that appear right after the first lookup of their userName
    /// answered "none": a user created by someone else meanwhile.
    after_lookup: Vec<Value>,
    next_id: u64,
    log: Vec<Logged>,
}

impl Store {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        // Not derived from the userName: clients must take the id from the body.
        format!("{:08x}-{:04}", (self.next_id as u32).wrapping_mul(2_654_435_761), self.next_id)
    }
}

struct State {
    token: String,
    base_url: String,
    store: Mutex<Store>,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running SCIM 1.1 server; stops when dropped.
pub struct Scim11Server {
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scim11Server {
    /// Starts a server with a random bearer token.
    pub fn start() -> Scim11Server {
        Self::with_token(&crate::scim_peer::random_token())
    }

    /// Starts a server that accepts `Authorization: Bearer <token>`.
    pub fn with_token(token: &str) -> Scim11Server {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the server's address");
        let state = Arc::new(State {
            token: token.to_owned(),
            base_url: format!("http://{addr}{PREFIX}"),
            store: Mutex::new(Store::default()),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("scim11-{}", addr.port()))
            .spawn(move || serve(listener, thread_state, stop_rx))
            .expect("spawn the SCIM 1.1 server thread");
        Scim11Server { state, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/scim/v1`: the SCIM URL to configure.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// Every user, in creation order.
    pub fn users(&self) -> Vec<Value> {
        self.state.lock().users.clone()
    }

    /// Every group, in creation order.
    pub fn groups(&self) -> Vec<Value> {
        self.state.lock().groups.clone()
    }

    /// Adds a user directly (no HTTP); returns its id.
    pub fn insert_user(&self, user: Value) -> String {
        self.insert(user, false)
    }

    /// Adds a user right after the first `userName eq` lookup of its name
    /// has answered "no such user", as if someone created it meanwhile: the
    /// client's create then gets a 409. Returns the id it will have.
    pub fn insert_user_after_lookup(&self, user: Value) -> String {
        self.insert(user, true)
    }

    fn insert(&self, user: Value, after_lookup: bool) -> String {
        let mut store = self.state.lock();
        let resource = stamp(&mut store, user, None, &self.state.base_url, "Users");
        let id = resource["id"].as_str().unwrap_or_default().to_owned();
        if after_lookup {
            store.after_lookup.push(resource)
        } else {
            store.users.push(resource)
        }
        id
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Logged> {
        self.state.lock().log.clone()
    }

    /// Requests answered with a status of 400 or more.
    pub fn refused(&self) -> Vec<Logged> {
        self.requests().into_iter().filter(|r| r.status >= 400).collect()
    }

    /// Requests with this method whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.state.lock().log.iter().filter(|r| r.method == method && r.path.starts_with(prefix)).count()
    }

    pub fn reset_log(&self) {
        self.state.lock().log.clear();
    }
}

impl Drop for Scim11Server {
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
    crate::http_serve::serve(listener, "scim11", stop, move || move |req| handle(state.clone(), req));
}

/// An answer: status, JSON body (None: empty) and extra headers.
struct Answer {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

fn ok(status: u16, body: Value) -> Answer {
    Answer { status, body: Some(body), headers: Vec::new() }
}

/// A SCIM 1.1 error: `{"Errors":[{"description":…,"code":"<status>"}]}`.
fn error(status: u16, description: impl Into<String>) -> Answer {
    ok(status, json!({"Errors": [{"description": description.into(), "code": status.to_string()}]}))
}

async fn handle(state: Arc<State>, req: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type");
    let full = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let rel = full.strip_prefix(PREFIX).unwrap_or(&full).to_owned();
    let method = parts.method.as_str().to_owned();
    let json_body: Option<Value> = serde_json::from_slice(&bytes).ok();

    let answer = (|| {
        if !full.starts_with(PREFIX) {
            return error(404, format!("nothing at {full}; SCIM lives under {PREFIX}"));
        }
        if header("authorization").as_deref() != Some(format!("Bearer {}", state.token).as_str()) {
            let mut a = error(401, "missing or wrong bearer token");
            a.headers.push(("WWW-Authenticate", "Bearer realm=\"SCIM 1.1\"".into()));
            return a;
        }
        if let Some(accept) = header("accept")
            && !accept
                .split(',')
                .any(|m| matches!(media_type(m).as_str(), "application/json" | "*/*" | "application/*"))
        {
            return error(406, format!("SCIM 1.1 answers application/json, but Accept is '{accept}'"));
        }
        let has_body = !bytes.is_empty();
        if has_body || matches!(method.as_str(), "POST" | "PUT") {
            match content_type.as_deref().map(media_type) {
                Some(t) if t == "application/json" => {}
                other => {
                    return error(415, format!("SCIM 1.1 takes Content-Type application/json, not {other:?}"));
                }
            }
        }
        let mut store = state.lock();
        route(&mut store, &state.base_url, &method, &rel, has_body.then_some(json_body.clone()))
    })();

    state.lock().log.push(Logged { method, path: rel, content_type, body: json_body, status: answer.status });
    let mut builder = hyper::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(*name, value.as_str());
    }
    let body = match answer.body {
        Some(v) => {
            builder = builder.header("Content-Type", "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    Ok(builder.body(Full::new(body)).unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()))))
}

/// `application/json; charset=utf-8` → `application/json`.
fn media_type(value: &str) -> String {
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The resources of `/Users` or `/Groups`.
fn collection<'a>(store: &'a mut Store, kind: &str) -> &'a mut Vec<Value> {
    if kind == "Users" { &mut store.users } else { &mut store.groups }
}

/// The attribute that names a resource uniquely (case-insensitive).
fn unique_attr(kind: &str) -> &'static str {
    if kind == "Users" { "userName" } else { "displayName" }
}

fn route(store: &mut Store, base: &str, method: &str, rel: &str, body: Option<Option<Value>>) -> Answer {
    let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["ServiceProviderConfigs"]) => ok(200, service_provider_configs()),
        (_, [kind @ ("Users" | "Groups"), rest @ ..]) if rest.len() <= 1 => {
            let kind = (*kind).to_owned();
            let id = rest.first().map(|s| (*s).to_owned());
            let body = match body {
                Some(Some(v)) => Some(v),
                Some(None) => return error(400, "the body is not JSON"),
                None => None,
            };
            match (method, id) {
                ("GET", None) => list(store, &kind, query),
                ("POST", None) => write(store, base, &kind, None, body),
                ("GET", Some(id)) => match find(store, &kind, &id) {
                    Some(i) => ok(200, collection(store, &kind)[i].clone()),
                    None => error(404, format!("no resource {id}")),
                },
                ("PUT", Some(id)) => write(store, base, &kind, Some(&id), body),
                ("DELETE", Some(id)) => match find(store, &kind, &id) {
                    Some(i) => {
                        collection(store, &kind).remove(i);
                        // SCIM 1.1: "the server SHALL respond with 200 OK".
                        Answer { status: 200, body: None, headers: Vec::new() }
                    }
                    None => error(404, format!("no resource {id}")),
                },
                ("PATCH", _) => error(501, "PATCH is not supported (see /ServiceProviderConfigs)"),
                _ => error(405, format!("{method} is not allowed on {path}")),
            }
        }
        _ => error(404, format!("no endpoint {method} {path}")),
    }
}

fn service_provider_configs() -> Value {
    json!({
        "schemas": [CORE_1_0],
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "name": "OAuth Bearer Token",
            "description": "Authentication with a static bearer token",
            "specUrl": "http://tools.ietf.org/html/rfc6750",
        }],
    })
}

fn find(store: &mut Store, kind: &str, id: &str) -> Option<usize> {
    collection(store, kind).iter().position(|r| r["id"] == id)
}

/// Whether `resource[attr]` equals `value`, ignoring case.
fn same_name(resource: &Value, attr: &str, value: &str) -> bool {
    resource[attr].as_str().is_some_and(|v| v.eq_ignore_ascii_case(value))
}

/// `attr eq "value"` → (attr, value); the value is a JSON string literal.
fn parse_filter(filter: &str) -> Option<(String, String)> {
    let filter = filter.trim();
    let (attr, rest) = filter.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value: String = serde_json::from_str(value.trim()).ok()?;
    Some((attr.to_owned(), value))
}

fn list(store: &mut Store, kind: &str, query: &str) -> Answer {
    let url = reqwest::Url::parse(&format!("http://x/?{query}")).expect("a query string");
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let number = |name: &str, default: usize| match param(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| error(400, format!("{name} must be a number, not '{v}'"))),
    };
    let start = match number("startIndex", 1) {
        Ok(n) => n.max(1),
        Err(e) => return e,
    };
    let count = match number("count", MAX_RESULTS) {
        Ok(n) => n.min(MAX_RESULTS),
        Err(e) => return e,
    };
    // (attribute as the resource spells it, value)
    let unique = unique_attr(kind);
    let filter = match param("filter") {
        None => None,
        Some(f) => match parse_filter(&f) {
            Some((attr, value)) if attr.eq_ignore_ascii_case(unique) => Some((unique, value)),
            Some((attr, value)) if attr.eq_ignore_ascii_case("externalId") => Some(("externalId", value)),
            Some((attr, _)) => return error(400, format!("unsupported filter attribute '{attr}'")),
            None => return error(400, format!("unsupported filter '{f}': this server knows only `attr eq \"value\"`")),
        },
    };
    let matches = |r: &Value| match &filter {
        None => true,
        // externalId is case-exact; userName and displayName are not.
        Some(("externalId", value)) => r["externalId"] == value.as_str(),
        Some((attr, value)) => same_name(r, attr, value),
    };
    let all: Vec<Value> = collection(store, kind).iter().filter(|r| matches(r)).cloned().collect();
    // A user created "meanwhile" appears once the lookup has answered.
    if let Some(("userName", value)) = &filter
        && let Some(i) = store.after_lookup.iter().position(|u| same_name(u, "userName", value))
    {
        let user = store.after_lookup.remove(i);
        store.users.push(user);
    }
    let page: Vec<Value> = all.iter().skip(start - 1).take(count).cloned().collect();
    ok(
        200,
        json!({
            "schemas": [CORE_1_0],
            "totalResults": all.len(),
            "itemsPerPage": page.len(),
            "startIndex": start,
            "Resources": page,
        }),
    )
}

/// Checks a request body against SCIM 1.1; answers the refusal.
fn check_body(kind: &str, body: Option<Value>) -> Result<serde_json::Map<String, Value>, Answer> {
    let Some(Value::Object(map)) = body else {
        return Err(error(400, "a JSON object is required"));
    };
    if let Some(urn) = find_urn_2_0(&Value::Object(map.clone())) {
        return Err(error(400, format!("SCIM 2.0 URN '{urn}' in a SCIM 1.1 request")));
    }
    let schemas: Vec<&str> = map
        .get("schemas")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !schemas.contains(&CORE_1_0) {
        return Err(error(400, format!("schemas must include {CORE_1_0}, got {:?}", map.get("schemas"))));
    }
    if let Some(other) = schemas.iter().find(|s| !s.starts_with("urn:scim:schemas:")) {
        return Err(error(400, format!("unknown schema '{other}'")));
    }
    let unique = unique_attr(kind);
    if !map.get(unique).and_then(Value::as_str).is_some_and(|v| !v.is_empty()) {
        return Err(error(400, format!("{unique} is required")));
    }
    if let Some(active) = map.get("active")
        && !active.is_boolean()
    {
        return Err(error(400, format!("active must be a JSON boolean, not {active}")));
    }
    Ok(map)
}

/// The first SCIM 2.0 URN in a key or a string value, anywhere.
fn find_urn_2_0(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.to_ascii_lowercase().starts_with(URN_2_0_PREFIX) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(find_urn_2_0),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            if k.to_ascii_lowercase().starts_with(URN_2_0_PREFIX) { Some(k.clone()) } else { find_urn_2_0(v) }
        }),
        _ => None,
    }
}

/// The stored form of a resource: the client's attributes with the server's
/// `id` and `meta` (a client-supplied `id` or `meta` is ignored).
fn stamp(store: &mut Store, resource: Value, id: Option<&str>, base: &str, kind: &str) -> Value {
    let mut map = match resource {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let id = id.map(str::to_owned).unwrap_or_else(|| store.new_id());
    map.insert("id".into(), id.clone().into());
    map.insert("meta".into(), json!({"location": format!("{base}/{kind}/{id}")}));
    map.entry("schemas").or_insert_with(|| json!([CORE_1_0]));
    Value::Object(map)
}

/// POST (`id` None) or PUT: checked, unique (case-insensitive), stored whole.
fn write(store: &mut Store, base: &str, kind: &str, id: Option<&str>, body: Option<Value>) -> Answer {
    let index = match id.map(|id| (id, find(store, kind, id))) {
        Some((id, None)) => return error(404, format!("no resource {id}")),
        Some((_, i)) => i,
        None => None,
    };
    let map = match check_body(kind, body) {
        Ok(m) => m,
        Err(a) => return a,
    };
    let unique = unique_attr(kind);
    let value = map[unique].as_str().unwrap_or_default().to_owned();
    if collection(store, kind).iter().any(|r| same_name(r, unique, &value) && id.is_none_or(|id| r["id"] != id)) {
        return error(409, format!("{unique} '{value}' is already taken"));
    }
    let resource = stamp(store, Value::Object(map), id, base, kind);
    match index {
        // A full replace: what the body leaves out is gone.
        Some(i) => {
            collection(store, kind)[i] = resource.clone();
            ok(200, resource)
        }
        None => {
            let location = resource["meta"]["location"].as_str().unwrap_or_default().to_owned();
            collection(store, kind).push(resource.clone());
            Answer { status: 201, body: Some(resource), headers: vec![("Location", location)] }
        }
    }
}
