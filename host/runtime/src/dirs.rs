//! Where connectors are looked for, highest precedence first:
//!
//! 1. `--connector-dir DIR` (repeatable), in the order given;
//! 2. `PROVISIO_CONNECTOR_DIR` (colon-separated on Unix, `;` on Windows);
//! 3. the configuration file's `connector_dirs` (relative to the file);
//! 4. the directory that holds the `provisio` binary, so a plain
//!    `cargo build --workspace` works with no flag.
//!
//! A directory named explicitly (1 to 3) must exist; a missing one is an
//! error naming where it came from. The binary's own directory is always
//! scanned last. When the same connector id is found in two places the
//! first one wins and the second is reported.

use std::path::{Path, PathBuf};

/// Where a connector directory was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirSource {
    Flag,
    Env,
    Config(PathBuf),
    BinaryDir,
}

impl std::fmt::Display for DirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirSource::Flag => f.write_str("--connector-dir"),
            DirSource::Env => f.write_str("PROVISIO_CONNECTOR_DIR"),
            DirSource::Config(file) => write!(f, "connector_dirs in {}", file.display()),
            DirSource::BinaryDir => f.write_str("the provisio binary's directory"),
        }
    }
}

/// One directory to scan and where it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorDir {
    pub path: PathBuf,
    pub origin: DirSource,
}

/// A named directory that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("connector directory {path} (from {origin}) does not exist or is not a directory")]
pub struct MissingDir {
    pub path: PathBuf,
    pub origin: DirSource,
}

/// The list separator of `PROVISIO_CONNECTOR_DIR` on this platform.
pub const ENV_SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

/// Build the scan list from its four sources.
pub fn connector_dirs(
    flags: &[PathBuf],
    env: Option<&str>,
    config: Option<(&Path, &[PathBuf])>,
    binary_dir: Option<PathBuf>,
) -> Vec<ConnectorDir> {
    let mut dirs: Vec<ConnectorDir> =
        flags.iter().map(|p| ConnectorDir { path: p.clone(), origin: DirSource::Flag }).collect();
    if let Some(env) = env {
        dirs.extend(
            env.split(ENV_SEPARATOR)
                .filter(|s| !s.trim().is_empty())
                .map(|s| ConnectorDir { path: PathBuf::from(s), origin: DirSource::Env }),
        );
    }
    if let Some((file, listed)) = config {
        let base = file.parent().unwrap_or(Path::new("."));
        dirs.extend(listed.iter().map(|p| ConnectorDir {
            path: if p.is_absolute() { p.clone() } else { base.join(p) },
            origin: DirSource::Config(file.to_owned()),
        }));
    }
    if let Some(dir) = binary_dir {
        dirs.push(ConnectorDir { path: dir, origin: DirSource::BinaryDir });
    }
    dirs
}

/// The named directories that do not exist (the binary's own directory is
/// never an error).
pub fn missing(dirs: &[ConnectorDir]) -> Vec<MissingDir> {
    dirs.iter()
        .filter(|d| d.origin != DirSource::BinaryDir && !d.path.is_dir())
        .map(|d| MissingDir { path: d.path.clone(), origin: d.origin.clone() })
        .collect()
}

/// The directory of the running executable.
pub fn binary_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.canonicalize().ok()?.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flag_env_config_binary() {
        let dirs = connector_dirs(
            &[PathBuf::from("/a"), PathBuf::from("/b")],
            Some("/c:/d::"),
            Some((Path::new("/etc/provisio/provisio.toml"), &[PathBuf::from("plugins"), PathBuf::from("/e")])),
            Some(PathBuf::from("/bin-dir")),
        );
        let paths: Vec<_> = dirs.iter().map(|d| d.path.to_string_lossy().into_owned()).collect();
        assert_eq!(paths, ["/a", "/b", "/c", "/d", "/etc/provisio/plugins", "/e", "/bin-dir"]);
        assert_eq!(dirs[2].origin, DirSource::Env);
        assert_eq!(dirs[4].origin, DirSource::Config(PathBuf::from("/etc/provisio/provisio.toml")));
    }

    #[test]
    fn missing_named_dirs_are_reported_but_not_the_binary_dir() {
        let dirs =
            connector_dirs(&[PathBuf::from("/definitely/not/here")], None, None, Some(PathBuf::from("/also/not/here")));
        let missing = missing(&dirs);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].to_string().contains("/definitely/not/here (from --connector-dir)"));
    }
}
