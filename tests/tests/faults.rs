//! Target faults end to end, against both kinds of target
//! ([`TestTarget`]): a strict one that refuses a second account with a
//! taken userName (scim2-server) and a forgiving one that creates it (the
//! sandbox accepting duplicates), where a blind retry would show.
//!
//! A fault-injecting proxy ([`FaultMix`]) answers a share of the calls with
//! 429 (Retry-After in seconds or as an HTTP date), 500, 502 or 503, closes
//! the connection, holds the request past the channel's timeout before the
//! target does the work anyway, or lets the target act and loses its
//! answer. The engine still converges to exactly the expected target state:
//! one account per user, no missing user, no wrong deprovision, nothing
//! dirty or unsettled. A user still failing is dirty, listed with its error,
//! and retried on schedule.

use provisio_e2e::faults::FaultMix;
use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::targets::TestTarget;
use std::time::Duration;

/// The channel's timeout in these tests; held requests wait longer.
const TIMEOUT: i64 = 3;
const HOLD: Duration = Duration::from_millis(3500);

/// Assert the target holds exactly `people`, one account each, active, with
/// their titles.
fn assert_exact(target: &TestTarget, people: &[Person], when: &str) {
    let duplicates = target.duplicates();
    assert!(duplicates.is_empty(), "{}, {when}: duplicate accounts {duplicates:?}", target.kind());
    let mut want: Vec<String> = people.iter().map(|p| p.uid.to_lowercase()).collect();
    want.sort();
    assert_eq!(target.user_names(), want, "{}, {when}: exactly the source's users", target.kind());
    let accounts = target.accounts_by_user_name();
    for p in people {
        let account = &accounts[&p.uid.to_lowercase()][0];
        assert_ne!(account["active"], false, "{}, {when}: {} was deprovisioned", target.kind(), p.uid);
        assert_eq!(account["title"], p.title.as_str(), "{}, {when}: {}'s title", target.kind(), p.uid);
    }
}

/// Sync `people` through `faults` until nothing is left to do.
fn converge(s: &Scenario, target: &TestTarget, people: &[Person], when: &str) -> u32 {
    s.write_directory(people, &[]);
    let (cycles, left) = s.converge(15);
    assert!(left.is_empty(), "{}, {when}: still {left:?} after {cycles} cycles", target.kind());
    assert_exact(target, people, when);
    cycles
}

/// `target` behind a proxy faulting `percent` of the calls, and a scenario
/// syncing into it.
fn faulted(target: &TestTarget, percent: u64) -> (FaultMix, Proxy, Scenario) {
    let mix = FaultMix::new(percent, HOLD);
    let proxy = Proxy::builder(&target.base_url()).fault(mix.hook()).start();
    // Quarantine is not what this tests (tests/tests/quarantine.rs does).
    let s = Scenario::scim(&proxy.url(), &target.token())
        .max_threads(16)
        .timeout(TIMEOUT)
        .deletion_guard(false)
        .engine("quarantine_after", 1000)
        .build();
    (mix, proxy, s)
}

#[test]
fn with_a_fifth_of_calls_faulted_a_strict_target_converges_exactly() {
    let target = TestTarget::strict("faults");
    let (_mix, proxy, s) = faulted(&target, 20);
    let people: Vec<Person> = (0..2000).map(|i| Person::new(&format!("user{i:04}"))).collect();
    converge(&s, &target, &people, "after the initial sync at 20 %");
    let local_faults = proxy.requests().iter().filter(|r| r.local).count();
    assert!(local_faults > 400, "the proxy injected only {local_faults} faults");
}

#[test]
fn faults_at_5_then_20_percent_leave_exactly_one_account_per_user_on_a_forgiving_target() {
    let target = TestTarget::forgiving();
    let (mix, proxy, s) = faulted(&target, 5);
    let people: Vec<Person> = (0..2000).map(|i| Person::new(&format!("user{i:04}"))).collect();
    converge(&s, &target, &people, "after the initial sync at 5 %");
    let lost_at_5 = proxy.requests().iter().filter(|r| r.local && r.method == "POST").count();
    assert!(lost_at_5 > 20, "creates were faulted at 5 %: {lost_at_5}");

    // Every user changes, and 200 new ones arrive, at 20 %.
    mix.set_percent(20);
    let mut changed: Vec<Person> = people.iter().map(|p| p.clone().title("after")).collect();
    changed.extend((2000..2200).map(|i| Person::new(&format!("user{i:04}")).title("new")));
    converge(&s, &target, &changed, "after the changes at 20 %");
    let local_faults = proxy.requests().iter().filter(|r| r.local).count();
    assert!(local_faults > 400, "the proxy injected only {local_faults} faults");
}

#[test]
fn a_user_still_failing_is_dirty_listed_with_its_error_and_retried_later() {
    for target in [TestTarget::strict("dirty"), TestTarget::forgiving()] {
        // Every POST for bob is refused as unavailable: retried within the
        // channel's timeout, then left dirty.
        let proxy = Proxy::builder(&target.base_url())
            .fault(|req| {
                let is_bob = req.json().is_some_and(|b| b["userName"] == "bob");
                (req.method == "POST" && is_bob).then(|| Response::scim_error(503, "bob's shard is down"))
            })
            .start();
        let s = Scenario::scim(&proxy.url(), &target.token()).timeout(TIMEOUT).build();
        let kind = target.kind();
        s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);
        let out = s.run(&["sync", "--once"]);
        let text = provisio_e2e::stdout(&out);
        assert!(text.contains("user bob failed") && text.contains("bob's shard is down"), "{kind}: {text}");
        assert_eq!(target.users().len(), 1, "{kind}");

        let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
        assert_eq!(list[0]["dirty"], 1, "{kind}: {list:#}");
        assert!(list[0]["last_error"].as_str().unwrap_or("").contains("shard is down"), "{kind}: {list:#}");
        let posts_for_bob = proxy.requests().iter().filter(|r| r.method == "POST" && r.local).count();
        assert!(posts_for_bob >= 2, "{kind}: bob's create was retried within the cycle: {posts_for_bob}");
        // A 503 may have created bob: each retry looked bob up first.
        let lookups = proxy.requests().iter().filter(|r| r.method == "GET" && r.path.contains("bob")).count();
        assert!(lookups >= posts_for_bob - 1, "{kind}: {lookups} lookups for {posts_for_bob} creates");

        // The target recovers; the next cycles settle bob's create (it was
        // never made) and create bob, without a duplicate of alice.
        proxy.clear_fault();
        let (cycles, left) = s.converge(10);
        assert!(left.is_empty(), "{kind}: {left:?} after {cycles} cycles");
        assert_exact(&target, &[Person::new("alice"), Person::new("bob")], "after the recovery");
    }
}
