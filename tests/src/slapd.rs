//! A real LDAP server for end-to-end tests: a private OpenLDAP `slapd`
//! (Debian's `slapd` and `ldap-utils`, installed by `scripts/peers/install-slapd`).
//!
//! [`Slapd::start`] writes a `slapd.conf` into a temporary directory (mdb
//! database under `dc=example,dc=org`, `dbnosync`, the `memberof` overlay,
//! the test schema `tests/fixtures/ldap/provisio-test.schema` with AD-like
//! `objectGUID`, `userAccountControl`, `uSNChanged` and `whenChanged`),
//! seeds it offline with `slapadd`, and runs slapd in the foreground on a free
//! port of 127.0.0.1. Its size limit is 500 entries for everyone but the
//! rootdn (`size.prtotal=unlimited`: paged searches get everything), and the
//! engine binds as the read-only account [`READER_DN`], never as the rootdn.
//! Dropping the [`Slapd`] stops it by pid (SIGTERM, wait, then SIGKILL) and
//! removes the directory; on Linux it also gets SIGTERM if the test process
//! dies.
//!
//! Entries added offline by the seed get no `memberOf` (overlays do not run
//! offline); entries added with [`Slapd::add`] (online `ldapadd` as the
//! rootdn) do. A missing install fails the test with the command that
//! installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::scim_peer::{die_with_parent, free_port, repo_root, spawn_kept};

/// The suffix of the test directory.
pub const BASE_DN: &str = "dc=example,dc=org";
/// The rootdn, used only by the test to change the directory.
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
const ROOT_PW: &str = "secret";
/// The read-only account the engine binds as.
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
/// Its password.
pub const READER_PW: &str = "readerpw";
/// The server's size limit for the reader.
pub const SIZE_LIMIT: usize = 500;

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const PORT_ATTEMPTS: usize = 5;

/// The base entries: the suffix, `ou=people`, `ou=groups`.
pub const BASE_LDIF: &str = "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n";

const READER_LDIF: &str = "dn: cn=reader,dc=example,dc=org\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n";

/// A tool of slapd or ldap-utils, or a panic saying how to install it.
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is missing: run scripts/peers/install-slapd (it installs Debian's slapd and ldap-utils)");
}

/// The test schema file.
pub fn test_schema() -> PathBuf {
    repo_root().join("tests/fixtures/ldap/provisio-test.schema")
}

/// A running private slapd, stopped when dropped.
pub struct Slapd {
    child: Mutex<Option<Child>>,
    pid: u32,
    port: u16,
    /// The ldaps:// port of a TLS server, else 0.
    tls_port: u16,
    /// The configuration and database (removed when dropped).
    dir: Option<tempfile::TempDir>,
}

impl Slapd {
    /// A server holding the base entries and the reader account.
    pub fn start() -> Slapd {
        Slapd::start_with("")
    }

    /// A server seeded offline with `seed` (LDIF) besides the reader account,
    /// and the base entries unless the seed has `dc=example,dc=org` itself.
    pub fn start_with(seed: &str) -> Slapd {
        Slapd::start_seeded(seed, false)
    }

    /// A server that also speaks TLS: StartTLS on [`Slapd::url`] and
    /// ldaps:// on [`Slapd::ldaps_url`], with a certificate for 127.0.0.1
    /// issued by a CA made for this server ([`Slapd::ca_file`]).
    pub fn start_tls() -> Slapd {
        Slapd::start_seeded("", true)
    }

    fn start_seeded(seed: &str, tls: bool) -> Slapd {
        let dir = tempfile::tempdir().expect("a temporary directory for slapd");
        std::fs::create_dir_all(dir.path().join("db")).expect("db directory");
        std::fs::create_dir_all(dir.path().join("run")).expect("run directory");
        let conf = dir.path().join("slapd.conf");
        let mut text = config(dir.path());
        if tls {
            make_certificates(dir.path());
            let d = dir.path().display();
            text = text.replace(
                "loglevel  none\n",
                &format!(
                    "loglevel  none\nTLSCACertificateFile {d}/ca.pem\nTLSCertificateFile {d}/server.pem\nTLSCertificateKeyFile {d}/server.key\n"
                ),
            );
        }
        std::fs::write(&conf, text).expect("write slapd.conf");
        let has_base = seed.lines().any(|l| l.trim().eq_ignore_ascii_case("dn: dc=example,dc=org"));
        let mut ldif = String::new();
        if !has_base {
            ldif.push_str(BASE_LDIF);
        }
        // slapadd takes neither comments nor a version line.
        for line in seed.lines().filter(|l| !l.starts_with('#') && !l.starts_with("version:")) {
            ldif.push_str(line);
            ldif.push('\n');
        }
        ldif.push_str("\n\n");
        ldif.push_str(READER_LDIF);
        let seed_file = dir.path().join("seed.ldif");
        std::fs::write(&seed_file, &ldif).expect("write the seed");
        let out = Command::new(tool("slapadd"))
            .arg("-q")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&seed_file)
            .output()
            .expect("run slapadd");
        assert!(out.status.success(), "slapadd failed: {}\n--- seed ---\n{ldif}", String::from_utf8_lossy(&out.stderr));

        Slapd::start_in(dir, &conf, tls)
    }

    /// Start slapd on a free port with the seeded directory, trying a few ports.
    fn start_in(dir: tempfile::TempDir, conf: &Path, tls: bool) -> Slapd {
        let mut failures = Vec::new();
        let mut dir = Some(dir);
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let tls_port = if tls { free_port() } else { 0 };
            let mut urls = format!("ldap://127.0.0.1:{port}/");
            if tls {
                urls.push_str(&format!(" ldaps://127.0.0.1:{tls_port}/"));
            }
            let mut cmd = Command::new(tool("slapd"));
            cmd.arg("-f")
                .arg(conf)
                .args(["-h", &urls, "-d", "0"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            die_with_parent(&mut cmd);
            let child = spawn_kept(cmd).expect("start slapd");
            let pid = child.id();
            let server = Slapd { child: Mutex::new(Some(child)), pid, port, tls_port, dir: dir.take() };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => {
                    failures.push(format!("port {port}: {e}"));
                    dir = server.into_dir();
                }
            }
        }
        panic!("slapd did not start: {}", failures.join("; "))
    }

    fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(child) = self.child.lock().expect("lock").as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("slapd exited ({status}): {err}"));
            }
            let out = Command::new(tool("ldapsearch"))
                .args(["-x", "-H", &self.url(), "-s", "base", "-b", "", "namingContexts"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if out.is_ok_and(|s| s.success()) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not ready within {READY_TIMEOUT:?}"))
    }

    /// `ldap://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldaps://127.0.0.1:<port>` of a server started by [`Slapd::start_tls`].
    pub fn ldaps_url(&self) -> String {
        assert!(self.tls_port != 0, "this slapd was not started with TLS");
        format!("ldaps://127.0.0.1:{}", self.tls_port)
    }

    /// The PEM file of the CA that issued a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.as_ref().expect("the server's directory").path().join("ca.pem")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Run an ldap-utils tool as the rootdn with `ldif` on its input.
    fn as_root(&self, tool_name: &str, args: &[&str], ldif: &str) -> String {
        use std::io::Write as _;
        let mut child = Command::new(tool(tool_name))
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PW])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {tool_name}: {e}"));
        child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("write LDIF");
        let out = child.wait_with_output().expect("wait for the tool");
        assert!(
            out.status.success(),
            "{tool_name} {args:?} failed ({}): {}\n--- input ---\n{ldif}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Add entries online (`ldapadd`), so the memberof overlay sees them.
    pub fn add(&self, ldif: &str) {
        self.as_root("ldapadd", &[], ldif);
    }

    /// Apply an LDIF of changes (`ldapmodify`).
    pub fn modify(&self, ldif: &str) {
        self.as_root("ldapmodify", &[], ldif);
    }

    /// Replace one attribute's values of an entry.
    pub fn replace(&self, dn: &str, attribute: &str, values: &[&str]) {
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nreplace: {attribute}\n");
        for v in values {
            ldif.push_str(&format!("{attribute}: {v}\n"));
        }
        self.modify(&ldif);
    }

    /// Delete an entry.
    pub fn delete(&self, dn: &str) {
        self.as_root("ldapdelete", &[dn], "");
    }

    /// `ldapsearch -LLL` as the rootdn under the base DN; the LDIF text.
    pub fn search(&self, filter: &str, attributes: &[&str]) -> String {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", BASE_DN, filter];
        args.extend_from_slice(attributes);
        self.as_root("ldapsearch", &args, "")
    }

    /// Stop the server (SIGTERM, wait; SIGKILL after the timeout).
    pub fn stop(self) {
        drop(self);
    }

    fn into_dir(mut self) -> Option<tempfile::TempDir> {
        self.kill();
        self.dir.take()
    }

    fn kill(&self) {
        let Some(child) = self.child.lock().expect("lock").take() else { return };
        crate::stop_child(child, libc::SIGTERM, STOP_TIMEOUT);
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA and a server certificate for IP 127.0.0.1 (openssl): `ca.pem`,
/// `server.pem`, `server.key` in `dir` (also used by tests/src/postgres.rs).
pub(crate) fn make_certificates(dir: &Path) {
    let openssl = tool("openssl");
    let run = |args: &[&str]| {
        let out = Command::new(&openssl).current_dir(dir).args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the extensions");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=provisio test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "include   /etc/ldap/schema/core.schema
include   /etc/ldap/schema/cosine.schema
include   /etc/ldap/schema/nis.schema
include   /etc/ldap/schema/inetorgperson.schema
include   {schema}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile   {d}/run/slapd.pid
argsfile  {d}/run/slapd.args
loglevel  none
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
database  mdb
maxsize   268435456
suffix    \"{BASE_DN}\"
rootdn    \"{ROOT_DN}\"
rootpw    {ROOT_PW}
directory {d}/db
dbnosync
index     objectClass eq
index     uid eq
index     entryUUID eq
overlay   memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact=\"{READER_DN}\" read by self read by * none
",
        schema = test_schema().display()
    )
}
