//! The LDAP source end to end: the real `provisio` binary reads a real
//! OpenLDAP slapd (a private instance per test, see `tests/src/slapd.rs`),
//! bound as a read-only account under a 500-entry size limit, and provisions
//! a real scim2-server tenant. Each test asserts what the target holds.
//!
//! Needs `scripts/peers/install-slapd` (run by `scripts/test`).

use provisio_e2e::proxy::Proxy;
use provisio_e2e::scenario::{Group, Person, Scenario, ScenarioBuilder, directory_ldif, entries_ldif};
use provisio_e2e::scim_peer::ScimPeer;
use provisio_e2e::slapd::{READER_DN, READER_PW, SIZE_LIMIT, Slapd};
use serde_json::Value;

const PW_VAR: &str = "PROVISIO_TEST_LDAP_PASSWORD";

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["userName"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .unwrap_or_else(|| panic!("no user {name} at the target: {users:#?}"))
}

fn active(u: &Value) -> bool {
    u["active"].as_bool().unwrap_or(true)
}

fn names(users: &[Value]) -> Vec<String> {
    let mut n: Vec<String> = users.iter().filter_map(|u| u["userName"].as_str().map(str::to_owned)).collect();
    n.sort();
    n
}

fn active_names(users: &[Value]) -> Vec<String> {
    let mut n: Vec<String> =
        users.iter().filter(|u| active(u)).filter_map(|u| u["userName"].as_str().map(str::to_owned)).collect();
    n.sort();
    n
}

/// The channel's source on `slapd`: the file source's keys, plus the
/// connection, bound as the reader.
fn ldap_source(slapd: &Slapd) -> toml::Table {
    let mut t = ScenarioBuilder::file_source();
    t.remove("path");
    t.insert("kind".into(), "ldap".into());
    t.insert("url".into(), slapd.url().into());
    t.insert("bind_dn".into(), READER_DN.into());
    let mut pw = toml::Table::new();
    pw.insert("env".into(), PW_VAR.into());
    t.insert("bind_password".into(), toml::Value::Table(pw));
    t.insert("connect_timeout".into(), 5.into());
    t.insert("read_timeout".into(), 30.into());
    t
}

fn change_detection(algorithm: &str, attribute: &str) -> toml::Value {
    let mut c = toml::Table::new();
    c.insert("algorithm".into(), algorithm.into());
    c.insert("attribute".into(), attribute.into());
    toml::Value::Table(c)
}

fn scenario(url: &str, token: &str, source: toml::Table) -> Scenario {
    Scenario::scim(url, token).source(source).env(PW_VAR, READER_PW).build()
}

fn failed_sync(s: &Scenario) -> String {
    let out = s.run(&["sync", "--once"]);
    let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
    assert!(!out.status.success(), "the sync should have failed:\n{text}");
    text
}

fn person(uid: &str) -> Person {
    Person::new(uid)
}

#[test]
fn scope_by_filter_pages_past_the_size_limit() {
    let t = ScimPeer::shared().unique_tenant("ldap-paged");
    let mut people: Vec<Person> = (0..SIZE_LIMIT + 20).map(|i| person(&format!("user{i:04}"))).collect();
    people.push(person("intern1").title("Intern"));
    let slapd = Slapd::start_with(&directory_ldif(&people, &[]));
    let mut source = ldap_source(&slapd);
    source.insert("user_filter".into(), "(&(objectClass=inetOrgPerson)(!(title=Intern)))".into());
    let mut s = Scenario::scim(&t.base_url, &t.token).source(source).env(PW_VAR, READER_PW).max_threads(8).build();

    let out = s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), SIZE_LIMIT + 20, "every user in scope past the server's size limit:\n{out}");
    assert!(users.iter().all(|u| u["userName"] != "intern1"), "the filter keeps the intern out");

    // Without paging the server truncates at its limit: an error, and
    // nothing is deprovisioned from the partial result.
    s.reconfigure(|b| {
        let mut source = ldap_source(&slapd);
        source.insert("user_filter".into(), "(&(objectClass=inetOrgPerson)(!(title=Intern)))".into());
        source.insert("page_size".into(), 0.into());
        b.source(source)
    });
    let text = failed_sync(&s);
    assert!(text.contains("the server truncated the result at 500 entries (sizeLimitExceeded)"), "{text}");
    assert!(text.contains("page_size = 0"), "{text}");
    let users = t.users();
    assert_eq!(active_names(&users).len(), SIZE_LIMIT + 20, "a truncated read deprovisioned users");
}

fn group_ldif(cn: &str, members: &[String]) -> String {
    let mut out = format!("dn: cn={cn},ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: {cn}\n");
    for m in members {
        out.push_str(&format!("member: {m}\n"));
    }
    out.push('\n');
    out
}

fn uid_dn(uid: &str) -> String {
    format!("uid={uid},ou=people,dc=example,dc=org")
}

fn group_dn(cn: &str) -> String {
    format!("cn={cn},ou=groups,dc=example,dc=org")
}

#[test]
fn scope_by_group_dn_nested_and_removal_from_the_scoping_group() {
    let t = ScimPeer::shared().unique_tenant("ldap-groupdn");
    let slapd = Slapd::start();
    let people = ["alice", "bob", "carl", "dana"].map(person);
    slapd.add(&entries_ldif(&people, &[], false));
    slapd.add(&group_ldif("eng", &[uid_dn("bob")]));
    slapd.add(&group_ldif("all", &[uid_dn("alice"), group_dn("eng")]));
    slapd.add(&group_ldif("other", &[uid_dn("carl")]));

    let source = |nested: bool| {
        let mut s = ldap_source(&slapd);
        s.remove("user_filter");
        s.insert("user_group_dn".into(), group_dn("all").into());
        s.insert("nested".into(), nested.into());
        s.insert("change_detection".into(), change_detection("timestamp", "modifyTimestamp"));
        s
    };
    let mut s = scenario(&t.base_url, &t.token, source(false));
    s.sync_ok();
    assert_eq!(names(&t.users()), ["alice"], "direct members only");

    s.reconfigure(|b| b.source(source(true)));
    s.sync_ok();
    assert_eq!(names(&t.users()), ["alice", "bob"], "members of nested groups too");

    // A change of the scoping group alone: alice leaves it.
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: member\nmember: {}\n",
        group_dn("all"),
        uid_dn("alice")
    ));
    let out = s.sync_ok();
    let users = t.users();
    assert!(!active(user(&users, "alice")), "alice left the scoping group and is deprovisioned at once:\n{out}");
    assert!(active(user(&users, "bob")));

    // dana joins a nested group: her own entry is unchanged, she is read by GUID.
    slapd.modify(&format!("dn: {}\nchangetype: modify\nadd: member\nmember: {}\n", group_dn("eng"), uid_dn("dana")));
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["bob", "dana"]);

    // bob leaves the nested group.
    slapd.modify(&format!("dn: {}\nchangetype: modify\ndelete: member\nmember: {}\n", group_dn("eng"), uid_dn("bob")));
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["dana"]);
}

/// People carrying the AD-like auxiliary class with a `whenChanged`.
fn ad_people_ldif(uids: &[&str], when: &str) -> String {
    let mut out = String::new();
    for uid in uids {
        let p = person(uid);
        out.push_str(&format!(
            "dn: {}\nobjectClass: inetOrgPerson\nobjectClass: provisioTestADUser\nuid: {uid}\ncn: {} {}\ngivenName: {}\nsn: {}\nmail: {}\ntitle: Engineer\nwhenChanged: {when}\n\n",
            p.dn(), p.given, p.sn, p.given, p.sn, p.mail
        ));
    }
    out
}

#[test]
fn incremental_cycles_read_what_changed_and_keep_a_change_made_in_the_marks_second() {
    let t = ScimPeer::shared().unique_tenant("ldap-incremental");
    let slapd = Slapd::start();
    slapd.add(&ad_people_ldif(&["alice", "bob", "carl"], "20300101000000Z"));
    let mut source = ldap_source(&slapd);
    source.insert("change_detection".into(), change_detection("timestamp", "whenChanged"));
    let s = scenario(&t.base_url, &t.token, source);
    s.sync_ok();
    assert_eq!(t.users().len(), 3);

    let change = |uid: &str, title: &str, when: Option<&str>| {
        let mut ldif = format!("dn: {}\nchangetype: modify\nreplace: title\ntitle: {title}\n", uid_dn(uid));
        if let Some(when) = when {
            ldif.push_str(&format!("-\nreplace: whenChanged\nwhenChanged: {when}\n"));
        }
        slapd.modify(&ldif);
    };
    change("alice", "Lead", Some("20300101000500Z"));
    s.sync_ok();
    assert_eq!(user(&t.users(), "alice")["title"], "Lead");

    // Changed in the very second of the stored mark (the last change read):
    // a strict "newer than" would lose it.
    change("bob", "Manager", Some("20300101000500Z"));
    s.sync_ok();
    assert_eq!(user(&t.users(), "bob")["title"], "Manager", "a change in the mark's second was lost");

    // A change whose change attribute does not move is not read: the cycle
    // is incremental, not a full read.
    change("carl", "Architect", None);
    s.sync_ok();
    assert_eq!(user(&t.users(), "carl")["title"], "Engineer", "an unchanged entry was read whole");
    change("carl", "Architect", Some("20300101001000Z"));
    s.sync_ok();
    assert_eq!(user(&t.users(), "carl")["title"], "Architect");
}

#[test]
fn modify_timestamp_updates_deletion_and_a_disabled_flag() {
    let t = ScimPeer::shared().unique_tenant("ldap-modts");
    let proxy = Proxy::start(&t.base_url);
    let slapd = Slapd::start();
    slapd.add(&entries_ldif(&["alice", "bob", "carl", "dana"].map(person), &[], false));
    let mut source = ldap_source(&slapd);
    source.insert("change_detection".into(), change_detection("timestamp_no_negation", "modifyTimestamp"));
    let s = scenario(&proxy.url(), &t.token, source);
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["alice", "bob", "carl", "dana"]);

    // Right after the cycle, most likely within the second of its mark.
    slapd.replace(&uid_dn("bob"), "title", &["Site Lead"]);
    s.sync_ok();
    assert_eq!(user(&t.users(), "bob")["title"], "Site Lead");
    slapd.replace(&uid_dn("alice"), "title", &["Principal"]);
    s.sync_ok();
    assert_eq!(user(&t.users(), "alice")["title"], "Principal");

    slapd.delete(&uid_dn("carl"));
    slapd.replace(&uid_dn("dana"), "employeeType", &["disabled"]);
    s.sync_ok();
    let users = t.users();
    assert_eq!(active_names(&users), ["alice", "bob"], "carl (deleted) and dana (disabled) are deprovisioned");
    assert_eq!(users.len(), 4, "Remove User Action Disable keeps the accounts");

    proxy.reset_counts();
    s.sync_ok();
    assert_eq!(proxy.writes(), 0, "an unchanged incremental cycle wrote: {:?}", proxy.counts());
}

/// 16 GUID bytes that are not UTF-8.
fn guid_bytes(n: u8) -> [u8; 16] {
    [0xff, n, 0xfe, 0x10, 0x20, n, 0x30, 0x40, 0x80, 0x81, 0x82, n, 0x01, 0x02, 0x03, 0xc0]
}

fn ad_form(b: &[u8; 16]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

#[test]
fn active_directory_like_binary_guid_account_control_and_usn() {
    use base64::Engine as _;
    let t = ScimPeer::shared().unique_tenant("ldap-ad");
    let slapd = Slapd::start();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut ldif = String::new();
    for (i, uid) in ["alice", "bob", "carl"].iter().enumerate() {
        let p = person(uid);
        ldif.push_str(&format!(
            "dn: {}\nobjectClass: inetOrgPerson\nobjectClass: provisioTestADUser\nuid: {uid}\ncn: {} {}\nsn: {}\ngivenName: {}\nmail: {}\ntitle: Engineer\nobjectGUID:: {}\nuserAccountControl: 512\nuSNChanged: {}\n\n",
            p.dn(), p.given, p.sn, p.sn, p.given, p.mail, b64.encode(guid_bytes(i as u8 + 1)), i + 1
        ));
    }
    slapd.add(&ldif);
    slapd.add(&group_ldif("staff", &[uid_dn("alice"), uid_dn("bob")]));

    let mut source = ldap_source(&slapd);
    source.remove("user_filter");
    source.insert("user_group_dn".into(), group_dn("staff").into());
    source.insert("guid_attribute".into(), "objectGUID".into());
    source.insert("guid_binary".into(), true.into());
    let mut status = toml::Table::new();
    status.insert("algorithm".into(), "active_directory".into());
    status.insert("attribute".into(), "userAccountControl".into());
    status.insert("default".into(), "enabled".into());
    source.insert("account_status".into(), toml::Value::Table(status));
    source.insert("change_detection".into(), change_detection("usn", "uSNChanged"));
    let s = scenario(&t.base_url, &t.token, source);
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["alice", "bob"]);
    let alice_guid = ad_form(&guid_bytes(1));
    assert!(
        s.audit().iter().any(|e| e["event_type"] == "CREATE" && e["source_id"] == alice_guid.as_str()),
        "alice's source id is her objectGUID in AD form {alice_guid}: {:#?}",
        s.audit()
    );

    // ACCOUNTDISABLE, with a new USN.
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n-\nreplace: uSNChanged\nuSNChanged: 10\n",
        uid_dn("bob")
    ));
    // A change without a new USN is not read.
    slapd.replace(&uid_dn("alice"), "title", &["Lead"]);
    // carl joins the scoping group: his entry (and USN) do not change; he is
    // read by his binary GUID.
    slapd.modify(&format!("dn: {}\nchangetype: modify\nadd: member\nmember: {}\n", group_dn("staff"), uid_dn("carl")));
    s.sync_ok();
    let users = t.users();
    assert_eq!(active_names(&users), ["alice", "carl"], "bob is disabled by userAccountControl");
    assert_eq!(user(&users, "alice")["title"], "Engineer", "alice's USN did not move");

    slapd.replace(&uid_dn("alice"), "uSNChanged", &["11"]);
    s.sync_ok();
    assert_eq!(user(&t.users(), "alice")["title"], "Lead");
}

#[test]
fn a_failed_read_deprovisions_nothing_and_says_why() {
    let t = ScimPeer::shared().unique_tenant("ldap-fail");
    let slapd = Slapd::start();
    slapd.add(&entries_ldif(&["alice", "bob"].map(person), &[], false));
    let mut s = scenario(&t.base_url, &t.token, ldap_source(&slapd));
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["alice", "bob"]);
    let url = slapd.url();

    // A wrong password: refused, and never shown.
    s.reconfigure(|b| b.env(PW_VAR, "wrong-password-1234"));
    let text = failed_sync(&s);
    assert!(text.contains(&format!("{url}: bind refused for {READER_DN} (invalidCredentials)")), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!text.contains("wrong-password-1234"), "the password leaked: {text}");
    s.reconfigure(|b| b.env(PW_VAR, READER_PW));

    // A base DN that does not exist.
    s.reconfigure(|b| {
        let mut source = ldap_source(&slapd);
        source.insert("base_dn".into(), "ou=nowhere,dc=example,dc=org".into());
        b.source(source)
    });
    let text = failed_sync(&s);
    assert!(
        text.contains("base DN ou=nowhere,dc=example,dc=org does not exist (or the bind account cannot see it)"),
        "{text}"
    );

    // A filter that does not parse never reaches the server.
    s.reconfigure(|b| {
        let mut source = ldap_source(&slapd);
        source.insert("user_filter".into(), "(&(objectClass=inetOrgPerson)(uid=a*)".into());
        b.source(source)
    });
    let text = failed_sync(&s);
    assert!(text.contains("user_filter: column"), "{text}");

    // The server is down.
    s.reconfigure(|b| b.source(ldap_source(&slapd)));
    drop(slapd);
    let text = failed_sync(&s);
    assert!(text.contains(&format!("cannot reach {url}: connection refused")), "{text}");
    assert_eq!(active_names(&t.users()), ["alice", "bob"], "a failed read deprovisioned users");
}

#[test]
fn the_same_channel_works_on_an_ldif_file_and_on_ldap() {
    let t = ScimPeer::shared().unique_tenant("ldap-same");
    let proxy = Proxy::start(&t.base_url);
    let people = [person("alice"), person("bob").title("Site Lead"), person("erin").disabled(), person("zoe")];
    let groups = [Group::new("eng", &["alice", "bob"]), Group::new("ops", &["zoe"])];
    let mut s = Scenario::scim(&proxy.url(), &t.token).groups().env(PW_VAR, READER_PW).build();
    s.write_directory(&people, &groups);
    s.sync_ok();
    let before_users = t.users();
    let before_groups = t.groups();
    assert_eq!(active_names(&before_users), ["alice", "bob", "zoe"]);
    assert_eq!(before_groups.len(), 2);

    // The same entries (and entry GUIDs) in a directory server; the channel
    // changes only its kind and connection keys.
    let slapd = Slapd::start_with(&directory_ldif(&people, &groups));
    s.reconfigure(|b| b.source(ldap_source(&slapd)));
    proxy.reset_counts();
    let out = s.sync_ok();
    assert_eq!(proxy.writes(), 0, "moving the channel to LDAP changed the target: {:?}\n{out}", proxy.counts());
    assert_eq!(t.users(), before_users);
    assert_eq!(t.groups(), before_groups);

    // And it goes on from there: a change in the directory reaches the target.
    slapd.replace(&person("zoe").dn(), "title", &["Director"]);
    s.sync_ok();
    assert_eq!(user(&t.users(), "zoe")["title"], "Director");
}

#[test]
fn tls_start_tls_and_ldaps_verify_the_servers_certificate() {
    let t = ScimPeer::shared().unique_tenant("ldap-tls");
    let slapd = Slapd::start_tls();
    slapd.add(&entries_ldif(&["alice", "bob"].map(person), &[], false));
    let ca = slapd.ca_file();
    let tls_source = |url: String, start_tls: bool, ca_file: bool| {
        let mut s = ldap_source(&slapd);
        s.insert("url".into(), url.into());
        s.insert("start_tls".into(), start_tls.into());
        if ca_file {
            s.insert("ca_file".into(), ca.display().to_string().into());
        }
        s
    };

    // ldaps:// with the CA that issued the server's certificate.
    let mut s = scenario(&t.base_url, &t.token, tls_source(slapd.ldaps_url(), false, true));
    s.sync_ok();
    assert_eq!(active_names(&t.users()), ["alice", "bob"]);

    // StartTLS on ldap://.
    slapd.replace(&uid_dn("bob"), "title", &["Over StartTLS"]);
    s.reconfigure(|b| b.source(tls_source(slapd.url(), true, true)));
    s.sync_ok();
    assert_eq!(user(&t.users(), "bob")["title"], "Over StartTLS");

    // Without the CA, the certificate cannot be verified: nothing is read,
    // nothing deprovisioned.
    s.reconfigure(|b| b.source(tls_source(slapd.ldaps_url(), false, false)));
    let text = failed_sync(&s);
    assert!(text.contains(&format!("cannot reach {}", slapd.ldaps_url())), "{text}");
    assert!(text.contains("set ca_file"), "{text}");
    assert_eq!(active_names(&t.users()), ["alice", "bob"]);

    // Verification off works, with a warning from the configuration check.
    s.reconfigure(|b| {
        let mut source = tls_source(slapd.ldaps_url(), false, false);
        source.insert("verify_certificates".into(), false.into());
        b.source(source)
    });
    let out = s.run(&["sync", "--once"]);
    let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("verify_certificates") && text.contains("is not checked"), "{text}");
}

#[test]
fn the_example_ldap_channel_runs_against_slapd() {
    let t = ScimPeer::shared().unique_tenant("ldap-example");
    let root = provisio_e2e::scim_peer::repo_root();
    let ldif = std::fs::read_to_string(root.join("examples/directory.ldif")).expect("examples/directory.ldif");
    let slapd = Slapd::start_with(&ldif);
    let config = std::fs::read_to_string(root.join("examples/ldap.toml")).expect("examples/ldap.toml");
    assert!(config.contains("ldap://127.0.0.1:3389") && config.contains("http://127.0.0.1:8080/scim/v2"));
    let config =
        config.replace("ldap://127.0.0.1:3389", &slapd.url()).replace("http://127.0.0.1:8080/scim/v2", &t.base_url);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ldap.toml");
    std::fs::write(&file, config).unwrap();
    let run = |args: &[&str]| {
        let profile = provisio_e2e::profile_dir();
        let mut full = vec!["--connector-dir", profile.to_str().unwrap(), "--config", file.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = provisio_e2e::provisio_command(&full)
            .env("SANDBOX_TOKEN", &t.token)
            .env("LDAP_READER_PASSWORD", READER_PW)
            .output()
            .expect("run provisio");
        let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
        assert!(out.status.success(), "provisio {args:?} failed:\n{text}");
        text
    };
    let check = run(&["config", "check"]);
    assert!(check.contains("the configuration is valid"), "{check}");
    run(&["sync", "--once"]);
    assert_eq!(active_names(&t.users()), ["alice", "bob", "chloe", "dmitri"], "erin is disabled and not provisioned");
    slapd.replace("uid=bob,ou=people,dc=example,dc=org", "title", &["Director"]);
    run(&["sync", "--once"]);
    assert_eq!(user(&t.users(), "bob")["title"], "Director");
}
