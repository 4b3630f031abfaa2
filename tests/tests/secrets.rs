//! Secrets never leak, end to end: the real `provisio` binary and connector
//! libraries against scim2-server (behind the test proxy where a credential
//! must be checked) and the PingID emulator, in successful and failing runs.
//!
//! The secrets: a bearer token, a Basic password, an OAuth client secret,
//! the PingID key and token, a masked create-only attribute (`password`
//! from the LDIF's `userPassword`), and the wrong credentials of failing
//! runs. The runs: `config check`, `connections test`, `plan`, `sync`,
//! `provision`, `channels list`, each at the default log level and at
//! `-vvv`, with `--json` where the command has it; failing ones too (wrong
//! credentials, a target answering 500 that echoes the request and its
//! `Authorization` header, a malformed source line holding the secret).
//!
//! What is searched: every run's stdout and stderr, and every file provisio
//! wrote in the scenario's directory (the audit log, the state database and
//! its `-wal`/`-shm` files, the hash key), as raw bytes and inside every
//! base64 run, for each secret in every form `provisio_e2e::leaks` knows and
//! the credential forms built from it (the Basic header's
//! `base64(user:password)`, the PingID key's decoded bytes). Any hit fails
//! the test and names the secret, the form and where it was found.
//!
//! `secrets_probes.rs` probes harder, as a hostile target would.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use provisio_e2e::leaks::{Artifacts, Secret, client_credentials, map_masked_password};
use provisio_e2e::pingid_emulator::PingIdEmulator;
use provisio_e2e::proxy::{self, Proxy};
use provisio_e2e::scenario::{Group, Person, Scenario, ScenarioBuilder, directory_ldif};
use provisio_e2e::scim_peer::{ScimPeer, random_token};
use serde_json::json;

/// A person's masked password, unique and full of characters that encode.
fn password_of(uid: &str) -> String {
    format!("{}pä55 wörd/+\"&={uid}", random_token())
}

/// The directory, with each person's `userPassword` (base64, as LDIF wants non-ASCII).
fn write_directory(s: &Scenario, people: &[(Person, String)], groups: &[Group]) {
    let persons: Vec<Person> = people.iter().map(|(p, _)| p.clone()).collect();
    let mut ldif = String::new();
    for line in directory_ldif(&persons, groups).lines() {
        ldif.push_str(line);
        ldif.push('\n');
        if let Some(uid) = line.strip_prefix("uid: ")
            && let Some((_, pw)) = people.iter().find(|(p, _)| p.uid == uid)
        {
            ldif.push_str(&format!("userPassword:: {}\n", STANDARD.encode(pw)));
        }
    }
    std::fs::write(&s.ldif, ldif).expect("write the directory");
}

/// Run every command at the default level and at -vvv, collecting outputs.
/// `succeed`: whether the cycle commands must succeed.
fn exercise(s: &Scenario, label: &str, a: &mut Artifacts, succeed: bool) {
    let commands: &[&[&str]] = &[
        &["config", "check"],
        &["config", "check", "--json"],
        &["connections", "test"],
        &["connections", "test", "--json"],
        &["plan"],
        &["plan", "--json"],
        &["sync", "--once"],
        &["provision", "--user", "alice"],
        &["channels", "list"],
        &["channels", "list", "--json"],
    ];
    for verbosity in [None, Some("-vvv")] {
        for args in commands {
            let mut full: Vec<&str> = verbosity.into_iter().collect();
            full.extend_from_slice(args);
            let out = s.run(&full);
            if succeed && args[0] != "channels" {
                assert!(
                    out.status.success(),
                    "{label}: provisio {full:?} failed:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            a.output(&format!("{label}: provisio {}", full.join(" ")), &out);
        }
    }
}

const INPUTS: &[&str] = &["provisio.toml", "directory.ldif", "pingid.properties"];

fn people() -> Vec<(Person, String)> {
    ["alice", "bob"].iter().map(|u| (Person::new(u), password_of(u))).collect()
}

fn password_secrets(people: &[(Person, String)]) -> Vec<Secret> {
    people.iter().map(|(p, pw)| Secret::new(&format!("{}'s masked password", p.uid), pw)).collect()
}

/// A proxy hook that answers 401 unless `Authorization: Bearer <token>`.
fn require_bearer(token: String) -> impl Fn(&proxy::Request) -> Option<proxy::Response> + Send + Sync + 'static {
    move |r| {
        (r.header("authorization") != Some(format!("Bearer {token}").as_str()))
            .then(|| proxy::Response::scim_error(401, "invalid bearer token"))
    }
}

#[test]
fn a_bearer_token_and_masked_passwords_never_leak_in_good_or_failing_runs() {
    let tenant = ScimPeer::shared().unique_tenant("secrets-bearer");
    let token = format!("{}/b3arer+ tok=&\"", random_token());
    let proxy =
        Proxy::builder(&tenant.base_url).forward_bearer(&tenant.token).fault(require_bearer(token.clone())).start();
    let people = people();
    let mut a = Artifacts::default();

    // Good runs: users created with their passwords, then updated.
    let s = Scenario::scim(&proxy.url(), &token).build();
    map_masked_password(&s);
    write_directory(&s, &people, &[]);
    exercise(&s, "good", &mut a, true);
    let alice = tenant.find_user("alice").expect("alice was created");
    assert!(alice["id"].is_string());
    let mut changed = people.clone();
    changed[0].0 = changed[0].0.clone().title("Principal");
    write_directory(&s, &changed, &[]);
    a.output("good: provisio -vvv sync --once (update)", &s.run(&["-vvv", "sync", "--once"]));
    a.files("good", s.dir(), INPUTS);
    // The attribute hashes are keyed with a key kept beside the database, never in it.
    let key = std::fs::read(s.dir().join("state.key")).expect("the hash key beside the state database");
    assert!(key.len() >= 32, "a 256-bit key");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    for db in ["state.db", "state.db-wal"].map(|f| std::fs::read(s.dir().join(f)).unwrap_or_default()) {
        let holds = |needle: &[u8]| db.windows(needle.len()).any(|w| w == needle);
        assert!(!holds(&key) && !holds(hex.as_bytes()), "the hash key is in the state database");
    }

    // A target answering 500 to creates, echoing the request and its Authorization header.
    proxy.set_fault(|r| {
        (r.method == "POST" && !r.path_only().ends_with("/.search")).then(|| {
            let echo = format!(
                "cannot store {} (auth {})",
                String::from_utf8_lossy(&r.body),
                r.header("authorization").unwrap_or_default()
            );
            proxy::Response::json(
                500,
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500", "detail": echo}),
            )
        })
    });
    let failing = [(Person::new("carol"), password_of("carol")), (Person::new("dave"), password_of("dave"))];
    let s500 = Scenario::scim(&proxy.url(), &token).groups().build();
    map_masked_password(&s500);
    write_directory(&s500, &failing, &[Group::new("staff", &["carol", "dave"])]);
    let out = s500.run(&["-vvv", "sync", "--once"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("500") && text.contains("******"), "the echo is shown, masked:\n{text}");
    exercise(&s500, "500", &mut a, false);
    a.output("500: provisio -vvv sync --once", &out);
    a.files("500", s500.dir(), INPUTS);
    proxy.clear_fault();
    proxy.set_fault(require_bearer(token.clone()));

    // Wrong credentials: that token is a secret too.
    let wrong = format!("{}/wr0ng+ tok=&\"", random_token());
    let bad = Scenario::scim(&proxy.url(), &wrong).build();
    map_masked_password(&bad);
    write_directory(&bad, &people, &[]);
    let out = bad.run(&["connections", "test"]);
    assert!(!out.status.success());
    exercise(&bad, "wrong token", &mut a, false);
    a.files("wrong token", bad.dir(), INPUTS);

    let mut secrets = password_secrets(&people);
    secrets.extend(password_secrets(&failing));
    secrets.push(Secret::new("the bearer token", &token));
    secrets.push(Secret::new("the wrong bearer token", &wrong));
    a.assert_clean(&secrets);
}

#[test]
fn a_malformed_source_line_holding_a_secret_is_not_quoted() {
    let tenant = ScimPeer::shared().unique_tenant("secrets-source");
    let token = format!("{}/src-tok+", random_token());
    let proxy =
        Proxy::builder(&tenant.base_url).forward_bearer(&tenant.token).fault(require_bearer(token.clone())).start();
    let s = Scenario::scim(&proxy.url(), &token).build();
    map_masked_password(&s);
    let pw = password_of("alice");
    // `=` where LDIF wants `:`: the line cannot be parsed.
    let ldif = directory_ldif(&[Person::new("alice")], &[])
        .replace("uid: alice\n", &format!("uid: alice\nuserPassword={pw}\n"));
    std::fs::write(&s.ldif, ldif).unwrap();
    let out = s.run(&["sync", "--once"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("directory.ldif line"), "the error says where: {text}");
    let mut a = Artifacts::default();
    a.output("malformed: provisio sync --once", &out);
    exercise(&s, "malformed", &mut a, false);
    a.files("malformed", s.dir(), INPUTS);
    assert!(tenant.users().is_empty());
    a.assert_clean(&[
        Secret::new("alice's password on a malformed line", &pw),
        Secret::new("the bearer token", &token),
    ]);
}

#[test]
fn basic_passwords_never_leak() {
    let tenant = ScimPeer::shared().unique_tenant("secrets-basic");
    let user = "provisio-svc";
    let pass = format!("{} b4sic pw/+&\"=", random_token());
    let proxy = Proxy::builder(&tenant.base_url).require_basic(user, &pass).forward_bearer(&tenant.token).start();
    let basic = |pw: &str| {
        ScenarioBuilder::new("scim")
            .setting("scim_url", proxy.url().as_str())
            .setting("authentication_method", "basic")
            .setting("basic_username", user)
            .secret("basic_password", pw)
            .build()
    };
    let people = people();
    let mut a = Artifacts::default();
    let s = basic(&pass);
    map_masked_password(&s);
    write_directory(&s, &people, &[]);
    exercise(&s, "basic", &mut a, true);
    a.files("basic", s.dir(), INPUTS);
    assert_eq!(tenant.users().len(), 2);

    let wrong = format!("{} wr0ng b4sic/+&\"=", random_token());
    let bad = basic(&wrong);
    write_directory(&bad, &people, &[]);
    assert!(!bad.run(&["connections", "test"]).status.success());
    exercise(&bad, "wrong basic", &mut a, false);
    a.files("wrong basic", bad.dir(), INPUTS);

    let header = |pw: &str| STANDARD.encode(format!("{user}:{pw}"));
    a.assert_clean(&[
        Secret::new("the Basic password", &pass).with("Basic credentials", header(&pass)),
        Secret::new("the wrong Basic password", &wrong).with("Basic credentials", header(&wrong)),
    ]);
}

/// A client-credentials token endpoint (RFC 6749 §4.4): the secret in a
/// form body or Basic header, percent-encoded or not.
fn token_endpoint(
    client_id: &'static str,
    secret: String,
    access_token: String,
) -> impl Fn(&proxy::Request) -> Option<proxy::Response> + Send + Sync + 'static {
    move |r| {
        let (id, pw) = client_credentials(r).unwrap_or_default();
        if id != client_id || pw != secret {
            return Some(
                proxy::Response::new(401)
                    .header("Content-Type", "application/json")
                    .body(json!({"error": "invalid_client"}).to_string()),
            );
        }
        Some(
            proxy::Response::new(200)
                .header("Content-Type", "application/json")
                .body(json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}).to_string()),
        )
    }
}

#[test]
fn client_secrets_and_the_tokens_they_buy_never_leak() {
    let tenant = ScimPeer::shared().unique_tenant("secrets-oauth");
    let secret = format!("{} cl13nt s3cret/+&\"=", random_token());
    // The access token the endpoint hands out is a secret as well.
    let access = format!("{}-acc3ss", random_token());
    let tokens = Proxy::builder("http://127.0.0.1:9")
        .fault(token_endpoint("provisio-e2e", secret.clone(), access.clone()))
        .start();
    let target =
        Proxy::builder(&tenant.base_url).forward_bearer(&tenant.token).fault(require_bearer(access.clone())).start();
    let oauth = |s: &str| {
        ScenarioBuilder::new("scim")
            .setting("scim_url", target.url().as_str())
            .setting("authentication_method", "oauth2_client_credentials")
            .setting("token_endpoint", format!("{}/oauth2/token", tokens.url()))
            .setting("client_id", "provisio-e2e")
            .secret("client_secret", s)
            .build()
    };
    let people = people();
    let mut a = Artifacts::default();
    let s = oauth(&secret);
    map_masked_password(&s);
    write_directory(&s, &people, &[]);
    exercise(&s, "oauth", &mut a, true);
    a.files("oauth", s.dir(), INPUTS);
    assert_eq!(tenant.users().len(), 2);

    let wrong = format!("{} wr0ng cl13nt/+&\"=", random_token());
    let bad = oauth(&wrong);
    write_directory(&bad, &people, &[]);
    assert!(!bad.run(&["connections", "test"]).status.success());
    exercise(&bad, "wrong client secret", &mut a, false);
    a.files("wrong client secret", bad.dir(), INPUTS);

    let mut secrets = password_secrets(&people);
    secrets.push(Secret::new("the client secret", &secret));
    secrets.push(Secret::new("the wrong client secret", &wrong));
    secrets.push(Secret::new("the access token", &access));
    a.assert_clean(&secrets);
}

const PINGID_MAPPING: &[(&str, &str)] =
    &[("Username", "uid"), ("Email", "mail"), ("First Name", "givenName"), ("Last Name", "sn")];

fn pingid_scenario(properties: &str) -> Scenario {
    let mut s = ScenarioBuilder::new("pingid").mapping(PINGID_MAPPING).build();
    let path = s.dir().join("pingid.properties");
    std::fs::write(&path, properties).expect("write pingid.properties");
    let path = path.to_str().expect("a UTF-8 path").to_owned();
    s.reconfigure(|b| b.setting("pingid_properties", path));
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s
}

#[test]
fn the_pingid_key_and_token_never_leak() {
    let e = PingIdEmulator::start();
    let mut a = Artifacts::default();
    let s = pingid_scenario(&e.properties());
    exercise(&s, "pingid", &mut a, true);
    a.files("pingid", s.dir(), INPUTS);
    assert!(e.user("alice").is_some());

    let escaped = |k: &str| k.replace('=', "\\=");
    let wrong_key = STANDARD.encode(format!("{}-wr0ng-k3y", random_token()));
    let wrong = e.properties().replace(&escaped(&e.key_b64()), &escaped(&wrong_key));
    assert_ne!(wrong, e.properties());
    let bad = pingid_scenario(&wrong);
    assert!(!bad.run(&["connections", "test"]).status.success());
    exercise(&bad, "wrong pingid key", &mut a, false);
    a.files("wrong pingid key", bad.dir(), INPUTS);

    let key = |b64: &str| {
        Secret::new("a PingID key", b64)
            .with("decoded", STANDARD.decode(b64).expect("the key is base64"))
            .with("properties-escaped", escaped(b64))
    };
    a.assert_clean(&[key(&e.key_b64()), key(&wrong_key), Secret::new("the PingID token", &e.token())]);
}

/// An LDAP channel bound as the reader: the bind password (given by
/// reference) never leaks, with the right password and with a wrong one.
#[test]
fn the_ldap_bind_password_never_leaks() {
    use provisio_e2e::slapd::{READER_DN, READER_PW, Slapd};
    let people = people();
    let persons: Vec<Person> = people.iter().map(|(p, _)| p.clone()).collect();
    let slapd = Slapd::start_with(&provisio_e2e::scenario::directory_ldif(&persons, &[]));
    let t = ScimPeer::shared().unique_tenant("secrets-ldap");
    let mut a = Artifacts::default();
    for (label, password, succeed) in
        [("ldap, right password", READER_PW, true), ("ldap, wrong password", "Wr0ng-bind-pw!", false)]
    {
        let mut source = provisio_e2e::scenario::ScenarioBuilder::file_source();
        source.remove("path");
        source.insert("kind".into(), "ldap".into());
        source.insert("url".into(), slapd.url().into());
        source.insert("bind_dn".into(), READER_DN.into());
        let mut pw = toml::Table::new();
        pw.insert("env".into(), "PROVISIO_TEST_BIND_PASSWORD".into());
        source.insert("bind_password".into(), toml::Value::Table(pw));
        let s =
            Scenario::scim(&t.base_url, &t.token).source(source).env("PROVISIO_TEST_BIND_PASSWORD", password).build();
        exercise(&s, label, &mut a, succeed);
        a.files(label, s.dir(), INPUTS);
    }
    assert_eq!(t.users().len(), people.len(), "the right password provisioned the users");
    a.assert_clean(&[
        Secret::new("the LDAP bind password", READER_PW),
        Secret::new("a wrong LDAP bind password", "Wr0ng-bind-pw!"),
    ]);
}
