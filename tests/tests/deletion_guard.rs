//! The accidental-deletion guard end to end: a source that suddenly returns
//! nothing, or a mass departure, never wipes the target; the deprovisions
//! are held, listed, and released by `provisio channels approve`. Small
//! deliberate departures go through.

use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::scim_peer::ScimPeer;
use serde_json::Value;

fn active_count(users: &[Value]) -> usize {
    users.iter().filter(|u| u["active"].as_bool().unwrap_or(true)).count()
}

fn people(n: usize) -> Vec<Person> {
    (0..n).map(|i| Person::new(&format!("p{i:02}"))).collect()
}

fn held(s: &Scenario) -> u64 {
    let list: Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    list[0]["held_deprovisions"].as_u64().unwrap()
}

#[test]
fn an_emptied_source_holds_every_deprovision_until_approved() {
    let t = ScimPeer::shared().unique_tenant("guard-empty");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    s.write_directory(&people(30), &[]);
    s.sync_ok();
    assert_eq!(active_count(&t.users()), 30);

    s.write_directory(&[], &[]);
    let out = s.sync_ok();
    assert!(out.contains("deletion guard") && out.contains("returned no user"), "{out}");
    assert_eq!(active_count(&t.users()), 30, "an empty source wiped the target");
    assert_eq!(held(&s), 30);
    let plan = s.run_ok(&["plan"]);
    assert!(plan.contains("held"), "{plan}");

    let out = s.run_ok(&["channels", "approve", "--channel", "people"]);
    assert!(out.contains("30 held deprovision(s) approved"), "{out}");
    s.sync_ok();
    assert_eq!(active_count(&t.users()), 0, "approved deprovisions run");
    assert_eq!(held(&s), 0);
}

#[test]
fn a_mass_departure_is_held_and_a_small_one_is_not() {
    let t = ScimPeer::shared().unique_tenant("guard-mass");
    let s = Scenario::scim(&t.base_url, &t.token).build();
    let everyone = people(40);
    s.write_directory(&everyone, &[]);
    s.sync_ok();

    // 2 of 40 leave: deliberate, below both thresholds.
    s.write_directory(&everyone[2..], &[]);
    s.sync_ok();
    assert_eq!(active_count(&t.users()), 38);
    assert_eq!(held(&s), 0);

    // 12 more leave at once: 12 > 10 and 32 % > 20 %: held.
    s.write_directory(&everyone[14..], &[]);
    let out = s.sync_ok();
    assert!(out.contains("deletion guard"), "{out}");
    assert_eq!(active_count(&t.users()), 38);
    assert_eq!(held(&s), 12);

    // Some come back before the approval: only those still gone are deprovisioned.
    s.write_directory(&everyone[10..], &[]);
    s.run_ok(&["channels", "approve", "--channel", "target/people"]);
    s.sync_ok();
    assert_eq!(active_count(&t.users()), 30);
    assert_eq!(held(&s), 0);
}

#[test]
fn the_guard_thresholds_are_configurable() {
    let t = ScimPeer::shared().unique_tenant("guard-config");
    let s = Scenario::scim(&t.base_url, &t.token).deletion_guard(false).build();
    s.write_directory(&people(20), &[]);
    s.sync_ok();
    s.write_directory(&[], &[]);
    s.sync_ok();
    assert_eq!(active_count(&t.users()), 0, "with the guard off, an emptied source deprovisions everyone");
}
