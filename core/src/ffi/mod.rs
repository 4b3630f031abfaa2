//! The plugin boundary: the handshake, the frozen root module and the two
//! `sabi_trait` objects that cross it.
//!
//! Rules (see docs/architecture.md, 'The plugin boundary', and CONNECTORS.md):
//! - The root module [`PluginRoot`] is frozen at ABI 1.0. New abilities
//!   arrive as new JSON operations and manifest capabilities, never as new
//!   fields (abi_stable refuses plugins with fewer prefix fields).
//! - Before abi_stable's layout check, the host reads the plain `extern "C"`
//!   [`HANDSHAKE_SYMBOL`] with libloading, so a version mismatch is one
//!   clear line.
//! - Every function a plugin exports, and every future it returns, catches
//!   panics and turns them into an error for that operation
//!   ([`plugin`]).
//! - Libraries are never unloaded.
//!
//! Connector authors never use this module directly: they implement
//! [`Connector`](crate::Connector) and call [`export_plugin!`](crate::export_plugin).

#![allow(non_local_definitions)]

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, RResult, RStr, RString, RVec, Tuple2};
use abi_stable::{StableAbi, declare_root_module_statics, sabi_trait};
use async_ffi::FfiFuture;

pub mod plugin;
pub mod remote;

/// The first eight bytes of every handshake.
pub const MAGIC: [u8; 8] = *b"PROVISIO";
/// The ABI major version: the root module's layout. Frozen at 1.
pub const ABI_MAJOR: u32 = 1;
pub const ABI_MINOR: u32 = 0;
/// The operation protocol (JSON) version. A host speaks every minor version
/// of its major; an unknown operation is answered `unsupported`.
pub const PROTOCOL_MAJOR: u32 = 1;
pub const PROTOCOL_MINOR: u32 = 0;
/// The SDK (this crate) version compiled into a plugin.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The name of the handshake function every plugin exports.
pub const HANDSHAKE_SYMBOL: &str = "provisio_connector_handshake";

/// What [`HANDSHAKE_SYMBOL`] returns: plain C data, readable before any
/// abi_stable machinery runs.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub magic: [u8; 8],
    pub abi_major: u32,
    pub abi_minor: u32,
    pub protocol_major: u32,
    pub protocol_minor: u32,
    /// The SDK version, NUL-padded UTF-8.
    pub sdk_version: [u8; 32],
}

impl Handshake {
    /// The handshake of a plugin built with this SDK.
    pub const fn current() -> Handshake {
        Handshake {
            magic: MAGIC,
            abi_major: ABI_MAJOR,
            abi_minor: ABI_MINOR,
            protocol_major: PROTOCOL_MAJOR,
            protocol_minor: PROTOCOL_MINOR,
            sdk_version: pad(SDK_VERSION),
        }
    }

    /// The SDK version as text.
    pub fn sdk_version(&self) -> String {
        let end = self.sdk_version.iter().position(|b| *b == 0).unwrap_or(self.sdk_version.len());
        String::from_utf8_lossy(&self.sdk_version[..end]).into_owned()
    }
}

/// NUL-pad a version string into a fixed field (truncating past 31 bytes).
pub const fn pad(s: &str) -> [u8; 32] {
    let bytes = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < bytes.len() && i < 31 {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// An HTTP request crossing from a plugin to the host.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct FfiHttpRequest {
    pub method: RString,
    pub url: RString,
    pub headers: RVec<Tuple2<RString, RString>>,
    pub body: RVec<u8>,
}

/// The host's answer to an [`FfiHttpRequest`].
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct FfiHttpResponse {
    pub status: u16,
    pub headers: RVec<Tuple2<RString, RString>>,
    pub body: RVec<u8>,
}

/// The method of the pseudo-request that registers a secret with the host
/// ([`Host::register_secret`](crate::host::Host::register_secret)); the
/// secret is its body.
///
/// [`FfiHost`] is frozen (ABI 1.0: abi_stable refuses a library whose
/// vtable has fewer methods than the host's), so the SDK carries this
/// request through `http`: a host that knows it handles it when the future
/// is created and never sends anything; an older host only builds a future
/// for it, which the SDK drops unpolled, so nothing is sent or logged there
/// either (that host simply cannot mask the secret).
pub const REGISTER_SECRET_METHOD: &str = "PROVISIO-REGISTER-SECRET";

/// The host services as they cross the boundary. See
/// [`HostServices`](crate::host::HostServices) for the contract.
#[sabi_trait]
pub trait FfiHost: Send + Sync {
    /// Err carries a JSON `ConnectorError`.
    fn http(&self, request: FfiHttpRequest) -> FfiFuture<RResult<FfiHttpResponse, RString>>;
    fn sleep(&self, millis: u64) -> FfiFuture<()>;
    fn now_unix_ms(&self) -> u64;
    #[sabi(last_prefix_field)]
    fn log(&self, level: u8, message: RStr<'_>);
}

/// The host's handle on the host services object it lends.
pub type FfiHostBox = FfiHost_TO<'static, RBox<()>>;

/// An opened connector as it crosses the boundary.
#[sabi_trait]
pub trait FfiConnector: Send + Sync {
    /// Run one operation: JSON `Operation` in, JSON `Reply` out.
    #[sabi(last_prefix_field)]
    fn invoke(&self, operation: RString) -> FfiFuture<RString>;
}

/// An opened connector, owned by the host.
pub type FfiConnectorBox = FfiConnector_TO<'static, RBox<()>>;

/// The root module every plugin exports. Frozen at ABI 1.0.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginRootRef)))]
#[sabi(missing_field(panic))]
pub struct PluginRoot {
    /// JSON: `{"ok": [Manifest, ...]}` or `{"err": "why"}`.
    pub describe: extern "C" fn() -> RString,
    /// Open connector `id` with a JSON `ConnectorConfig`. Err carries a JSON
    /// `ConnectorError`.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(id: RStr<'_>, config: RStr<'_>, host: FfiHostBox) -> RResult<FfiConnectorBox, RString>,
}

impl RootModule for PluginRootRef {
    declare_root_module_statics! {PluginRootRef}
    const BASE_NAME: &'static str = "provisio_connector";
    const NAME: &'static str = "provisio_connector";
    // The root module's own version, not the crate's: it is frozen.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");
}

/// The symbol abi_stable looks up; `export_plugin!` spells it out because
/// abi_stable's attribute macro needs `abi_stable` as a direct dependency of
/// the plugin crate. This check keeps the two in step.
#[doc(hidden)]
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";
const _: () = assert!(const_str_eq(ROOT_MODULE_SYMBOL, abi_stable::library::ROOT_MODULE_LOADER_NAME));

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Export this library's registered connectors to the host.
///
/// Put it, and nothing else, in the thin `cdylib` crate over your connector
/// library, and link the library with `use`:
///
/// ```ignore
/// // connectors/acme/plugin/src/lib.rs
/// use provisio_connector_acme as _;
/// provisio_core::export_plugin!();
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($($linked:ident),* $(,)?) => {
        $( #[doc(hidden)] pub use $linked as _; )*
        /// The handshake the host reads before anything else.
        #[unsafe(no_mangle)]
        pub extern "C" fn provisio_connector_handshake() -> $crate::ffi::Handshake {
            $crate::ffi::Handshake::current()
        }

        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::abi_stable::library::LibHeader = {
            extern "C" fn __provisio_root_module() -> $crate::__private::abi_stable::library::RootModuleResult {
                $crate::__private::abi_stable::library::__call_root_module_loader($crate::ffi::plugin::root_module)
            }
            unsafe {
                $crate::__private::abi_stable::library::LibHeader::from_constructor::<$crate::ffi::PluginRootRef>(
                    __provisio_root_module,
                    $crate::__private::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
