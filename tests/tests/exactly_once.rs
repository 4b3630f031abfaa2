//! Exactly once, where the target does not stop a client's mistakes: the
//! forgiving target (the sandbox accepting a second account with a taken
//! userName) behind a proxy that makes create outcomes unknown.
//!
//! - A duplicate provisio's own attempts made (a gateway gave up on a
//!   create, answered 502, and the target carried it out later, after the
//!   retry had looked the user up, found nothing and created it) is
//!   repaired: one account kept and linked, the other deleted, audited as
//!   `DEDUPLICATE`.
//! - Accounts provisio cannot prove it made are never touched: the user is
//!   reported with every target id, and such users never quarantine the
//!   channel.
//! - A failed create follows the growing retry schedule like every dirty
//!   record.

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::targets::TestTarget;
use provisio_e2e::{stderr, stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn a_duplicate_made_by_provisios_own_retried_create_is_repaired_and_audited() {
    let target = TestTarget::forgiving();
    let first = Arc::new(AtomicBool::new(true));
    let proxy = Proxy::builder(&target.base_url())
        .fault(move |req| {
            let alice = req.method == "POST" && req.json().is_some_and(|b| b["userName"] == "alice");
            (alice && first.swap(false, Ordering::SeqCst)).then(|| Response::late(Duration::from_millis(1500)))
        })
        .start();
    let s = Scenario::scim(&proxy.url(), &target.token()).timeout(3).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);

    // alice's first create is answered 502 and carried out 1.5 s later; the
    // retry looks alice up (nothing yet) and creates her.
    let out = s.run(&["sync", "--once"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    std::thread::sleep(Duration::from_secs(2));
    let alices = target.accounts_by_user_name()["alice"].clone();
    assert_eq!(alices.len(), 2, "the late create made a second account: {alices:#?}");
    let alice_guid = provisio_e2e::scenario::guid_for("alice");
    let created = s
        .audit()
        .iter()
        .find(|e| e["event_type"] == "CREATE" && e["source_id"] == alice_guid.as_str())
        .map(|e| e["target_id"].clone())
        .unwrap();
    let late = alices.iter().find(|a| a["id"] != created).map(|a| a["id"].clone()).unwrap();

    // The next cycle repairs it: the linked account stays, the late one goes.
    let out = s.sync_ok();
    let alices = target.accounts_by_user_name()["alice"].clone();
    assert_eq!(alices.len(), 1, "{out}");
    assert_eq!(alices[0]["id"], created, "the linked account is kept");
    let dedupe: Vec<_> = s.audit().into_iter().filter(|e| e["event_type"] == "DEDUPLICATE").collect();
    assert_eq!(dedupe.len(), 1, "{dedupe:#?}");
    assert_eq!(dedupe[0]["target_id"], late, "{dedupe:#?}");
    assert_eq!(dedupe[0]["is_success"], true);
    let (cycles, left) = s.converge(5);
    assert!(left.is_empty(), "{left:?} after {cycles} cycles");
    assert!(target.duplicates().is_empty(), "{:?}", target.duplicates());
}

/// Create an account at the target directly (not through provisio).
fn create_directly(target: &TestTarget, user_name: &str, external_id: &str) -> String {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": external_id,
    });
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/Users", target.base_url()))
        .bearer_auth(target.token())
        .json(&body)
        .send()
        .expect("create a user at the target");
    assert_eq!(r.status().as_u16(), 201, "{:?}", r.text());
    r.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_owned()
}

#[test]
fn accounts_provisio_cannot_prove_it_made_are_reported_never_deleted_and_never_quarantine() {
    let target = TestTarget::forgiving();
    let names: Vec<String> = (0..6).map(|i| format!("twin{i}")).collect();
    let mut ids = Vec::new();
    for name in &names {
        ids.push((create_directly(&target, name, "hr-1"), create_directly(&target, name, "hr-2")));
    }
    let s = Scenario::scim(&target.base_url(), &target.token())
        .engine("quarantine_after", 2)
        .engine("quarantine_interval", 3)
        .build();
    let people: Vec<Person> = names.iter().map(|n| Person::new(n)).collect();
    s.write_directory(&people, &[]);
    for cycle in 0..3 {
        let out = s.run(&["sync", "--once"]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(6),
            "cycle {cycle}: users failed, the channel ran\n{text}\n{}",
            stderr(&out)
        );
        assert!(!text.contains("quarantined"), "cycle {cycle}: {text}");
        // Retry at once rather than on the growing schedule (the retry runs
        // a cycle of its own, which fails the same way).
        let retry = s.run(&["channels", "retry"]);
        assert_eq!(retry.status.code(), Some(6), "cycle {cycle}'s retry: {}", stdout(&retry));
    }
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["quarantined_until"], serde_json::Value::Null, "{list:#}");
    assert_eq!(list[0]["dirty"], 6, "{list:#}");
    let error = list[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("share the Unique User Identifier"), "{error}");
    assert!(ids.iter().any(|(a, b)| error.contains(a) && error.contains(b)), "every id is named: {error}");
    assert_eq!(target.users().len(), 12, "nothing was deleted");
    assert!(s.audit().iter().all(|e| e["event_type"] != "DEDUPLICATE" && e["event_type"] != "DELETE"));
}

#[test]
fn a_failed_create_waits_for_its_retry_on_the_growing_schedule() {
    let target = TestTarget::forgiving();
    // Every create of bob is refused: a user the target will not take.
    let proxy = Proxy::builder(&target.base_url())
        .fault(|req| {
            let bob = req.method == "POST" && req.json().is_some_and(|b| b["userName"] == "bob");
            bob.then(|| Response::scim_error(400, "bob's department is not known here"))
        })
        .start();
    let s = Scenario::scim(&proxy.url(), &target.token()).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
    let posts = || proxy.requests().iter().filter(|r| r.method == "POST" && r.local).count();
    let mut after = Vec::new();
    for _ in 0..3 {
        s.run(&["sync", "--once"]);
        after.push(posts());
    }
    // The first retry comes at the next cycle, the second a minute later:
    // the third cycle sends nothing for bob, although his create failed.
    assert_eq!(after, [1, 2, 2], "bob's creates after each cycle");
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["dirty"], 1, "{list:#}");
    // A change of bob's source entry retries him at once.
    s.write_directory(&[Person::new("alice"), Person::new("bob").title("Manager")], &[]);
    s.run(&["sync", "--once"]);
    assert_eq!(posts(), 3, "a changed user is retried at once");
}
