//! The state store on PostgreSQL (tests/src/postgres.rs starts a private
//! server): the same script of operations gives the same answers on SQLite
//! and PostgreSQL; PostgreSQL's own concerns (a call from inside a tokio
//! runtime, the run lock, read-only sessions, schema versions, migrations
//! racing, copying a SQLite store in, and the error messages for a wrong
//! password, an unreachable server or a bad URL, none showing the password).

use provisio_e2e::postgres::{PASSWORD, Postgres};
use provisio_state::{
    CycleSummary, GroupState, Held, HighWater, PgConfig, PgTls, StateError, StateStore, UserState, UserStatus,
};

fn pg_config(url: String) -> PgConfig {
    PgConfig { url, password: Some(PASSWORD.to_owned()), tls: PgTls::Disable, ca_file: None }
}

fn user(guid: &str, dirty: bool) -> UserState {
    UserState {
        guid: guid.into(),
        target_id: Some(format!("t-{guid}")),
        unique_id: format!("u-{guid}"),
        hash: format!("h-{guid}"),
        status: UserStatus::Active,
        dirty,
        last_error: dirty.then(|| "503".to_owned()),
        attempts: u32::from(dirty),
        created_at: 10,
        updated_at: 20,
    }
}

/// Every operation of the store, each answer written down.
fn script(store: &StateStore) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |what: &str, v: String| out.push(format!("{what}: {v}"));
    store.check_connection_identifier("scim", "userName").unwrap();
    note("same identifier", format!("{:?}", store.check_connection_identifier("scim", "userName")));
    let ch = store.channel("scim", "people").unwrap();
    let other = store.channel("scim", "admins").unwrap();
    note("channel again", format!("{}", store.channel("scim", "people").unwrap() == ch));
    note("channels", format!("{:?}", store.channels().unwrap().iter().map(|c| (&c.1, &c.2)).collect::<Vec<_>>()));
    note("find missing", format!("{:?}", store.find_channel("scim", "nope").unwrap()));
    store
        .transaction(|tx| {
            for i in 0..600 {
                tx.upsert_user(ch, &user(&format!("g{i:03}"), i % 100 == 0))?;
            }
            Ok(())
        })
        .unwrap();
    note("has state", format!("{:?}", store.connection_has_state("scim")));
    let err = store.check_connection_identifier("scim", "email").unwrap_err();
    note("identifier change", err.to_string());
    note("users", format!("{}", store.users(ch).unwrap().len()));
    note("user", format!("{:?}", store.user(ch, "g007").unwrap()));
    note("by unique id", format!("{:?}", store.user_by_unique_id(ch, "u-g008").unwrap().map(|u| u.guid)));
    store.mark_dirty(ch, "g001", "timeout", 30).unwrap();
    store.mark_dirty(ch, "new", "create failed", 31).unwrap();
    note("dirty", format!("{:?}", store.dirty_users(ch).unwrap()));
    note("reset attempts", format!("{:?}", store.reset_attempts(ch)));
    note("removed", format!("{:?} {:?}", store.remove_user(ch, "g002"), store.remove_user(ch, "g002")));
    let group = GroupState {
        guid: "grp".into(),
        target_id: Some("tg".into()),
        name: "Staff".into(),
        members_hash: "mh".into(),
        members: vec!["t-g003".into(), "t-g004".into()],
        dirty: false,
        last_error: None,
    };
    store.upsert_group(ch, &group, 40).unwrap();
    store.mark_group_dirty(ch, "grp", "409", 41).unwrap();
    store.mark_group_dirty(ch, "grp2", "500", 42).unwrap();
    note(
        "groups",
        format!("{:?}", {
            let mut g: Vec<_> = store.groups(ch).unwrap().into_values().collect();
            g.sort_by(|a, b| a.guid.cmp(&b.guid));
            g
        }),
    );
    note("dirty groups", format!("{:?}", store.dirty_groups(ch).unwrap()));
    let mut first = None;
    for i in 0..105 {
        let c = store.begin_cycle(ch, 100 + i).unwrap();
        first.get_or_insert(c);
        let summary = CycleSummary { created: i as u64, ..CycleSummary::default() };
        store.finish_cycle(ch, c, &summary, 101 + i).unwrap();
    }
    let cycles = store.cycles(ch, 1000).unwrap();
    note("cycles kept", format!("{}", cycles.len()));
    note("oldest kept", format!("{}", cycles.last().unwrap().id.get() - first.unwrap().get()));
    note(
        "last cycle",
        format!(
            "{:?}",
            store.last_cycle(ch).unwrap().map(|c| (c.started_at, c.finished_at, c.summary.map(|s| s.created)))
        ),
    );
    store.record_create_intent(ch, "g010", "u-g010", 50).unwrap();
    store.record_create_intent(ch, "g011", "u-g011", 49).unwrap();
    note("intents", format!("{:?}", store.unsettled_intents(ch).unwrap()));
    note("settle", format!("{:?} {:?}", store.settle_intent(ch, "g010"), store.settle_intent(ch, "g010")));
    store.set_high_water(ch, "123").unwrap();
    store.set_group_high_water(ch, "456").unwrap();
    note("high water", format!("{:?} {:?}", store.high_water(ch), store.high_water_of(ch, HighWater::Groups)));
    note("clear", format!("{:?} {:?}", store.clear_high_water(ch, HighWater::Groups), store.group_high_water(ch)));
    let held = Held { guid: "g005".into(), unique_id: "u-g005".into(), action: "Disable".into(), held_at: 60 };
    store.set_held(ch, &[held]).unwrap();
    note("approve", format!("{:?} {:?}", store.approve_held(ch, 61), store.approval(ch)));
    store
        .set_health(
            ch,
            &provisio_state::Health { failing_cycles: 2, quarantined_until: Some(99), reason: Some("x".into()) },
        )
        .unwrap();
    note("health", format!("{:?}", store.health(ch)));
    store.set_discovered_fields("scim", "[1]", 70).unwrap();
    note("fields", format!("{:?}", store.discovered_fields("scim")));
    let summaries = store.channel_summaries().unwrap();
    note(
        "summaries",
        format!(
            "{:?}",
            summaries
                .iter()
                .map(|s| (
                    &s.channel,
                    s.users,
                    s.dirty,
                    s.groups,
                    s.dirty_groups,
                    s.unsettled_intents,
                    s.held_deprovisions,
                    s.quarantined_until,
                    &s.last_error
                ))
                .collect::<Vec<_>>()
        ),
    );
    // A failing transaction leaves nothing behind.
    let failed: Result<(), StateError> = store.transaction(|tx| {
        tx.upsert_user(other, &user("rolled-back", false))?;
        Err(StateError::Corrupt("stop".into()))
    });
    note("rolled back", format!("{} {:?}", failed.is_err(), store.user(other, "rolled-back").unwrap()));
    // A failing statement inside a transaction, then the store goes on.
    let bad = store.transaction(|tx| tx.finish_cycle(other, first.unwrap(), &CycleSummary::default(), 1));
    note("bad finish", format!("{bad:?}"));
    store.upsert_user(other, &user("after", false)).unwrap();
    note("after", format!("{}", store.users(other).unwrap().len()));
    note("reset", format!("{:?} {}", store.reset_channel("scim", "people"), store.users(ch).unwrap().len()));
    note("reset health", format!("{:?} {:?}", store.health(ch), store.held(ch)));
    note("delete", format!("{:?} {:?}", store.delete_channel("scim", "admins"), store.find_channel("scim", "admins")));
    out
}

#[test]
fn postgres_answers_the_script_as_sqlite_does() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = script(&StateStore::open(&dir.path().join("s.db")).unwrap());
    let store = StateStore::open_postgres(&pg_config(pg.create_database("script"))).unwrap();
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.schema_version().unwrap(), provisio_state::SCHEMA_VERSION);
    let postgres = script(&store);
    for (a, b) in sqlite.iter().zip(&postgres) {
        assert_eq!(a, b);
    }
    assert_eq!(sqlite.len(), postgres.len());
}

#[test]
fn postgres_specifics() {
    let pg = Postgres::start();

    // Called from inside a tokio runtime, as the engine does.
    let url = pg.create_database("runtime");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let store = StateStore::open_postgres(&pg_config(url.clone())).unwrap();
        let ch = store.channel("c", "ch").unwrap();
        store.upsert_user(ch, &user("a", false)).unwrap();
        store.users(ch).unwrap().len()
    });
    assert_eq!(n, 1);

    // The run lock: a second writer is refused and told who holds it.
    let store = StateStore::open_postgres(&pg_config(url.clone())).unwrap();
    let err = StateStore::open_postgres(&pg_config(url.clone())).unwrap_err();
    assert!(matches!(err, StateError::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("provisio pid={}", std::process::id())) && text.contains(&url), "{text}");
    // A reader is not: it reads, and cannot write.
    let reader = StateStore::open_postgres_read_only(&pg_config(url.clone())).unwrap();
    let ch = reader.find_channel("c", "ch").unwrap().unwrap();
    assert_eq!(reader.users(ch).unwrap().len(), 1);
    assert!(matches!(reader.mark_dirty(ch, "a", "x", 1), Err(StateError::ReadOnly)));
    drop(store);
    let again = StateStore::open_postgres(&pg_config(url.clone())).unwrap();
    drop(again);

    // A read-only open of an empty database: no store yet.
    let empty = pg.create_database("empty");
    let err = StateStore::open_postgres_read_only(&pg_config(empty.clone())).unwrap_err();
    assert!(matches!(err, StateError::NotFound { .. }), "{err}");

    // A newer schema is refused, by writers and readers.
    pg.psql("runtime", "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
    let err = StateStore::open_postgres(&pg_config(url.clone())).unwrap_err();
    assert!(err.to_string().contains("newer provisio (schema 99)"), "{err}");
    assert!(matches!(StateStore::open_postgres_read_only(&pg_config(url)), Err(StateError::NewerSchema { .. })));

    // Nodes starting at once: one migrates, the other is refused by the run
    // lock or finds the schema done; never a half migration.
    let race = pg.create_database("race");
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let cfg = pg_config(race.clone());
            std::thread::spawn(move || StateStore::open_postgres(&cfg).map(|_| ()))
        })
        .collect();
    for open in opens {
        match open.join().unwrap() {
            Ok(()) | Err(StateError::Locked { .. }) => {}
            Err(e) => panic!("a racing open failed: {e}"),
        }
    }
    let rows = pg.psql("race", "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations");
    let want: Vec<String> = (1..=provisio_state::SCHEMA_VERSION).map(|v| v.to_string()).collect();
    assert_eq!(rows.trim(), want.join(","));

    // The migrations themselves racing, without the run lock in front (as
    // when failover lets several nodes in): each step is applied once.
    for round in 0..3 {
        let db = pg.create_database(&format!("migrations{round}"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let racers: Vec<_> = (0..6)
            .map(|_| {
                let (cfg, barrier) = (pg_config(db.clone()), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    StateStore::migrate_postgres_unlocked(&cfg)
                })
            })
            .collect();
        for r in racers {
            assert_eq!(r.join().unwrap().unwrap(), provisio_state::SCHEMA_VERSION);
        }
        let rows = pg.psql(
            &format!("migrations{round}"),
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
        );
        assert_eq!(rows.trim(), want.join(","));
    }
}

#[test]
fn connection_errors_are_clear_and_never_show_the_password() {
    let pg = Postgres::start();
    let url = pg.create_database("errors");
    let check = |cfg: PgConfig, wants: &[&str]| {
        let err = StateStore::open_postgres(&cfg).unwrap_err();
        let text = err.to_string();
        for w in wants {
            assert!(text.contains(w), "{w:?} not in: {text}");
        }
        assert!(!text.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD), "the password leaked: {err:?}");
        assert!(!format!("{cfg:?}").contains(PASSWORD));
    };
    let mut wrong = pg_config(url.clone());
    wrong.password = Some("not-the-password".into());
    check(wrong, &["password", "[engine.state_store] password", &url]);
    let mut none = pg_config(url.clone());
    none.password = None;
    check(none, &["password"]);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    check(pg_config(format!("postgres://provisio@127.0.0.1:{free}/x")), &["cannot connect", "is PostgreSQL running"]);
    check(pg_config("mysql://provisio@127.0.0.1/x".into()), &["[engine.state_store] url", "postgres://USER@HOST"]);
    check(pg_config(format!("postgres://provisio@127.0.0.1:{}/nosuchdb", pg.port())), &["nosuchdb", "does not exist"]);
    check(pg_config("postgres://provisio@127.0.0.1:notaport/x".into()), &["[engine.state_store] url is not a valid"]);
    let inline = format!("postgres://provisio:{PASSWORD}@127.0.0.1:{}/errors", pg.port());
    check(pg_config(inline), &["url holds a password", "password = { env"]);
    // TLS asked of a server without TLS.
    let mut tls = pg_config(url);
    tls.tls = PgTls::Require;
    check(tls, &["cannot connect"]);
}

#[test]
fn a_sqlite_store_is_copied_in_whole() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let sqlite = StateStore::open(&path).unwrap();
    let _ = script(&sqlite);
    let ch = sqlite.channel("scim", "people").unwrap();
    sqlite.transaction(|tx| (0..1500).try_for_each(|i| tx.upsert_user(ch, &user(&format!("m{i}"), false)))).unwrap();
    let last_cycle = sqlite.begin_cycle(ch, 5).unwrap();
    let counts = sqlite.table_counts().unwrap();

    let target = StateStore::open_postgres(&pg_config(pg.create_database("copy"))).unwrap();
    let copied = target.copy_from(&sqlite).unwrap();
    assert_eq!(copied, counts);
    assert_eq!(target.table_counts().unwrap(), counts);
    let users = |s: &StateStore| {
        let mut u: Vec<_> = s.users(ch).unwrap().into_values().map(|u| format!("{u:?}")).collect();
        u.sort();
        u
    };
    assert_eq!(users(&target), users(&sqlite));
    let summaries = |s: &StateStore| format!("{:?}", s.channel_summaries().unwrap());
    assert_eq!(summaries(&target), summaries(&sqlite));
    // Ids go on where SQLite stopped (pruned cycles' ids are not reused).
    assert!(target.begin_cycle(ch, 6).unwrap().get() > last_cycle.get());
    assert!(target.channel("new", "channel").unwrap().get() > ch.get());
    // A second copy is refused: the store is not empty.
    let err = target.copy_from(&sqlite).unwrap_err().to_string();
    assert!(err.contains("is not empty") && err.contains("connections"), "{err}");
}

#[test]
fn tls_modes_against_a_tls_server() {
    let pg = Postgres::start_tls();
    let url = pg.create_database("tls");
    let with = |tls: PgTls, ca: Option<std::path::PathBuf>, url: &str| {
        StateStore::open_postgres(&PgConfig { url: url.to_owned(), password: Some(PASSWORD.into()), tls, ca_file: ca })
            .map(|s| s.schema_version().unwrap())
    };
    // verify-full with the server's CA; require without any.
    assert_eq!(with(PgTls::VerifyFull, Some(pg.ca_file()), &url).unwrap(), provisio_state::SCHEMA_VERSION);
    assert_eq!(with(PgTls::Require, None, &url).unwrap(), provisio_state::SCHEMA_VERSION);
    assert_eq!(with(PgTls::Disable, None, &url).unwrap(), provisio_state::SCHEMA_VERSION);
    // verify-full refuses a certificate no trusted CA issued, and one for
    // another name.
    let err = with(PgTls::VerifyFull, None, &url).unwrap_err().to_string();
    assert!(err.contains("cannot connect") && err.contains("tls"), "{err}");
    let by_name = url.replace("127.0.0.1", "localhost");
    let err = with(PgTls::VerifyFull, Some(pg.ca_file()), &by_name).unwrap_err().to_string();
    assert!(err.contains("cannot connect"), "{err}");
    // A ca_file that is no certificate is named.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("ca.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = with(PgTls::VerifyFull, Some(junk), &url).unwrap_err().to_string();
    assert!(err.contains("ca_file") && err.contains("ca.pem"), "{err}");
    assert!(!err.contains(PASSWORD));
}
