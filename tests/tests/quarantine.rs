//! Quarantine end to end: a channel whose target keeps failing sits out its
//! cycles (sending nothing) instead of hammering the target, says so in the
//! cycle summary and in `provisio channels list`, and recovers by itself
//! when the target does. `sync --once` exits 5 ("a channel could not run")
//! for a failed or quarantined cycle.

use provisio_e2e::proxy::{Proxy, Response};
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use provisio_e2e::{stderr, stdout};

#[test]
fn a_failing_channel_is_quarantined_and_recovers_with_the_target() {
    let t = ScimPeer::shared().unique_tenant("quarantine");
    let proxy = Proxy::builder(&t.base_url).fault(|_| Some(Response::scim_error(503, "maintenance"))).start();
    let s =
        Scenario::scim(&proxy.url(), &t.token).engine("quarantine_after", 2).engine("quarantine_interval", 3).build();
    s.write_directory(&[Person::new("alice"), Person::new("bob")], &[]);

    // Two failing cycles in a row: the second starts the quarantine.
    for _ in 0..2 {
        let out = s.run(&["sync", "--once"]);
        assert_eq!(out.status.code(), Some(5), "a failed cycle: a channel could not run\n{}", stderr(&out));
    }
    let list = s.run_ok(&["channels", "list"]);
    assert!(list.contains("quarantined"), "{list}");

    // While quarantined, a cycle sends nothing at all.
    proxy.reset_counts();
    let run = s.run(&["sync", "--once"]);
    let (out, err) = (stdout(&run), stderr(&run));
    assert_eq!(run.status.code(), Some(5), "a quarantined channel could not run\n{out}\n{err}");
    assert!(out.contains("quarantined for another"), "{out}");
    assert!(err.contains("1 channel(s) could not run: target/people"), "{err}");
    // Its summary row says quarantined where the failures would be, not FAILED 0.
    let row = out.lines().find(|l| l.contains("people")).expect("the channel's row");
    let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells, ["target", "people", "-", "-", "-", "-", "-", "-", "-", "quarantined", "-"], "{out}");
    assert_eq!(proxy.counts().total, 0, "a quarantined channel contacted its target: {:?}", proxy.counts());

    // The target recovers; after the quarantine the probe cycle succeeds.
    proxy.clear_fault();
    std::thread::sleep(std::time::Duration::from_millis(3200));
    let out = s.sync_ok();
    assert!(!out.contains("quarantined"), "{out}");
    assert_eq!(t.users().len(), 2);
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert!(list[0]["quarantined_until"].is_null(), "{list:#}");
}
