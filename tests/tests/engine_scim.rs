//! The engine end to end: the real `provisio` binary and the real `scim`
//! connector library against the real scim2-server (one tenant per test),
//! with a request-counting proxy where a test counts what was sent.
//!
//! Each test asserts what the target holds afterwards, not what provisio
//! says about itself.

use provisio_e2e::proxy::Proxy;
use provisio_e2e::scenario::{Group, Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use serde_json::Value;

fn user<'a>(users: &'a [Value], name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["userName"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .unwrap_or_else(|| panic!("no user {name} at the target: {users:#?}"))
}

fn active(u: &Value) -> bool {
    u["active"].as_bool().unwrap_or(true)
}

#[test]
fn first_cycle_creates_and_an_unchanged_second_cycle_sends_no_write() {
    let t = ScimPeer::shared().unique_tenant("create");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob").title("Site Lead"), Person::new("chloe")], &[]);

    let out = s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 3, "{out}");
    let bob = user(&users, "bob");
    assert_eq!(bob["title"], "Site Lead");
    assert_eq!(bob["name"]["givenName"], "Bob");
    assert_eq!(bob["emails"][0]["value"], "bob@example.org");
    assert_eq!(bob["emails"][0]["type"], "work");
    assert!(active(bob));
    assert!(proxy.writes() >= 3);

    // A second run (a new process: the state survived) with nothing changed.
    proxy.reset_counts();
    s.sync_ok();
    assert_eq!(proxy.writes(), 0, "an unchanged cycle wrote to the target: {:?}", proxy.counts());
    assert_eq!(t.users().len(), 3);

    let events: Vec<String> = s.audit().iter().map(|e| e["event_type"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(events.iter().filter(|e| *e == "CREATE").count(), 3, "{events:?}");
}

#[test]
fn a_changed_attribute_is_updated() {
    let t = ScimPeer::shared().unique_tenant("update");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice").title("Principal Engineer"), Person::new("bob")], &[]);
    let out = s.sync_ok();
    let users = t.users();
    assert_eq!(user(&users, "alice")["title"], "Principal Engineer", "{out}");
    assert_eq!(user(&users, "bob")["title"], "Engineer");
    // PUT replaces the resource; everything mapped is still there.
    assert_eq!(user(&users, "alice")["name"]["familyName"], "Tester");
}

#[test]
fn disabled_deleted_and_out_of_scope_users_are_disabled_with_remove_user_action_disable() {
    let t = ScimPeer::shared().unique_tenant("disable");
    let s = Scenario::scim(&t.base_url, &t.token).remove_user_action("Disable").build();
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe")], &[]);
    s.sync_ok();
    // bob is disabled in the source, chloe is deleted from it.
    s.write_directory(&[Person::new("alice"), Person::new("bob").disabled()], &[]);
    s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 3, "Disable keeps the accounts");
    assert!(active(user(&users, "alice")));
    assert!(!active(user(&users, "bob")), "bob should be disabled");
    assert!(!active(user(&users, "chloe")), "chloe should be disabled");
}

#[test]
fn deprovisioned_users_are_deleted_with_remove_user_action_delete() {
    let t = ScimPeer::shared().unique_tenant("delete");
    let s = Scenario::scim(&t.base_url, &t.token).remove_user_action("Delete").build();
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice"), Person::new("bob").disabled()], &[]);
    s.sync_ok();
    let users = t.users();
    let names: Vec<&str> = users.iter().filter_map(|u| u["userName"].as_str()).collect();
    assert_eq!(names, ["alice"], "bob (disabled) and chloe (deleted) should be deleted");
}

#[test]
fn a_user_leaving_the_filter_scope_is_deprovisioned_and_re_enabled_when_back() {
    let t = ScimPeer::shared().unique_tenant("reenable");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice")], &[]);
    s.sync_ok();
    assert!(!active(user(&t.users(), "bob")));
    s.write_directory(&[Person::new("alice"), Person::new("bob").title("Returned")], &[]);
    let out = s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 2, "re-enabled, not created again: {out}");
    assert!(active(user(&users, "bob")), "{out}");
    assert_eq!(user(&users, "bob")["title"], "Returned");
}

#[test]
fn provision_disabled_users_off_skips_them_and_on_creates_them_disabled() {
    let t = ScimPeer::shared().unique_tenant("pdu-off");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("erin").disabled()], &[]);
    s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 1, "erin is disabled and Provision Disabled Users is off");

    let t = ScimPeer::shared().unique_tenant("pdu-on");
    let s = Scenario::scim(&t.base_url, &t.token).option("provision_disabled_users", true).build();
    s.write_directory(&[Person::new("alice"), Person::new("erin").disabled()], &[]);
    s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 2);
    assert!(!active(user(&users, "erin")), "erin is created disabled");
}

#[test]
fn cleared_options_suppress_their_action_with_a_warning() {
    // User Create cleared: nobody is created, each with a warning.
    let t = ScimPeer::shared().unique_tenant("no-create");
    let s = Scenario::scim(&t.base_url, &t.token).option("user_create", false).build();
    s.write_directory(&[Person::new("alice")], &[]);
    let out = s.sync_ok();
    assert!(t.users().is_empty());
    assert!(out.contains("User Create is cleared"), "{out}");

    // User Update cleared: a change is not pushed.
    let t = ScimPeer::shared().unique_tenant("no-update");
    let s = Scenario::scim(&t.base_url, &t.token).option("user_update", false).build();
    s.write_directory(&[Person::new("alice")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice").title("Changed")], &[]);
    let out = s.sync_ok();
    assert_eq!(user(&t.users(), "alice")["title"], "Engineer");
    assert!(out.contains("User Update is cleared"), "{out}");

    // User Disable / Delete cleared: a departure is not deprovisioned.
    let t = ScimPeer::shared().unique_tenant("no-deprovision");
    let s = Scenario::scim(&t.base_url, &t.token).option("user_disable_delete", false).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    s.write_directory(&[Person::new("alice")], &[]);
    let out = s.sync_ok();
    assert!(active(user(&t.users(), "bob")));
    assert!(out.contains("User Disable / Delete is cleared"), "{out}");
}

#[test]
fn an_existing_target_user_is_linked_not_duplicated_even_in_another_case() {
    let t = ScimPeer::shared().unique_tenant("link");
    let existing = t.create_user(serde_json::json!({"userName": "ALICE", "title": "Old"}));
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice")], &[]);
    s.sync_ok();
    let users = t.users();
    assert_eq!(users.len(), 1, "linked, not duplicated: {users:#?}");
    assert_eq!(users[0]["id"], existing);
    assert_eq!(users[0]["title"], "Engineer", "the source record was pushed onto the linked account");
    assert!(s.audit().iter().any(|e| e["event_type"] == "LINK"));
}

#[test]
fn plan_writes_nothing_to_the_target_or_the_state() {
    let t = ScimPeer::shared().unique_tenant("plan");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    let out = s.run_ok(&["plan"]);
    assert!(out.contains("alice") && out.contains("create"), "{out}");
    assert_eq!(proxy.writes(), 0, "{:?}", proxy.counts());
    assert!(t.users().is_empty());
    assert!(!s.state_path().exists(), "plan created the state store");

    s.sync_ok();
    s.write_directory(&[Person::new("alice").title("Lead")], &[]);
    proxy.reset_counts();
    let out = s.run_ok(&["plan", "--json"]);
    let plan: Value = serde_json::from_str(&out).expect("plan --json is JSON");
    let rows = plan["plan"][0]["users"].as_array().expect("rows");
    let action =
        |name: &str| rows.iter().find(|r| r["user"] == name).map(|r| r["action"].as_str().unwrap_or("").to_owned());
    assert_eq!(action("alice").as_deref(), Some("update"));
    assert_eq!(action("bob").as_deref(), Some("disable"));
    assert_eq!(proxy.writes(), 0);
    assert_eq!(user(&t.users(), "alice")["title"], "Engineer");
}

#[test]
fn a_changed_unique_user_identifier_is_refused() {
    let t = ScimPeer::shared().unique_tenant("identifier");
    let mut s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice")], &[]);
    s.sync_ok();
    s.reconfigure(|b| b.setting("unique_user_identifier", "workEmail"));
    let out = s.run(&["config", "check"]);
    assert!(!out.status.success());
    let err = provisio_e2e::stderr(&out);
    assert!(err.contains("Unique User Identifier") && err.contains("orphan"), "{err}");
    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success(), "sync must refuse too");
}

#[test]
fn groups_are_created_renamed_and_their_membership_follows_the_source() {
    let t = ScimPeer::shared().unique_tenant("groups");
    let s = Scenario::scim(&t.base_url, &t.token).groups().build();
    let people = [Person::new("alice"), Person::new("bob"), Person::new("chloe")];
    s.write_directory(&people, &[Group::new("engineering", &["alice", "bob"]), Group::new("design", &["chloe"])]);
    s.sync_ok();
    let ids: std::collections::HashMap<String, String> = t
        .users()
        .iter()
        .map(|u| (u["userName"].as_str().unwrap().to_owned(), u["id"].as_str().unwrap().to_owned()))
        .collect();
    let members = |g: &Value| {
        let mut m: Vec<String> = g["members"]
            .as_array()
            .map(|a| a.iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        m.sort();
        m
    };
    let groups = t.groups();
    assert_eq!(groups.len(), 2);
    let eng = groups.iter().find(|g| g["displayName"] == "engineering").expect("engineering");
    let mut want = vec![ids["alice"].clone(), ids["bob"].clone()];
    want.sort();
    assert_eq!(members(eng), want);

    let design_id = groups.iter().find(|g| g["displayName"] == "design").expect("design")["id"].clone();

    // bob leaves engineering, chloe joins; design is renamed (same entry GUID).
    s.write_directory(
        &people,
        &[Group::new("engineering", &["alice", "chloe"]), Group::new("design", &["chloe"]).renamed("product-design")],
    );
    s.sync_ok();
    let groups = t.groups();
    assert_eq!(groups.len(), 2, "renamed, not created again: {groups:#?}");
    let eng = groups.iter().find(|g| g["displayName"] == "engineering").expect("engineering");
    let mut want = vec![ids["alice"].clone(), ids["chloe"].clone()];
    want.sort();
    assert_eq!(members(eng), want);
    let renamed = groups.iter().find(|g| g["displayName"] == "product-design").expect("the renamed group");
    assert_eq!(renamed["id"], design_id);

    // The renamed group leaves the scope: deleted.
    s.write_directory(&people, &[Group::new("engineering", &["alice", "chloe"])]);
    s.sync_ok();
    let names: Vec<String> = t.groups().iter().map(|g| g["displayName"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["engineering"]);
}

#[test]
fn basic_authentication_reaches_the_target_through_an_authenticating_proxy() {
    let t = ScimPeer::shared().unique_tenant("basic");
    let proxy = Proxy::builder(&t.base_url).require_basic("scim-admin", "pa55 w:rd").forward_bearer(&t.token).start();
    let s = provisio_e2e::scenario::ScenarioBuilder::new("scim")
        .setting("scim_url", proxy.url())
        .setting("authentication_method", "basic")
        .setting("basic_username", "scim-admin")
        .secret("basic_password", "pa55 w:rd")
        .build();
    s.write_directory(&[Person::new("alice")], &[]);
    s.sync_ok();
    assert_eq!(t.users().len(), 1);

    // A wrong password: the activation check fails and nothing is synced.
    let t2 = ScimPeer::shared().unique_tenant("basic-wrong");
    let proxy2 = Proxy::builder(&t2.base_url).require_basic("scim-admin", "right").forward_bearer(&t2.token).start();
    let s2 = provisio_e2e::scenario::ScenarioBuilder::new("scim")
        .setting("scim_url", proxy2.url())
        .setting("authentication_method", "basic")
        .setting("basic_username", "scim-admin")
        .secret("basic_password", "Wr0ng-Pa55")
        .build();
    s2.write_directory(&[Person::new("alice")], &[]);
    let out = s2.run(&["connections", "test"]);
    assert!(!out.status.success());
    let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
    assert!(text.contains("401"), "the error says what the target answered: {text}");
    assert!(!text.contains("Wr0ng-Pa55"), "the password leaked: {text}");
    let out = s2.run(&["sync", "--once"]);
    assert!(!out.status.success());
    assert!(t2.users().is_empty());
}

#[test]
fn provision_one_user_shows_each_step_and_touches_only_that_user() {
    let t = ScimPeer::shared().unique_tenant("provision");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    let out = s.run_ok(&["provision", "--user", "bob"]);
    for step in ["step 1, scope", "step 2, mapping, match and action", "step 3, result", "create"] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    let users = t.users();
    assert_eq!(users.len(), 1, "only bob: {users:#?}");
    assert_eq!(users[0]["userName"], "bob");

    // Nobody by that name, and nothing to deprovision: "does not exist" (4).
    let out = s.run(&["provision", "--user", "nobody"]);
    assert_eq!(out.status.code(), Some(4), "{}", provisio_e2e::stderr(&out));
    assert!(
        provisio_e2e::stderr(&out).contains("'nobody' is not in any channel's scope"),
        "{}",
        provisio_e2e::stderr(&out)
    );
    let out = s.run(&["channels", "approve", "--channel", "no-such-channel"]);
    assert_eq!(out.status.code(), Some(4), "{}", provisio_e2e::stderr(&out));
    assert_eq!(t.users().len(), 1);
}

#[test]
fn channels_list_shows_counts_and_reset_makes_the_next_cycle_link() {
    let t = ScimPeer::shared().unique_tenant("channels");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    let out = s.run_ok(&["channels", "list", "--json"]);
    let list: Value = serde_json::from_str(&out).expect("channels list --json is JSON");
    assert_eq!(list[0]["channel"], "people", "{list:#}");
    assert_eq!(list[0]["users"], 2);
    assert_eq!(list[0]["dirty"], 0);
    let table = s.run_ok(&["channels", "list"]);
    assert!(table.contains("people") && table.contains("created 2"), "{table}");

    let out = s.run_ok(&["channels", "reset", "--channel", "target/people"]);
    assert!(out.contains("state forgotten"), "{out}");
    // The next cycle behaves as the first: existing accounts are linked.
    s.sync_ok();
    assert_eq!(t.users().len(), 2, "no duplicates after a reset");
    let links = s.audit().iter().filter(|e| e["event_type"] == "LINK").count();
    assert_eq!(links, 2);
}

#[test]
fn a_malformed_source_file_provisions_nothing_and_names_the_line() {
    let t = ScimPeer::shared().unique_tenant("malformed");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    s.sync_ok();
    // Break the file: a line without the ':' separator in the middle.
    let text = std::fs::read_to_string(&s.ldif).unwrap().replacen("title: Engineer", "title Engineer", 1);
    std::fs::write(&s.ldif, text).unwrap();
    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success());
    let text = provisio_e2e::stdout(&out) + &provisio_e2e::stderr(&out);
    assert!(text.contains("directory.ldif") && text.contains("line"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    let users = t.users();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(active), "a failed read deprovisioned someone: {users:#?}");
}

/// A group operation that meets a busy target is retried within the cycle,
/// as a user's is (it used to wait for the next cycle): the first create and
/// the first delete of a group are answered 503 with `Retry-After: 1`, and
/// both groups are still created, then deleted, in one cycle each.
#[test]
fn group_operations_wait_out_a_busy_target_within_the_cycle() {
    use provisio_e2e::proxy::Response;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let t = ScimPeer::shared().unique_tenant("busy-groups");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).groups().build();
    let people = [Person::new("alice"), Person::new("bob")];
    let (posts, deletes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (p, d) = (posts.clone(), deletes.clone());
    proxy.set_fault(move |r| {
        let first = match r.method.as_str() {
            "POST" if r.path.ends_with("/Groups") => p.fetch_add(1, Ordering::SeqCst) == 0,
            "DELETE" if r.path.contains("/Groups/") => d.fetch_add(1, Ordering::SeqCst) == 0,
            _ => false,
        };
        first.then(|| Response::scim_error(503, "busy").header("Retry-After", "1"))
    });
    s.write_directory(&people, &[Group::new("ops", &["alice"]), Group::new("sales", &["bob"])]);
    let out = s.sync_ok();
    assert_eq!(t.groups().len(), 2, "{out}");
    assert!(posts.load(Ordering::SeqCst) >= 3, "one create was refused and tried again");

    // One group leaves (below the deletion guard's thresholds): deleted in this cycle.
    s.write_directory(&people, &[Group::new("ops", &["alice"])]);
    let out = s.sync_ok();
    let left: Vec<String> = t.groups().iter().map(|g| g["displayName"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["ops"], "{out}");
    assert_eq!(deletes.load(Ordering::SeqCst), 2, "the delete was refused once and tried again");
}

/// A Filter Expression whose `%s` sits inside a longer string literal
/// (`userName eq "%s.old"`) gets the value escaped once, not quoted a second
/// time: scim2-server accepts every lookup (it answered 400 to the doubly
/// quoted filter, so every create failed), also for a value holding a quote.
#[test]
fn a_filter_expression_with_the_placeholder_inside_a_longer_value_is_valid() {
    let t = ScimPeer::shared().unique_tenant("filter-expr");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).setting("filter_expression", r#"userName eq "%s.old""#).build();
    s.write_directory(&[Person::new("o\"brien"), Person::new("alice")], &[]);
    s.sync_ok();
    assert_eq!(t.users().len(), 2);
    let lookups: Vec<(String, u16)> =
        proxy.requests().iter().filter(|r| r.path.contains("filter=")).map(|r| (r.path.clone(), r.status)).collect();
    assert_eq!(lookups.len(), 2, "one lookup per user: {lookups:?}");
    assert!(lookups.iter().all(|(_, status)| *status == 200), "{lookups:?}");
}
