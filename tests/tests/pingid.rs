//! The `pingid` connector end to end: the real `provisio` binary and the
//! real `provisio_pingid` library against the PingID emulator
//! (`provisio_e2e::pingid_emulator`), which verifies every request's
//! signature with an implementation other than the connector's.
//!
//! Covered: the full lifecycle (create, update, disable, re-enable, delete),
//! linking an existing user, Provision Disabled Users, a refused username
//! change, the credential check and a wrong key, device management (Do not
//! manage, Merge, Overwrite, Primary Device on Create), every declared
//! capability, the connector's requests verified by PyJWT, and the signing
//! key kept out of provisio's output and audit log.

use provisio_e2e::pingid_emulator::PingIdEmulator;
use provisio_e2e::scenario::{Person, Scenario, ScenarioBuilder};
use provisio_e2e::scim_peer::venv_dir;
use provisio_e2e::{stderr, stdout};

const MAPPING: &[(&str, &str)] = &[
    ("Username", "uid"),
    ("Email", "mail"),
    ("First Name", "givenName"),
    ("Last Name", "sn"),
    ("MFA Email 1", "mail"),
    ("MFA SMS Number 1", "mobile"),
    ("MFA Voice Number 1", "telephoneNumber"),
];

/// A person and the phone numbers the scenario's `Person` does not carry.
struct Entry {
    p: Person,
    mobile: Option<String>,
    phone: Option<String>,
}

fn entry(p: Person) -> Entry {
    Entry { p, mobile: None, phone: None }
}

impl Entry {
    fn mobile(mut self, n: &str) -> Entry {
        self.mobile = Some(n.into());
        self
    }
    fn phone(mut self, n: &str) -> Entry {
        self.phone = Some(n.into());
        self
    }
}

/// Write the directory (LDIF) with the phone attributes.
fn directory(s: &Scenario, people: &[Entry]) {
    let mut out = String::from(
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n",
    );
    for Entry { p, mobile, phone } in people {
        out.push_str(&format!(
            "dn: {}\nobjectClass: inetOrgPerson\nuid: {}\ncn: {} {}\ngivenName: {}\nsn: {}\nmail: {}\nentryUUID: {}\n",
            p.dn(),
            p.uid,
            p.given,
            p.sn,
            p.given,
            p.sn,
            p.mail,
            p.guid
        ));
        if let Some(m) = mobile {
            out.push_str(&format!("mobile: {m}\n"));
        }
        if let Some(t) = phone {
            out.push_str(&format!("telephoneNumber: {t}\n"));
        }
        if p.disabled {
            out.push_str("employeeType: disabled\n");
        }
        out.push('\n');
    }
    std::fs::write(&s.ldif, out).expect("write the directory");
}

/// A `pingid` scenario against `e`, its properties file in the scenario's directory.
fn scenario(e: &PingIdEmulator, configure: impl FnOnce(ScenarioBuilder) -> ScenarioBuilder) -> Scenario {
    scenario_with(&e.properties(), configure)
}

fn scenario_with(properties: &str, configure: impl FnOnce(ScenarioBuilder) -> ScenarioBuilder) -> Scenario {
    let mut s = configure(ScenarioBuilder::new("pingid").mapping(MAPPING)).build();
    let path = s.dir().join("pingid.properties");
    std::fs::write(&path, properties).expect("write pingid.properties");
    let path = path.to_str().expect("a UTF-8 path").to_owned();
    s.reconfigure(|b| b.setting("pingid_properties", path));
    s
}

fn sync(s: &Scenario) -> String {
    let out = s.sync_ok();
    assert!(!out.contains("unsupported"), "{out}");
    out
}

fn events(s: &Scenario) -> Vec<String> {
    s.audit().iter().map(|e| e["event_type"].as_str().unwrap_or("").to_owned()).collect()
}

const WRITES: [&str; 8] = [
    "adduser",
    "edituser",
    "suspenduser",
    "activateuser",
    "deleteuser",
    "offlinepairing",
    "unpairdevice",
    "updatedeviceattr",
];

fn writes(e: &PingIdEmulator) -> Vec<String> {
    e.ops().into_iter().filter(|op| WRITES.contains(&op.as_str())).collect()
}

#[test]
fn the_full_lifecycle_create_update_disable_re_enable_delete() {
    let e = PingIdEmulator::start();
    let mut s = scenario(&e, |b| b);
    directory(&s, &[entry(Person::new("alice")), entry(Person::new("bob"))]);
    sync(&s);
    let alice = e.user("alice").expect("alice created");
    assert_eq!(
        (alice.fname.as_deref(), alice.lname.as_deref(), alice.email.as_deref()),
        (Some("Alice"), Some("Tester"), Some("alice@example.org"))
    );
    assert_eq!((alice.status.as_str(), alice.role.as_deref()), ("ACTIVE", Some("REGULAR")));
    assert!(e.devices("alice").is_empty(), "Manage Devices defaults to Do not manage");

    // Unchanged: nothing written.
    e.reset_requests();
    sync(&s);
    assert!(writes(&e).is_empty(), "{:?}", e.ops());

    // Update: EditUser with the whole record, merged over what PingID holds.
    let mut changed = Person::new("alice");
    changed.sn = "Married".into();
    directory(&s, &[entry(changed.clone()), entry(Person::new("bob"))]);
    sync(&s);
    assert_eq!(writes(&e), ["edituser"]);
    let alice = e.user("alice").unwrap();
    assert_eq!(
        (alice.fname.as_deref(), alice.lname.as_deref(), alice.role.as_deref()),
        (Some("Alice"), Some("Married"), Some("REGULAR"))
    );

    // Disable and re-enable.
    directory(&s, &[entry(changed.clone()), entry(Person::new("bob").disabled())]);
    sync(&s);
    assert_eq!(e.user("bob").unwrap().status, "SUSPENDED");
    directory(&s, &[entry(changed.clone()), entry(Person::new("bob"))]);
    sync(&s);
    assert_eq!(e.user("bob").unwrap().status, "ACTIVE");

    // Delete with Remove User Action = Delete.
    s.reconfigure(|b| b.remove_user_action("Delete"));
    directory(&s, &[entry(Person::new("bob"))]);
    sync(&s);
    assert!(e.user("alice").is_none());
    assert_eq!(e.users().len(), 1);
    let ev = events(&s);
    for wanted in ["CREATE", "UPDATE", "DISABLE", "ENABLE", "DELETE"] {
        assert!(ev.iter().any(|x| x == wanted), "no {wanted} in {ev:?}");
    }
    assert_eq!(e.unpair_all_calls(), 0);
}

#[test]
fn an_existing_user_is_linked_and_a_disabled_one_is_created_suspended() {
    let e = PingIdEmulator::start();
    e.add_user("carol", "C.", "Old", "old@example.org");
    let s = scenario(&e, |b| b);
    directory(&s, &[entry(Person::new("carol")), entry(Person::new("dave").disabled())]);
    sync(&s);
    let carol = e.user("carol").unwrap();
    assert_eq!((carol.fname.as_deref(), carol.email.as_deref()), (Some("Carol"), Some("carol@example.org")));
    assert!(events(&s).iter().any(|x| x == "LINK"));
    // Provision Disabled Users is on by default: AddUser, then SuspendUser.
    assert_eq!(e.user("dave").unwrap().status, "SUSPENDED");
    let dave: Vec<String> = e
        .requests()
        .into_iter()
        .filter(|r| r.req_body.as_ref().is_some_and(|b| b["username"] == "dave" || b["userName"] == "dave"))
        .map(|r| r.op)
        .filter(|op| WRITES.contains(&op.as_str()))
        .collect();
    assert_eq!(dave, ["adduser", "suspenduser"]);
}

#[test]
fn a_username_change_is_refused_with_a_clear_error() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| b);
    directory(&s, &[entry(Person::new("erin"))]);
    sync(&s);
    let mut renamed = Person::new("erin2");
    renamed.guid = Person::new("erin").guid;
    directory(&s, &[entry(renamed)]);
    let out = s.run(&["sync", "--once"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("PingID usernames cannot change"), "{text}");
    assert!(e.user("erin").is_some() && e.user("erin2").is_none());
    assert!(!e.ops().iter().any(|o| o == "edituser"));
}

#[test]
fn the_credential_check_succeeds_and_a_wrong_key_fails_clearly() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| b);
    let out = s.run_ok(&["connections", "test"]);
    assert!(out.contains("accepted a signed GetUserDetails"), "{out}");
    assert_eq!(e.ops(), ["getuserdetails"]);
    assert_eq!(e.requests()[0].error_id, 10564, "a user that does not exist");

    let escaped = |k: &str| k.replace('=', "\\=");
    let wrong_key = "d3JvbmctYnV0LXdlbGwtZm9ybWVkLWtleS0zMi1ieXRlcyE=";
    let wrong = e.properties().replace(&escaped(&e.key_b64()), &escaped(wrong_key));
    assert_ne!(wrong, e.properties());
    let bad = scenario_with(&wrong, |b| b);
    let out = bad.run(&["connections", "test"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("did not accept the credentials of pingid.properties"), "{text}");
    assert!(!text.contains(wrong_key) && !text.contains(&e.key_b64()), "{text}");
    directory(&bad, &[entry(Person::new("frank"))]);
    let out = bad.run(&["sync", "--once"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("pingid.properties"), "{text}");
    assert!(e.user("frank").is_none());
}

#[test]
fn do_not_manage_devices_pairs_nothing() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| {
        b.setting("manage_devices", "do_not_manage").setting("primary_device_on_create", "mfa_sms_number_1")
    });
    directory(&s, &[entry(Person::new("gina")).mobile("+1 555 0100").phone("+1 555 0101")]);
    sync(&s);
    e.add_device("gina", Some("My Phone"), "SMS", "+1 555 0199");
    directory(&s, &[entry(Person::new("gina")).mobile("+1 555 0200").phone("+1 555 0101")]);
    sync(&s);
    let devices = e.devices("gina");
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert!(!e.ops().iter().any(|o| o == "offlinepairing" || o == "unpairdevice" || o == "updatedeviceattr"));
}

#[test]
fn merge_devices_replaces_a_changed_device_and_keeps_the_users_own() {
    let e = PingIdEmulator::start();
    let s =
        scenario(&e, |b| b.setting("manage_devices", "merge").setting("primary_device_on_create", "mfa_sms_number_1"));
    directory(&s, &[entry(Person::new("hank")).mobile("+1 555 0100").phone("+1 555 0101")]);
    sync(&s);
    let email = e.device("hank", "Email 1").expect("Email 1");
    let sms = e.device("hank", "SMS Number 1").expect("SMS Number 1");
    let voice = e.device("hank", "Voice Number 1").expect("Voice Number 1");
    assert_eq!((email.kind.as_str(), email.value()), ("EMAIL", Some("hank@example.org")));
    assert_eq!((voice.kind.as_str(), voice.value()), ("VOICE", Some("+1 555 0101")));
    assert_eq!(sms.role, "PRIMARY", "Primary Device on Create = MFA SMS Number 1");
    assert_eq!(email.role, "SECONDARY");
    let own = e.add_device("hank", Some("My Phone"), "SMS", "+1 555 0199");

    e.reset_requests();
    directory(&s, &[entry(Person::new("hank")).mobile("+1 555 0200").phone("+1 555 0101")]);
    sync(&s);
    let new_sms = e.device("hank", "SMS Number 1").unwrap();
    assert_ne!(new_sms.device_id, sms.device_id, "removed and created again");
    assert_eq!(new_sms.value(), Some("+1 555 0200"));
    assert_eq!(new_sms.role, "SECONDARY", "the primary device is never set on update");
    assert_eq!(e.device("hank", "Email 1").unwrap().device_id, email.device_id);
    assert_eq!(e.device("hank", "Voice Number 1").unwrap().device_id, voice.device_id);
    assert!(e.devices("hank").iter().any(|d| d.device_id == own), "Merge keeps the user's own device");
    assert_eq!(writes(&e), ["unpairdevice", "offlinepairing", "updatedeviceattr"]);
    assert_eq!(e.unpair_all_calls(), 0);
}

#[test]
fn overwrite_devices_also_removes_unmanaged_ones_and_primary_email() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| {
        b.setting("manage_devices", "overwrite").setting("primary_device_on_create", "mfa_voice_number_1")
    });
    directory(&s, &[entry(Person::new("iris")).phone("+44 20 7946 0000")]);
    sync(&s);
    assert_eq!(e.device("iris", "Voice Number 1").unwrap().role, "PRIMARY");
    e.add_device("iris", Some("My Phone"), "SMS", "+1 555 0199");
    e.add_device("iris", None, "EMAIL", "iris.private@example.org");
    directory(&s, &[entry(Person::new("iris")).phone("+44 20 7946 0000").mobile("+1 555 0300")]);
    sync(&s);
    let mut names: Vec<String> = e.devices("iris").iter().filter_map(|d| d.nickname.clone()).collect();
    names.sort();
    assert_eq!(names, ["Email 1", "SMS Number 1", "Voice Number 1"]);
    assert_eq!(e.devices("iris").len(), 3, "unnamed and unmanaged devices removed");
    assert_eq!(e.unpair_all_calls(), 0);

    let e2 = PingIdEmulator::start();
    let s2 = scenario(&e2, |b| b.setting("manage_devices", "merge").setting("primary_device_on_create", "mfa_email_1"));
    directory(&s2, &[entry(Person::new("jack")).mobile("+1 555 0400")]);
    sync(&s2);
    assert_eq!(e2.device("jack", "Email 1").unwrap().role, "PRIMARY");
    let set_primary = e2
        .requests()
        .iter()
        .filter(|r| r.req_body.as_ref().is_some_and(|b| b["attributeName"] == "SET_PRIMARY"))
        .count();
    assert_eq!(set_primary, 1);
}

#[test]
fn pyjwt_verifies_every_request_of_the_connector_and_the_known_answer_vector() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| {
        b.setting("manage_devices", "overwrite").setting("primary_device_on_create", "mfa_sms_number_1")
    });
    directory(&s, &[entry(Person::new("kate")).mobile("+1 555 0500").phone("+1 555 0501"), entry(Person::new("liam"))]);
    sync(&s);
    s.run_ok(&["connections", "test"]);
    let tokens: Vec<String> = e.requests().iter().map(|r| r.body.clone()).collect();
    assert!(tokens.len() >= 10, "{:?}", e.ops());
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tokens.txt");
    std::fs::write(&list, tokens.join("\n")).unwrap();
    let python = venv_dir().join("bin").join("python");
    assert!(
        python.is_file(),
        "run scripts/peers/install-scim2-server (it installs PyJWT into {})",
        venv_dir().display()
    );
    let script = r#"
import base64, json, sys, time, jwt
key_b64, org, token, path = sys.argv[1:5]
key = base64.b64decode(key_b64)
n = 0
for tok in open(path).read().split():
    header = jwt.get_unverified_header(tok)
    assert header == {"alg": "HS256", "org_alias": org, "token": token}, header
    payload = jwt.decode(tok, key, algorithms=["HS256"])
    rh = payload["reqHeader"]
    assert rh["orgAlias"] == org and rh["secretKey"] == token and rh["locale"] == "en" and rh["version"] == "4.9", rh
    ts = time.mktime(time.strptime(rh["timestamp"][:19], "%Y-%m-%d %H:%M:%S")) - time.timezone
    assert abs(ts - time.time()) < 600 and len(rh["timestamp"]) == 23, rh["timestamp"]
    assert isinstance(payload["reqBody"], dict)
    try:
        jwt.decode(tok, b"not the organization's key at all!", algorithms=["HS256"])
        raise SystemExit("a wrong key verified")
    except jwt.InvalidSignatureError:
        pass
    n += 1
vector_key = base64.b64decode("+yBFao+02f4jSG2St9wBJktwlbrfBClOc5i94gcsUXY=")
vector = "eyJhbGciOiJIUzI1NiIsIm9yZ19hbGlhcyI6Im9yZy1hbGlhcy0xIiwidG9rZW4iOiJ0b2tlbi0xIn0.eyJyZXFIZWFkZXIiOnsibG9jYWxlIjoiZW4iLCJvcmdBbGlhcyI6Im9yZy1hbGlhcy0xIiwic2VjcmV0S2V5IjoidG9rZW4tMSIsInRpbWVzdGFtcCI6IjIwMjYtMDEtMDEgMDA6MDA6MDAuMDAwIiwidmVyc2lvbiI6IjQuOSJ9LCJyZXFCb2R5Ijp7ImdldFNhbWVEZXZpY2VVc2VycyI6ZmFsc2UsInVzZXJOYW1lIjoiYWxpY2UifX0.GeiMKttKI-oNRz4ow3RKCukLRV1IMi3VcFCIMeCZAFw"
assert jwt.decode(vector, vector_key, algorithms=["HS256"])["reqBody"]["userName"] == "alice"
print("verified", n)
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &e.key_b64(), &e.org_alias(), &e.token(), list.to_str().unwrap()])
        .output()
        .expect("run the venv's python");
    assert!(out.status.success(), "PyJWT refused a request:\n{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("verified {}", tokens.len()));
}

#[test]
fn the_signing_key_never_reaches_output_or_the_audit_log() {
    let e = PingIdEmulator::start();
    let mut s = scenario(&e, |b| b.setting("manage_devices", "merge"));
    directory(&s, &[entry(Person::new("mona")).mobile("+1 555 0600"), entry(Person::new("ned").disabled())]);
    let mut seen = String::new();
    for args in
        [&["-vvv", "sync", "--once"][..], &["-vvv", "connections", "test"], &["-vvv", "plan"], &["config", "check"]]
    {
        let out = s.run(args);
        seen.push_str(&stdout(&out));
        seen.push_str(&stderr(&out));
    }
    // Everyone leaves: with the deletion guard off, so the deletes run.
    s.reconfigure(|b| b.remove_user_action("Delete").deletion_guard(false));
    directory(&s, &[]);
    let out = s.run(&["-vvv", "sync", "--once"]);
    seen.push_str(&stdout(&out));
    seen.push_str(&stderr(&out));
    seen.push_str(&std::fs::read_to_string(s.audit_path()).unwrap_or_default());
    assert!(e.users().is_empty(), "{seen}");
    let key = e.key_b64();
    let url_safe = key.replace('+', "-").replace('/', "_");
    for needle in [key.as_str(), key.trim_end_matches('='), url_safe.trim_end_matches('='), &key[..16]] {
        assert!(!seen.contains(needle), "the key ({needle}) leaked:\n{seen}");
    }
}

#[test]
fn the_example_configuration_passes_config_check() {
    let root = provisio_e2e::scim_peer::repo_root();
    let dir = provisio_e2e::profile_dir();
    let out = provisio_e2e::provisio_command(&[
        "--connector-dir",
        dir.to_str().unwrap(),
        "--config",
        "examples/pingid.toml",
        "config",
        "check",
    ])
    .current_dir(&root)
    .output()
    .expect("run provisio");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!text.contains("error"), "{text}");
}

#[test]
fn a_failed_transaction_is_retried() {
    let e = PingIdEmulator::start();
    let s = scenario(&e, |b| b);
    directory(&s, &[entry(Person::new("olga"))]);
    e.fail_next_op("adduser", 1, 10551);
    let first = s.run(&["sync", "--once"]);
    if e.user("olga").is_none() {
        // Not retried within the cycle: the next one does it.
        sync(&s);
    }
    let text = format!("{}{}", stdout(&first), stderr(&first));
    assert_eq!(e.user("olga").map(|u| u.status), Some("ACTIVE".to_owned()), "{text}");
    let adds: Vec<i64> = e.requests().iter().filter(|r| r.op == "adduser").map(|r| r.error_id).collect();
    assert_eq!(adds, [10551, 200]);
}

#[test]
fn the_properties_file_works_by_reference_and_a_missing_one_never_prints_the_key() {
    let e = PingIdEmulator::start();
    // `{ file = "..." }`, relative to the configuration file: read once.
    let mut s = ScenarioBuilder::new("pingid").mapping(MAPPING).build();
    std::fs::write(s.dir().join("pingid.properties"), e.properties()).expect("write pingid.properties");
    let mut reference = toml::Table::new();
    reference.insert("file".into(), "pingid.properties".into());
    s.reconfigure(|b| b.setting("pingid_properties", toml::Value::Table(reference)));
    directory(&s, &[entry(Person::new("rhea"))]);
    let out = s.run(&["config", "check"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stderr(&out).contains("written inline"), "a path is not an inline secret: {}", stderr(&out));
    sync(&s);
    assert_eq!(e.users().len(), 1);

    // The file vanishes: the error names the file, never its contents.
    std::fs::remove_file(s.dir().join("pingid.properties")).unwrap();
    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success());
    let text = stdout(&out) + &stderr(&out);
    assert!(text.contains("pingid.properties"), "{text}");
    assert!(!text.contains(&e.key_b64()[..16]), "the key leaked: {text}");
}
