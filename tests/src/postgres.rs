//! A real PostgreSQL server for end-to-end tests: a private cluster made
//! with Debian's `postgresql` package (installed by
//! `scripts/peers/install-postgres`).
//!
//! [`Postgres::start`] runs `initdb` into a temporary directory (superuser
//! [`USER`] with password [`PASSWORD`]; password authentication over TCP,
//! trust over the private Unix socket the fixture itself uses), then starts
//! `postgres` in the foreground on a free port of 127.0.0.1 with its socket
//! in the same directory. PostgreSQL refuses to run as root, so a test
//! process running as root runs the server as the package's `postgres`
//! system user (switching user in the child before exec; the directory is
//! handed to that user). Dropping the [`Postgres`] stops the server by pid
//! (SIGINT, a fast shutdown; SIGKILL after a timeout) and removes the
//! directory; on Linux the server also gets SIGTERM if the test process
//! dies. A missing install fails the test with the command that installs it.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::scim_peer::{free_port, spawn_kept};

/// The superuser the tests connect as.
pub const USER: &str = "provisio";
/// Its password (tests check that it never shows up in output).
pub const PASSWORD: &str = "pg-test-Secret-4711";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const PORT_ATTEMPTS: usize = 5;

/// The server's bin directory, or a panic saying how to install it.
pub fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort_by_key(|d| {
        d.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok())
    });
    dirs.into_iter()
        .rev()
        .find(|d| ["initdb", "postgres", "pg_isready", "psql"].iter().all(|t| d.join(t).is_file()))
        .unwrap_or_else(|| {
            panic!("PostgreSQL is missing: run scripts/peers/install-postgres (it installs Debian's postgresql)")
        })
}

/// Who runs the server: the current user, or `postgres` when we are root.
#[derive(Clone, Copy)]
struct RunAs(Option<(libc::uid_t, libc::gid_t)>);

impl RunAs {
    fn current() -> RunAs {
        // SAFETY: plain libc queries; getpwnam's result is read at once.
        unsafe {
            if libc::geteuid() != 0 {
                return RunAs(None);
            }
            let name = CString::new("postgres").expect("a C string");
            let pw = libc::getpwnam(name.as_ptr());
            assert!(
                !pw.is_null(),
                "the tests run as root and PostgreSQL refuses root: the 'postgres' user the postgresql package creates is missing (run scripts/peers/install-postgres)"
            );
            RunAs(Some(((*pw).pw_uid, (*pw).pw_gid)))
        }
    }

    fn apply(self, cmd: &mut Command, die_with_parent: bool) {
        let ids = self.0;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if let Some((uid, gid)) = ids
                    && (libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0)
                {
                    return Err(std::io::Error::last_os_error());
                }
                // After the change of user, which clears the death signal.
                if die_with_parent {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                }
                Ok(())
            });
        }
    }

    fn chown(self, path: &Path) {
        if let Some((uid, gid)) = self.0 {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("hand the directory to postgres");
        }
    }
}

/// A running private PostgreSQL, stopped when dropped.
pub struct Postgres {
    child: Option<Child>,
    port: u16,
    bin: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl Postgres {
    /// A fresh cluster with the superuser [`USER`] and its database.
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// The same, also speaking TLS with a certificate for 127.0.0.1 issued
    /// by a CA made for this server ([`Postgres::ca_file`]; openssl, as the
    /// slapd fixture makes them).
    pub fn start_tls() -> Postgres {
        Postgres::start_with(true)
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = bin_dir();
        let run_as = RunAs::current();
        // As root the server runs as `postgres`, which must reach the
        // directory: /tmp, not a private TMPDIR.
        let parent = if run_as.0.is_some() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let dir = tempfile::Builder::new()
            .prefix("provisio-pg")
            .tempdir_in(parent)
            .expect("a temporary directory for postgres");
        run_as.chown(dir.path());
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).expect("write the password file");
        run_as.chown(&pwfile);
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        run_as.apply(&mut initdb, false);
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut ssl = Vec::new();
        if tls {
            crate::slapd::make_certificates(dir.path());
            for f in ["ca.pem", "server.pem", "server.key"] {
                run_as.chown(&dir.path().join(f));
            }
            let at = |f: &str| dir.path().join(f).display().to_string();
            ssl = vec![
                "-c".to_owned(),
                "ssl=on".to_owned(),
                "-c".to_owned(),
                format!("ssl_cert_file={}", at("server.pem")),
                "-c".to_owned(),
                format!("ssl_key_file={}", at("server.key")),
            ];
        }
        let mut failures = Vec::new();
        let mut dir = Some(dir);
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let d = dir.take().expect("the directory");
            let mut cmd = Command::new(bin.join("postgres"));
            cmd.arg("-D")
                .arg(&data)
                .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
                .args(&ssl)
                .arg("-k")
                .arg(d.path())
                .env("LC_ALL", "C")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            run_as.apply(&mut cmd, true);
            let child = spawn_kept(cmd).expect("start postgres");
            let mut server = Postgres { child: Some(child), port, bin: bin.clone(), dir: Some(d) };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => {
                    failures.push(format!("port {port}: {e}"));
                    server.kill();
                    dir = server.dir.take();
                }
            }
        }
        panic!("postgres did not start: {}", failures.join("; "))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("postgres exited ({status}): {err}"));
            }
            let ok = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("not ready within {READY_TIMEOUT:?}"))
    }

    /// The PEM file of the CA of a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.as_ref().expect("the server's directory").path().join("ca.pem")
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `postgres://provisio@127.0.0.1:<port>/<db>` (no password).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Create an empty database and return its URL.
    pub fn create_database(&self, db: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        self.url(db)
    }

    /// Run SQL as the superuser over the private socket; psql's output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let socket = self.dir.as_ref().expect("the server's directory").path();
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(socket)
            .args(["-p", &self.port.to_string(), "-U", USER, "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .env("LC_ALL", "C")
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kill(&mut self) {
        let Some(child) = self.child.take() else { return };
        // SIGINT: PostgreSQL's fast shutdown.
        crate::stop_child(child, libc::SIGINT, STOP_TIMEOUT);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
    }
}
