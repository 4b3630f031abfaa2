//! Panic isolation across the plugin boundary, with real libraries.
//!
//! The `misbehaving` fixture connector is loaded through the loader, opened
//! with `remote::open` and driven with `remote::invoke`, as the host does.
//! Each of its panics (before a future exists, inside a future after an
//! await on the host's sleep, with a non-text payload, while opening) must
//! come back as an `ErrorKind::Panic` error for that one operation carrying
//! the panic message; afterwards the same connector and another one (the
//! example `acme` connector) still work, and so does this process.
//!
//! The `garbage` fixture answers replies the host cannot decode; those come
//! back as `ErrorKind::Protocol` errors.
//!
//! `scripts/test` runs this file in release mode too
//! (`cargo test --release -p provisio-e2e --test panic_isolation` with
//! release fixtures): unwinding must work in every profile.

use provisio_core::connector::ConnectorConfig;
use provisio_core::error::{ConnectorError, ErrorKind};
use provisio_core::ffi::{FfiConnectorBox, remote};
use provisio_core::host::{HostServices, HttpRequest, HttpResponse, LogLevel};
use provisio_core::ops::{Operation, UserRecord};
use provisio_e2e::{dir_with, fixture_library, library_file_name};
use provisio_runtime::loader::{LoadReport, load_dirs};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A future that is pending once (waking itself), then ready: enough to make
/// a connector's future suspend and be polled again across the boundary.
struct YieldOnce<T>(Option<T>, bool);

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if !self.1 {
            self.1 = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.0.take().expect("polled after completion"))
    }
}

/// Host services for the test: a virtual clock, a log, and an HTTP service
/// that answers the one call the example connector's test_connection makes.
#[derive(Default)]
struct TestHost {
    slept_ms: AtomicU64,
    requests: Mutex<Vec<String>>,
    logs: Mutex<Vec<(LogLevel, String)>>,
}

const ACME: &str = "http://acme.test";

impl HostServices for TestHost {
    fn http(&self, request: HttpRequest) -> BoxFuture<Result<HttpResponse, ConnectorError>> {
        self.requests.lock().unwrap().push(format!("{} {}", request.method, request.url));
        let answer = if request.method == "GET" && request.url == format!("{ACME}/api/v1/me") {
            let body = r#"{"organization":"Test Org","scopes":["users:read","users:write"]}"#;
            Ok(HttpResponse { status: 200, headers: vec![], body: body.into() })
        } else {
            Err(ConnectorError::new(ErrorKind::Transport, format!("the test host has no answer for {}", request.url)))
        };
        Box::pin(YieldOnce(Some(answer), false))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        self.slept_ms.fetch_add(duration.as_millis() as u64, Ordering::SeqCst);
        Box::pin(YieldOnce(Some(()), false))
    }

    fn now_unix_ms(&self) -> u64 {
        1_767_225_600_000 + self.slept_ms.load(Ordering::SeqCst)
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.lock().unwrap().push((level, message.to_owned()));
    }
}

/// The misbehaving, garbage and example connectors, loaded from one
/// directory by the real loader.
fn load() -> (tempfile::TempDir, LoadReport) {
    let files: Vec<_> = ["fixture_misbehaving", "fixture_garbage_answers", "provisio_example"]
        .into_iter()
        .map(|lib| fixture_library(&library_file_name(lib)))
        .collect();
    let dir = dir_with(&files);
    let report = load_dirs(&[dir.path().to_owned()]);
    assert!(report.rejected.is_empty(), "the fixtures load: {:?}", report.rejected);
    (dir, report)
}

fn config(report: &LoadReport, id: &str, settings: serde_json::Value) -> ConnectorConfig {
    let loaded = report.get(id).unwrap_or_else(|| panic!("connector '{id}' is loaded"));
    provisio_core::testing::default_config(&loaded.manifest, settings).expect("a configuration")
}

fn open(report: &LoadReport, id: &str, settings: serde_json::Value, host: &Arc<TestHost>) -> FfiConnectorBox {
    let root = report.get(id).expect("loaded").root();
    remote::open(root, id, &config(report, id, settings), host.clone()).unwrap_or_else(|e| panic!("open {id}: {e}"))
}

fn run(connector: &FfiConnectorBox, operation: Operation) -> Result<serde_json::Value, ConnectorError> {
    futures_executor::block_on(remote::invoke(connector, &operation))
}

fn user(unique_id: &str) -> UserRecord {
    UserRecord { source_id: "guid".into(), unique_id: unique_id.into(), active: true, ..UserRecord::default() }
}

fn acme_settings() -> serde_json::Value {
    serde_json::json!({ "base_url": ACME, "api_token": "t0ken" })
}

/// The error is a non-retryable panic error carrying `message`.
fn assert_panic(result: Result<serde_json::Value, ConnectorError>, message: &str) {
    let err = result.expect_err("a panicking operation fails");
    assert_eq!(err.kind, ErrorKind::Panic, "{err}");
    assert!(!err.retryable, "a panic is not retried: {err}");
    assert!(err.detail.contains(message), "the error carries the panic message '{message}': {err}");
}

#[test]
fn panics_in_operations_become_errors_and_everything_keeps_working() {
    let (_dir, report) = load();
    let host = Arc::new(TestHost::default());
    let misbehaving = open(&report, "misbehaving", serde_json::Value::Null, &host);
    let acme = open(&report, "acme", acme_settings(), &host);

    // A panic before the connector's future exists.
    assert_panic(
        run(&misbehaving, Operation::FindUser { unique_id: "jdoe".into() }),
        "fixture: find_user panics before returning a future (asked for 'jdoe')",
    );

    // A panic inside the future, after it was suspended on the host's sleep.
    assert_panic(
        run(&misbehaving, Operation::CreateUser { user: user("jdoe") }),
        "fixture: create_user panics after awaiting host.sleep (creating 'jdoe')",
    );
    assert_eq!(host.slept_ms.load(Ordering::SeqCst), 5, "create_user awaited the host's sleep before panicking");

    // A panic whose payload is not text still becomes an error.
    assert_panic(run(&misbehaving, Operation::DeleteUser { target_id: "u1".into() }), "a non-text panic payload");

    // The same connector still answers, and so does another one.
    let report_json = run(&misbehaving, Operation::TestConnection).expect("misbehaving still works");
    assert_eq!(report_json["summary"], "misbehaving answers test_connection normally");
    let acme_json = run(&acme, Operation::TestConnection).expect("acme works");
    assert!(acme_json["summary"].as_str().unwrap_or_default().contains("Test Org"), "{acme_json}");
    assert_eq!(host.requests.lock().unwrap().as_slice(), [format!("GET {ACME}/api/v1/me")]);

    // And the panics are repeatable: nothing was left poisoned.
    assert_panic(run(&misbehaving, Operation::FindUser { unique_id: "again".into() }), "(asked for 'again')");
}

#[test]
fn the_panic_message_says_where_the_connector_panicked() {
    let (_dir, report) = load();
    let host = Arc::new(TestHost::default());
    let misbehaving = open(&report, "misbehaving", serde_json::Value::Null, &host);
    let err = run(&misbehaving, Operation::FindUser { unique_id: "x".into() }).unwrap_err();
    assert!(err.detail.starts_with("the connector panicked"), "{err}");
    assert!(err.detail.contains("misbehaving/src/lib.rs:"), "the location is given: {err}");
}

#[test]
fn a_panic_while_opening_is_an_error_and_the_connector_opens_afterwards() {
    let (_dir, report) = load();
    let host = Arc::new(TestHost::default());
    let root = report.get("misbehaving").expect("loaded").root();
    let panicking = config(&report, "misbehaving", serde_json::json!({ "panic_on_open": true }));
    let err = remote::open(root, "misbehaving", &panicking, host.clone()).err().expect("opening fails");
    assert_eq!(err.kind, ErrorKind::Panic, "{err}");
    assert!(err.detail.contains("fixture: misbehaving panics while opening"), "{err}");

    let connector = open(&report, "misbehaving", serde_json::Value::Null, &host);
    run(&connector, Operation::TestConnection).expect("it opens and works afterwards");
}

#[test]
fn panics_on_several_threads_at_once_each_report_their_own_message() {
    let (_dir, report) = load();
    let host = Arc::new(TestHost::default());
    let misbehaving = Arc::new(open(&report, "misbehaving", serde_json::Value::Null, &host));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let connector = misbehaving.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let who = format!("t{t}-{i}");
                    let op = if i % 2 == 0 {
                        Operation::FindUser { unique_id: who.clone() }
                    } else {
                        Operation::CreateUser { user: user(&who) }
                    };
                    assert_panic(run(&connector, op), &format!("'{who}')"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a test thread survived every panic");
    }
    run(&misbehaving, Operation::TestConnection).expect("still works");
}

#[test]
fn answers_the_host_cannot_decode_are_protocol_errors() {
    let (_dir, report) = load();
    let host = Arc::new(TestHost::default());
    let garbage = open(&report, "garbage", serde_json::Value::Null, &host);

    let err = run(&garbage, Operation::FindUser { unique_id: "jdoe".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    assert!(err.detail.contains("find_user") && err.detail.contains("this is not JSON at all"), "{err}");

    let err = run(&garbage, Operation::CreateUser { user: user("jdoe") }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    assert!(err.detail.contains(r#"{"created": true}"#), "the bad answer is quoted: {err}");

    let ok = run(&garbage, Operation::TestConnection).expect("a proper answer still decodes");
    assert_eq!(ok["summary"], "garbage answers test_connection properly");
}
