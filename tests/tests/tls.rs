//! TLS to targets, end to end: the real `provisio` binary and `scim`
//! connector against a scim2-server tenant behind an HTTPS front on
//! 127.0.0.1 whose certificate is signed by a CA made at test time (rcgen).
//!
//! * by default the certificate is refused, with a clear error naming the
//!   certificate and the `tls.ca_file` remedy, and nothing is provisioned;
//! * with the CA in the connection's `tls.ca_file` it is accepted (and a
//!   second connection to the same target without it, in the same run, is
//!   still refused: the policy is per connection);
//! * with `tls.verify_certificates = false` it is accepted, `config check`
//!   warns, and every open logs a warning;
//! * a CA file that is missing or not PEM is a configuration error.
//!
//! The front terminates TLS and copies bytes to the tenant's plain-HTTP
//! port; it runs on its own tokio runtime and stops when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::{ScimPeer, Tenant};
use provisio_e2e::{stderr, stdout};

/// A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
struct Pki {
    ca_pem: String,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "provisio test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("a CA key")).expect("the CA certificate");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("parameters");
    server.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().expect("a server key");
    let cert = server.signed_by(&key, &ca).expect("the server certificate");
    Pki {
        ca_pem: ca.pem(),
        server_cert: cert.der().clone(),
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// An HTTPS front on 127.0.0.1:0 for a plain-HTTP upstream.
struct TlsFront {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsFront {
    fn start(upstream: SocketAddr, pki: &Pki) -> TlsFront {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
            .expect("the server certificate and key");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the front's address");
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the front's runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((tcp, _)) = accepted else { continue };
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                // A client that refuses the certificate ends the handshake here.
                                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else { return };
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                            });
                        }
                    }
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(2));
        });
        TlsFront { addr, stop: Some(stop), thread: Some(thread) }
    }

    /// The tenant's base URL through the front: `https://127.0.0.1:PORT/<tenant>/v2`.
    fn url_for(&self, tenant: &Tenant) -> String {
        let path = tenant.base_url.splitn(4, '/').nth(3).expect("a path in the base URL");
        format!("https://127.0.0.1:{}/{path}", self.addr.port())
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn upstream_addr(tenant: &Tenant) -> SocketAddr {
    let authority = tenant.base_url.trim_start_matches("http://").split('/').next().expect("an authority");
    authority.parse().expect("127.0.0.1:PORT")
}

/// A target: a fresh tenant behind a TLS front, and the CA that signed the front.
fn target(label: &str) -> (Tenant, TlsFront, Pki) {
    let tenant = ScimPeer::shared().unique_tenant(label);
    let pki = pki();
    let front = TlsFront::start(upstream_addr(&tenant), &pki);
    (tenant, front, pki)
}

fn scenario(front: &TlsFront, tenant: &Tenant) -> Scenario {
    let s = Scenario::scim(&front.url_for(tenant), &tenant.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s
}

/// Rewrite the scenario's configuration: `tls` on the connection, and
/// optionally a second connection `plain` to the same target without it.
fn set_tls(s: &Scenario, tls: Option<toml::Table>, with_plain_twin: bool) {
    let path = s.config_path();
    let mut root: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let connections = root.get_mut("connection").and_then(|c| c.as_array_mut()).expect("[[connection]]");
    connections.truncate(1);
    let mut twin = connections[0].clone();
    if let Some(tls) = tls {
        connections[0].as_table_mut().unwrap().insert("tls".into(), toml::Value::Table(tls));
    }
    if with_plain_twin {
        let t = twin.as_table_mut().unwrap();
        t.insert("name".into(), "plain".into());
        t.remove("tls");
        connections.push(twin);
    }
    std::fs::write(&path, toml::to_string(&root).unwrap()).unwrap();
}

fn tls(entries: &[(&str, toml::Value)]) -> toml::Table {
    entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn text(out: &std::process::Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", stdout(out), stderr(out))
}

#[test]
fn a_target_with_a_private_ca_is_refused_by_default_with_a_clear_certificate_error() {
    let (tenant, front, _pki) = target("tls-default");
    let s = scenario(&front, &tenant);
    let out = s.run(&["connections", "test"]);
    let all = text(&out);
    assert!(!out.status.success(), "an unverifiable certificate must fail the check:\n{all}");
    assert!(stdout(&out).contains("FAILED"), "{all}");
    assert!(all.to_ascii_lowercase().contains("certificate"), "the error names the certificate:\n{all}");
    assert!(all.contains("tls = { ca_file"), "the error says what to set:\n{all}");

    let out = s.run(&["connections", "test", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(json["connections"][0]["ok"], false, "{json}");
    assert!(json["connections"][0]["detail"].as_str().unwrap().contains("certificate"), "{json}");

    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(tenant.users().is_empty(), "nothing may reach a target whose certificate was refused");
}

#[test]
fn the_connections_ca_file_makes_the_target_trusted_for_that_connection_only() {
    let (tenant, front, pki) = target("tls-ca");
    let s = scenario(&front, &tenant);
    std::fs::write(s.dir().join("ca.pem"), &pki.ca_pem).unwrap();
    // Relative to the configuration file.
    set_tls(&s, Some(tls(&[("ca_file", "ca.pem".into())])), true);

    let out = s.run(&["connections", "test"]);
    let all = text(&out);
    assert!(!out.status.success(), "the connection without the CA still fails:\n{all}");
    let table = stdout(&out);
    let rows: Vec<&str> = table.lines().filter(|l| l.contains("scim")).collect();
    let row = |name: &str| rows.iter().find(|l| l.split(['│', '┆']).nth(1).is_some_and(|c| c.trim() == name)).copied();
    assert!(row("target").is_some_and(|l| l.contains(" ok ")), "the connection with ca_file passes:\n{all}");
    assert!(row("plain").is_some_and(|l| l.contains("FAILED")), "the one without fails:\n{all}");
    assert!(!stderr(&out).contains("verification is off"), "{all}");

    set_tls(&s, Some(tls(&[("ca_file", "ca.pem".into())])), false);
    s.run_ok(&["config", "check"]);
    s.run_ok(&["connections", "test"]);
    let out = s.sync_ok();
    assert_eq!(tenant.users().len(), 2, "both users created over HTTPS:\n{out}");
}

#[test]
fn turning_verification_off_is_accepted_with_a_warning() {
    let (tenant, front, _pki) = target("tls-off");
    let s = scenario(&front, &tenant);
    set_tls(&s, Some(tls(&[("verify_certificates", false.into())])), false);

    let out = s.run(&["config", "check"]);
    let all = text(&out);
    assert!(out.status.success(), "a warning, not an error:\n{all}");
    assert!(
        stderr(&out).contains("warning: connection 'target' › tls.verify_certificates: is false"),
        "config check warns:\n{all}"
    );
    let out = s.run(&["config", "check", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let problems = json["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["severity"] == "warning" && p["at"].as_str().unwrap().ends_with("tls.verify_certificates")),
        "{json}"
    );

    let out = s.run(&["connections", "test"]);
    let all = text(&out);
    assert!(out.status.success(), "accepted under the opt-out:\n{all}");
    let warn = stderr(&out);
    assert!(
        warn.contains("WARN") && warn.contains("TLS certificate verification is off"),
        "a WARN line at open:\n{all}"
    );
    let out = s.run(&["sync", "--once"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("TLS certificate verification is off"), "{}", text(&out));
    assert_eq!(tenant.users().len(), 2);
}

#[test]
fn a_missing_or_unreadable_ca_file_is_a_configuration_error() {
    let (tenant, front, _pki) = target("tls-bad-ca");
    let s = scenario(&front, &tenant);
    set_tls(&s, Some(tls(&[("ca_file", "missing.pem".into())])), false);
    let out = s.run(&["config", "check"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(stderr(&out).contains("error: connection 'target' › tls.ca_file: cannot read"), "{all}");

    std::fs::write(s.dir().join("not-pem.pem"), "this is not a certificate\n").unwrap();
    set_tls(&s, Some(tls(&[("ca_file", "not-pem.pem".into())])), false);
    let out = s.run(&["config", "check"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(stderr(&out).contains("holds no certificate"), "{all}");

    let out = s.run(&["connections", "test"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(tenant.users().is_empty());
}
