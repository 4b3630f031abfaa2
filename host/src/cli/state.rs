//! `provisio state`: the state store itself.
//!
//! - `state info` shows the backend, where the store is (a path, or a URL
//!   without password), its schema version, the rows per table and the
//!   channels. It opens the store read-only.
//! - `state migrate --from FILE` copies a SQLite store into the PostgreSQL
//!   store the configuration names (`[engine.state_store] kind =
//!   "postgres"`): every table in one transaction, ids and sequences kept,
//!   refused unless the PostgreSQL store is empty. It takes the run lock of
//!   both stores, so no run writes either during the copy. The SQLite
//!   store's hash key (`<file>.key`) is copied to `hash_key_file`, or, if
//!   that file exists, must be the same key; otherwise every stored hash
//!   would look changed and the next cycle would update every account.

use clap::Subcommand;
use provisio_config::StoreKind;
use provisio_state::StateStore;
use std::path::{Path, PathBuf};

use super::CliError;
use super::engine::load_config;
use super::output::{out, print_json, table};

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Backend, location, schema version, rows per table and channels.
    Info {
        /// Print the description as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Copy a SQLite state store into the configured (empty) PostgreSQL
    /// store, in one transaction, with its hash key.
    Migrate {
        /// The SQLite store file (the old `[engine] state`).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
}

pub fn run(global: &super::GlobalArgs, cmd: &StateCommand) -> Result<(), CliError> {
    match cmd {
        StateCommand::Info { json } => info(global, *json),
        StateCommand::Migrate { from } => migrate(global, from),
    }
}

fn user(e: impl ToString) -> CliError {
    CliError::User(e.to_string())
}

fn info(global: &super::GlobalArgs, json: bool) -> Result<(), CliError> {
    let config = load_config(global)?;
    let store = config.open_store_read_only().map_err(user)?;
    let version = store.schema_version().map_err(user)?;
    let counts = store.table_counts().map_err(user)?;
    let channels = store.channel_summaries().map_err(user)?;
    if json {
        let tables: serde_json::Map<String, serde_json::Value> =
            counts.iter().map(|(t, n)| (t.clone(), serde_json::json!(n))).collect();
        print_json(&serde_json::json!({
            "backend": store.backend(),
            "location": store.path().display().to_string(),
            "schema_version": version,
            "tables": tables,
            "channels": channels,
        }))?;
        return Ok(());
    }
    out!("backend:        {}", store.backend())?;
    out!("location:       {}", store.path().display())?;
    out!("schema version: {version} (this provisio: {})", provisio_state::SCHEMA_VERSION)?;
    let mut t = table(["TABLE", "ROWS"]);
    for (name, n) in &counts {
        t.add_row(vec![name.clone(), n.to_string()]);
    }
    out!("{t}")?;
    let mut t = table(["CONNECTION", "CHANNEL", "USERS", "DIRTY", "GROUPS", "LAST CYCLE"]);
    for s in &channels {
        t.add_row(vec![
            s.connection.clone(),
            s.channel.clone(),
            s.users.to_string(),
            s.dirty.to_string(),
            s.groups.to_string(),
            s.last_cycle.as_ref().map(|c| c.id.to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    out!("{t}")?;
    Ok(())
}

fn migrate(global: &super::GlobalArgs, from: &Path) -> Result<(), CliError> {
    let config = load_config(global)?;
    if config.engine.state_store.as_ref().is_none_or(|s| s.kind != StoreKind::Postgres) {
        return Err(CliError::User(format!(
            "state migrate copies into PostgreSQL, and {} configures the SQLite store: add [engine.state_store] kind = \"postgres\" with its url, password and hash_key_file (docs/configuration.md)",
            config.file.display()
        )));
    }
    if !from.is_file() {
        return Err(CliError::NotFound(format!("--from {}: there is no SQLite state store there", from.display())));
    }
    // The key first: refuse before copying anything if the keys disagree.
    let source_key_path = from.with_extension("key");
    let target_key_path = config.hash_key_path().map_err(CliError::User)?;
    let source_key = std::fs::read(&source_key_path).ok().filter(|k| k.len() >= 32);
    if let Some(key) = &source_key
        && let Ok(existing) = std::fs::read(&target_key_path)
        && existing != *key
    {
        return Err(CliError::User(format!(
            "hash_key_file {} holds a different key than the SQLite store's {}: the stored hashes would not match and the next cycle would update every account; remove {} (or copy {} over it) and run again",
            target_key_path.display(),
            source_key_path.display(),
            target_key_path.display(),
            source_key_path.display()
        )));
    }
    let source = StateStore::open(from).map_err(user)?;
    let target = config.open_store().map_err(user)?;
    let counts = target.copy_from(&source).map_err(user)?;
    match &source_key {
        Some(key) if !target_key_path.is_file() => {
            if let Some(dir) = target_key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| user(format!("cannot create {}: {e}", dir.display())))?;
            }
            provisio_engine::keys::write_private(&target_key_path, key)
                .map_err(|e| user(format!("cannot write hash_key_file {}: {e}", target_key_path.display())))?;
            out!("hash key: copied {} to {}", source_key_path.display(), target_key_path.display())
        }
        Some(_) => out!("hash key: {} already holds the SQLite store's key", target_key_path.display()),
        None => out!(
            "hash key: the SQLite store had none ({}); one is made at {} on the first cycle",
            source_key_path.display(),
            target_key_path.display()
        ),
    }?;
    let mut t = table(["TABLE", "ROWS COPIED"]);
    for (name, n) in &counts {
        t.add_row(vec![name.clone(), n.to_string()]);
    }
    out!("{t}")?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    out!("copied {total} rows from {} into {} in one transaction", from.display(), target.path().display())?;
    Ok(())
}
