//! The `contentful` connector end to end: the real `provisio` binary and the
//! real connector library against the Contentful emulator (spec b.2), which
//! refuses whatever Contentful would refuse. Every test ends by asserting
//! that the emulator refused nothing the connector sent.

use provisio_e2e::emulators::contentful::ContentfulEmulator;
use provisio_e2e::scenario::{Group, Person, ScenarioBuilder};
use provisio_e2e::{stderr, stdout};
use serde_json::Value;

/// Ping's recommended mapping, with the guide's names.
fn contentful(e: &ContentfulEmulator) -> ScenarioBuilder {
    ScenarioBuilder::new("contentful").setting("scim_url", e.scim_url()).secret("access_token", &e.token).mapping(&[
        ("userName", "mail"),
        ("email", "mail"),
        ("firstName", "givenName"),
        ("lastName", "sn"),
    ])
}

fn user<'a>(users: &'a [Value], email: &str) -> Option<&'a Value> {
    users.iter().find(|u| u["userName"] == email)
}

fn team<'a>(groups: &'a [Value], name: &str) -> &'a Value {
    groups.iter().find(|g| g["displayName"] == name).unwrap_or_else(|| panic!("no team {name}: {groups:#?}"))
}

/// The team's members as (display, userName) pairs, sorted.
fn members(e: &ContentfulEmulator, team: &Value) -> Vec<(String, String)> {
    let users = e.tenant.users();
    let mut out: Vec<(String, String)> = team["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let id = m["value"].as_str().unwrap_or_default();
            let name = users.iter().find(|u| u["id"] == id).map(|u| u["userName"].as_str().unwrap_or("").to_owned());
            (m["display"].as_str().unwrap_or("").to_owned(), name.unwrap_or_else(|| format!("unknown {id}")))
        })
        .collect();
    out.sort();
    out
}

fn no_refusal(e: &ContentfulEmulator) {
    let refused = e.front.refused();
    assert!(refused.is_empty(), "the emulator refused what the connector sent: {refused:#?}");
}

#[test]
fn members_and_teams_lifecycle_create_delete_and_no_update() {
    let e = ContentfulEmulator::start();
    let s = contentful(&e).groups().build();
    let bob = Person::new("bob");
    s.write_directory(
        &[Person::new("alice"), bob.clone(), Person::new("chloe"), Person::new("erin").disabled()],
        &[Group::new("writers", &["alice", "bob"])],
    );
    let out = s.sync_ok();

    let users = e.tenant.users();
    assert_eq!(users.len(), 3, "erin is disabled and not provisioned: {out}");
    let alice = user(&users, "alice@example.org").expect("alice");
    assert_eq!(alice["name"]["givenName"], "Alice");
    assert_eq!(alice["name"]["familyName"], "Tester");
    assert!(
        alice.get("active").is_none() && alice.get("emails").is_none(),
        "read-only attributes are not sent: {alice}"
    );
    let groups = e.tenant.groups();
    assert_eq!(
        members(&e, team(&groups, "writers")),
        [("Alice Tester".into(), "alice@example.org".into()), ("Bob Tester".into(), "bob@example.org".into())]
    );
    assert_eq!(e.front.count("GET", "/Users?filter"), 4 - 1, "found by userName eq <e-mail>");

    // Immutable: a changed name is never pushed, not even tried.
    e.front.clear_log();
    let mut renamed_bob = bob.clone();
    renamed_bob.sn = "Builder".into();
    s.write_directory(
        &[Person::new("alice"), renamed_bob.clone(), Person::new("chloe")],
        &[Group::new("writers", &["alice", "bob"])],
    );
    let out = s.sync_ok();
    assert_eq!(user(&e.tenant.users(), "bob@example.org").unwrap()["name"]["familyName"], "Tester", "{out}");
    assert_eq!(e.front.count("PUT", "/Users") + e.front.count("PATCH", "/Users"), 0, "{:#?}", e.front.requests());

    // Membership: chloe in, bob out, by PATCH on members.
    s.write_directory(
        &[Person::new("alice"), renamed_bob.clone(), Person::new("chloe")],
        &[Group::new("writers", &["alice", "chloe"])],
    );
    s.sync_ok();
    let writers = team(&e.tenant.groups(), "writers").clone();
    assert_eq!(
        members(&e, &writers),
        [("Alice Tester".into(), "alice@example.org".into()), ("Chloe Tester".into(), "chloe@example.org".into())]
    );
    assert!(e.front.count("PATCH", "/Groups/") >= 1);

    // Remove User Action Delete: bob leaves the organization.
    s.write_directory(&[Person::new("alice"), Person::new("chloe")], &[Group::new("writers", &["alice", "chloe"])]);
    s.sync_ok();
    assert!(user(&e.tenant.users(), "bob@example.org").is_none());
    assert!(e.front.count("DELETE", "/Users/") == 1);

    // A renamed team keeps its name at Contentful, with a warning.
    let renamed = Group::new("writers", &["alice", "chloe"]).renamed("authors");
    s.write_directory(&[Person::new("alice"), Person::new("chloe")], std::slice::from_ref(&renamed));
    let run = s.run(&["sync", "--once"]);
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));
    let all = format!("{}{}", stdout(&run), stderr(&run));
    assert!(all.contains("are not renamed"), "a warning says the team keeps its name: {all}");
    assert_eq!(e.tenant.groups().len(), 1);
    assert_eq!(e.tenant.groups()[0]["displayName"], "writers");

    // The last team gone from the source: the source returns no group, so
    // the deletion guard holds the deletion until approved; then the team
    // is deleted. bob back is added again.
    s.write_directory(&[Person::new("alice"), Person::new("chloe"), Person::new("bob")], &[]);
    let out = s.sync_ok();
    assert!(out.contains("1 group deletion(s) held"), "{out}");
    assert_eq!(e.tenant.groups().len(), 1);
    s.run_ok(&["channels", "approve", "--channel", "people"]);
    s.sync_ok();
    assert!(e.tenant.groups().is_empty());
    let users = e.tenant.users();
    assert_eq!(users.len(), 3);
    assert!(user(&users, "bob@example.org").is_some());
    no_refusal(&e);
}

#[test]
fn a_member_disabled_in_the_source_is_removed_from_the_organization() {
    let e = ContentfulEmulator::start();
    let s = contentful(&e).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice"), Person::new("bob").disabled()], &[]);
    s.sync_ok();
    let users = e.tenant.users();
    assert!(user(&users, "bob@example.org").is_none(), "Delete is the only remove action: {users:#?}");
    assert_eq!(users.len(), 1);
    no_refusal(&e);
}

#[test]
fn configurations_contentful_cannot_honour_are_refused_with_the_reason() {
    let e = ContentfulEmulator::start();
    for (builder, option, reason) in [
        (contentful(&e).option("user_update", true), "options.user_update", "immutable"),
        (contentful(&e).option("provision_disabled_users", true), "options.provision_disabled_users", "disabled"),
        (contentful(&e).remove_user_action("Disable"), "remove_user_action", "cannot Disable users"),
    ] {
        let s = builder.build();
        s.write_directory(&[Person::new("alice")], &[]);
        let out = s.run(&["config", "check"]);
        let text = stderr(&out);
        assert!(!out.status.success(), "{option} should be refused:\n{text}");
        assert!(text.contains(option) && text.contains(reason), "{option}: {text}");
        let sync = s.run(&["sync", "--once"]);
        assert!(!sync.status.success());
    }
    assert!(e.tenant.users().is_empty());
    assert!(e.front.requests().is_empty(), "nothing is sent with a refused configuration");
}

#[test]
fn the_activation_check_passes_with_the_token_and_fails_clearly_without_it() {
    let e = ContentfulEmulator::start();
    let s = contentful(&e).build();
    s.write_directory(&[], &[]);
    let out = s.run_ok(&["connections", "test"]);
    assert!(out.contains("ok") && out.contains("answered 200"), "{out}");

    let wrong = ScenarioBuilder::new("contentful")
        .setting("scim_url", e.scim_url())
        .secret("access_token", "CFPAT-not-the-token")
        .mapping(&[("userName", "mail"), ("firstName", "givenName"), ("lastName", "sn")])
        .build();
    wrong.write_directory(&[Person::new("alice")], &[]);
    let out = wrong.run(&["connections", "test", "--json"]);
    assert!(!out.status.success());
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {text}"));
    let detail = report["connections"][0]["detail"].as_str().unwrap_or_default();
    assert_eq!(report["connections"][0]["ok"], false);
    assert!(detail.contains("refused the credentials") && detail.contains("401"), "{detail}");
    assert!(!text.contains("CFPAT-not-the-token"), "the token is never printed: {text}");
    let sync = wrong.run(&["sync", "--once"]);
    assert!(!sync.status.success() || stdout(&sync).contains("failed"), "{}", stdout(&sync));
    assert!(e.tenant.users().is_empty());
}

#[test]
fn the_example_configuration_passes_config_check() {
    let root = provisio_e2e::scim_peer::repo_root();
    let config = root.join("examples").join("contentful.toml");
    let dir = provisio_e2e::profile_dir();
    let args = ["--connector-dir", dir.to_str().unwrap(), "--config", config.to_str().unwrap(), "config", "check"];
    let out =
        provisio_e2e::provisio_command(&args).env("CONTENTFUL_TOKEN", "dummy-token").output().expect("run provisio");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}
