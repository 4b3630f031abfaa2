//! Where a connector instance runs, behind one interface.
//!
//! A [`Connection`](crate::connection::Connection) does not call a plugin
//! directly: it holds an [`Instance`], the connector opened for one
//! connection, and hands it one [`Operation`] at a time. Timeouts, the
//! watchdog, the lease gate and the typed decoding of answers stay in
//! `Connection`, the same for every kind of instance.
//!
//! Today there is one kind, [`InProcess`]: the plugin library loaded into
//! the host ([`crate::loader`]), called across the FFI boundary of
//! `provisio-core`. A connector run in a child process (so that an abort,
//! a bad pointer or a stack overflow takes down that process and not the
//! host) is a second implementation of the same trait, opened from the same
//! [`LoadedConnector`] and [`ConnectorConfig`].

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use provisio_core::connector::ConnectorConfig;
use provisio_core::error::ConnectorError;
use provisio_core::ffi::{self, FfiConnectorBox};
use provisio_core::host::HostServices;
use provisio_core::ops::Operation;
use std::sync::Arc;

use crate::loader::LoadedConnector;

/// A connector opened for one connection: it performs operations and
/// answers each with the operation's JSON reply or the connector's error.
///
/// The future must not borrow the instance (`self: Arc<Self>`): the
/// connection runs each operation as a task of its own, so that it can
/// time it out and abort it.
pub trait Instance: Send + Sync + 'static {
    /// Perform `operation`.
    fn invoke(self: Arc<Self>, operation: Operation) -> BoxFuture<'static, Result<serde_json::Value, ConnectorError>>;
}

/// A connector in the plugin library loaded into this process.
pub struct InProcess {
    connector: FfiConnectorBox,
}

impl InProcess {
    /// Open `loaded`'s connector with `config`, lending it `services`.
    pub fn open(
        loaded: &LoadedConnector,
        config: &ConnectorConfig,
        services: Arc<dyn HostServices>,
    ) -> Result<InProcess, ConnectorError> {
        let connector = ffi::remote::open(loaded.root(), &loaded.manifest.id, config, services)?;
        Ok(InProcess { connector })
    }
}

impl Instance for InProcess {
    fn invoke(self: Arc<Self>, operation: Operation) -> BoxFuture<'static, Result<serde_json::Value, ConnectorError>> {
        async move { ffi::remote::invoke(&self.connector, &operation).await }.boxed()
    }
}
