//! Opening the store: creation and reopening, migrations, schema version
//! checks, the run lock (in this process and from a child process) and
//! read-only opens.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use provisio_state::{SCHEMA_VERSION, StateError, StateStore, UserState, UserStatus};

fn store_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state").join("provisio.db")
}

fn user(guid: &str) -> UserState {
    UserState {
        guid: guid.into(),
        target_id: Some(format!("t-{guid}")),
        unique_id: format!("{guid}@example.com"),
        hash: "h1".into(),
        status: UserStatus::Active,
        created_at: 10,
        updated_at: 10,
        ..UserState::default()
    }
}

#[test]
fn creates_then_reopens_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    {
        let store = StateStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let ch = store.channel("conn", "main").unwrap();
        store.upsert_user(ch, &user("a")).unwrap();
        store.set_high_water(ch, "usn:42").unwrap();
    }
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let ch = store.find_channel("conn", "main").unwrap().unwrap();
    assert_eq!(store.users(ch).unwrap()["a"], user("a"));
    assert_eq!(store.high_water(ch).unwrap().as_deref(), Some("usn:42"));
}

#[test]
fn migrates_an_empty_file_and_reopens_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    for _ in 0..3 {
        let store = StateStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, i64::from(SCHEMA_VERSION), "each migration recorded once");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn refuses_a_store_from_a_newer_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    drop(StateStore::open(&path).unwrap());
    let newer = SCHEMA_VERSION + 4;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)", [newer])
        .unwrap();
    let expected = format!(
        "the state store at {} was written by a newer provisio (schema {newer}); this one knows up to {SCHEMA_VERSION}",
        path.display()
    );
    let err = StateStore::open(&path).unwrap_err();
    assert!(matches!(err, StateError::NewerSchema { found, .. } if found == newer));
    assert_eq!(err.to_string(), expected);
    let err = StateStore::open_read_only(&path).unwrap_err();
    assert_eq!(err.to_string(), expected);
}

#[test]
fn refuses_a_file_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    assert!(matches!(StateStore::open(&path).unwrap_err(), StateError::Database { .. }));
}

#[test]
fn second_open_is_refused_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let first = StateStore::open(&path).unwrap();
    let err = StateStore::open(&path).unwrap_err();
    let StateError::Locked { path: p, holder } = &err else {
        panic!("expected Locked, got {err:?}");
    };
    assert_eq!(p, &path);
    let holder = holder.clone().expect("holder recorded in the lock file");
    assert!(holder.starts_with(&format!("pid {}, started ", std::process::id())), "{holder}");
    let message = err.to_string();
    assert!(message.starts_with(&format!("another provisio run (pid {}, started ", std::process::id())), "{message}");
    assert!(
        message
            .ends_with(&format!(") is using the state store at {}; wait for it to finish or stop it", path.display())),
        "{message}"
    );
    drop(first);
    let again = StateStore::open(&path).unwrap();
    assert!(!again.is_read_only());
    assert!(path.with_extension("db.lock").exists(), "the lock file stays");
}

#[test]
fn read_only_open_works_while_a_run_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let writer = StateStore::open(&path).unwrap();
    let ch = writer.channel("conn", "main").unwrap();
    writer.upsert_user(ch, &user("a")).unwrap();

    let reader = StateStore::open_read_only(&path).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(reader.channel_summaries().unwrap()[0].users, 1);

    // The reader sees later commits of the writer.
    writer.upsert_user(ch, &user("b")).unwrap();
    assert_eq!(reader.users(ch).unwrap().len(), 2);

    // And cannot write.
    assert!(matches!(reader.upsert_user(ch, &user("c")).unwrap_err(), StateError::ReadOnly));
    assert!(matches!(reader.channel("conn", "other").unwrap_err(), StateError::ReadOnly));
    assert_eq!(reader.find_channel("conn", "other").unwrap(), None);
}

#[test]
fn read_only_open_works_after_the_writer_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    {
        let writer = StateStore::open(&path).unwrap();
        let ch = writer.channel("conn", "main").unwrap();
        writer.upsert_user(ch, &user("a")).unwrap();
    }
    let reader = StateStore::open_read_only(&path).unwrap();
    let ch = reader.find_channel("conn", "main").unwrap().unwrap();
    assert_eq!(reader.users(ch).unwrap().len(), 1);
    // A run can start while the reader is open.
    let writer = StateStore::open(&path).unwrap();
    writer.upsert_user(ch, &user("b")).unwrap();
    assert_eq!(reader.users(ch).unwrap().len(), 2);
}

#[test]
fn read_only_open_of_a_missing_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let err = StateStore::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StateError::NotFound { .. }));
    assert!(err.to_string().contains("there is no state store at"), "{err}");
    assert!(!path.exists(), "a read-only open creates nothing");
}

// ---- the lock across processes ------------------------------------------

const HOLD_ENV: &str = "PROVISIO_STATE_TEST_HOLD_LOCK";
const HOLDING: &str = "child-now-holds-the-run-lock";

/// Not a test of its own: when run as a child by
/// `another_process_holding_the_lock_is_refused`, it opens the store named
/// in the environment, says so, and keeps it open until its stdin closes.
#[test]
fn lock_holder_child() {
    let Ok(path) = std::env::var(HOLD_ENV) else {
        return;
    };
    let store = StateStore::open(Path::new(&path)).unwrap();
    println!("{HOLDING}");
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    drop(store);
}

#[test]
fn another_process_holding_the_lock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_holder_child", "--nocapture", "--test-threads=1"])
        .env(HOLD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("child exited before taking the lock");
        }
        if line.contains(HOLDING) {
            break;
        }
    }

    let err = StateStore::open(&path).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with(&format!("another provisio run (pid {}, started ", child.id())), "{message}");
    // Reading still works.
    assert_eq!(StateStore::open_read_only(&path).unwrap().schema_version().unwrap(), SCHEMA_VERSION);

    // A killed holder leaves its lock file behind, but not its lock.
    child.kill().unwrap();
    child.wait().unwrap();
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}
