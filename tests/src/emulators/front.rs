//! The rule-enforcing front every vendor emulator is built on: a small
//! HTTP/1.1 server on 127.0.0.1:0 that hands each request to the vendor's
//! [`Rules`], which refuse it in the vendor's error shape or forward it
//! (possibly translated) to a real scim2-server tenant through [`Upstream`].
//!
//! The front serves its vendor's URL prefix only (`/scim/v2/organizations/o1`
//! for Contentful, ...); the rules see paths relative to it. It is plain
//! threads and blocking I/O, one request per connection (`Connection:
//! close`), so rules can call the upstream synchronously. Every request is
//! recorded with its status and whether the rules refused it, so a test can
//! assert that a run sent nothing the vendor would refuse. Stops on Drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::proxy::Request;

/// An answer.
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

    pub fn json(status: u16, body: &Value) -> Self {
        let mut r = Response::new(status);
        r.headers.push(("Content-Type".into(), "application/scim+json".into()));
        r.body = body.to_string().into_bytes();
        r
    }

    /// A SCIM 2.0 error (`status` as a string, `scimType` when given).
    pub fn scim_error(status: u16, scim_type: Option<&str>, detail: &str) -> Self {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(),
            "detail": detail,
        });
        if let Some(t) = scim_type {
            body["scimType"] = json!(t);
        }
        Response::json(status, &body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn set_json(&mut self, body: &Value) {
        self.body = body.to_string().into_bytes();
    }
}

/// A vendor's rules. `Err` is a refusal (recorded as such), `Ok` an answer
/// the vendor would give (usually the upstream's).
pub trait Rules: Send + Sync + 'static {
    fn handle(&self, req: &Request, up: &Upstream) -> Result<Response, Response>;
}

/// The scim2-server tenant behind an emulator.
pub struct Upstream {
    /// `http://127.0.0.1:PORT/<tenant>/v2`
    pub base: String,
    pub token: String,
    /// The emulator's public base URL, for rewriting locations.
    pub public: String,
}

fn client() -> &'static reqwest::blocking::Client {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("the emulator's upstream client")
    })
}

impl Upstream {
    /// Send `method path` (relative to the tenant) with `body`, as the
    /// emulator itself.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        self.raw(method, path, body.map(|b| b.to_string().into_bytes()), &[])
    }

    /// Forward a request unchanged (its body, `If-Match`) to `path`.
    pub fn forward(&self, req: &Request) -> Response {
        let keep: Vec<(String, String)> = ["If-Match", "If-None-Match"]
            .iter()
            .filter_map(|h| req.header(h).map(|v| ((*h).to_owned(), v.to_owned())))
            .collect();
        let body = (!req.body.is_empty()).then(|| req.body.clone());
        self.raw(&req.method, &req.path, body, &keep)
    }

    /// Forward a request with another JSON body.
    pub fn forward_with(&self, req: &Request, body: &Value) -> Response {
        let keep: Vec<(String, String)> =
            req.header("If-Match").map(|v| vec![("If-Match".to_owned(), v.to_owned())]).unwrap_or_default();
        self.raw(&req.method, &req.path, Some(body.to_string().into_bytes()), &keep)
    }

    fn raw(&self, method: &str, path: &str, body: Option<Vec<u8>>, headers: &[(String, String)]) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json");
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(body) = body {
            req = req.header("Content-Type", "application/scim+json").body(body);
        }
        let resp = match req.send() {
            Ok(r) => r,
            Err(e) => return Response::scim_error(502, None, &format!("emulator: upstream: {e}")),
        };
        let mut out = Response::new(resp.status().as_u16());
        for (k, v) in resp.headers() {
            if matches!(
                k.as_str(),
                "content-length" | "connection" | "transfer-encoding" | "keep-alive" | "server" | "date"
            ) {
                continue;
            }
            let v = String::from_utf8_lossy(v.as_bytes()).replace(&self.base, &self.public);
            out.headers.push((k.as_str().to_owned(), v));
        }
        let text = resp.text().unwrap_or_default();
        out.body = text.replace(&self.base, &self.public).into_bytes();
        out
    }

    /// `GET path` as JSON when it answers 200.
    pub fn get_json(&self, path: &str) -> Option<Value> {
        let r = self.send("GET", path, None);
        (r.status == 200).then(|| r.json_body()).flatten()
    }
}

/// One request the front received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Relative to the prefix (or the full path when outside it).
    pub path: String,
    pub status: u16,
    /// Answered by a refusal of the rules.
    pub refused: bool,
    pub body: Option<Value>,
}

struct Shared {
    prefix: String,
    rules: Box<dyn Rules>,
    upstream: Upstream,
    log: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
}

/// A running front; stops when dropped.
pub struct Front {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Front {
    /// Serve `prefix` (e.g. `/scim/v2/organizations/o1`) with `rules` in
    /// front of the tenant at `upstream_base`.
    pub fn start(prefix: &str, rules: impl Rules, upstream_base: &str, upstream_token: &str) -> Front {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the emulator on 127.0.0.1:0");
        let addr = listener.local_addr().expect("an address");
        let prefix = prefix.trim_end_matches('/').to_owned();
        let shared = Arc::new(Shared {
            upstream: Upstream {
                base: upstream_base.trim_end_matches('/').to_owned(),
                token: upstream_token.to_owned(),
                public: format!("http://{addr}{prefix}"),
            },
            prefix,
            rules: Box::new(rules),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("emulator-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let s = s.clone();
                    let _ = std::thread::Builder::new().name("emulator-conn".into()).spawn(move || serve(stream, &s));
                }
            })
            .expect("spawn the emulator");
        Front { addr, shared, thread: Some(thread) }
    }

    /// The vendor's base URL: `http://127.0.0.1:PORT<prefix>`.
    pub fn url(&self) -> String {
        self.shared.upstream.public.clone()
    }

    /// `http://127.0.0.1:PORT`
    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The requests the rules refused.
    pub fn refused(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.refused).collect()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Requests with `method` whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.requests().iter().filter(|r| r.method == method && r.path.starts_with(prefix)).count()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Method, target, headers and body of one request.
type RawRequest = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &TcpStream) -> std::io::Result<Option<RawRequest>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, target) = match (parts.next(), parts.next()) {
        (Some(m), Some(t)) => (m.to_owned(), t.to_owned()),
        _ => return Ok(None),
    };
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some((method, target, headers, body)))
}

fn serve(mut stream: TcpStream, s: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(Some((method, target, headers, body))) = read_request(&stream) else { return };
    let recorded_body = serde_json::from_slice(&body).ok();
    let (response, refused, path) = match target.strip_prefix(&s.prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') => {
            let req = Request { method: method.clone(), path: rest.to_owned(), headers, body };
            match s.rules.handle(&req, &s.upstream) {
                Ok(r) => (r, false, rest.to_owned()),
                Err(r) => (r, true, rest.to_owned()),
            }
        }
        _ => (Response::scim_error(404, None, "no such endpoint"), true, target.clone()),
    };
    s.log.lock().unwrap_or_else(|e| e.into_inner()).push(Recorded {
        method,
        path,
        status: response.status,
        refused,
        body: recorded_body,
    });
    let mut out = format!("HTTP/1.1 {} {}\r\n", response.status, reason(response.status));
    for (k, v) in &response.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", response.body.len()));
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&response.body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        501 => "Not Implemented",
        _ => "Status",
    }
}
