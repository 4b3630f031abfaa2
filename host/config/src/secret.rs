//! Setting values, and secrets given by reference.
//!
//! A setting is a plain TOML value, or a reference that keeps the secret out
//! of the file:
//!
//! ```toml
//! access_token = { env = "SCIM_TOKEN" }          # an environment variable
//! basic_password = { file = "/run/secrets/pw" }  # a file's contents (one trailing newline removed)
//! ```
//!
//! References are resolved when the engine is built and when a connection is
//! opened, and resolved secret values are registered with the
//! [`Redactor`](provisio_redact::Redactor) so they never reach a log line or
//! output. [`weaknesses`] is what `config check` says about a secret that
//! cannot be masked safely.

use provisio_core::manifest::SettingSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One setting's value as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// `{ env = "NAME" }`
    Env { env: String },
    /// `{ file = "path" }`
    File { file: PathBuf },
    /// Written inline.
    Plain(serde_json::Value),
}

/// Why a reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("environment variable {0} is not set; export it, or point the setting at a file with {{ file = \"...\" }}")]
    MissingEnv(String),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
}

impl SettingValue {
    /// Whether the value is given by reference rather than inline.
    pub fn is_reference(&self) -> bool {
        !matches!(self, SettingValue::Plain(_))
    }

    /// Resolve to the value the connector receives.
    pub fn resolve(&self) -> Result<serde_json::Value, ResolveError> {
        match self {
            SettingValue::Plain(v) => Ok(v.clone()),
            SettingValue::Env { env } => {
                std::env::var(env).map(serde_json::Value::String).map_err(|_| ResolveError::MissingEnv(env.clone()))
            }
            SettingValue::File { file } => read_text(file).map(serde_json::Value::String),
        }
    }

    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        if let SettingValue::File { file } = self
            && file.is_relative()
        {
            *file = base.join(&*file);
        }
    }
}

/// The path a `file`-kind setting names (PingID's `pingid_properties`):
/// written inline (`"pingid.properties"`), as `{ file = "..." }`, or as
/// `{ env = "VAR" }` holding the path. Relative paths are relative to the
/// configuration file's directory `base`. The host reads the file once and
/// hands its contents to the connector.
pub fn file_setting_path(value: &SettingValue, base: &Path) -> Result<PathBuf, ResolveError> {
    let raw = match value {
        SettingValue::File { file } => file.clone(),
        SettingValue::Env { env } => {
            PathBuf::from(std::env::var(env).map_err(|_| ResolveError::MissingEnv(env.clone()))?)
        }
        SettingValue::Plain(v) => PathBuf::from(v.as_str().unwrap_or_default()),
    };
    Ok(if raw.is_relative() { base.join(raw) } else { raw })
}

/// Read a file as text, removing one trailing newline.
pub fn read_text(path: &Path) -> Result<String, ResolveError> {
    let mut text = std::fs::read_to_string(path)
        .map_err(|e| ResolveError::File { path: path.display().to_string(), reason: e.to_string() })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// Why `secret`, the value of setting `spec` of `conn`, cannot be masked
/// safely: too short, a plain word, or also in another setting (a URL path
/// segment), where masking it too gives it away by position (RELIABILITY.md,
/// "Secrets never leak"). Empty: nothing to warn about.
pub fn weaknesses(conn: &super::ConnectionConfig, spec: &SettingSpec, secret: &str) -> Vec<String> {
    if secret.is_empty() {
        return Vec::new();
    }
    let mut warnings: Vec<String> = provisio_redact::forms::weakness(secret)
        .map(|why| format!("'{}' is a weak secret: {why}", spec.label))
        .into_iter()
        .collect();
    for (other, value) in &conn.settings {
        if let SettingValue::Plain(serde_json::Value::String(text)) = value
            && other != &spec.name
            && text.contains(secret)
        {
            warnings.push(format!(
                "'{}' also appears in setting '{other}', where it is masked too: anyone who sees that setting masked \
                 learns the secret; use a secret that appears nowhere else",
                spec.label
            ));
        }
    }
    warnings
}

/// What kind of JSON value `v` is, for a message that must not quote it
/// (a secret setting of the wrong type).
pub fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "an empty value",
        serde_json::Value::Bool(_) => "a boolean (value not shown: it is a secret)",
        serde_json::Value::Number(_) => "a number (value not shown: it is a secret)",
        serde_json::Value::String(_) => "this text (value not shown: it is a secret)",
        serde_json::Value::Array(_) => "a list (value not shown: it is a secret)",
        serde_json::Value::Object(_) => "a table (value not shown: it is a secret)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        v: SettingValue,
    }

    fn parse(s: &str) -> SettingValue {
        toml::from_str::<T>(s).unwrap().v
    }

    #[test]
    fn plain_env_and_file_forms() {
        assert_eq!(parse("v = \"x\""), SettingValue::Plain("x".into()));
        assert_eq!(parse("v = 5"), SettingValue::Plain(5.into()));
        assert_eq!(parse("v = { env = \"A\" }"), SettingValue::Env { env: "A".into() });
        assert_eq!(parse("v = { file = \"p\" }"), SettingValue::File { file: "p".into() });
    }

    #[test]
    fn missing_env_says_what_to_do() {
        let err = SettingValue::Env { env: "PROVISIO_TEST_SURELY_UNSET".into() }.resolve().unwrap_err();
        assert!(err.to_string().contains("PROVISIO_TEST_SURELY_UNSET is not set"));
    }

    #[test]
    fn file_reference_drops_one_newline() {
        let dir = std::env::temp_dir().join(format!("provisio-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("s");
        std::fs::write(&f, "hunter2\n").unwrap();
        assert_eq!(SettingValue::File { file: f }.resolve().unwrap(), serde_json::Value::String("hunter2".into()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
