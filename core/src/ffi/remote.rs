//! The host side of the boundary: lending host services to a plugin, asking
//! a plugin to describe itself, opening connectors and running operations.
//!
//! The host crate does the loading (libloading handshake, then abi_stable);
//! this module is what it does with a loaded [`PluginRootRef`]. Tests use
//! the same functions on [`plugin::root_module`](super::plugin::root_module)
//! to drive the whole boundary in-process.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RStr, RString, Tuple2};
use async_ffi::{FfiFuture, FutureExt as _};
use futures_util::FutureExt as _;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use super::plugin::{from_pairs, panic_message};
use super::{FfiConnectorBox, FfiHost, FfiHost_TO, FfiHostBox, FfiHttpRequest, FfiHttpResponse, PluginRootRef};
use crate::connector::ConnectorConfig;
use crate::error::{ConnectorError, ErrorKind};
use crate::host::{HostServices, HttpRequest, LogLevel};
use crate::manifest::Manifest;
use crate::ops::{Operation, Reply};

/// Wrap the host's services for a plugin.
pub fn host_box(services: Arc<dyn HostServices>) -> FfiHostBox {
    FfiHost_TO::from_value(HostBridge(services), TD_Opaque)
}

struct HostBridge(Arc<dyn HostServices>);

impl FfiHost for HostBridge {
    fn http(&self, request: FfiHttpRequest) -> FfiFuture<RResult<FfiHttpResponse, RString>> {
        if request.method.as_str() == super::REGISTER_SECRET_METHOD {
            self.0.register_secret(&String::from_utf8_lossy(&request.body));
            let done = FfiHttpResponse { status: 204, headers: Default::default(), body: Default::default() };
            return std::future::ready(ROk(done)).into_ffi();
        }
        let request = HttpRequest {
            method: request.method.into_string(),
            url: request.url.into_string(),
            headers: from_pairs(request.headers),
            body: request.body.into_vec(),
        };
        let future = self.0.http(request);
        async move {
            match future.await {
                Ok(r) => ROk(FfiHttpResponse {
                    status: r.status,
                    headers: r.headers.into_iter().map(|(n, v)| Tuple2(n.into(), v.into())).collect(),
                    body: r.body.into(),
                }),
                Err(e) => RErr(serde_json::to_string(&e).unwrap_or_default().into()),
            }
        }
        .into_ffi()
    }

    fn sleep(&self, millis: u64) -> FfiFuture<()> {
        self.0.sleep(Duration::from_millis(millis)).into_ffi()
    }

    fn now_unix_ms(&self) -> u64 {
        self.0.now_unix_ms()
    }

    fn log(&self, level: u8, message: RStr<'_>) {
        self.0.log(LogLevel::from_u8(level), message.as_str())
    }
}

/// Why a plugin's self-description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    #[error("{0}")]
    Refused(String),
    #[error("its manifest is not valid JSON for this host: {0}")]
    Unreadable(String),
}

/// Ask a loaded plugin for its manifests.
pub fn describe(root: PluginRootRef) -> Result<Vec<Manifest>, DescribeError> {
    let raw = (root.describe())();
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Described {
        Ok(Vec<serde_json::Value>),
        Err(String),
    }
    let described: Described =
        serde_json::from_str(&raw).map_err(|e| DescribeError::Unreadable(format!("{e} (in {})", shorten(&raw))))?;
    match described {
        Described::Err(why) => Err(DescribeError::Refused(why)),
        Described::Ok(values) => values
            .into_iter()
            .map(|v| {
                let id = v.get("id").and_then(|i| i.as_str()).unwrap_or("?").to_owned();
                serde_json::from_value(v).map_err(|e| DescribeError::Unreadable(format!("connector '{id}': {e}")))
            })
            .collect(),
    }
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Open connector `id` of a loaded plugin for one connection.
pub fn open(
    root: PluginRootRef,
    id: &str,
    config: &ConnectorConfig,
    host: Arc<dyn HostServices>,
) -> Result<FfiConnectorBox, ConnectorError> {
    let config = serde_json::to_string(config)
        .map_err(|e| ConnectorError::internal(format!("cannot encode the configuration: {e}")))?;
    match (root.open())(RStr::from_str(id), RStr::from_str(&config), host_box(host)) {
        ROk(connector) => Ok(connector),
        RErr(e) => Err(decode_error(&e)),
    }
}

fn decode_error(raw: &str) -> ConnectorError {
    serde_json::from_str(raw).unwrap_or_else(|_| {
        ConnectorError::protocol(format!("the connector answered an unreadable error: {}", shorten(raw)))
    })
}

/// Run one operation on an opened connector. The answer is the operation's
/// typed output as JSON, or the connector's error. A connector that answers
/// garbage gets a `protocol` error; a panic that escaped the plugin's own
/// guard is caught here too.
pub async fn invoke(connector: &FfiConnectorBox, operation: &Operation) -> Result<serde_json::Value, ConnectorError> {
    let request = serde_json::to_string(operation)
        .map_err(|e| ConnectorError::internal(format!("cannot encode the operation: {e}")))?;
    let future = connector.invoke(request.into());
    let raw = match AssertUnwindSafe(future).catch_unwind().await {
        Ok(raw) => raw,
        Err(payload) => {
            return Err(ConnectorError::new(
                ErrorKind::Panic,
                format!("the connector's future panicked: {}", panic_message(&*payload)),
            )
            .retryable(false));
        }
    };
    decode_reply(operation.name(), &raw)
}

/// Decode a JSON `Reply`.
pub fn decode_reply(operation: &str, raw: &str) -> Result<serde_json::Value, ConnectorError> {
    match serde_json::from_str::<Reply>(raw) {
        Ok(Reply::Ok(value)) => Ok(value),
        Ok(Reply::Err(err)) => Err(err),
        Err(e) => Err(ConnectorError::protocol(format!(
            "the connector answered '{operation}' with something this host cannot read ({e}): {}",
            shorten(raw)
        ))),
    }
}
