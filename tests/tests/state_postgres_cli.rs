//! `provisio` with its state on PostgreSQL, end to end: the real binary and
//! the real `scim` connector against the built-in SCIM sandbox (served in
//! this process), the store in a private PostgreSQL (tests/src/postgres.rs).
//! Cycles give the same outcomes as on SQLite; `state migrate` copies a real
//! SQLite store, after which a cycle sends nothing; `state info` describes
//! the store; the password never shows in output, logs or the audit log;
//! bad settings get errors that name the key.

use provisio_e2e::postgres::{PASSWORD, Postgres};
use provisio_e2e::sandbox::InProcessSandbox as Sandbox;
use provisio_e2e::scenario::{Person, Scenario};
use provisio_e2e::{stderr, stdout};

const TOKEN: &str = "pg-e2e-token-9c1b";
const PASSWORD_VAR: &str = "PROVISIO_TEST_PG_PASSWORD";

/// `userName active title` of every user the sandbox holds, sorted.
fn users(sandbox: &Sandbox) -> Vec<String> {
    let mut users: Vec<String> =
        sandbox.users().iter().map(|u| format!("{} {} {}", u["userName"], u["active"], u["title"])).collect();
    users.sort();
    users
}

/// `[engine.state_store]` for `url`, the password by reference.
fn pg_store(url: &str, hash_key_file: Option<&str>) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("kind".into(), "postgres".into());
    t.insert("url".into(), url.into());
    let mut password = toml::Table::new();
    password.insert("env".into(), PASSWORD_VAR.into());
    t.insert("password".into(), toml::Value::Table(password));
    t.insert("tls".into(), "disable".into());
    if let Some(key) = hash_key_file {
        t.insert("hash_key_file".into(), key.into());
    }
    toml::Value::Table(t)
}

fn scenario(sandbox: &Sandbox, store: Option<toml::Value>) -> Scenario {
    let mut b = Scenario::scim(&sandbox.base_url(), TOKEN).remove_user_action("Disable").env(PASSWORD_VAR, PASSWORD);
    if let Some(store) = store {
        b = b.engine("state_store", store);
    }
    b.build()
}

/// Everything a run printed, checked for the password.
fn no_password(s: &Scenario, texts: &[&str]) {
    for t in texts {
        assert!(!t.contains(PASSWORD), "the password shows in output:\n{t}");
    }
    let audit = std::fs::read_to_string(s.audit_path()).unwrap_or_default();
    assert!(!audit.contains(PASSWORD), "the password is in the audit log");
}

/// Three cycles: create, change (title, disable, departure), nothing.
fn cycles(s: &Scenario, sandbox: &Sandbox) -> Vec<String> {
    let mut outcomes = Vec::new();
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe")], &[]);
    let out = s.run(&["-vv", "sync", "--once"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    no_password(s, &[&stdout(&out), &stderr(&out)]);
    outcomes.push(format!("{:?}", users(&sandbox)));
    s.write_directory(&[Person::new("alice").title("Principal"), Person::new("bob").disabled()], &[]);
    s.sync_ok();
    outcomes.push(format!("{:?}", users(&sandbox)));
    let before = sandbox.writes();
    s.sync_ok();
    outcomes.push(format!("writes in an unchanged cycle: {}", sandbox.writes() - before));
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).expect("JSON");
    let ch = &list[0];
    outcomes.push(format!("users {} dirty {} intents {}", ch["users"], ch["dirty"], ch["unsettled_intents"]));
    outcomes
}

#[test]
fn cycles_on_postgres_end_as_on_sqlite() {
    let pg = Postgres::start();
    let on_sqlite = {
        let sandbox = Sandbox::start(TOKEN);
        cycles(&scenario(&sandbox, None), &sandbox)
    };
    let sandbox = Sandbox::start(TOKEN);
    let url = pg.create_database("cycles");
    let s = scenario(&sandbox, Some(pg_store(&url, Some("hash.key"))));
    let on_postgres = cycles(&s, &sandbox);
    assert_eq!(on_postgres, on_sqlite);
    assert_eq!(on_sqlite[2], "writes in an unchanged cycle: 0");
    // The state is in PostgreSQL, nothing beside the configuration.
    assert_eq!(pg.psql("cycles", "SELECT COUNT(*) FROM user_state").trim(), "3");
    assert!(!s.state_path().exists(), "a SQLite file was made");
    assert!(s.dir().join("hash.key").is_file(), "the hash key is in hash_key_file");
    let info = s.run_ok(&["state", "info"]);
    assert!(info.contains("postgres") && info.contains(&url) && info.contains("user_state"), "{info}");
    no_password(&s, &[&info]);

    // While another run holds the store (its run lock: here this test
    // process, as a cycle of `provisio sync` does), a run is refused and told
    // who holds it; once released, runs go on.
    let holder = provisio_state::StateStore::open_postgres(&provisio_state::PgConfig {
        url: url.clone(),
        password: Some(PASSWORD.into()),
        tls: provisio_state::PgTls::Disable,
        ca_file: None,
    })
    .expect("open the store");
    let out = s.run(&["sync", "--once"]);
    let e = stderr(&out);
    assert!(!out.status.success(), "{e}");
    assert!(e.contains("another provisio run") && e.contains(&format!("provisio pid={}", std::process::id())), "{e}");
    no_password(&s, &[&e, &stdout(&out)]);
    drop(holder);
    s.sync_ok();
}

#[test]
fn state_migrate_copies_a_sqlite_store_and_the_next_cycle_sends_nothing() {
    let pg = Postgres::start();
    let sandbox = Sandbox::start(TOKEN);
    let mut s = scenario(&sandbox, None);
    // chloe is disabled in the source and not provisioned: two users.
    s.write_directory(&[Person::new("alice"), Person::new("bob"), Person::new("chloe").disabled()], &[]);
    s.sync_ok();
    s.sync_ok();
    let sqlite_key = std::fs::read(s.state_path().with_extension("key")).expect("the SQLite store's key");
    let info = s.run_ok(&["state", "info"]);
    assert!(info.contains("sqlite") && info.contains("state.db"), "{info}");

    let url = pg.create_database("migrate");
    s.reconfigure(|b| b.engine("state_store", pg_store(&url, Some("keys/shared.key"))));
    let from = s.state_path();
    let out = s.run(&["state", "migrate", "--from", from.to_str().unwrap()]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{o}\n{e}");
    let line = o.lines().find(|l| l.contains("user_state")).unwrap_or_else(|| panic!("no user_state line:\n{o}"));
    assert!(line.split(|c: char| !c.is_ascii_digit()).any(|n| n == "2"), "{o}");
    assert!(o.contains("copied") && o.contains("one transaction"), "{o}");
    no_password(&s, &[&o, &e]);
    assert_eq!(std::fs::read(s.dir().join("keys/shared.key")).unwrap(), sqlite_key, "the hash key was copied");

    let before = sandbox.writes();
    s.sync_ok();
    assert_eq!(sandbox.writes(), before, "a cycle after the migration wrote to the target");
    let list: serde_json::Value = serde_json::from_str(&s.run_ok(&["channels", "list", "--json"])).expect("JSON");
    assert_eq!(list[0]["users"], 2, "{list}");

    // A second migration is refused: the store is not empty.
    let out = s.run(&["state", "migrate", "--from", from.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));

    // Into a SQLite configuration: refused, saying what to configure.
    s.reconfigure(|b| {
        b.engine("state_store", {
            let mut t = toml::Table::new();
            t.insert("kind".into(), "sqlite".into());
            toml::Value::Table(t)
        })
    });
    let out = s.run(&["state", "migrate", "--from", from.to_str().unwrap()]);
    assert!(stderr(&out).contains("kind = \"postgres\""), "{}", stderr(&out));
}

#[test]
fn bad_settings_get_errors_that_name_the_key_and_hide_the_password() {
    let pg = Postgres::start();
    let sandbox = Sandbox::start(TOKEN);
    let url = pg.create_database("bad");
    let fails = |store: toml::Value, env: &str, wants: &[&str]| {
        let s = Scenario::scim(&sandbox.base_url(), TOKEN).env(PASSWORD_VAR, env).engine("state_store", store).build();
        s.write_directory(&[Person::new("alice")], &[]);
        let out = s.run(&["sync", "--once"]);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(!out.status.success(), "{o}\n{e}");
        for w in wants {
            assert!(e.contains(w) || o.contains(w), "{w:?} not in:\n{o}\n{e}");
        }
        no_password(&s, &[&o, &e]);
    };
    fails(pg_store(&url, Some("k")), "wrong-password", &["[engine.state_store] password", "refused the password"]);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    fails(
        pg_store(&format!("postgres://provisio@127.0.0.1:{free}/x"), Some("k")),
        PASSWORD,
        &["cannot connect", "is PostgreSQL running"],
    );
    fails(pg_store("postgres://provisio@127.0.0.1:port/x", Some("k")), PASSWORD, &["[engine.state_store] url"]);
    let inline = format!("postgres://provisio:{PASSWORD}@127.0.0.1:{}/bad", pg.port());
    fails(pg_store(&inline, Some("k")), PASSWORD, &["url holds a password"]);
    // No hash_key_file: config check names it, and a cycle does too.
    let s = Scenario::scim(&sandbox.base_url(), TOKEN)
        .env(PASSWORD_VAR, PASSWORD)
        .engine("state_store", pg_store(&url, None))
        .build();
    let out = s.run(&["config", "check"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("hash_key_file is missing"), "{}", stderr(&out));
    // An inline password in the configuration is refused by config check.
    let mut inline_pw = pg_store(&url, Some("k"));
    inline_pw.as_table_mut().unwrap().insert("password".into(), PASSWORD.into());
    let s = Scenario::scim(&sandbox.base_url(), TOKEN).engine("state_store", inline_pw).build();
    let out = s.run(&["config", "check"]);
    let e = stderr(&out);
    assert!(!out.status.success() && e.contains("engine.state_store.password") && e.contains("by reference"), "{e}");
    assert!(!e.contains(PASSWORD) && !stdout(&out).contains(PASSWORD));
}
