//! Developer commands, run through cargo aliases (see `.cargo/config.toml`):
//!
//! - `cargo provisio ARGS`: build the workspace (the `provisio` binary and
//!   every connector library), then run `target/debug/provisio ARGS`.
//!   Connector libraries are not dependencies of the binary (they are
//!   loaded at run time), so `cargo run` alone would not build them.
//! - `cargo xtask test`: run the whole test suite (`scripts/test`).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

fn status(cmd: &mut Command) -> ExitCode {
    match cmd.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: cannot run {:?}: {e}", cmd.get_program());
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    match args.next().as_deref() {
        Some("provisio") => {
            let build =
                status(Command::new(&cargo).args(["build", "--quiet", "--workspace"]).current_dir(workspace_root()));
            if build != ExitCode::SUCCESS {
                return build;
            }
            let bin = target_dir().join("debug").join(format!("provisio{}", std::env::consts::EXE_SUFFIX));
            status(Command::new(bin).args(args))
        }
        Some("test") => status(Command::new(workspace_root().join("scripts/test")).args(args)),
        _ => {
            eprintln!("usage: cargo provisio ARGS... | cargo xtask test");
            ExitCode::from(2)
        }
    }
}
