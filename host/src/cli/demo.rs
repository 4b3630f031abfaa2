//! `provisio sandbox` (a built-in SCIM 2.0 target on 127.0.0.1) and
//! `provisio demo` (the README's first command).
//!
//! The demo copies the embedded example (`examples/directory.ldif` and
//! `examples/provisio.toml`, compiled into the binary) to a scratch
//! directory, starts the sandbox, and runs real cycles through the real
//! `scim` connector library over HTTP: the first creates, then it edits one
//! user, disables another and removes a third in the copy, and the next
//! cycles update and deprovision. It prints each cycle's summary and what
//! the target holds.

use provisio_config::{Config, SettingValue};
use provisio_engine::audit::Audit;
use provisio_engine::{CycleOptions, Engine};
use provisio_sandbox::{Sandbox, SandboxConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::engine::print_summary;
use super::output::out;
use super::output::table;
use super::{CliError, GlobalArgs, load_connectors};

const EXAMPLE_DIRECTORY: &str = include_str!("../../../examples/directory.ldif");
const EXAMPLE_CONFIG: &str = include_str!("../../../examples/provisio.toml");

/// `provisio sandbox`: serve until Ctrl-C.
pub fn sandbox(
    port: u16,
    token: Option<String>,
    persist: Option<PathBuf>,
    modes: provisio_sandbox::Modes,
) -> Result<(), CliError> {
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| CliError::User(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let config = SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            bearer_token: token.clone(),
            persist,
            modes,
            ..SandboxConfig::default()
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let sandbox = provisio_sandbox::serve(config, shutdown).await.map_err(|e| CliError::User(e.to_string()))?;
        out!("SCIM 2.0 sandbox listening on {}", sandbox.base_url())?;
        if modes.accept_duplicate_user_names {
            out!("forgiving mode: a second user with a taken userName is created, not refused")?;
        }
        match &token {
            Some(_) => out!("requests need `Authorization: Bearer <the token you gave>`"),
            None => out!("no token set: every request is accepted"),
        }?;
        out!("press Ctrl-C to stop")?;
        sandbox.wait().await.map_err(|e| CliError::User(e.to_string()))?;
        Ok(())
    })
}

/// `provisio demo`.
pub fn demo(global: &GlobalArgs) -> Result<(), CliError> {
    let scratch = tempfile::Builder::new()
        .prefix("provisio-demo-")
        .tempdir()
        .map_err(|e| CliError::User(format!("cannot create a scratch directory: {e}")))?;
    // Kept after the run, so the state store and the audit log can be read.
    let dir_buf = scratch.keep();
    let dir = dir_buf.as_path();
    let ldif = dir.join("directory.ldif");
    let config_file = dir.join("provisio.toml");
    write(&ldif, EXAMPLE_DIRECTORY)?;
    write(&config_file, EXAMPLE_CONFIG)?;
    out!("provisio demo: the example directory provisioned into the built-in SCIM sandbox")?;
    out!("working copy of examples/ in {}\n", dir.display())?;

    let connectors = load_connectors(global)?;
    let mut config = Config::load(&config_file).map_err(|e| CliError::User(e.to_string()))?;

    // A random token for this run's sandbox, handed to the connection in
    // memory (the example file reads it from SANDBOX_TOKEN).
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| CliError::User(format!("cannot make a token: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();

    let engine_runtime =
        tokio::runtime::Runtime::new().map_err(|e| CliError::User(format!("cannot start the runtime: {e}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox: Sandbox = engine_runtime
        .block_on(provisio_sandbox::serve(
            SandboxConfig { bearer_token: Some(token.clone()), ..SandboxConfig::default() },
            async {
                let _ = stopped.await;
            },
        ))
        .map_err(|e| CliError::User(format!("cannot start the sandbox: {e}")))?;
    out!("sandbox target: {}\n", sandbox.base_url())?;
    let conn = config.connections.first_mut().ok_or_else(|| CliError::User("the example has no connection".into()))?;
    conn.settings.insert("scim_url".into(), SettingValue::Plain(sandbox.base_url().into()));
    // The token reaches the connection by reference, as a secret should.
    let token_file = dir.join("sandbox-token");
    write_private(&token_file, &token)?;
    conn.settings.insert("access_token".into(), SettingValue::File { file: token_file });

    let engine = Engine::new(config, connectors)?;
    engine.redactor.add(&token);
    let store = engine.config.open_store()?;
    let problems = crate::check::for_engine(&engine, Some(&store));
    for p in &problems {
        eprintln!("{p}");
    }
    if problems.iter().any(|p| p.severity == crate::check::Severity::Error) {
        return Err(CliError::User("the example configuration does not check; see above".into()));
    }
    let audit = Audit::open(&engine.config.engine.audit_log, engine.redactor.clone())
        .map_err(|e| CliError::User(format!("cannot open the audit log: {e}")))?;
    let options = CycleOptions::default();

    let mut failed = false;
    let mut cycle = |title: &str| -> Result<(), CliError> {
        out!("── {title}")?;
        let reports = engine.cycle(&store, &audit, &options);
        print_summary(&reports)?;
        failed |= reports.iter().any(|r| r.summary.error.is_some() || r.summary.failed > 0);
        print_target(&sandbox)?;
        out!()?;
        Ok(())
    };

    cycle("cycle 1: the first cycle creates everyone in scope (erin is disabled, so not created)")?;

    let edited = EXAMPLE_DIRECTORY
        .replace("title: Site Lead", "title: Head of Construction")
        .replace("employeeNumber: 1004\n", "employeeNumber: 1004\nemployeeType: disabled\n");
    let edited = remove_entry(&edited, "uid=chloe,ou=people,dc=example,dc=org");
    write(&ldif, &edited)?;
    out!("edited the copy: bob's title changed, dmitri disabled, chloe removed\n")?;
    cycle("cycle 2: the changes are pushed; dmitri and chloe are deprovisioned (Remove User Action: Disable)")?;
    cycle("cycle 3: nothing changed, nothing is sent")?;

    out!(
        "the working copy stays in {} (configuration, directory, state store, audit log: {})",
        dir.display(),
        engine.config.engine.audit_log.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    )?;
    let _ = stop.send(());
    drop(engine_runtime);
    if failed {
        return Err(CliError::User("a demo cycle reported failures (see above)".into()));
    }
    out!("done. Try it on your own data: see examples/provisio.toml and docs/configuration.md.")?;
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    provisio_engine::keys::write_private(path, text.as_bytes())
        .map_err(|e| CliError::User(format!("cannot write {}: {e}", path.display())))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| CliError::User(format!("cannot write {}: {e}", path.display())))
}

/// `ldif` without the entry whose DN is `dn`.
fn remove_entry(ldif: &str, dn: &str) -> String {
    ldif.split("\n\n")
        .filter(|entry| !entry.lines().any(|l| l.trim() == format!("dn: {dn}")))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// What the sandbox holds, as a table.
fn print_target(sandbox: &Sandbox) -> Result<(), CliError> {
    let snapshot = sandbox.snapshot();
    let users = snapshot.get("Users").and_then(|u| u.as_array()).cloned().unwrap_or_default();
    out!("the target now holds {} user(s):", users.len())?;
    let mut t = table(["userName", "displayName", "title", "active"]);
    let mut rows: Vec<[String; 4]> = users
        .iter()
        .map(|u| {
            let s = |k: &str| {
                u.get(k).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).unwrap_or_default()
            };
            [s("userName"), s("displayName"), s("title"), s("active")]
        })
        .collect();
    rows.sort();
    for r in rows {
        t.add_row(r);
    }
    out!("{t}")?;
    Ok(())
}
