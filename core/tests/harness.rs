//! The in-process test harness (`provisio_core::testing`): `Harness` with
//! `RecordedHttp` records every request, fails an unexpected request with a
//! message naming what was expected and what was sent, runs sleeps on a
//! virtual clock, records log lines, applies the manifest's defaults, and
//! runs operations through the same guard as a loaded plugin (unsupported
//! operations named, panics caught).

use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp, default_config, minimal_manifest};
use serde_json::json;
use std::time::Duration;

/// A connector that checks a status endpoint, retrying on 503 after the
/// `Retry-After` the target asks for.
struct Retrying {
    host: Host,
    url: String,
}

impl Connector for Retrying {
    fn manifest() -> Manifest {
        let mut m = minimal_manifest("retrying");
        m.settings = vec![
            SettingSpec::new("url", "URL", SettingKind::Url).required(),
            SettingSpec::new("attempts", "Attempts", SettingKind::Integer).default_value(3),
        ];
        m.capabilities =
            [Capability::TestConnection, Capability::UserFind, Capability::UserCreate, Capability::UserUpdate]
                .into_iter()
                .collect();
        m
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let attempts = config.integer("attempts")?;
        host.debug(&format!("opened with {attempts:?} attempts"));
        Ok(Retrying { host, url: config.require_str("url")?.to_owned() })
    }

    async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        for attempt in 1..=3 {
            let response = self
                .host
                .http(HttpRequest::get(format!("{}/status", self.url)).header("X-Attempt", attempt.to_string()))
                .await?;
            if response.status != 503 {
                self.host.info(&format!("attempt {attempt}: HTTP {}", response.status));
                return Ok(ConnectionReport {
                    summary: format!("HTTP {} after {attempt} attempts", response.status),
                    details: vec![response.text()],
                });
            }
            let wait: u64 = response.header("Retry-After").and_then(|v| v.parse().ok()).unwrap_or(1);
            self.host.warn(&format!("attempt {attempt}: busy, waiting {wait}s"));
            self.host.sleep(Duration::from_secs(wait)).await;
        }
        Err(ConnectorError::from_status(503, "still busy after 3 attempts"))
    }

    async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        let body = format!(r#"{{"login":"{unique_id}","at":{}}}"#, self.host.now_unix_ms());
        let response = self.host.http(HttpRequest::post(format!("{}/search", self.url)).body(body)).await?;
        Ok((response.status == 200).then(|| TargetUser { id: response.text(), ..TargetUser::default() }))
    }

    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        if user.unique_id == "sync" {
            panic!("create_user panicked for {}", user.unique_id);
        }
        self.host.sleep(Duration::from_millis(250)).await;
        panic!("create_user panicked after sleeping, for {}", user.unique_id)
    }
    // UserUpdate is declared but not implemented: the trait's default answers.
}

fn open(http: RecordedHttp) -> Harness {
    Harness::open::<Retrying>(json!({ "url": "https://t.example" }), http).expect("opens")
}

#[test]
fn requests_are_recorded_and_answered_in_order() {
    let http = RecordedHttp::new().on("POST", "https://t.example/search", 200, "u-1").on(
        "POST",
        "https://t.example/search",
        404,
        "",
    );
    let h = open(http);
    let found = h.run(Operation::FindUser { unique_id: "jdoe".into() }).unwrap();
    assert_eq!(found["id"], "u-1");
    assert_eq!(h.run(Operation::FindUser { unique_id: "nobody".into() }).unwrap(), serde_json::Value::Null);

    let sent = h.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].method.as_str(), sent[0].url.as_str()), ("POST", "https://t.example/search"));
    // The clock starts at 2026-01-01T00:00:00Z.
    assert_eq!(String::from_utf8_lossy(&sent[0].body), r#"{"login":"jdoe","at":1767225600000}"#);
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn an_unexpected_request_fails_naming_what_was_expected_and_what_was_sent() {
    let h = open(RecordedHttp::new().on("GET", "https://t.example/elsewhere", 200, ""));
    let err = h.run(Operation::TestConnection).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert_eq!(
        err.detail,
        "recorded HTTP expected GET https://t.example/elsewhere but the connector sent GET https://t.example/status"
    );
    // The request was still recorded, so the test can look at it.
    assert_eq!(h.requests()[0].headers, vec![("X-Attempt".to_owned(), "1".to_owned())]);
}

#[test]
fn a_request_past_the_end_of_the_script_fails_clearly() {
    let h = open(RecordedHttp::new());
    let err = h.run(Operation::TestConnection).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.detail.contains("no more exchanges") && err.detail.contains("GET https://t.example/status"), "{err}");
}

#[test]
fn unused_exchanges_are_counted() {
    let http = RecordedHttp::new().on("GET", "https://t.example/status", 200, "ok").on(
        "GET",
        "https://t.example/status",
        200,
        "never asked for",
    );
    let h = open(http);
    h.run(Operation::TestConnection).unwrap();
    assert_eq!(h.unused_exchanges(), 1);
}

#[test]
fn sleeping_advances_a_virtual_clock_instantly() {
    let mut busy = HttpResponse { status: 503, ..HttpResponse::default() };
    busy.headers.push(("Retry-After".into(), "30".into()));
    let http = RecordedHttp::new()
        .on_response("GET", "https://t.example/status", busy.clone())
        .on_response("GET", "https://t.example/status", busy)
        .on("GET", "https://t.example/status", 200, "fine");
    let h = open(http);
    let started = std::time::Instant::now();
    let report = h.run(Operation::TestConnection).unwrap();
    assert_eq!(report["summary"], "HTTP 200 after 3 attempts");
    assert_eq!(h.slept(), Duration::from_secs(60));
    assert!(started.elapsed() < Duration::from_secs(5), "a virtual minute took {:?}", started.elapsed());
}

#[test]
fn a_scripted_transport_failure_reaches_the_connector() {
    let failure = ConnectorError::new(ErrorKind::Transport, "connection refused");
    let h = open(RecordedHttp::new().on_failure("GET", "https://t.example/status", failure.clone()));
    assert_eq!(h.run(Operation::TestConnection).unwrap_err(), failure);
}

#[test]
fn log_lines_are_recorded_with_their_level() {
    let h = open(RecordedHttp::new().on("GET", "https://t.example/status", 200, ""));
    h.run(Operation::TestConnection).unwrap();
    assert_eq!(
        h.logs(),
        vec![
            (LogLevel::Debug, "opened with Some(3) attempts".to_owned()),
            (LogLevel::Info, "attempt 1: HTTP 200".to_owned())
        ]
    );
}

#[test]
fn the_manifest_defaults_are_applied_under_the_given_settings() {
    let config = default_config(&Retrying::manifest(), json!({ "url": "https://t.example", "attempts": 5 })).unwrap();
    assert_eq!(config.settings["attempts"], json!(5));
    let config = default_config(&Retrying::manifest(), serde_json::Value::Null).unwrap();
    assert_eq!(config.settings["attempts"], json!(3));
    assert_eq!(config.remove_user_action, RemoveUserAction::Disable);
    assert!(default_config(&Retrying::manifest(), json!(["not", "an", "object"])).is_err());
}

#[test]
fn opening_fails_with_the_connectors_own_error() {
    let err = Harness::open::<Retrying>(json!({}), RecordedHttp::new()).err().expect("no url");
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(err.detail, "connection 'test': setting 'url' has no value");
}

#[test]
fn an_undeclared_operation_is_unsupported_naming_connector_and_operation() {
    let err = open(RecordedHttp::new()).run(Operation::DeleteUser { target_id: "u-1".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert_eq!(err.detail, "connector 'retrying': operation 'delete_user' is not supported");
}

#[test]
fn a_declared_but_unimplemented_operation_is_unsupported_too() {
    let user = UserRecord { unique_id: "jdoe".into(), ..UserRecord::default() };
    let err = open(RecordedHttp::new()).run(Operation::UpdateUser { target_id: "u-1".into(), user }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert_eq!(err.detail, "connector 'retrying': operation 'update_user' is not supported");
}

#[test]
fn panics_are_caught_before_and_after_an_await() {
    let h = open(RecordedHttp::new());
    for (who, message) in
        [("sync", "create_user panicked for sync"), ("async", "create_user panicked after sleeping, for async")]
    {
        let user = UserRecord { unique_id: who.into(), ..UserRecord::default() };
        let err = h.run(Operation::CreateUser { user }).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Panic, "{err}");
        assert!(err.detail.contains(message), "{err}");
    }
    assert_eq!(h.slept(), Duration::from_millis(250));
    // The connector still works.
    let h2 = open(RecordedHttp::new().on("GET", "https://t.example/status", 200, ""));
    h2.run(Operation::TestConnection).unwrap();
}
