//! Support for provisio's end-to-end tests.
//!
//! The tests in `tests/tests/` drive the real `provisio` binary and the real
//! connector libraries, built by `cargo build --workspace` into the same
//! target directory as the test executables. Fixture plugins (the example
//! third-party connector and the deliberately broken libraries) are built by
//! the test command (`scripts/test`) from the separate workspace in
//! `tests/plugins/`, and their directory reaches the tests through the
//! `PROVISIO_TEST_PLUGINS` environment variable. A missing binary, library
//! or fixture fails the test with the command that builds it; nothing is
//! ever skipped.

pub mod emulators;
pub mod faults;
pub mod http_serve;
pub mod leaks;
pub mod pingid_emulator;
pub mod postgres;
pub mod proxy;
pub mod sandbox;
pub mod scenario;
pub mod scim11_server;
pub mod scim_peer;
pub mod service;
pub mod slapd;
pub mod targets;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The profile directory of the running test (`target/debug` or
/// `target/release`), where cargo puts the binary and the connector libraries.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    // target/<profile>/deps/<test-binary>
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).expect("test executables live in target/<profile>/deps")
}

/// The built `provisio` binary.
pub fn provisio_bin() -> PathBuf {
    let bin = profile_dir().join(format!("provisio{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `scripts/test` (or `cargo build --workspace{}`) first",
        bin.display(),
        if cfg!(debug_assertions) { "" } else { " --release" }
    );
    bin
}

/// The file name of a library built from crate `lib_name` on this platform.
pub fn library_file_name(lib_name: &str) -> String {
    format!("{}{}{}", std::env::consts::DLL_PREFIX, lib_name, std::env::consts::DLL_SUFFIX)
}

/// A connector library built by this workspace (`provisio_scim`, ...).
pub fn connector_library(lib_name: &str) -> PathBuf {
    let path = profile_dir().join(library_file_name(lib_name));
    assert!(path.is_file(), "{} is missing: run `scripts/test` or `cargo build --workspace` first", path.display());
    path
}

/// The directory of the built fixture plugins (`PROVISIO_TEST_PLUGINS`).
pub fn fixture_plugins_dir() -> PathBuf {
    let dir = std::env::var_os("PROVISIO_TEST_PLUGINS").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "PROVISIO_TEST_PLUGINS is not set: run the tests through `scripts/test`, which builds tests/plugins and sets it, or {}",
            build_fixtures_hint()
        )
    });
    assert!(dir.is_dir(), "PROVISIO_TEST_PLUGINS={} is not a directory: {}", dir.display(), build_fixtures_hint());
    dir
}

/// How to build the fixture plugins for the profile of the running test.
fn build_fixtures_hint() -> String {
    let release = if cfg!(debug_assertions) { "" } else { " --release" };
    format!("build them with `export PROVISIO_TEST_PLUGINS=\"$(scripts/build-test-plugins{release})\"`")
}

/// One fixture library from [`fixture_plugins_dir`].
pub fn fixture_library(file_name: &str) -> PathBuf {
    let path = fixture_plugins_dir().join(file_name);
    assert!(path.is_file(), "fixture {} is missing: run `scripts/test`, or {}", path.display(), build_fixtures_hint());
    path
}

/// A fresh temporary directory holding copies of `files`.
pub fn dir_with(files: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    for f in files {
        std::fs::copy(f, dir.path().join(f.file_name().expect("a file name"))).expect("copy a library");
    }
    dir
}

/// Run `provisio` with `args` and an environment free of
/// `PROVISIO_CONNECTOR_DIR`, so each test says exactly where connectors come from.
pub fn provisio(args: &[&str]) -> Output {
    provisio_command(args).output().expect("run provisio")
}

/// The command [`provisio`] runs, for tests that need to adjust it.
pub fn provisio_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(provisio_bin());
    cmd.args(args).env_remove("PROVISIO_CONNECTOR_DIR").env("NO_COLOR", "1");
    cmd
}

/// Stdout of a run, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stop a child process this test started: `sig`, then up to `timeout` for
/// it to exit, then SIGKILL. `true` if it exited on the signal.
pub fn stop_child(mut child: std::process::Child, sig: libc::c_int, timeout: std::time::Duration) -> bool {
    if !matches!(child.try_wait(), Ok(None)) {
        return true;
    }
    // SAFETY: kill(2) on our own child, not reaped yet (try_wait said it runs).
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}
