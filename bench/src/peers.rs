//! The peers the scenarios run against, all on 127.0.0.1 and stopped by pid:
//!
//! * [`ScimServer`]: scim2-server's ASGI app under uvicorn (the launcher is
//!   `bench/peers/scim2_asgi.py`, run from the venv `.peers/scim2`), which
//!   counts the requests it receives (`GET /_bench/requests`);
//! * [`SandboxServer`]: the built-in SCIM sandbox (`provisio sandbox`'s own
//!   library), served in this process on a runtime of its own, so its
//!   request counters ([`provisio_sandbox::Sandbox::request_count`]) are
//!   read directly;
//! * [`Slapd`]: a private OpenLDAP instance seeded offline with `slapadd`;
//! * [`wrk`]: the raw-capacity baseline (`bench/peers/post_users.lua`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{Peer, free_port, output};

const READY: Duration = Duration::from_secs(30);

/// Requests a target received, by method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub get: u64,
    pub post: u64,
    pub put: u64,
    pub patch: u64,
    pub delete: u64,
    pub other: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.get + self.post + self.put + self.patch + self.delete + self.other
    }

    /// Requests received since `before`.
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            get: self.get - before.get,
            post: self.post - before.post,
            put: self.put - before.put,
            patch: self.patch - before.patch,
            delete: self.delete - before.delete,
            other: self.other - before.other,
        }
    }

    /// "2 GET, 1000 PUT" (or "none").
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.get, "GET"),
            (self.post, "POST"),
            (self.put, "PUT"),
            (self.patch, "PATCH"),
            (self.delete, "DELETE"),
            (self.other, "other"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, m)| format!("{n} {m}"))
        .collect();
        if parts.is_empty() { "none".into() } else { parts.join(", ") }
    }
}

fn http() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| e.to_string())
}

/// scim2-server's ASGI app under uvicorn, with an empty in-memory store.
pub struct ScimServer {
    peer: Peer,
    /// `http://127.0.0.1:PORT/v2`.
    pub base_url: String,
    token: String,
    client: reqwest::blocking::Client,
}

impl ScimServer {
    pub fn start(repo: &Path, dir: &Path, token: &str) -> Result<ScimServer, String> {
        let uvicorn = repo.join(".peers/scim2/bin/uvicorn");
        if !uvicorn.is_file() {
            return Err(format!("{} is missing: run scripts/peers/install-scim2-server", uvicorn.display()));
        }
        let mut failures = Vec::new();
        for attempt in 0..3 {
            let port = free_port()?;
            let mut cmd = Command::new(&uvicorn);
            cmd.arg("--app-dir")
                .arg(repo.join("bench/peers"))
                .args(["scim2_asgi:app", "--host", "127.0.0.1", "--port", &port.to_string(), "--no-access-log"])
                .env("SCIM_TOKEN", token)
                .env("PYTHONDONTWRITEBYTECODE", "1");
            let peer = Peer::start("uvicorn", cmd, dir.join(format!("uvicorn-{port}.log")))?;
            let server = ScimServer {
                peer,
                base_url: format!("http://127.0.0.1:{port}/v2"),
                token: token.to_owned(),
                client: http()?,
            };
            match server.wait_ready() {
                Ok(()) => return Ok(server),
                Err(e) => failures.push(format!("attempt {}: {e}", attempt + 1)),
            }
        }
        Err(format!("uvicorn did not start: {}", failures.join("; ")))
    }

    fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        let root = self.base_url.trim_end_matches("/v2");
        while started.elapsed() < READY {
            if let Ok(r) = self.client.get(format!("{root}/_bench/requests")).send()
                && r.status().is_success()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not ready within {READY:?}: {}", crate::process::tail(&self.peer.log_text())))
    }

    /// Warm the server up (imports, code paths) with `n` authenticated
    /// `GET /Users?count=1`, before a measured phase.
    pub fn warm_up(&self, n: usize) -> Result<(), String> {
        for _ in 0..n {
            self.client
                .get(format!("{}/Users?count=1", self.base_url))
                .bearer_auth(&self.token)
                .send()
                .and_then(|r| r.error_for_status())
                .map_err(|e| format!("warming the server up: {e}"))?;
        }
        Ok(())
    }

    pub fn port_url(&self) -> &str {
        self.base_url.trim_end_matches("/v2")
    }

    /// Requests received so far, counted by the server.
    pub fn counts(&self) -> Result<Counts, String> {
        let v: serde_json::Value = self
            .client
            .get(format!("{}/_bench/requests", self.port_url()))
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("reading the server's request counts: {e}"))?;
        let n = |m: &str| v.get(m).and_then(|x| x.as_u64()).unwrap_or(0);
        let known = n("GET") + n("POST") + n("PUT") + n("PATCH") + n("DELETE");
        let all: u64 = v.as_object().map(|o| o.values().filter_map(|x| x.as_u64()).sum()).unwrap_or(0);
        Ok(Counts {
            get: n("GET"),
            post: n("POST"),
            put: n("PUT"),
            patch: n("PATCH"),
            delete: n("DELETE"),
            other: all - known,
        })
    }

    /// Users the server holds (`totalResults` of `GET /Users?count=0`).
    pub fn held_users(&self) -> Result<u64, String> {
        let v: serde_json::Value = self
            .client
            .get(format!("{}/Users?count=0", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("counting the server's users: {e}"))?;
        v["totalResults"].as_u64().ok_or_else(|| format!("no totalResults in {v}"))
    }

    /// CPU seconds the server process has used.
    pub fn cpu_seconds(&self) -> f64 {
        self.peer.cpu_seconds()
    }
}

/// The built-in SCIM sandbox, served in this process.
pub struct SandboxServer {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<provisio_sandbox::Sandbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SandboxServer {
    pub fn start(token: &str) -> Result<SandboxServer, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sandbox")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the sandbox's runtime: {e}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = provisio_sandbox::SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            bearer_token: Some(token.to_owned()),
            ..provisio_sandbox::SandboxConfig::default()
        };
        let sandbox = runtime
            .block_on(provisio_sandbox::serve(config, async {
                let _ = stopped.await;
            }))
            .map_err(|e| format!("cannot start the sandbox: {e}"))?;
        Ok(SandboxServer { runtime, sandbox: Some(sandbox), stop: Some(stop) })
    }

    fn sandbox(&self) -> &provisio_sandbox::Sandbox {
        self.sandbox.as_ref().expect("the sandbox runs until dropped")
    }

    pub fn base_url(&self) -> String {
        self.sandbox().base_url().to_owned()
    }

    /// Requests received so far, counted by the sandbox.
    pub fn counts(&self) -> Counts {
        let c = self.sandbox().request_count();
        Counts { get: c.get, post: c.post, put: c.put, patch: c.patch, delete: c.delete, other: c.other }
    }

    /// Users the sandbox holds.
    pub fn held_users(&self) -> u64 {
        self.sandbox().len(provisio_sandbox::Kind::User) as u64
    }

    /// Every user as held: `{"Users": [...], ...}`.
    pub fn snapshot(&self) -> serde_json::Value {
        self.sandbox().snapshot()
    }
}

impl Drop for SandboxServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(sandbox) = self.sandbox.take() {
            let _ =
                self.runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), sandbox.wait()).await });
        }
    }
}

/// A tool of slapd or ldap-utils.
pub fn ldap_tool(name: &str) -> Result<PathBuf, String> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is missing: run scripts/peers/install-slapd"))
}

pub const LDAP_ROOT_DN: &str = "cn=admin,dc=example,dc=org";
const LDAP_ROOT_PW: &str = "secret";
/// The read-only account provisio binds as.
pub const LDAP_READER_DN: &str = "cn=reader,dc=example,dc=org";
pub const LDAP_READER_PW: &str = "readerpw";

/// A private slapd on 127.0.0.1 (mdb, `dbnosync`, 500-entry size limit for
/// the reader, paged results unlimited), as in docs of the test peers.
pub struct Slapd {
    peer: Peer,
    pub url: String,
}

impl Slapd {
    /// Seed `people` (LDIF of ou=people entries) offline and start.
    pub fn start(dir: &Path, people: &str) -> Result<Slapd, String> {
        std::fs::create_dir_all(dir.join("db")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
        let conf = dir.join("slapd.conf");
        std::fs::write(&conf, slapd_conf(dir)).map_err(|e| e.to_string())?;
        let seed = dir.join("seed.ldif");
        let base = "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
            dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
            dn: cn=reader,dc=example,dc=org\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n";
        std::fs::write(&seed, format!("{base}{people}")).map_err(|e| e.to_string())?;
        output(Command::new(ldap_tool("slapadd")?).arg("-q").arg("-f").arg(&conf).arg("-l").arg(&seed))?;
        let _ = std::fs::remove_file(&seed);
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port()?;
            let url = format!("ldap://127.0.0.1:{port}");
            let mut cmd = Command::new(ldap_tool("slapd")?);
            cmd.arg("-f").arg(&conf).args(["-h", &format!("{url}/"), "-d", "0"]);
            let mut peer = Peer::start("slapd", cmd, dir.join(format!("slapd-{port}.log")))?;
            let started = Instant::now();
            while started.elapsed() < READY {
                if let Some(status) = peer.exited() {
                    failures.push(format!("port {port}: slapd exited ({status}): {}", peer.log_text()));
                    break;
                }
                let probe = Command::new(ldap_tool("ldapsearch")?)
                    .args(["-x", "-H", &url, "-s", "base", "-b", "", "namingContexts"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
                if probe.is_ok_and(|s| s.success()) {
                    return Ok(Slapd { peer, url });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(format!("slapd did not start: {}", failures.join("; ")))
    }

    /// Apply LDIF changes as the rootdn (`ldapmodify`).
    pub fn modify(&self, ldif_path: &Path) -> Result<(), String> {
        output(
            Command::new(ldap_tool("ldapmodify")?)
                .args(["-x", "-H", &self.url, "-D", LDAP_ROOT_DN, "-w", LDAP_ROOT_PW, "-f"])
                .arg(ldif_path),
        )
        .map(|_| ())
    }

    pub fn pid(&self) -> u32 {
        self.peer.pid()
    }
}

fn slapd_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "include   /etc/ldap/schema/core.schema
include   /etc/ldap/schema/cosine.schema
include   /etc/ldap/schema/nis.schema
include   /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile   {d}/run/slapd.pid
argsfile  {d}/run/slapd.args
loglevel  none
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited
database  mdb
maxsize   2147483648
suffix    \"dc=example,dc=org\"
rootdn    \"{LDAP_ROOT_DN}\"
rootpw    {LDAP_ROOT_PW}
directory {d}/db
dbnosync
index     objectClass eq
index     uid eq
index     entryUUID eq
index     modifyTimestamp eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact=\"{LDAP_READER_DN}\" read by self read by * none
"
    )
}

/// What one wrk run measured.
#[derive(Debug, Clone)]
pub struct WrkRun {
    pub answered: u64,
    pub created: u64,
    pub elapsed_s: f64,
    /// CPU seconds wrk itself used.
    pub cpu_s: f64,
}

/// POST `requests` users to `users_url` with wrk (one thread, `connections`
/// connections), the body from `body_file`; bounded by `limit`.
#[allow(clippy::too_many_arguments)]
pub fn wrk(
    repo: &Path,
    dir: &Path,
    users_url: &str,
    body_file: &Path,
    requests: u64,
    connections: usize,
    token: &str,
    prefix: &str,
    limit: Duration,
) -> Result<WrkRun, String> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{}s", limit.as_secs().max(1)), "-s"])
        .arg(repo.join("bench/peers/post_users.lua"))
        .arg(users_url)
        .env("BENCH_BODY_FILE", body_file)
        .env("BENCH_REQUESTS", requests.to_string())
        .env("BENCH_TOKEN", token)
        .env("BENCH_PREFIX", prefix);
    let mut peer = Peer::start("wrk", cmd, dir.join(format!("wrk-{prefix}.log")))?.stop_with(libc::SIGINT);
    let started = Instant::now();
    let line = loop {
        let log = peer.log_text();
        if let Some(l) = log.lines().find(|l| l.starts_with("bench: answered=")) {
            break l.to_owned();
        }
        if let Some(status) = peer.exited() {
            return Err(format!("wrk ended ({status}) before {requests} answers:\n{}", crate::process::tail(&log)));
        }
        if started.elapsed() > limit {
            return Err(format!("wrk did not get {requests} answers within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let cpu_s = peer.cpu_seconds();
    // wrk sleeps for its whole -d; SIGINT ends it now.
    peer.signal(libc::SIGINT);
    peer.wait_exit(Duration::from_secs(10));
    let field = |name: &str| -> Result<f64, String> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {name} in wrk's line '{line}'"))
    };
    Ok(WrkRun {
        answered: field("answered")? as u64,
        created: field("created")? as u64,
        elapsed_s: field("elapsed")?,
        cpu_s,
    })
}
