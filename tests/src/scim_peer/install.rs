//! Where the SCIM peer is installed: `scripts/peers/install-scim2-server`
//! makes a venv in `<repo>/.peers/scim2` (per checkout); the harness finds the
//! server there, or fails the test with the command that installs it. The
//! venv's python also writes the ServiceProviderConfig variants a peer can be
//! started with.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (the parent of the tests crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate lives in the repository").to_path_buf()
}

/// The venv made by `scripts/peers/install-scim2-server`.
pub fn venv_dir() -> PathBuf {
    repo_root().join(".peers").join("scim2")
}

/// The `scim2-server` executable; fails the test when it is not installed.
pub fn scim2_server_bin() -> PathBuf {
    let bin = venv_dir().join("bin").join("scim2-server");
    assert!(
        bin.is_file(),
        "scim2-server is not installed: run scripts/peers/install-scim2-server (scripts/test does this); expected {}",
        bin.display()
    );
    bin
}

/// Writes a ServiceProviderConfig variant with `scripts/peers/spc-variant.py`
/// (flags such as `--no-patch`, `--no-etag`, `--max-results 50`) into a
/// temporary file, removed when the returned path is dropped. The server reads
/// the file only at start, so it may be dropped once the peer has started.
pub fn spc_variant(flags: &[&str]) -> tempfile::TempPath {
    scim2_server_bin();
    let out =
        tempfile::Builder::new().prefix("spc-").suffix(".json").tempfile().expect("a temporary file").into_temp_path();
    let script = repo_root().join("scripts").join("peers").join("spc-variant.py");
    let result = Command::new(venv_dir().join("bin").join("python"))
        .arg(&script)
        .args(flags)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .expect("run the venv's python");
    assert!(
        result.status.success(),
        "{} {flags:?} failed: {}",
        script.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    out
}
