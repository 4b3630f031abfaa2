//! The plugin side of the boundary: what `export_plugin!` wires up.
//!
//! Everything here runs inside a plugin library. Each exported function and
//! each returned future is wrapped in `catch_unwind`, so a panicking
//! connector costs one operation, never the host (abi_stable would otherwise
//! abort the process).

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RErr, ROk, RResult, RStr, RString, RVec, Tuple2};
use async_ffi::{FfiFuture, FutureExt as _};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Once};
use std::time::Duration;

use super::{FfiConnector, FfiConnector_TO, FfiConnectorBox, FfiHostBox, FfiHttpRequest, PluginRoot, PluginRootRef};
use crate::connector::{ConnectorConfig, DynConnector, name_unsupported, registered};
use crate::error::{ConnectorError, ErrorKind};
use crate::host::{Host, HostServices, HttpRequest, HttpResponse, LogLevel};
use crate::manifest::Manifest;
use crate::ops::{Operation, Reply};

/// The root module of this library. Called once by abi_stable when the host
/// loads the library.
pub fn root_module() -> PluginRootRef {
    PluginRoot { describe, open }.leak_into_prefix()
}

/// The manifests of every connector registered in this binary, with the SDK
/// and protocol versions filled in.
pub fn manifests() -> Vec<Manifest> {
    registered()
        .map(|r| {
            let mut m = (r.manifest)();
            m.sdk_version = super::SDK_VERSION.to_owned();
            m.protocol =
                crate::manifest::ProtocolVersion { major: super::PROTOCOL_MAJOR, minor: super::PROTOCOL_MINOR };
            m
        })
        .collect()
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Run `f` as a guarded connector call: a panic inside is remembered
/// quietly (its message then travels to the host as an error, which the
/// host logs with its redaction) instead of being printed to stderr.
fn guarded<T>(f: impl FnOnce() -> T) -> T {
    GUARDED.with(|g| g.set(g.get() + 1));
    let out = f();
    GUARDED.with(|g| g.set(g.get() - 1));
    out
}

/// Install, once, a panic hook that stays quiet for panics inside guarded
/// connector calls and hands every other panic to the hook that was there
/// before (so a test binary that links the SDK still prints its failed
/// assertions).
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(|g| g.get()) > 0 {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(location));
            } else {
                previous(info);
            }
        }));
    });
}

/// A future whose every poll is a guarded call.
struct Guarded<F>(F);

impl<F: std::future::Future + Unpin> std::future::Future for Guarded<F> {
    type Output = F::Output;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        guarded(|| std::pin::Pin::new(&mut self.0).poll(cx))
    }
}

/// Turn a caught panic payload into text.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text panic payload".to_owned()
    };
    let location = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
    format!("{message}{location}")
}

fn panic_error(what: &str, payload: &(dyn std::any::Any + Send)) -> ConnectorError {
    ConnectorError::new(ErrorKind::Panic, format!("the connector panicked {what}: {}", panic_message(payload)))
        .retryable(false)
}

fn json_string(value: &impl serde::Serialize) -> RString {
    serde_json::to_string(value).unwrap_or_else(|e| format!(r#"{{"err":"cannot encode: {e}"}}"#)).into()
}

extern "C" fn describe() -> RString {
    quiet_panics();
    match catch_unwind(|| guarded(manifests)) {
        Ok(list) => json_string(&serde_json::json!({ "ok": list })),
        Err(payload) => json_string(&serde_json::json!({
            "err": format!("panicked while describing itself: {}", panic_message(&*payload))
        })),
    }
}

extern "C" fn open(id: RStr<'_>, config: RStr<'_>, host: FfiHostBox) -> RResult<FfiConnectorBox, RString> {
    quiet_panics();
    let id = id.as_str().to_owned();
    let config = config.as_str().to_owned();
    let result = catch_unwind(AssertUnwindSafe(|| guarded(|| open_inner(&id, &config, host))))
        .unwrap_or_else(|payload| Err(panic_error("while opening", &*payload)));
    match result {
        Ok(connector) => ROk(connector),
        Err(err) => RErr(json_string(&err)),
    }
}

fn open_inner(id: &str, config: &str, host: FfiHostBox) -> Result<FfiConnectorBox, ConnectorError> {
    let registration = registered()
        .find(|r| (r.manifest)().id == id)
        .ok_or_else(|| ConnectorError::config(format!("this library has no connector '{id}'")))?;
    let config: ConnectorConfig = serde_json::from_str(config)
        .map_err(|e| ConnectorError::internal(format!("the host sent a configuration this SDK cannot read: {e}")))?;
    let host = Host::new(FfiHostServices(host));
    let connector = (registration.open)(config, host)?;
    Ok(FfiConnector_TO::from_value(PluginConnector { id: id.to_owned(), inner: connector }, TD_Opaque))
}

/// Run one JSON operation against a type-erased connector, catching panics.
/// Shared by the FFI path and the in-process path, so both behave the same.
pub fn invoke_json(id: String, inner: Arc<dyn DynConnector>, operation: String) -> BoxFuture<'static, String> {
    let run = async move {
        let op: Operation = match serde_json::from_str(&operation) {
            Ok(op) => op,
            Err(e) => return Reply::Err(unknown_operation(&id, &operation, &e)),
        };
        let call = catch_unwind(AssertUnwindSafe(|| guarded(|| inner.invoke(op))));
        let outcome = match call {
            Ok(future) => AssertUnwindSafe(Guarded(future)).catch_unwind().await,
            Err(payload) => Err(payload),
        };
        match outcome {
            Ok(Ok(value)) => Reply::Ok(value),
            Ok(Err(err)) => Reply::Err(name_unsupported(err, &id)),
            Err(payload) => Reply::Err(panic_error("during the operation", &*payload)),
        }
    };
    run.map(|reply| {
        serde_json::to_string(&reply).unwrap_or_else(|e| {
            format!(r#"{{"err":{{"kind":"internal","detail":"cannot encode the answer: {e}","retryable":false}}}}"#)
        })
    })
    .boxed()
}

fn unknown_operation(id: &str, raw: &str, e: &serde_json::Error) -> ConnectorError {
    let name = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| v.get("op").and_then(|o| o.as_str()).map(str::to_owned));
    match name {
        Some(name) if e.to_string().contains("unknown variant") => ConnectorError::unsupported(&name)
            .context(format!("connector '{id}' (SDK {}) does not know this operation", super::SDK_VERSION)),
        _ => ConnectorError::protocol(format!("connector '{id}' could not read the request: {e}")),
    }
}

struct PluginConnector {
    id: String,
    inner: Arc<dyn DynConnector>,
}

impl FfiConnector for PluginConnector {
    fn invoke(&self, operation: RString) -> FfiFuture<RString> {
        let (id, inner) = (self.id.clone(), self.inner.clone());
        invoke_json(id, inner, operation.into_string()).map(RString::from).into_ffi()
    }
}

/// The host services, seen from inside a plugin.
struct FfiHostServices(FfiHostBox);

fn to_pairs(headers: Vec<(String, String)>) -> RVec<Tuple2<RString, RString>> {
    headers.into_iter().map(|(n, v)| Tuple2(n.into(), v.into())).collect()
}

pub(crate) fn from_pairs(headers: RVec<Tuple2<RString, RString>>) -> Vec<(String, String)> {
    headers.into_iter().map(|Tuple2(n, v)| (n.into_string(), v.into_string())).collect()
}

impl HostServices for FfiHostServices {
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, ConnectorError>> {
        let request = FfiHttpRequest {
            method: request.method.into(),
            url: request.url.into(),
            headers: to_pairs(request.headers),
            body: request.body.into(),
        };
        let future = self.0.http(request);
        async move {
            match future.await {
                ROk(r) => {
                    Ok(HttpResponse { status: r.status, headers: from_pairs(r.headers), body: r.body.into_vec() })
                }
                RErr(e) => Err(serde_json::from_str(&e)
                    .unwrap_or_else(|_| ConnectorError::new(ErrorKind::Transport, e.into_string()))),
            }
        }
        .boxed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.0.sleep(millis).boxed()
    }

    fn now_unix_ms(&self) -> u64 {
        self.0.now_unix_ms()
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.0.log(level as u8, RStr::from_str(message))
    }

    fn register_secret(&self, secret: &str) {
        // Handled by the host when the future is made; dropped unpolled, so
        // an older host that does not know the method sends nothing.
        let request = FfiHttpRequest {
            method: super::REGISTER_SECRET_METHOD.into(),
            url: "provisio-host:register-secret".into(),
            headers: RVec::new(),
            body: secret.as_bytes().to_vec().into(),
        };
        drop(self.0.http(request));
    }
}

// Keep `RBox` in scope for the sabi_trait object type alias users.
#[allow(unused)]
type _Box = RBox<()>;
