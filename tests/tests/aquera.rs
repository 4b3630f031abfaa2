//! The `aquera` connector end to end: the real `provisio` binary and the
//! real connector library against the Aquera emulator (spec b.4), whose
//! scim2-server serves and enforces an `IANUser` custom schema. Refresh
//! Fields (`provisio connections refresh-fields`) makes the custom fields
//! mappable; the emulator then holds them in their extension.

use provisio_e2e::emulators::Auth;
use provisio_e2e::emulators::aquera::{AqueraEmulator, IANUSER_URN};
use provisio_e2e::scenario::{Scenario, ScenarioBuilder};
use provisio_e2e::{stderr, stdout};
use serde_json::Value;

/// One person with an office and a badge.
#[derive(Clone)]
struct P {
    uid: String,
    office: String,
    disabled: bool,
}

fn p(uid: &str, office: &str) -> P {
    P { uid: uid.into(), office: office.into(), disabled: false }
}

/// The directory: people (with `l` = office, `employeeNumber` = badge) and
/// groups of people.
fn write(s: &Scenario, people: &[P], groups: &[(&str, &[&str])]) {
    let mut out = String::from(
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n",
    );
    for (i, x) in people.iter().enumerate() {
        out.push_str(&format!(
            "dn: uid={u},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {u}\ncn: {u}\ngivenName: {u}\n\
             sn: Tester\nmail: {u}@example.org\nl: {office}\nemployeeNumber: B{n}\nentryUUID: {guid}\n",
            u = x.uid,
            office = x.office,
            n = 100 + i,
            guid = provisio_e2e::scenario::guid_for(&x.uid),
        ));
        if x.disabled {
            out.push_str("employeeType: disabled\n");
        }
        out.push('\n');
    }
    for (cn, members) in groups {
        out.push_str(&format!(
            "dn: cn={cn},ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: {cn}\nentryUUID: {}\n",
            provisio_e2e::scenario::guid_for(&format!("group-{cn}"))
        ));
        for m in *members {
            out.push_str(&format!("member: uid={m},ou=people,dc=example,dc=org\n"));
        }
        out.push('\n');
    }
    std::fs::write(&s.ldif, out).expect("write the directory");
}

const STANDARD: [(&str, &str); 4] =
    [("userName", "uid"), ("givenName", "givenName"), ("familyName", "sn"), ("workEmail", "mail")];

fn mapping(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    STANDARD.iter().copied().chain(extra.iter().copied()).collect()
}

fn aquera(e: &AqueraEmulator, extra: &[(&'static str, &'static str)]) -> ScenarioBuilder {
    let b = ScenarioBuilder::new("aquera").setting("scim_url", e.scim_url());
    let b = match &e.auth {
        Auth::Bearer(t) => b.secret("access_token", t),
        Auth::Basic(u, pw) => b.setting("basic_username", u.as_str()).secret("basic_password", pw),
        Auth::Both(t, ..) => b.secret("access_token", t),
    };
    b.mapping(&mapping(extra))
}

const CUSTOM: [(&str, &str); 2] = [("IANUser:officeLocation", "l"), ("IANUser:badgeNumber", "employeeNumber")];

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users.iter().find(|u| u["userName"] == name).unwrap_or_else(|| panic!("no {name}: {users:#?}"))
}

fn active(u: &Value) -> bool {
    u["active"].as_bool().unwrap_or(true)
}

fn check(s: &Scenario) -> (bool, String) {
    let out = s.run(&["config", "check"]);
    (out.status.success(), format!("{}{}", stdout(&out), stderr(&out)))
}

fn refresh(s: &Scenario) -> std::process::Output {
    s.run(&["connections", "refresh-fields", "--connection", "target"])
}

fn no_refusal(e: &AqueraEmulator) {
    let refused = e.front.refused();
    assert!(refused.is_empty(), "the emulator refused what the connector sent: {refused:#?}");
}

#[test]
fn custom_fields_are_mappable_after_refresh_fields_and_travel_in_their_extension() {
    let e = AqueraEmulator::start();
    let mut s = aquera(&e, &CUSTOM).build();
    write(&s, &[p("alice", "Paris"), p("bob", "Lyon")], &[]);

    // Before Refresh Fields the target's custom fields are unknown.
    let (ok, text) = check(&s);
    assert!(!ok && text.contains("IANUser:officeLocation") && text.contains("refresh-fields"), "{text}");
    assert!(e.tenant.users().is_empty());

    let out = s.run(&["connections", "refresh-fields", "--connection", "target", "--json"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let found: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let field = |code: &str| found["attributes"].as_array().unwrap().iter().find(|a| a["code"] == code).cloned();
    let office = field("IANUser:officeLocation").expect("officeLocation");
    assert_eq!(office["target"], format!("{IANUSER_URN}:officeLocation"));
    assert_eq!(field("IANUser:badgeNumber").expect("badgeNumber")["required"], true);
    assert!(field("IANUser:createdBy").is_none(), "read-only custom fields are not offered: {found}");
    assert!(field("userName").is_some(), "standard fields are merged in: {found}");

    // badgeNumber is required by the target's schema: leaving it out is refused.
    s.reconfigure(|b| b.mapping(&mapping(&[("IANUser:officeLocation", "l")])));
    let (ok, text) = check(&s);
    assert!(!ok && text.contains("IANUser:badgeNumber") && text.contains("not mapped"), "{text}");

    s.reconfigure(|b| b.mapping(&mapping(&CUSTOM)));
    let (ok, text) = check(&s);
    assert!(ok, "{text}");
    s.sync_ok();
    let users = e.tenant.users();
    assert_eq!(users.len(), 2);
    let alice = user(&users, "alice");
    assert_eq!(alice[IANUSER_URN]["officeLocation"], "Paris");
    assert_eq!(alice[IANUSER_URN]["badgeNumber"], "B100");
    assert!(alice["schemas"].as_array().unwrap().iter().any(|u| u == IANUSER_URN));
    assert_eq!(alice["emails"][0]["value"], "alice@example.org");

    // An update carries the custom field (PUT, in the extension).
    write(&s, &[p("alice", "Berlin"), p("bob", "Lyon")], &[]);
    s.sync_ok();
    let alice = user(&e.tenant.users(), "alice").clone();
    assert_eq!(alice[IANUSER_URN]["officeLocation"], "Berlin");
    assert_eq!(alice[IANUSER_URN]["badgeNumber"], "B100");
    assert!(e.front.count("PUT", "/Users/") >= 1);
    assert_eq!(e.front.count("PATCH", "/Users"), 0, "users are never PATCHed");
    no_refusal(&e);
}

#[test]
fn an_invalid_schema_leaves_the_previous_fields_and_says_what_is_wrong() {
    let e = AqueraEmulator::start();
    let s = aquera(&e, &CUSTOM).build();
    write(&s, &[p("alice", "Paris")], &[]);
    assert!(refresh(&s).status.success());
    e.serve_broken_schema(true);
    let out = refresh(&s);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("invalid") && text.contains("has no name") && text.contains("not an RFC 7643 type"),
        "{text}"
    );
    assert!(text.contains("stay in place") || text.contains("kept"), "{text}");
    // The fields recorded before are still there.
    let (ok, text) = check(&s);
    assert!(ok, "{text}");
    s.sync_ok();
    assert_eq!(user(&e.tenant.users(), "alice")[IANUSER_URN]["officeLocation"], "Paris");
}

#[test]
fn users_are_disabled_re_enabled_and_deleted_and_groups_patched() {
    let e = AqueraEmulator::start();
    let mut s = aquera(&e, &[]).groups().build();
    let people = [p("alice", "Paris"), p("bob", "Lyon"), p("carol", "Rome")];
    write(&s, &people, &[("sales", &["alice", "bob"])]);
    s.sync_ok();
    let groups = e.tenant.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["members"].as_array().map(Vec::len), Some(2));

    // bob disabled in the source, carol gone: both disabled (the default action).
    let mut bob = p("bob", "Lyon");
    bob.disabled = true;
    write(&s, &[p("alice", "Paris"), bob, p("carol", "Rome")], &[("sales", &["alice", "carol"])]);
    s.sync_ok();
    let users = e.tenant.users();
    assert!(!active(user(&users, "bob")));
    assert!(active(user(&users, "carol")));
    let groups = e.tenant.groups();
    let members: Vec<&str> =
        groups[0]["members"].as_array().unwrap().iter().filter_map(|m| m["value"].as_str()).collect();
    assert!(members.contains(&user(&users, "carol")["id"].as_str().unwrap()) && members.len() == 2);
    assert!(e.front.count("PATCH", "/Groups/") >= 1, "groups are updated with PATCH");

    // bob enabled again: re-enabled, not created again.
    write(&s, &people, &[("sales", &["alice", "carol"])]);
    s.sync_ok();
    assert!(active(user(&e.tenant.users(), "bob")));
    assert_eq!(e.tenant.users().len(), 3);

    // Remove User Action Delete: carol leaves and is deleted; the group goes
    // too, once approved (the source returns no group: the deletion guard
    // holds the deletion of the last one).
    s.reconfigure(|b| b.remove_user_action("Delete"));
    write(&s, &[p("alice", "Paris"), p("bob", "Lyon")], &[]);
    let out = s.sync_ok();
    let names: Vec<String> = e.tenant.users().iter().map(|u| u["userName"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"carol".to_owned()));
    assert!(out.contains("1 group deletion(s) held"), "{out}");
    assert_eq!(e.tenant.groups().len(), 1);
    s.run_ok(&["channels", "approve", "--channel", "people"]);
    s.sync_ok();
    assert!(e.tenant.groups().is_empty());
    no_refusal(&e);
}

#[test]
fn a_refused_group_creation_fails_that_group_only() {
    let e = AqueraEmulator::start();
    let s = aquera(&e, &[]).groups().build();
    let people = [p("alice", "Paris"), p("bob", "Lyon")];
    write(&s, &people, &[("sales", &["alice"])]);
    s.sync_ok();
    e.refuse_group_creation(true);
    write(&s, &people, &[("sales", &["alice", "bob"]), ("support", &["bob"])]);
    let out = s.run(&["sync", "--once"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("support") && text.contains("by hand"), "{text}");
    let groups = e.tenant.groups();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["members"].as_array().map(Vec::len), Some(2), "the existing group was still updated");
    assert_eq!(e.tenant.users().len(), 2);
}

#[test]
fn the_token_wins_basic_works_alone_and_a_wrong_credential_fails_clearly() {
    // Both set: the token is used (the emulator takes only the token).
    let e = AqueraEmulator::start();
    let s = aquera(&e, &[]).setting("basic_username", "nobody").secret("basic_password", "wrong").build();
    write(&s, &[p("alice", "Paris")], &[]);
    let out = s.run_ok(&["connections", "test"]);
    assert!(out.contains("Bearer"), "{out}");
    s.sync_ok();
    assert_eq!(e.tenant.users().len(), 1);

    // Basic alone, against an application that takes Basic.
    let e = AqueraEmulator::start_with(Auth::Basic("svc".into(), "pw".into()));
    let s = aquera(&e, &[]).build();
    write(&s, &[p("alice", "Paris")], &[]);
    assert!(s.run_ok(&["connections", "test"]).contains("Basic"));

    // A wrong token.
    let e = AqueraEmulator::start();
    let s = ScenarioBuilder::new("aquera")
        .setting("scim_url", e.scim_url())
        .secret("access_token", "aq-wrong")
        .mapping(&STANDARD)
        .build();
    write(&s, &[p("alice", "Paris")], &[]);
    let out = s.run(&["connections", "test", "--json"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|err| panic!("{err}: {}", stderr(&out)));
    let detail = report["connections"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("refused the credentials") && detail.contains("401"), "{detail}");
    let out = refresh(&s);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

#[test]
fn the_example_configuration_passes_config_check() {
    let root = provisio_e2e::scim_peer::repo_root();
    let config = root.join("examples").join("aquera.toml");
    let dir = provisio_e2e::profile_dir();
    let args = ["--connector-dir", dir.to_str().unwrap(), "--config", config.to_str().unwrap(), "config", "check"];
    let out = provisio_e2e::provisio_command(&args).env("AQUERA_TOKEN", "dummy-token").output().expect("run provisio");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}
