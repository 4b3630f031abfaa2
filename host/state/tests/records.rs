//! What the store keeps: users, groups, cycles and summaries, intents,
//! high-water marks, Unique User Identifiers, resets and transactions.

use provisio_state::{
    CycleSummary, Deprovision, GroupState, HighWater, IntentKind, KEEP_CYCLES, StateError, StateStore, UserState,
    UserStatus,
};

fn open() -> (tempfile::TempDir, StateStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("provisio.db")).unwrap();
    (dir, store)
}

fn user(guid: &str, now: i64) -> UserState {
    UserState {
        guid: guid.into(),
        target_id: Some(format!("t-{guid}")),
        unique_id: format!("{guid}@example.com"),
        hash: format!("hash-{guid}"),
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
        ..UserState::default()
    }
}

fn group(guid: &str, members: &[&str]) -> GroupState {
    GroupState {
        guid: guid.into(),
        target_id: Some(format!("g-{guid}")),
        name: format!("CN={guid}"),
        members_hash: format!("mh-{}", members.join(",")),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..GroupState::default()
    }
}

#[test]
fn channels_are_created_once_and_keyed_by_connection_and_name() {
    let (_dir, store) = open();
    let a = store.channel("scim", "main").unwrap();
    assert_eq!(store.channel("scim", "main").unwrap(), a);
    let b = store.channel("scim", "admins").unwrap();
    let c = store.channel("pingid", "main").unwrap();
    assert!(a != b && b != c && a != c);
    let names: Vec<_> = store.channels().unwrap().into_iter().map(|(_, conn, ch)| format!("{conn}/{ch}")).collect();
    assert_eq!(names, ["pingid/main", "scim/admins", "scim/main"]);
}

#[test]
fn users_upsert_dirty_and_remove() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    let other = store.channel("scim", "other").unwrap();
    store.upsert_user(ch, &user("a", 100)).unwrap();
    store.upsert_user(ch, &user("b", 100)).unwrap();
    store.upsert_user(other, &user("a", 100)).unwrap();

    // An update keeps created_at and replaces everything else.
    let mut a = user("a", 200);
    a.hash = "hash-a-2".into();
    a.status = UserStatus::Deprovisioned(Deprovision::Disabled);
    store.upsert_user(ch, &a).unwrap();
    let stored = store.user(ch, "a").unwrap().unwrap();
    assert_eq!(stored.created_at, 100);
    assert_eq!(stored.updated_at, 200);
    assert_eq!(stored.hash, "hash-a-2");
    assert_eq!(stored.status, UserStatus::Deprovisioned(Deprovision::Disabled));

    // Failures: dirty, error, attempts counted.
    store.mark_dirty(ch, "b", "503 from target", 300).unwrap();
    store.mark_dirty(ch, "b", "timed out", 400).unwrap();
    let b = store.user(ch, "b").unwrap().unwrap();
    assert!(b.dirty);
    assert_eq!(b.attempts, 2);
    assert_eq!(b.last_error.as_deref(), Some("timed out"));
    assert_eq!(b.hash, "hash-b", "a failure keeps the last pushed hash");

    // A user whose create failed becomes a pending, dirty row.
    store.mark_dirty(ch, "c", "create refused", 350).unwrap();
    let c = store.user(ch, "c").unwrap().unwrap();
    assert_eq!(c.status, UserStatus::Pending);
    assert_eq!((c.target_id, c.hash.as_str(), c.attempts), (None, "", 1));

    let dirty: Vec<_> = store.dirty_users(ch).unwrap().into_iter().map(|u| u.guid).collect();
    assert_eq!(dirty, ["c", "b"], "least recently updated first");
    assert!(store.dirty_users(other).unwrap().is_empty());

    // `channels retry` resets the back-off counters.
    assert_eq!(store.reset_attempts(ch).unwrap(), 2);
    assert_eq!(store.user(ch, "b").unwrap().unwrap().attempts, 0);

    // A successful push clears it.
    store.upsert_user(ch, &user("b", 500)).unwrap();
    assert!(!store.user(ch, "b").unwrap().unwrap().dirty);

    assert_eq!(store.user_by_unique_id(ch, "b@example.com").unwrap().unwrap().guid, "b");
    assert!(store.remove_user(ch, "b").unwrap());
    assert!(!store.remove_user(ch, "b").unwrap());
    assert_eq!(store.user(ch, "b").unwrap(), None);
    assert_eq!(store.users(ch).unwrap().len(), 2);
    assert_eq!(store.users(other).unwrap().len(), 1);
}

#[test]
fn groups_keep_members_and_dirty_state() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    store.upsert_group(ch, &group("g1", &["t-a", "t-b"]), 10).unwrap();
    store.upsert_group(ch, &group("g2", &[]), 10).unwrap();
    let groups = store.groups(ch).unwrap();
    assert_eq!(groups["g1"], group("g1", &["t-a", "t-b"]));
    assert_eq!(groups["g2"].members, Vec::<String>::new());

    store.mark_group_dirty(ch, "g1", "PUT failed", 20).unwrap();
    store.mark_group_dirty(ch, "g3", "create failed", 30).unwrap();
    let dirty: Vec<_> = store.dirty_groups(ch).unwrap().into_iter().map(|g| g.guid).collect();
    assert_eq!(dirty, ["g1", "g3"]);
    let g1 = store.group(ch, "g1").unwrap().unwrap();
    assert_eq!(g1.members, ["t-a", "t-b"], "members as last pushed");
    assert_eq!(g1.last_error.as_deref(), Some("PUT failed"));

    let mut renamed = group("g1", &["t-c"]);
    renamed.name = "CN=Renamed".into();
    store.upsert_group(ch, &renamed, 40).unwrap();
    assert_eq!(store.group(ch, "g1").unwrap().unwrap(), renamed);

    assert!(store.remove_group(ch, "g2").unwrap());
    assert_eq!(store.groups(ch).unwrap().len(), 2);
}

#[test]
fn cycles_and_channel_summaries() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    let idle = store.channel("aquera", "all").unwrap();
    for g in ["a", "b", "c"] {
        store.upsert_user(ch, &user(g, 1)).unwrap();
    }
    store.mark_dirty(ch, "c", "409 conflict", 5).unwrap();
    store.upsert_group(ch, &group("g", &["t-a"]), 1).unwrap();

    let first = store.begin_cycle(ch, 100).unwrap();
    let summary = CycleSummary { created: 2, failed: 1, duration_ms: 1500, ..CycleSummary::default() };
    store.finish_cycle(ch, first, &summary, 102).unwrap();
    let second = store.begin_cycle(ch, 200).unwrap();
    assert!(second > first);

    let summaries = store.channel_summaries().unwrap();
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0].key, idle);
    assert_eq!(summaries[0].users, 0);
    assert_eq!(summaries[0].last_cycle, None);
    assert_eq!(summaries[0].last_error, None);

    let s = &summaries[1];
    assert_eq!((s.connection.as_str(), s.channel.as_str()), ("scim", "main"));
    assert_eq!((s.users, s.dirty, s.groups, s.dirty_groups), (3, 1, 1, 0));
    let running = s.last_cycle.as_ref().unwrap();
    assert_eq!((running.id, running.started_at, running.finished_at), (second, 200, None));
    assert_eq!(s.last_error.as_deref(), Some("409 conflict"), "from the dirty record");

    // A cycle that failed as a whole reports its own error.
    let failed = CycleSummary { error: Some("source unreachable".into()), ..CycleSummary::default() };
    store.finish_cycle(ch, second, &failed, 201).unwrap();
    let s = store.channel_summary(ch).unwrap().unwrap();
    assert_eq!(s.last_error.as_deref(), Some("source unreachable"));
    assert_eq!(s.last_cycle.unwrap().summary.unwrap(), failed);

    let history = store.cycles(ch, 10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].summary.as_ref().unwrap(), &summary);
    assert_eq!(history[1].finished_at, Some(102));

    // Finishing a cycle of another channel is refused.
    assert!(store.finish_cycle(idle, second, &summary, 300).is_err());
}

#[test]
fn cycle_history_is_pruned() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    let mut last = None;
    store
        .transaction(|tx| {
            for i in 0..(KEEP_CYCLES as i64 + 5) {
                let id = tx.begin_cycle(ch, i)?;
                tx.finish_cycle(ch, id, &CycleSummary::default(), i)?;
                last = Some(id);
            }
            Ok(())
        })
        .unwrap();
    let history = store.cycles(ch, 1000).unwrap();
    assert_eq!(history.len(), KEEP_CYCLES as usize);
    assert_eq!(history[0].id, last.unwrap());
}

#[test]
fn reset_forgets_everything_of_one_channel_only() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    let other = store.channel("scim", "other").unwrap();
    for c in [ch, other] {
        store.upsert_user(c, &user("a", 1)).unwrap();
        store.upsert_group(c, &group("g", &["t-a"]), 1).unwrap();
        store.set_high_water(c, "usn:1").unwrap();
        store.set_group_high_water(c, "usn:2").unwrap();
        store.record_create_intent(c, "b", "b@example.com", 1).unwrap();
        let cy = store.begin_cycle(c, 1).unwrap();
        store.finish_cycle(c, cy, &CycleSummary::default(), 2).unwrap();
    }

    assert!(store.reset_channel("scim", "main").unwrap());
    assert!(!store.reset_channel("scim", "missing").unwrap());

    assert_eq!(store.channel("scim", "main").unwrap(), ch, "the key survives");
    assert!(store.users(ch).unwrap().is_empty());
    assert!(store.groups(ch).unwrap().is_empty());
    assert_eq!(store.high_water(ch).unwrap(), None);
    assert_eq!(store.group_high_water(ch).unwrap(), None);
    assert!(store.unsettled_intents(ch).unwrap().is_empty());
    assert_eq!(store.last_cycle(ch).unwrap(), None);

    assert_eq!(store.users(other).unwrap().len(), 1);
    assert_eq!(store.groups(other).unwrap().len(), 1);
    assert_eq!(store.high_water(other).unwrap().as_deref(), Some("usn:1"));
    assert_eq!(store.unsettled_intents(other).unwrap().len(), 1);
    assert!(store.last_cycle(other).unwrap().is_some());

    assert!(store.delete_channel("scim", "other").unwrap());
    assert_eq!(store.find_channel("scim", "other").unwrap(), None);
    assert_eq!(store.channels().unwrap().len(), 1);
}

#[test]
fn high_water_marks() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    assert_eq!(store.high_water(ch).unwrap(), None);
    store.set_high_water(ch, "20240101000000Z").unwrap();
    store.set_high_water(ch, "20240102000000Z").unwrap();
    store.set_group_high_water(ch, "usn:9").unwrap();
    assert_eq!(store.high_water(ch).unwrap().as_deref(), Some("20240102000000Z"));
    assert_eq!(store.high_water_of(ch, HighWater::Groups).unwrap().as_deref(), Some("usn:9"));
    // `--reset-group-timestamp` drops the group mark only.
    assert!(store.clear_high_water(ch, HighWater::Groups).unwrap());
    assert!(!store.clear_high_water(ch, HighWater::Groups).unwrap());
    assert_eq!(store.group_high_water(ch).unwrap(), None);
    assert!(store.high_water(ch).unwrap().is_some());
}

#[test]
fn intents_are_recorded_listed_and_settled() {
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    store.record_create_intent(ch, "b", "bob", 20).unwrap();
    store.record_create_intent(ch, "a", "alice", 10).unwrap();
    let intents = store.unsettled_intents(ch).unwrap();
    assert_eq!(intents.len(), 2);
    assert_eq!(intents[0].guid, "a");
    assert_eq!(intents[0].unique_id, "alice");
    assert_eq!(intents[0].kind, IntentKind::Create);
    assert_eq!(store.channel_summary(ch).unwrap().unwrap().unsettled_intents, 2);

    // Recording again replaces.
    store.record_create_intent(ch, "a", "alice2", 30).unwrap();
    assert_eq!(store.unsettled_intents(ch).unwrap().len(), 2);

    // Settle together with the created user, as the engine does.
    store
        .transaction(|tx| {
            tx.upsert_user(ch, &user("a", 31))?;
            tx.settle_intent(ch, "a")
        })
        .unwrap();
    let left = store.unsettled_intents(ch).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].guid, "b");
    assert!(!store.settle_intent(ch, "a").unwrap());
}

#[test]
fn unique_user_identifier_is_recorded_and_frozen_while_there_is_state() {
    let (_dir, store) = open();
    assert_eq!(store.connection_identifier("scim").unwrap(), None);
    store.check_connection_identifier("scim", "userName").unwrap();
    assert_eq!(store.connection_identifier("scim").unwrap().as_deref(), Some("userName"));
    store.check_connection_identifier("scim", "userName").unwrap();

    // No state yet: a change is simply recorded.
    store.check_connection_identifier("scim", "email").unwrap();
    assert_eq!(store.connection_identifier("scim").unwrap().as_deref(), Some("email"));

    let ch = store.channel("scim", "main").unwrap();
    store.upsert_user(ch, &user("a", 1)).unwrap();
    assert!(store.connection_has_state("scim").unwrap());
    let err = store.check_connection_identifier("scim", "userName").unwrap_err();
    assert!(matches!(err, StateError::IdentifierChanged { .. }));
    assert_eq!(
        err.to_string(),
        "connection 'scim' was provisioned with Unique User Identifier 'email' but is now \
         configured with 'userName'; the identifier cannot change once the connection has \
         state (reset its channels first to start over)"
    );
    assert_eq!(store.connection_identifier("scim").unwrap().as_deref(), Some("email"));

    // Another connection is independent.
    store.check_connection_identifier("pingid", "userName").unwrap();

    // After a reset the connection has no state and may change.
    store.reset_channel("scim", "main").unwrap();
    store.check_connection_identifier("scim", "userName").unwrap();
    assert_eq!(store.connection_identifier("scim").unwrap().as_deref(), Some("userName"));

    // The administrative override always records.
    store.upsert_user(ch, &user("a", 1)).unwrap();
    store.set_connection_identifier("scim", "externalId").unwrap();
    assert_eq!(store.connection_identifier("scim").unwrap().as_deref(), Some("externalId"));
}

#[test]
fn transactions_commit_or_roll_back_as_a_whole() {
    let (dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    let n = store
        .transaction(|tx| {
            for i in 0..50 {
                tx.upsert_user(ch, &user(&format!("u{i}"), 1))?;
            }
            Ok(tx.users(ch)?.len())
        })
        .unwrap();
    assert_eq!(n, 50);

    let err = store
        .transaction(|tx| {
            tx.remove_user(ch, "u1")?;
            tx.reset_channel("scim", "main")?;
            Err::<(), _>(StateError::Corrupt("stop".into()))
        })
        .unwrap_err();
    assert!(matches!(err, StateError::Corrupt(_)));
    assert_eq!(store.users(ch).unwrap().len(), 50, "rolled back");

    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.transaction(|tx| -> Result<(), StateError> {
            tx.remove_user(ch, "u1")?;
            panic!("engine bug");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(store.users(ch).unwrap().len(), 50, "rolled back on panic");

    // Everything survives a reopen.
    drop(store);
    let store = StateStore::open(&dir.path().join("provisio.db")).unwrap();
    assert_eq!(store.users(ch).unwrap().len(), 50);
}

#[test]
fn code_taking_a_tx_runs_inside_or_outside_a_transaction() {
    fn push(tx: &provisio_state::Tx<'_>, ch: provisio_state::ChannelKey) -> Result<(), StateError> {
        tx.upsert_user(ch, &user("a", 1))
    }
    let (_dir, store) = open();
    let ch = store.channel("scim", "main").unwrap();
    push(&store.autocommit(), ch).unwrap();
    store.transaction(|tx| push(tx, ch)).unwrap();
    assert_eq!(store.users(ch).unwrap().len(), 1);
}
