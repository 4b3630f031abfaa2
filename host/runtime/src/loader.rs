//! The connector loader: finds plugin libraries, checks them, and keeps the
//! good ones.
//!
//! For each directory, in precedence order (see [`crate::dirs`]), every
//! file with the platform's library suffix is tried in name order:
//!
//! 1. libloading opens it and reads the plain `extern "C"` handshake: magic,
//!    ABI major, protocol major and SDK version. A mismatch is one line.
//! 2. abi_stable loads the root module from that file alone
//!    (`lib_header_from_path(..)?.init_root_module()`, never
//!    `load_from_directory`, which returns the first library for all).
//! 3. The plugin describes itself; every manifest is parsed and validated
//!    against the contract.
//! 4. A connector id already loaded from an earlier file is refused, naming
//!    both files.
//!
//! Each refusal names the file and the reason, and loading goes on with the
//! rest. Libraries are never unloaded.

use abi_stable::library::lib_header_from_path;
use provisio_core::ffi::{self, Handshake, PluginRootRef};
use provisio_core::manifest::Manifest;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A connector that loaded and passed every check.
#[derive(Clone)]
pub struct LoadedConnector {
    pub manifest: Manifest,
    /// The library it came from.
    pub path: PathBuf,
    pub(crate) root: PluginRootRef,
}

impl fmt::Debug for LoadedConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedConnector").field("id", &self.manifest.id).field("path", &self.path).finish()
    }
}

impl LoadedConnector {
    /// The plugin's root module, for opening connectors.
    pub fn root(&self) -> PluginRootRef {
        self.root
    }
}

/// Why a library (or one connector in it) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a loadable library: {0}")]
    NotALibrary(String),
    #[error("not a provisio connector: it has no `{symbol}` symbol (build it with provisio_core::export_plugin!)")]
    NoHandshake { symbol: &'static str },
    #[error("not a provisio connector: its handshake has the wrong magic bytes")]
    BadMagic,
    #[error(
        "built for plugin ABI {found}.x, this host speaks ABI {expected}.x (SDK {sdk}); rebuild it against a provisio-core with ABI {expected}"
    )]
    AbiMismatch { found: u32, expected: u32, sdk: String },
    #[error(
        "speaks operation protocol {found}.x, this host speaks {expected}.x (SDK {sdk}); rebuild it against a matching provisio-core"
    )]
    ProtocolMismatch { found: u32, expected: u32, sdk: String },
    #[error("the plugin's root module could not be loaded: {0}")]
    RootModule(String),
    #[error("{0}")]
    Describe(String),
    #[error("connector '{id}' breaks the connector contract: {problems}")]
    Contract { id: String, problems: String },
    #[error("connector id '{id}' is already loaded from {first}; the first one found wins")]
    Duplicate { id: String, first: String },
}

/// One refused library or connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub path: PathBuf,
    pub reason: Refusal,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Loaded connectors by id.
    pub connectors: BTreeMap<String, LoadedConnector>,
    pub rejected: Vec<Rejected>,
    /// Directories that were scanned, in order.
    pub scanned: Vec<PathBuf>,
}

impl LoadReport {
    pub fn get(&self, id: &str) -> Option<&LoadedConnector> {
        self.connectors.get(id)
    }
}

/// The file suffix of loadable libraries on this platform.
pub fn library_suffix() -> &'static str {
    std::env::consts::DLL_SUFFIX
}

/// The library files of `dir`, by name.
pub fn library_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let suffix = library_suffix();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)))
        .collect();
    files.sort();
    Ok(files)
}

/// Load every connector found in `dirs` (highest precedence first).
/// Directories that do not exist are skipped here; the CLI checks the ones
/// the user named explicitly.
pub fn load_dirs(dirs: &[PathBuf]) -> LoadReport {
    let mut report = LoadReport::default();
    let mut seen = std::collections::BTreeSet::new();
    for dir in dirs {
        // The same directory named twice (relative and absolute, or by a flag
        // and as the binary's own) is scanned once.
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if !seen.insert(canonical.clone()) {
            continue;
        }
        let Ok(files) = library_files(&canonical) else { continue };
        report.scanned.push(canonical);
        for file in files {
            load_file(&file, &mut report);
        }
    }
    report
}

/// Load one library file into `report`.
pub fn load_file(path: &Path, report: &mut LoadReport) {
    let reject = |report: &mut LoadReport, reason| report.rejected.push(Rejected { path: path.to_owned(), reason });
    let manifests = match open_library(path) {
        Ok(found) => found,
        Err(reason) => return reject(report, reason),
    };
    let (root, manifests) = manifests;
    for manifest in manifests {
        let problems = manifest.validate();
        if !problems.is_empty() {
            let problems = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
            reject(report, Refusal::Contract { id: manifest.id.clone(), problems });
            continue;
        }
        if let Some(first) = report.connectors.get(&manifest.id) {
            let reason = Refusal::Duplicate { id: manifest.id.clone(), first: first.path.display().to_string() };
            reject(report, reason);
            continue;
        }
        report.connectors.insert(manifest.id.clone(), LoadedConnector { manifest, path: path.to_owned(), root });
    }
}

fn open_library(path: &Path) -> Result<(PluginRootRef, Vec<Manifest>), Refusal> {
    let handshake = read_handshake(path)?;
    let sdk = handshake.sdk_version();
    if handshake.abi_major != ffi::ABI_MAJOR {
        return Err(Refusal::AbiMismatch { found: handshake.abi_major, expected: ffi::ABI_MAJOR, sdk });
    }
    if handshake.protocol_major != ffi::PROTOCOL_MAJOR {
        return Err(Refusal::ProtocolMismatch { found: handshake.protocol_major, expected: ffi::PROTOCOL_MAJOR, sdk });
    }
    let root = lib_header_from_path(path)
        .and_then(|header| header.init_root_module::<PluginRootRef>())
        .map_err(|e| Refusal::RootModule(crate::causes::first_line(&e.to_string())))?;
    let manifests = ffi::remote::describe(root).map_err(|e| Refusal::Describe(e.to_string()))?;
    Ok((root, manifests))
}

/// An error and its sources on one line ("dlopen failed: invalid ELF header").
/// Open `path` with libloading and read its handshake. The library stays
/// loaded for the life of the process.
fn read_handshake(path: &Path) -> Result<Handshake, Refusal> {
    // SAFETY: loading a library runs its initialisers. That is the point of
    // a plugin directory; only files the operator placed there are loaded.
    let library =
        unsafe { libloading::Library::new(path) }.map_err(|e| Refusal::NotALibrary(crate::causes::chain(&e)))?;
    let symbol = format!("{}\0", ffi::HANDSHAKE_SYMBOL);
    // SAFETY: the symbol is declared by the SDK as
    // `extern "C" fn() -> Handshake`; the magic bytes check what we read.
    let handshake = unsafe {
        let f: libloading::Symbol<extern "C" fn() -> Handshake> =
            library.get(symbol.as_bytes()).map_err(|_| Refusal::NoHandshake { symbol: ffi::HANDSHAKE_SYMBOL })?;
        f()
    };
    // Never unload: connector code may still be referenced by abi_stable.
    std::mem::forget(library);
    if handshake.magic != ffi::MAGIC {
        return Err(Refusal::BadMagic);
    }
    Ok(handshake)
}
