//! The `code42` connector end to end: the real `provisio` binary and the
//! real connector library against the Code42 emulator (spec b.3), which
//! refuses whatever Code42 would refuse (DELETE, PATCH, creating an inactive
//! user, attributes outside its list, a manager that is not a Code42 id).
//! Every test ends by asserting that the emulator refused nothing.

use provisio_e2e::emulators::code42::Code42Emulator;
use provisio_e2e::emulators::{Auth, ENTERPRISE};
use provisio_e2e::scenario::{Scenario, ScenarioBuilder};
use provisio_e2e::{stderr, stdout};
use serde_json::Value;

/// One person with Code42's documented attributes.
#[derive(Clone)]
struct P {
    uid: String,
    sn: String,
    title: String,
    disabled: bool,
    /// The manager's Code42 user id (msDS-cloudExtensionAttribute10).
    manager: Option<String>,
}

fn p(uid: &str) -> P {
    P { uid: uid.into(), sn: "Tester".into(), title: "Engineer".into(), disabled: false, manager: None }
}

/// The directory with everyone's work address, division and department.
fn write(s: &Scenario, people: &[P]) {
    let mut out = String::from(
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n",
    );
    for x in people {
        let given = format!("{}{}", x.uid[..1].to_ascii_uppercase(), &x.uid[1..]);
        out.push_str(&format!(
            "dn: uid={u},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {u}\ncn: {given} {sn}\n\
             givenName: {given}\nsn: {sn}\nmail: {u}@example.org\ntitle: {title}\nentryUUID: {guid}\n\
             street: 100 Washington Ave S\nl: Minneapolis\nst: MN\npostalCode: 55401\nc: US\n\
             businessCategory: Security\ndepartmentNumber: Research\n",
            u = x.uid,
            sn = x.sn,
            title = x.title,
            guid = provisio_e2e::scenario::guid_for(&x.uid),
        ));
        if let Some(m) = &x.manager {
            out.push_str(&format!("msDS-cloudExtensionAttribute10: {m}\n"));
        }
        if x.disabled {
            out.push_str("employeeType: disabled\n");
        }
        out.push('\n');
    }
    std::fs::write(&s.ldif, out).expect("write the directory");
}

/// Ping's recommended mapping for Code42 (LDAP names of this directory).
fn code42(e: &Code42Emulator) -> ScenarioBuilder {
    let b = ScenarioBuilder::new("code42").setting("scim_url", e.base_url());
    let b = match &e.auth {
        Auth::Bearer(t) => b.setting("authentication_method", "oauth2_bearer_token").secret("access_token", t),
        Auth::Basic(u, pw) => b
            .setting("authentication_method", "basic")
            .setting("basic_username", u.as_str())
            .secret("basic_password", pw),
        Auth::Both(..) => unreachable!(),
    };
    b.mapping(&[
        ("userName", "mail"),
        ("workEmail", "mail"),
        ("givenName", "givenName"),
        ("familyName", "sn"),
        ("title", "title"),
        ("externalId", "entryUUID"),
        ("workStreet", "street"),
        ("workCity", "l"),
        ("workState", "st"),
        ("workPostalCode", "postalCode"),
        ("workCountry", "c"),
        ("division", "businessCategory"),
        ("department", "departmentNumber"),
        ("manager", "msDS-cloudExtensionAttribute10"),
    ])
}

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["userName"] == format!("{name}@example.org"))
        .unwrap_or_else(|| panic!("no {name}: {users:#?}"))
}

fn active(u: &Value) -> bool {
    u["active"].as_bool().unwrap_or(true)
}

fn no_refusal(e: &Code42Emulator) {
    let refused = e.front.refused();
    assert!(refused.is_empty(), "the emulator refused what the connector sent: {refused:#?}");
}

#[test]
fn create_update_deactivate_and_reactivate_with_every_documented_attribute() {
    let e = Code42Emulator::start();
    let s = code42(&e).build();
    write(&s, &[p("alice"), p("bob"), p("carol")]);
    s.sync_ok();
    let users = e.tenant.users();
    assert_eq!(users.len(), 3);
    let bob = user(&users, "bob");
    assert!(active(bob));
    assert_eq!(bob["name"]["givenName"], "Bob");
    assert_eq!(bob["emails"][0]["value"], "bob@example.org");
    assert_eq!(bob["title"], "Engineer");
    assert_eq!(bob["externalId"], provisio_e2e::scenario::guid_for("bob"));
    let work = &bob["addresses"][0];
    assert_eq!(
        (&work["streetAddress"], &work["locality"], &work["region"], &work["postalCode"], &work["country"]),
        (
            &Value::from("100 Washington Ave S"),
            &Value::from("Minneapolis"),
            &Value::from("MN"),
            &Value::from("55401"),
            &Value::from("US")
        )
    );
    assert_eq!(bob[ENTERPRISE]["division"], "Security");
    assert_eq!(bob[ENTERPRISE]["department"], "Research");

    // The source learns alice's Code42 user id; bob's manager is set to it.
    let alice_id = user(&users, "alice")["id"].as_str().unwrap().to_owned();
    let mut bob_p = p("bob");
    bob_p.manager = Some(alice_id.clone());
    bob_p.title = "Lead".into();
    write(&s, &[p("alice"), bob_p.clone(), p("carol")]);
    s.sync_ok();
    let bob = user(&e.tenant.users(), "bob").clone();
    assert_eq!(bob[ENTERPRISE]["manager"]["value"], alice_id.as_str());
    assert_eq!(bob["title"], "Lead");
    assert!(e.front.count("PUT", "/Users/") >= 1, "updates are PUT");

    // carol leaves the scope: deactivated, never deleted.
    write(&s, &[p("alice"), bob_p.clone()]);
    s.sync_ok();
    let users = e.tenant.users();
    assert_eq!(users.len(), 3, "Code42 never deletes");
    assert!(!active(user(&users, "carol")));

    // carol is back: re-activated, not created again.
    write(&s, &[p("alice"), bob_p.clone(), p("carol")]);
    s.sync_ok();
    let users = e.tenant.users();
    assert_eq!(users.len(), 3);
    assert!(active(user(&users, "carol")));
    assert_eq!(e.front.count("DELETE", "/") + e.front.count("PATCH", "/"), 0);
    no_refusal(&e);
}

/// The emulator refuses `active: false` on create, so erin's creation
/// proves the record went out active, and the cycle's summary warns about it.
#[test]
fn a_user_disabled_in_the_source_is_created_active() {
    let e = Code42Emulator::start();
    let s = code42(&e).build();
    let mut erin = p("erin");
    erin.disabled = true;
    write(&s, &[p("alice"), erin]);
    let out = s.run(&["sync", "--once"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    let users = e.tenant.users();
    assert_eq!(users.len(), 2, "{text}");
    assert!(active(user(&users, "erin")), "Code42 cannot hold a deactivated new user");
    assert!(
        stdout(&out).contains("user erin@example.org: disabled in the source, but this target cannot hold disabled users: it is created active"),
        "the warning is missing: {text}"
    );
    let posts: Vec<_> = e.front.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert!(posts.iter().all(|r| r.body.as_ref().is_some_and(|b| b["active"] == true)), "{posts:#?}");
    // erin stays active while disabled in scope (Code42 cannot hold her
    // deactivated); leaving the scope deactivates her.
    write(&s, &[p("alice")]);
    s.sync_ok();
    assert!(!active(user(&e.tenant.users(), "erin")));
    no_refusal(&e);
}

#[test]
fn configurations_code42_cannot_honour_are_refused_with_the_reason() {
    let e = Code42Emulator::start();
    for (builder, at, reason) in [
        (code42(&e).remove_user_action("Delete"), "remove_user_action", "cannot Delete users"),
        (code42(&e).option("user_update", false), "options.user_disable_delete", "needs User Update"),
        (code42(&e).option("provision_disabled_users", true), "options.provision_disabled_users", "created active"),
    ] {
        let s = builder.build();
        write(&s, &[p("alice")]);
        let out = s.run(&["config", "check"]);
        let text = stderr(&out);
        assert!(!out.status.success(), "{at} should be refused:\n{text}");
        assert!(text.contains(at) && text.contains(reason), "{at}: {text}");
    }
    // Deprovisioning off, User Update off: accepted.
    let s = code42(&e).option("user_update", false).option("user_disable_delete", false).build();
    write(&s, &[p("alice")]);
    s.run_ok(&["config", "check"]);
    assert!(e.front.requests().is_empty());
}

#[test]
fn basic_credentials_work_and_a_wrong_credential_fails_clearly() {
    let e = Code42Emulator::start_basic("svc-provisio", "pa55word");
    let s = code42(&e).build();
    write(&s, &[p("alice")]);
    let out = s.run_ok(&["connections", "test"]);
    assert!(out.contains("Basic Authentication"), "{out}");
    s.sync_ok();
    assert_eq!(e.tenant.users().len(), 1);
    no_refusal(&e);

    let e = Code42Emulator::start();
    let s = ScenarioBuilder::new("code42")
        .setting("scim_url", e.base_url())
        .secret("access_token", "c42-wrong-token")
        .mapping(&[("userName", "mail")])
        .build();
    write(&s, &[p("alice")]);
    let out = s.run(&["connections", "test", "--json"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let detail = report["connections"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("refused the credentials") && detail.contains("401"), "{detail}");
    assert!(!detail.contains("c42-wrong-token"));
}

#[test]
fn the_example_configuration_passes_config_check() {
    let root = provisio_e2e::scim_peer::repo_root();
    let config = root.join("examples").join("code42.toml");
    let dir = provisio_e2e::profile_dir();
    let args = ["--connector-dir", dir.to_str().unwrap(), "--config", config.to_str().unwrap(), "config", "check"];
    let out = provisio_e2e::provisio_command(&args).env("CODE42_TOKEN", "dummy-token").output().expect("run provisio");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}
