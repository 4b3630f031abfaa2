//! [`ScimPeer`]: one running scim2-server and the [`ScimPeerBuilder`] that
//! starts it. Starting picks a free port (retrying when another process takes
//! it first), waits for the server's banner and a 200 from its discovery
//! endpoint, and reports the server's output when it does not come up.
//! Stopping: SIGTERM (then SIGKILL) when dropped, or SIGINT with
//! [`ScimPeer::stop_and_dump`] for the `--dump-resources` file.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::install::{scim2_server_bin, spc_variant};
use super::output::{OutputLog, drain};
use super::process::{default_sigint, die_with_parent, free_port, spawn_kept};
use super::tenant::Tenant;
use super::{http, lock};

/// About 1.5 s on a loaded 2-core machine; the bound leaves room for a busy CI.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`ScimPeer::stop_and_dump`] waits for the server to exit on
/// SIGINT: well under a second usually, with room for a loaded machine.
const DUMP_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 5;

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
            default_sigint(&mut cmd);
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
    ///
    /// The server writes the dump only on SIGINT, after it has stopped
    /// serving and just before it exits; it is started with SIGINT at its
    /// default disposition (`default_sigint`), so it does even when the
    /// suite runs in the background.
    pub fn stop_and_dump(self) -> Value {
        let path = self.dump.clone().expect("stop_and_dump needs ScimPeer::builder().dump_resources(path)");
        let child = lock(&self.child).take().expect("the peer is running");
        let exited = crate::stop_child(child, libc::SIGINT, DUMP_TIMEOUT);
        let output = self.output();
        assert!(exited, "scim2-server did not stop on SIGINT within {DUMP_TIMEOUT:?}\n{output}");
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
