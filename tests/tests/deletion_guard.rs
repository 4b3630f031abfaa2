//! The accidental-deletion guard end to end: a source that suddenly returns
//! nothing, or a mass departure, never wipes the target; the deprovisions
//! are held, listed, and released by `provisio channels approve`. Small
//! deliberate departures go through. Group deletions are guarded the same
//! way: a removed group filter deletes no group until approved.

use provisio_e2e::scenario::{Group, Person, Scenario};
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

#[test]
fn a_group_filter_that_matches_nothing_deletes_no_group_until_approved() {
    let t = ScimPeer::shared().unique_tenant("guard-groups");
    let s = Scenario::scim(&t.base_url, &t.token).groups().build();
    let everyone = people(5);
    let groups: Vec<Group> = (0..21).map(|i| Group::new(&format!("team-{i:02}"), &["p00", "p01"])).collect();
    s.write_directory(&everyone, &groups);
    s.sync_ok();
    assert_eq!(t.groups().len(), 21);

    // One group leaves: deliberate, below both thresholds, deleted.
    s.write_directory(&everyone, &groups[..20]);
    s.sync_ok();
    assert_eq!(t.groups().len(), 20);

    // The group filter is changed to one that matches nothing (a filter
    // removed altogether is a `config check` error): the source returns no
    // group, and the channel manages 20.
    let mut config: toml::Table = std::fs::read_to_string(s.config_path()).unwrap().parse().unwrap();
    let channel = &mut config["connection"][0]["channel"][0];
    let source = channel["source"].as_table_mut().unwrap();
    assert!(source.insert("group_filter".into(), "(cn=no-such-group)".into()).is_some(), "{source:?}");
    std::fs::write(s.config_path(), toml::to_string(&config).unwrap()).unwrap();
    let out = s.sync_ok();
    assert!(
        out.contains("deletion guard: the source returned no group at all, and 20 managed group(s) would be deleted")
            && out.contains("20 group deletion(s) held"),
        "{out}"
    );
    let at_target = t.groups();
    assert_eq!(at_target.len(), 20, "a removed group filter deleted groups at the target");
    assert!(at_target.iter().all(|g| g["members"].as_array().is_some_and(|m| m.len() == 2)), "{at_target:#?}");
    assert_eq!(active_count(&t.users()), 5);
    let list: Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!((list[0]["held_deprovisions"].as_u64(), list[0]["held_group_deletions"].as_u64()), (Some(0), Some(20)));
    let table = s.run_ok(&["channels", "list"]);
    assert!(table.contains("0 + 20 group(s)"), "{table}");
    // Held, not retried: a second cycle still deletes nothing.
    s.sync_ok();
    assert_eq!(t.groups().len(), 20);

    let out = s.run_ok(&["channels", "approve", "--channel", "people"]);
    assert!(out.contains("20 held group deletion(s) approved (team-00, team-01,"), "{out}");
    s.sync_ok();
    assert!(t.groups().is_empty(), "approved group deletions run: {:#?}", t.groups());
    let list: Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).unwrap();
    assert_eq!(list[0]["held_group_deletions"].as_u64(), Some(0));
    let deletes = s.audit().iter().filter(|e| e["event_type"] == "GROUP_DELETE" && e["is_success"] == true).count();
    assert_eq!(deletes, 21, "each group deletion is audited");
}
