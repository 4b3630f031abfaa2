//! A real SCIM 2.0 server for end-to-end tests: `scim2-server` (python-scim),
//! installed by `scripts/peers/install-scim2-server` into `<repo>/.peers/scim2`.
//!
//! [`ScimPeer`] starts the server on 127.0.0.1 on a free port, with a random
//! bearer token and `--dynamic-tenants`, waits until it answers, and stops it
//! (SIGTERM, then SIGKILL) when dropped. The process is spawned directly, not
//! through a shell, so SIGINT reaches it (see [`ScimPeer::stop_and_dump`]).
//! On Linux the child also gets SIGTERM when the test process exits, so the
//! process-wide [`ScimPeer::shared`] peer never outlives its test binary.
//!
//! Each test takes its own tenant (its own in-memory store) from a peer:
//!
//! ```no_run
//! use provisio_e2e::scim_peer::ScimPeer;
//! let tenant = ScimPeer::shared().unique_tenant("sync");
//! let id = tenant.create_user(serde_json::json!({"userName": "alice"}));
//! assert_eq!(tenant.find_user("ALICE").unwrap()["id"], id.as_str());
//! assert_eq!(tenant.users().len(), 1);
//! ```
//!
//! A missing install fails the test with the command that installs it; nothing
//! is ever skipped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// The schema URN of SCIM users.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The schema URN of SCIM groups.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// About 1.5 s on a loaded 2-core machine; the bound leaves room for a busy CI.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const PORT_ATTEMPTS: usize = 5;
/// The page size [`Tenant::users`] asks for; the server may return fewer.
const PAGE_SIZE: usize = 500;
/// scim2-server's default bulk limits are 1000 operations and 1 MiB.
const BULK_MAX_OPERATIONS: usize = 1000;
const BULK_MAX_BYTES: usize = 900 * 1024;

/// The repository root (the parent of the tests crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate lives in the repository").to_path_buf()
}

/// The venv made by `scripts/peers/install-scim2-server`.
pub fn venv_dir() -> PathBuf {
    repo_root().join(".peers").join("scim2")
}

/// The `scim2-server` executable; fails the test when it is not installed.
pub fn scim2_server_bin() -> PathBuf {
    let bin = venv_dir().join("bin").join("scim2-server");
    assert!(
        bin.is_file(),
        "scim2-server is not installed: run scripts/peers/install-scim2-server (scripts/test does this); expected {}",
        bin.display()
    );
    bin
}

/// Writes a ServiceProviderConfig variant with `scripts/peers/spc-variant.py`
/// (flags such as `--no-patch`, `--no-etag`, `--max-results 50`) into a
/// temporary file, removed when the returned path is dropped. The server reads
/// the file only at start, so it may be dropped once the peer has started.
pub fn spc_variant(flags: &[&str]) -> tempfile::TempPath {
    scim2_server_bin();
    let out =
        tempfile::Builder::new().prefix("spc-").suffix(".json").tempfile().expect("a temporary file").into_temp_path();
    let script = repo_root().join("scripts").join("peers").join("spc-variant.py");
    let result = Command::new(venv_dir().join("bin").join("python"))
        .arg(&script)
        .args(flags)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .expect("run the venv's python");
    assert!(
        result.status.success(),
        "{} {flags:?} failed: {}",
        script.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// A random hex string (std's hasher keys are drawn from the OS per process).
pub fn random_token() -> String {
    let word = |i: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        h.finish()
    };
    format!("{:016x}{:016x}", word(1), word(2))
}

/// The last lines the server printed, kept for failure messages.
#[derive(Debug, Default)]
struct OutputLog {
    tail: Mutex<String>,
    serving: AtomicBool,
}

impl OutputLog {
    const MAX: usize = 32 * 1024;

    fn push(&self, line: &str) {
        if line.starts_with("Serving SCIM on ") {
            self.serving.store(true, Ordering::SeqCst);
        }
        let mut tail = lock(&self.tail);
        tail.push_str(line);
        tail.push('\n');
        if tail.len() > Self::MAX {
            let mut cut = tail.len() - Self::MAX / 2;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
    }

    fn text(&self) -> String {
        lock(&self.tail).clone()
    }
}

/// Drains a child's pipe into the log (the server logs every request to
/// stderr; an undrained pipe would block it).
fn drain(pipe: impl Read + Send + 'static, log: Arc<OutputLog>) {
    std::thread::Builder::new()
        .name("scim-peer-output".into())
        .spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => log.push(String::from_utf8_lossy(&line).trim_end()),
                }
            }
        })
        .expect("spawn an output reader");
}

/// Spawns children from one thread that lives as long as the process. On Linux
/// the children ask for SIGTERM when their parent thread dies (PR_SET_PDEATHSIG),
/// so a peer in a `static` (never dropped) stops when the test binary exits,
/// and not when the test thread that happened to start it ends.
pub(crate) fn spawn_kept(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("scim-peer-keeper".into())
            .spawn(move || {
                // The sender lives in a static, so this loop never ends.
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn the peer keeper thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    lock(keeper).send((cmd, reply_tx)).expect("the peer keeper thread is alive");
    reply_rx.recv().expect("the peer keeper thread answers")
}

#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_cmd: &mut Command) {}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("a local address").port()
}

/// The blocking HTTP client of the harness (one for the whole process).
fn http() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("build the test HTTP client")
    })
}

/// Options for starting a peer: `ScimPeer::builder().token("t").start()`.
#[derive(Default)]
pub struct ScimPeerBuilder {
    spc: Option<PathBuf>,
    spc_flags: Option<Vec<String>>,
    token: Option<String>,
    dump: Option<PathBuf>,
    args: Vec<String>,
}

impl ScimPeerBuilder {
    /// `--service-provider-config FILE` (read at start only).
    pub fn service_provider_config(mut self, path: impl AsRef<Path>) -> Self {
        self.spc = Some(path.as_ref().to_path_buf());
        self
    }

    /// A ServiceProviderConfig made by [`spc_variant`] from these flags.
    pub fn spc_flags(mut self, flags: &[&str]) -> Self {
        self.spc_flags = Some(flags.iter().map(|s| s.to_string()).collect());
        self
    }

    /// The bearer token to accept (default: a random one).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// `--dump-resources FILE`: written on SIGINT only, see [`ScimPeer::stop_and_dump`].
    pub fn dump_resources(mut self, path: impl AsRef<Path>) -> Self {
        self.dump = Some(path.as_ref().to_path_buf());
        self
    }

    /// Any other command-line argument (for example `--precis`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Starts the server and waits until it answers; panics with its output otherwise.
    pub fn start(self) -> ScimPeer {
        let bin = scim2_server_bin();
        let token = self.token.clone().unwrap_or_else(random_token);
        let variant = self.spc_flags.as_ref().map(|f| spc_variant(&f.iter().map(String::as_str).collect::<Vec<_>>()));
        let spc = variant.as_ref().map(|p| p.to_path_buf()).or(self.spc.clone());
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut cmd = Command::new(&bin);
            cmd.args(["--hostname", "127.0.0.1", "--port", &port.to_string(), "--dynamic-tenants"])
                .args(["--bearer-token", &token])
                .args(&self.args)
                .env("PYTHONUNBUFFERED", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(spc) = &spc {
                cmd.arg("--service-provider-config").arg(spc);
            }
            if let Some(dump) = &self.dump {
                cmd.arg("--dump-resources").arg(dump);
            }
            die_with_parent(&mut cmd);
            let mut child = spawn_kept(cmd).unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let log = Arc::new(OutputLog::default());
            drain(child.stdout.take().expect("piped stdout"), log.clone());
            drain(child.stderr.take().expect("piped stderr"), log.clone());
            let peer = ScimPeer {
                pid: child.id(),
                child: Mutex::new(Some(child)),
                port,
                token: token.clone(),
                log,
                dump: self.dump.clone(),
            };
            match peer.wait_ready() {
                Ok(()) => return peer,
                Err(e) => {
                    let output = peer.output();
                    drop(peer);
                    if output.contains("Address already in use") {
                        failures.push(format!("port {port} was taken"));
                        continue;
                    }
                    panic!("scim2-server did not become ready on 127.0.0.1:{port}: {e}\n--- its output ---\n{output}");
                }
            }
        }
        panic!("scim2-server could not get a free port: {}", failures.join("; "));
    }
}

/// A running `scim2-server` on 127.0.0.1, stopped when dropped.
pub struct ScimPeer {
    child: Mutex<Option<Child>>,
    pid: u32,
    port: u16,
    token: String,
    log: Arc<OutputLog>,
    dump: Option<PathBuf>,
}

static TENANT_SEQ: AtomicU64 = AtomicU64::new(0);

impl ScimPeer {
    /// Options: `ScimPeer::builder().service_provider_config(path).token("t").start()`.
    pub fn builder() -> ScimPeerBuilder {
        ScimPeerBuilder::default()
    }

    /// A peer with the default configuration and a random token.
    pub fn start() -> ScimPeer {
        Self::builder().start()
    }

    /// One peer for the whole test binary (default configuration); each test
    /// takes its own tenant with [`ScimPeer::unique_tenant`].
    pub fn shared() -> &'static ScimPeer {
        static SHARED: OnceLock<ScimPeer> = OnceLock::new();
        let peer = SHARED.get_or_init(ScimPeer::start);
        peer.assert_alive();
        peer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `http://127.0.0.1:PORT` (no tenant, no `/v2`).
    pub fn root_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The tenant `name`: its own store, served under `/<name>/v2`.
    pub fn tenant(&self, name: &str) -> Tenant {
        assert!(
            !name.is_empty() && !name.contains(['/', '?', '#', '%', ' ']) && name != "v2",
            "invalid tenant name {name:?}"
        );
        Tenant {
            name: name.to_string(),
            base_url: format!("{}/{}/v2", self.root_url(), name),
            token: self.token.clone(),
            log: Some(self.log.clone()),
        }
    }

    /// A tenant nobody else uses: `t-<label>-<pid>-<n>`.
    pub fn unique_tenant(&self, label: &str) -> Tenant {
        let n = TENANT_SEQ.fetch_add(1, Ordering::SeqCst);
        self.tenant(&format!("t-{label}-{}-{n}", std::process::id()))
    }

    /// The server's recent stdout and stderr (it logs every request).
    pub fn output(&self) -> String {
        self.log.text()
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        let mut guard = lock(&self.child);
        matches!(guard.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Panics with the server's output when it has died.
    pub fn assert_alive(&self) {
        assert!(self.is_alive(), "scim2-server (pid {}) has died\n--- its output ---\n{}", self.pid, self.output());
    }

    fn wait_ready(&self) -> Result<(), String> {
        let url = format!("{}/_ready/v2/ServiceProviderConfig", self.root_url());
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            if !self.is_alive() {
                // Let the readers catch the last lines before reporting.
                std::thread::sleep(Duration::from_millis(100));
                return Err("the process exited".into());
            }
            // The banner is printed after the bind: the port is ours.
            if self.log.serving.load(Ordering::SeqCst) {
                match http().get(&url).timeout(Duration::from_secs(2)).send() {
                    Ok(r) if r.status().as_u16() == 200 => return Ok(()),
                    Ok(r) => last = format!("GET {url} answered {}", r.status()),
                    Err(e) => last = format!("GET {url}: {e}"),
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not ready after {READY_TIMEOUT:?} ({last})"))
    }

    /// Stops the server with SIGINT, so it writes `--dump-resources`, and
    /// returns the dump: `{ "<tenant>": [resources...] }`.
    pub fn stop_and_dump(self) -> Value {
        let path = self.dump.clone().expect("stop_and_dump needs ScimPeer::builder().dump_resources(path)");
        let child = lock(&self.child).take().expect("the peer is running");
        let exited = crate::stop_child(child, libc::SIGINT, Duration::from_secs(10));
        let output = self.output();
        assert!(exited, "scim2-server did not stop on SIGINT within 10 s\n{output}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read dump {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("dump {} is not JSON: {e}\n{output}", path.display()))
    }
}

impl Drop for ScimPeer {
    fn drop(&mut self) {
        if let Some(child) = lock(&self.child).take() {
            crate::stop_child(child, libc::SIGTERM, STOP_TIMEOUT);
        }
    }
}

/// Sends `sig` to a running child and waits up to `timeout` for it to exit
/// (true), then SIGKILLs it (false). Always reaps it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `Resources` of a ListResponse (absent when empty).
fn resources(list: &Value) -> Vec<Value> {
    list.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// An HTTP answer from the peer.
#[derive(Debug, Clone)]
pub struct ScimResponse {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    /// The JSON body, or `Null` when empty or not JSON (see `text`).
    pub body: Value,
    pub text: String,
}

/// One tenant of a peer: `base_url` is what the engine is configured with.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    /// `http://127.0.0.1:PORT/<tenant>/v2`
    pub base_url: String,
    pub token: String,
    log: Option<Arc<OutputLog>>,
}

impl Tenant {
    /// `base_url` + `path` (`"/Users"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends a request with the bearer token; `path` is relative to `base_url`.
    pub fn request(&self, method: Method, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> ScimResponse {
        let mut req = http()
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json")
            .query(query);
        if let Some(body) = body {
            req = req.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let resp = req.send().unwrap_or_else(|e| {
            let output = self.log.as_ref().map(|l| l.text()).unwrap_or_default();
            panic!("{method} {}: {e}\n--- scim2-server output ---\n{output}", self.url(path))
        });
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (etag, location) = (header("etag"), header("location"));
        let text = resp.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        ScimResponse { status, etag, location, body, text }
    }

    pub fn get(&self, path: &str) -> ScimResponse {
        self.request(Method::GET, path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> ScimResponse {
        self.request(Method::POST, path, &[], Some(body))
    }

    /// Every resource of `/Users` or `/Groups`, paging with startIndex/count
    /// until totalResults is reached, counting the Resources actually returned
    /// (never trusting itemsPerPage).
    pub fn list_all(&self, endpoint: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut start = 1usize;
        let count = PAGE_SIZE.to_string();
        for _ in 0..100_000 {
            let index = start.to_string();
            let r = self.request(Method::GET, endpoint, &[("startIndex", &index), ("count", &count)], None);
            assert_eq!(r.status, 200, "GET {endpoint}?startIndex={start}: {}", r.text);
            let total = r.body["totalResults"].as_u64().unwrap_or_else(|| panic!("no totalResults: {}", r.text));
            let page = resources(&r.body);
            if page.is_empty() {
                break;
            }
            start += page.len();
            all.extend(page);
            if (start - 1) as u64 >= total {
                break;
            }
        }
        all
    }

    /// Every user of the tenant.
    pub fn users(&self) -> Vec<Value> {
        self.list_all("/Users")
    }

    /// Every group of the tenant.
    pub fn groups(&self) -> Vec<Value> {
        self.list_all("/Groups")
    }

    /// The user with this userName (the server compares case-insensitively).
    pub fn find_user(&self, user_name: &str) -> Option<Value> {
        let escaped = user_name.replace('\\', "\\\\").replace('"', "\\\"");
        let filter = format!("userName eq \"{escaped}\"");
        let r = self.request(Method::GET, "/Users", &[("filter", &filter)], None);
        assert_eq!(r.status, 200, "GET /Users?filter={filter}: {}", r.text);
        let mut found = resources(&r.body);
        assert!(found.len() <= 1, "userName {user_name:?} matches {} users: {}", found.len(), r.text);
        found.pop()
    }

    /// The user with this id, or None on 404.
    pub fn user(&self, id: &str) -> Option<Value> {
        let r = self.get(&format!("/Users/{id}"));
        match r.status {
            200 => Some(r.body),
            404 => None,
            s => panic!("GET /Users/{id} answered {s}: {}", r.text),
        }
    }

    /// Creates a user (the User schema is added when `schemas` is missing); returns its id.
    pub fn create_user(&self, user: Value) -> String {
        self.create("/Users", USER_SCHEMA, user)
    }

    /// Creates a group (`{"displayName": .., "members": [{"value": id}]}`); returns its id.
    pub fn create_group(&self, group: Value) -> String {
        self.create("/Groups", GROUP_SCHEMA, group)
    }

    fn create(&self, endpoint: &str, schema: &str, mut resource: Value) -> String {
        if let Value::Object(map) = &mut resource {
            map.entry("schemas").or_insert_with(|| json!([schema]));
        }
        let r = self.post(endpoint, &resource);
        assert_eq!(r.status, 201, "POST {endpoint} {resource}: {}", r.text);
        r.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", r.text)).to_string()
    }

    /// Deletes a user; panics unless the server answers 204.
    pub fn delete_user(&self, id: &str) {
        let r = self.request(Method::DELETE, &format!("/Users/{id}"), &[], None);
        assert_eq!(r.status, 204, "DELETE /Users/{id}: {}", r.text);
    }

    /// Creates many users with `POST /Bulk` (in chunks within the server's
    /// limits); returns their ids in order.
    pub fn bulk_create_users(&self, users: &[Value]) -> Vec<String> {
        let mut ids = Vec::with_capacity(users.len());
        let mut chunk: Vec<Value> = Vec::new();
        let mut bytes = 0;
        for (i, user) in users.iter().enumerate() {
            let mut data = user.clone();
            if let Value::Object(map) = &mut data {
                map.entry("schemas").or_insert_with(|| json!([USER_SCHEMA]));
            }
            let op = json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": data});
            let size = op.to_string().len();
            if !chunk.is_empty() && (chunk.len() == BULK_MAX_OPERATIONS || bytes + size > BULK_MAX_BYTES) {
                ids.extend(self.bulk(std::mem::take(&mut chunk)));
                bytes = 0;
            }
            bytes += size;
            chunk.push(op);
        }
        if !chunk.is_empty() {
            ids.extend(self.bulk(chunk));
        }
        ids
    }

    fn bulk(&self, operations: Vec<Value>) -> Vec<String> {
        let n = operations.len();
        let body = json!({"schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 1, "Operations": operations});
        let r = self.post("/Bulk", &body);
        assert_eq!(r.status, 200, "POST /Bulk ({n} operations): {}", r.text);
        let ops = r.body["Operations"].as_array().unwrap_or_else(|| panic!("no Operations in bulk answer: {}", r.text));
        assert_eq!(ops.len(), n, "bulk answered {} of {n} operations: {}", ops.len(), r.text);
        ops.iter()
            .map(|op| {
                let status = match &op["status"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(status, "201", "bulk operation failed: {op}");
                let location = op["location"].as_str().unwrap_or_else(|| panic!("no location in {op}"));
                location.rsplit('/').next().expect("an id").to_string()
            })
            .collect()
    }
}
