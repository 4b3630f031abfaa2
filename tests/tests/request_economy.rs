//! What a cycle asks of the target, counted at the target's door (a proxy in
//! front of scim2-server): a first cycle links existing accounts from one
//! listing instead of one lookup per user, and a cycle with nothing to send
//! sends nothing, not even the activation check, which still guards every
//! cycle that does send (issue 7; `host/engine/src/listing.rs`).

use provisio_e2e::proxy::Proxy;
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use serde_json::json;

fn people(n: usize) -> Vec<Person> {
    (0..n).map(|i| Person::new(&format!("user{i:03}"))).collect()
}

#[test]
fn a_first_cycle_links_existing_accounts_from_one_listing_and_creates_the_rest_without_lookups() {
    let t = ScimPeer::shared().unique_tenant("listing");
    // 20 of the 60 people already have an account, some spelled in upper case.
    for i in (0..60).step_by(3) {
        let name = if i % 2 == 0 { format!("USER{i:03}") } else { format!("user{i:03}") };
        let created =
            t.post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}));
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&people(60), &[]);
    let out = s.sync_ok();

    let users = t.users();
    assert_eq!(users.len(), 60, "no account may be duplicated: {out}");
    let events: Vec<String> = s.audit().iter().map(|e| e["event_type"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(events.iter().filter(|e| *e == "LINK").count(), 20, "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "CREATE").count(), 40, "{events:?}");
    let requests = proxy.requests();
    let lookups = requests.iter().filter(|r| r.method == "GET" && r.path.contains("filter=")).count();
    assert_eq!(lookups, 0, "no per-user lookup: {:?}", proxy.counts());
    let listings: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/Users?") && r.path.contains("count=1000"))
        .collect();
    assert_eq!(listings.len(), 1, "one page lists 20 accounts: {listings:?}");
    let counts = proxy.counts();
    assert_eq!(counts.route("POST", "/Users"), 40, "{counts:?}");
    assert_eq!(counts.route("PUT", "/Users"), 20, "a linked account gets the record: {counts:?}");
}

#[test]
fn few_users_to_provision_are_looked_up_one_by_one() {
    let t = ScimPeer::shared().unique_tenant("lookups");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&people(3), &[]);
    s.sync_ok();
    let requests = proxy.requests();
    assert_eq!(requests.iter().filter(|r| r.method == "GET" && r.path.contains("filter=")).count(), 3);
    assert!(!requests.iter().any(|r| r.path.contains("count=1000")), "no listing for 3 users");
    assert_eq!(t.users().len(), 3);
}

#[test]
fn a_cycle_with_nothing_to_send_contacts_no_target_and_one_that_sends_is_checked_first() {
    let t = ScimPeer::shared().unique_tenant("quiet");
    let proxy = Proxy::start(&t.base_url);
    let mut s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&people(3), &[]);
    s.sync_ok();

    proxy.reset_counts();
    s.sync_ok();
    assert!(proxy.requests().is_empty(), "an unchanged cycle sent {:?}", proxy.requests());

    // Wrong credentials: with nothing to send, nothing is found out ...
    let url = proxy.url();
    s.reconfigure(|b| b.setting("scim_url", url.as_str()).secret("access_token", "not-the-token"));
    s.sync_ok();
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // ... and with a change to send, the activation check stops the channel
    // before any write.
    let mut changed = people(3);
    changed[1] = Person::new("user001").title("Principal");
    s.write_directory(&changed, &[]);
    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("activation check failed, connection not synced"), "{stderr}");
    assert_eq!(proxy.writes(), 0, "{:?}", proxy.requests());
    let user001 = t.users().into_iter().find(|u| u["userName"] == "user001").expect("user001");
    assert_eq!(user001["title"], "Engineer");

    // The right credentials again: the change goes through, after the check.
    let token = t.token.clone();
    s.reconfigure(|b| b.setting("scim_url", url.as_str()).secret("access_token", &token));
    proxy.reset_counts();
    s.sync_ok();
    let requests = proxy.requests();
    assert!(requests.first().is_some_and(|r| r.method == "GET"), "the check comes first: {requests:?}");
    assert_eq!(proxy.counts().route("PUT", "/Users"), 1, "{requests:?}");
    let user001 = t.users().into_iter().find(|u| u["userName"] == "user001").expect("user001");
    assert_eq!(user001["title"], "Principal");
}

/// The activation check follows the retry policy of an operation: one 503
/// with `Retry-After: 1` at the start of a cycle is waited out and the check
/// tried again, instead of failing the channel's whole cycle. A 401 is not
/// retried.
#[test]
fn the_activation_check_waits_out_a_busy_target_and_does_not_retry_refused_credentials() {
    use provisio_e2e::proxy::Response;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let t = ScimPeer::shared().unique_tenant("busy-check");
    let proxy = Proxy::start(&t.base_url);
    let s = Scenario::scim(&proxy.url(), &t.token).build();
    s.write_directory(&people(3), &[]);
    let is_check = |path: &str| path.ends_with("/Users?startIndex=1&count=1");
    let busy = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = busy.clone();
    proxy.set_fault(move |r| {
        (r.method == "GET" && is_check(&r.path) && seen.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Response::scim_error(503, "busy").header("Retry-After", "1"))
    });
    let started = std::time::Instant::now();
    let out = s.sync_ok();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was not waited for");
    assert_eq!(t.users().len(), 3, "{out}");
    let checks: Vec<u16> =
        proxy.requests().iter().filter(|r| r.method == "GET" && is_check(&r.path)).map(|r| r.status).collect();
    assert_eq!(checks, [503, 200], "one check answered busy, the next one passed");

    // Refused credentials are not a busy target: one check, no retry.
    proxy.clear_fault();
    proxy.set_fault(move |r| (r.method == "GET" && is_check(&r.path)).then(|| Response::scim_error(401, "no")));
    proxy.reset_counts();
    s.write_directory(&people(4), &[]);
    let out = s.run(&["sync", "--once"]);
    assert!(!out.status.success());
    let checks = proxy.requests().iter().filter(|r| r.method == "GET" && is_check(&r.path)).count();
    assert_eq!(checks, 1, "{:?}", proxy.requests());
}
