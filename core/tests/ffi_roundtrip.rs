//! The plugin boundary in-process: the SDK's real root module
//! (`ffi::plugin::root_module()`, what `export_plugin!` exports) driven by
//! the host side (`ffi::remote::describe/open/invoke`), with connectors
//! registered in this test binary. This runs the whole boundary glue
//! (abi_stable types, async_ffi futures, JSON encoding, the host services
//! bridge, panic guards) without building a cdylib.

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use provisio_core::__private::abi_stable::std_types::RString;
use provisio_core::connector::ConnectorConfig;
use provisio_core::ffi::{FfiConnectorBox, PluginRootRef, plugin, remote};
use provisio_core::host::HostServices;
use provisio_core::prelude::*;
use provisio_core::testing::{default_config, minimal_manifest};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};
use std::time::Duration;

/// Uses every host service, so each crosses the boundary both ways.
struct Echo {
    host: Host,
    url: String,
}

impl Connector for Echo {
    fn manifest() -> Manifest {
        let mut m = minimal_manifest("echo");
        m.settings = vec![SettingSpec::new("url", "URL", SettingKind::Url).required()];
        m.capabilities =
            [Capability::TestConnection, Capability::UserFind, Capability::UserCreate, Capability::UserUpdate]
                .into_iter()
                .collect();
        m
    }
    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        Ok(Echo { host, url: config.require_str("url")?.to_owned() })
    }
    async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        self.host.warn("pinging");
        self.host.register_secret("echo-Secret-0001");
        let request =
            HttpRequest::post(format!("{}/ping", self.url)).header("X-Test", "1").body(b"ping\x00\xff".to_vec());
        let r = self.host.http(request).await?;
        Ok(ConnectionReport {
            summary: format!("HTTP {} {}", r.status, r.header("x-reply").unwrap_or("-")),
            details: vec![format!("{:?}", r.body)],
        })
    }
    async fn find_user(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        self.host.http(HttpRequest::get(format!("{}/fail/{unique_id}", self.url))).await?;
        Ok(None)
    }
    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        let before = self.host.now_unix_ms();
        self.host.sleep(Duration::from_millis(1500)).await;
        Ok(TargetUser {
            id: format!("{}-{}", user.unique_id, self.host.now_unix_ms() - before),
            unique_id: Some(user.unique_id.clone()),
            active: Some(user.active),
            attributes: user.attributes.clone(),
        })
    }
}
provisio_core::register_connector!(Echo);

/// Panics before its future exists, inside it after an await, and on open.
struct Panicky {
    host: Host,
}

impl Connector for Panicky {
    fn manifest() -> Manifest {
        let mut m = minimal_manifest("panicky");
        m.settings =
            vec![SettingSpec::new("panic_on_open", "Panic on open", SettingKind::Boolean).default_value(false)];
        m.capabilities =
            [Capability::TestConnection, Capability::UserFind, Capability::UserCreate].into_iter().collect();
        m
    }
    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        if config.bool("panic_on_open")? == Some(true) {
            panic!("panicky panics while opening");
        }
        Ok(Panicky { host })
    }
    async fn test_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        Ok(ConnectionReport { summary: "panicky is fine".into(), details: vec![] })
    }
    #[allow(unreachable_code)]
    fn find_user(&self, unique_id: &str) -> impl Future<Output = Result<Option<TargetUser>, ConnectorError>> + Send {
        panic!("sync panic in find_user({unique_id})");
        std::future::ready(Ok(None))
    }
    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        self.host.sleep(Duration::from_millis(10)).await;
        panic!("async panic in create_user({})", user.unique_id)
    }
}
provisio_core::register_connector!(Panicky);

/// A future that is pending once (waking itself), then ready.
struct YieldOnce<T>(Option<T>, bool);

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if !std::mem::replace(&mut self.1, true) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.0.take().expect("polled after completion"))
    }
}

/// The host's side of the host services, recording what crossed.
#[derive(Default)]
struct TestHost {
    requests: Mutex<Vec<HttpRequest>>,
    logs: Mutex<Vec<(LogLevel, String)>>,
    secrets: Mutex<Vec<String>>,
    clock_ms: AtomicU64,
}

impl HostServices for TestHost {
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>> {
        let answer = if request.url.contains("/fail/") {
            Err(ConnectorError::from_status(503, "the target is down").with_scim_type("busy").with_retry_after_ms(2000))
        } else {
            Ok(HttpResponse { status: 201, headers: vec![("X-Reply".into(), "pong".into())], body: vec![0, 1, 255] })
        };
        self.requests.lock().unwrap().push(request);
        YieldOnce(Some(answer), false).boxed()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.clock_ms.fetch_add(duration.as_millis() as u64, Ordering::SeqCst);
        YieldOnce(Some(()), false).boxed()
    }
    fn now_unix_ms(&self) -> u64 {
        1_000_000 + self.clock_ms.load(Ordering::SeqCst)
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.logs.lock().unwrap().push((level, message.to_owned()));
    }
    fn register_secret(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }
}

/// The root module, as a host would get it from a loaded library.
///
/// The SDK's guard installs a panic hook that keeps panic messages for the
/// error instead of printing them; in-process it would also silence this
/// test binary's failed assertions, so chain a hook that prints them too
/// (libtest shows the output of failing tests only).
fn root() -> PluginRootRef {
    static HOOK: Once = Once::new();
    let root = plugin::root_module();
    HOOK.call_once(|| {
        let _ = remote::describe(root); // installs the SDK's hook
        let sdk_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            sdk_hook(info);
            eprintln!("{info}");
        }));
    });
    root
}

fn open(id: &str, settings: serde_json::Value, host: &Arc<TestHost>) -> Result<FfiConnectorBox, ConnectorError> {
    let manifest = plugin::manifests().into_iter().find(|m| m.id == id).expect("registered");
    remote::open(root(), id, &default_config(&manifest, settings)?, host.clone())
}

fn echo(host: &Arc<TestHost>) -> FfiConnectorBox {
    open("echo", json!({ "url": "https://t.example" }), host).expect("echo opens")
}

fn run(connector: &FfiConnectorBox, operation: Operation) -> Result<serde_json::Value, ConnectorError> {
    futures_executor::block_on(remote::invoke(connector, &operation))
}

/// Send raw JSON, as a host speaking another protocol minor version would.
fn run_raw(connector: &FfiConnectorBox, raw: &str) -> Result<serde_json::Value, ConnectorError> {
    let reply: RString = futures_executor::block_on(connector.invoke(RString::from(raw)));
    remote::decode_reply("raw", &reply)
}

#[test]
fn describe_lists_the_registered_connectors_with_sdk_and_protocol() {
    let manifests = remote::describe(root()).expect("describes itself");
    let ids: Vec<&str> = manifests.iter().map(|m| m.id.as_str()).collect();
    assert!(ids.contains(&"echo") && ids.contains(&"panicky") && ids.len() == 2, "{ids:?}");
    for m in &manifests {
        assert_eq!(m.sdk_version, provisio_core::ffi::SDK_VERSION);
        assert_eq!(
            (m.protocol.major, m.protocol.minor),
            (provisio_core::ffi::PROTOCOL_MAJOR, provisio_core::ffi::PROTOCOL_MINOR)
        );
        assert_eq!(m.validate(), vec![]);
    }
    let echo = manifests.iter().find(|m| m.id == "echo").unwrap();
    assert_eq!(echo.capabilities, Echo::manifest().capabilities, "the manifest survives the JSON round trip");
}

#[test]
fn the_handshake_is_this_sdks() {
    let h = provisio_core::ffi::Handshake::current();
    assert_eq!(h.magic, *b"PROVISIO");
    assert_eq!(h.sdk_version(), provisio_core::ffi::SDK_VERSION);
}

#[test]
fn http_crosses_the_boundary_both_ways() {
    let host = Arc::new(TestHost::default());
    let report = run(&echo(&host), Operation::TestConnection).expect("test_connection");
    assert_eq!(report["summary"], "HTTP 201 pong");
    assert_eq!(report["details"][0], "[0, 1, 255]");
    // The registered secret crossed as a secret, not as a request.
    assert_eq!(host.secrets.lock().unwrap().as_slice(), ["echo-Secret-0001"]);
    assert_eq!(host.requests.lock().unwrap().len(), 1, "only the ping was sent");
    let sent = host.requests.lock().unwrap()[0].clone();
    assert_eq!(
        sent,
        HttpRequest {
            method: "POST".into(),
            url: "https://t.example/ping".into(),
            headers: vec![("X-Test".into(), "1".into())],
            body: b"ping\x00\xff".to_vec(),
        }
    );
    assert_eq!(host.logs.lock().unwrap().as_slice(), [(LogLevel::Warn, "pinging".to_owned())]);
}

#[test]
fn a_host_error_reaches_the_connector_whole() {
    let host = Arc::new(TestHost::default());
    let err = run(&echo(&host), Operation::FindUser { unique_id: "jdoe".into() }).unwrap_err();
    let expected =
        ConnectorError::from_status(503, "the target is down").with_scim_type("busy").with_retry_after_ms(2000);
    assert_eq!(err, expected);
}

#[test]
fn sleep_and_clock_cross_the_boundary() {
    let host = Arc::new(TestHost::default());
    let user = UserRecord { unique_id: "jdoe".into(), active: true, ..UserRecord::default() };
    let created: TargetUser =
        serde_json::from_value(run(&echo(&host), Operation::CreateUser { user }).unwrap()).unwrap();
    assert_eq!(created.id, "jdoe-1500", "the connector saw the host's clock advance by its sleep");
    assert_eq!(created.active, Some(true));
}

#[test]
fn opening_an_unknown_id_is_a_config_error() {
    let host = Arc::new(TestHost::default());
    let config = default_config(&Echo::manifest(), json!({ "url": "https://t.example" })).unwrap();
    let err = remote::open(root(), "nope", &config, host).err().expect("no such connector");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.detail.contains("'nope'"), "{err}");
}

#[test]
fn the_connectors_open_error_crosses_the_boundary() {
    let err = open("echo", json!({}), &Arc::new(TestHost::default())).err().expect("no url");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.detail.contains("'url'"), "{err}");
}

#[test]
fn unsupported_operations_name_the_connector_and_the_operation() {
    let host = Arc::new(TestHost::default());
    let echo = echo(&host);
    // Not declared.
    let err = run(&echo, Operation::DeleteGroup { target_id: "g".into() }).unwrap_err();
    assert_eq!(
        (err.kind, err.detail.as_str()),
        (ErrorKind::Unsupported, "connector 'echo': operation 'delete_group' is not supported")
    );
    // Declared, not implemented.
    let user = UserRecord::default();
    let err = run(&echo, Operation::UpdateUser { target_id: "u".into(), user }).unwrap_err();
    assert_eq!(
        (err.kind, err.detail.as_str()),
        (ErrorKind::Unsupported, "connector 'echo': operation 'update_user' is not supported")
    );
}

#[test]
fn an_unknown_operation_is_answered_unsupported() {
    let echo = echo(&Arc::new(TestHost::default()));
    let err = run_raw(&echo, r#"{"op": "rotate_credentials", "key": "k"}"#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    assert!(err.detail.contains("'echo'") && err.detail.contains("'rotate_credentials'"), "{err}");
    assert!(!err.retryable);
}

#[test]
fn an_unreadable_request_is_a_protocol_error() {
    let echo = echo(&Arc::new(TestHost::default()));
    for raw in ["not json", r#"{"op": "find_user"}"#, r#"{"no_op": true}"#] {
        let err = run_raw(&echo, raw).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{raw}: {err}");
        assert!(err.detail.contains("'echo' could not read the request"), "{err}");
    }
}

#[test]
fn a_panic_before_the_future_exists_is_an_error() {
    let host = Arc::new(TestHost::default());
    let panicky = open("panicky", serde_json::Value::Null, &host).unwrap();
    let err = run(&panicky, Operation::FindUser { unique_id: "jdoe".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panic, "{err}");
    assert!(err.detail.contains("sync panic in find_user(jdoe)"), "{err}");
    assert!(err.detail.contains("ffi_roundtrip.rs:"), "the location is kept: {err}");
    run(&panicky, Operation::TestConnection).expect("the connector still works");
}

#[test]
fn a_panic_inside_the_future_after_an_await_is_an_error() {
    let host = Arc::new(TestHost::default());
    let panicky = open("panicky", serde_json::Value::Null, &host).unwrap();
    let user = UserRecord { unique_id: "jdoe".into(), ..UserRecord::default() };
    let err = run(&panicky, Operation::CreateUser { user }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panic, "{err}");
    assert!(err.detail.contains("async panic in create_user(jdoe)"), "{err}");
    assert_eq!(host.clock_ms.load(Ordering::SeqCst), 10, "it panicked after the host's sleep");
    run(&echo(&host), Operation::TestConnection).expect("another connector still works");
}

#[test]
fn a_panic_while_opening_is_an_error() {
    let host = Arc::new(TestHost::default());
    let err = open("panicky", json!({ "panic_on_open": true }), &host).err().expect("open fails");
    assert_eq!(err.kind, ErrorKind::Panic, "{err}");
    assert!(err.detail.contains("panicky panics while opening"), "{err}");
    assert!(open("panicky", serde_json::Value::Null, &host).is_ok());
}

#[test]
fn a_reply_the_host_cannot_read_is_a_protocol_error() {
    let err = remote::decode_reply("find_user", "{\"maybe\": 1}").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.detail.contains("'find_user'") && err.detail.contains("{\"maybe\": 1}"), "{err}");
}
