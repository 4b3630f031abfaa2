//! provisio-state: the engine's state store.
//!
//! Per channel (a connection name plus a channel name) the store keeps, for
//! each source user, the link from source GUID to target id, the hash of
//! the attributes last pushed, a status, a dirty flag with the last error
//! and attempt count, and timestamps; likewise for groups (name, members
//! hash, members' target ids). It also keeps each connection's Unique User
//! Identifier, the channels' high-water marks, a history of cycles with
//! their summaries, and create intents. It is one SQLite file (bundled
//! SQLite, no system library) or a PostgreSQL database
//! ([`StateStore::open_postgres`], [`PgConfig`]), with a versioned schema
//! migrated on open (see [`schema`]).
//!
//! # One run at a time
//!
//! [`StateStore::open`] takes an exclusive run lock (`<path>.lock`; on
//! PostgreSQL an advisory lock of the session) held for the store's lifetime; a second open, from any process, is refused
//! with [`StateError::Locked`] naming the holder's pid. Read-only tools
//! (`channels list`) use [`StateStore::open_read_only`], which takes no
//! lock and can read while a run writes (WAL mode).
//!
//! # Durability
//!
//! WAL with `synchronous=NORMAL`: a crashed process loses nothing
//! committed; a power loss may lose the last commits but never corrupts
//! the store. Lost links are re-found at the target by Unique User
//! Identifier, and intents make creates safe to repeat (see [`schema`]).
//!
//! # What may be stored (contract with the engine)
//!
//! Attribute values never enter the store. The engine passes the *hash* of
//! the mapped attributes it pushed ([`UserState::hash`],
//! [`GroupState::members_hash`]); besides hashes the store holds only ids
//! (source GUIDs, target ids, group members' target ids), the Unique User
//! Identifier's value (needed to re-find an account; it must not be a
//! secret or masked attribute), group names, and error texts. Error texts
//! come from the engine, which must redact secret and masked values before
//! passing them (as it does for its logs). The store does not inspect
//! anything it is given, so this contract is the engine's to keep.
//!
//! # Transactions
//!
//! Every operation lives on [`Tx`]. The store's methods of the same names
//! run it on its own (autocommit); [`StateStore::transaction`] runs a
//! closure with a `&Tx` in one transaction, which is how the engine
//! batches the writes of a cycle.
//!
//! # Example
//!
//! ```
//! use provisio_state::{CycleSummary, StateStore, UserState, UserStatus};
//!
//! # fn main() -> Result<(), provisio_state::StateError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let store = StateStore::open(&dir.path().join("state.db"))?;
//! store.check_connection_identifier("scim", "userName")?;
//! let ch = store.channel("scim", "employees")?;
//! let cycle = store.begin_cycle(ch, 1_700_000_000)?;
//! store.record_create_intent(ch, "guid-1", "alice", 1_700_000_000)?;
//! // ... the create succeeds at the target ...
//! store.transaction(|tx| {
//!     tx.upsert_user(ch, &UserState {
//!         guid: "guid-1".into(),
//!         target_id: Some("2819c223".into()),
//!         unique_id: "alice".into(),
//!         hash: "sha256:9f86d081".into(),
//!         status: UserStatus::Active,
//!         created_at: 1_700_000_001,
//!         updated_at: 1_700_000_001,
//!         ..UserState::default()
//!     })?;
//!     tx.settle_intent(ch, "guid-1")?;
//!     Ok(())
//! })?;
//! let summary = CycleSummary { created: 1, ..CycleSummary::default() };
//! store.finish_cycle(ch, cycle, &summary, 1_700_000_002)?;
//! assert_eq!(store.channel_summaries()?[0].users, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Backends
//!
//! SQLite and PostgreSQL, behind the same methods ([`StoreConfig`] picks
//! one). Every [`Tx`] method is written once against a small neutral query
//! layer (a value enum for parameters, a row type; `query.rs`), in the SQL
//! both dialects share, with `?N` placeholders (`$N` for PostgreSQL).
//! SQLite prepares each statement once per connection (`sqlite.rs`). The
//! PostgreSQL client lives on a thread of its own (`pg/conn.rs`), because
//! the engine calls the store from inside a tokio runtime, where the sync
//! client's own runtime would panic. On PostgreSQL the run lock is a
//! session-level advisory lock and read-only opens use a read-only session
//! (`pg/schema.rs`). Failover nodes ([`cluster`]) share that lock and run
//! each channel under a lease; [`Fence`] makes every write of a channel
//! verify the lease's fencing token in its own transaction. [`StateStore::copy_from`] copies a SQLite store into
//! an empty PostgreSQL one (`provisio state migrate`). The decisions are in
//! `docs/state-postgres.md`.

#![forbid(unsafe_code)]

pub mod cluster;
mod copy;
mod cycles;
mod error;
mod fields;
mod groups;
mod health;
mod held;
mod intents;
mod lock;
mod model;
mod pg;
mod query;
pub mod schema;
mod sqlite;
mod tx;
mod users;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use cycles::KEEP_CYCLES;
pub use error::StateError;
pub use health::Health;
pub use held::{Held, HeldGroup};
pub use model::{
    ChannelKey, ChannelSummary, CycleId, CycleRecord, CycleSummary, Deprovision, GroupState, HighWater, Intent,
    IntentKind, UserState, UserStatus,
};
use pg::PgConn;
pub use pg::{PgConfig, PgTls};
pub use schema::LATEST as SCHEMA_VERSION;
use tx::Db;
pub use tx::Tx;

/// Which store to open: the SQLite file or a PostgreSQL database.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// A SQLite file (`[engine] state`).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`[engine.state_store] kind = "postgres"`).
    Postgres(PgConfig),
}

/// The state store: a SQLite file with its run lock, or a PostgreSQL
/// session holding the run lock (an advisory lock).
#[derive(Debug)]
pub struct StateStore {
    backend: Backend,
    path: PathBuf,
    read_only: bool,
    fence: std::cell::RefCell<Option<Fence>>,
}

/// Failover's guard on a channel's writes ([`StateStore::set_fence`]):
/// while set, every write of the store runs in a transaction that first
/// checks the node's local lease deadline (`valid`) and then, in the same
/// transaction, that the channel's lease row still carries this node's
/// fencing token and was renewed within the grace period, locking the row
/// (`FOR SHARE`) so that no take-over can commit before this transaction
/// does. Otherwise the write fails with [`StateError::LeaseLost`] and
/// nothing is written.
#[derive(Clone)]
pub struct Fence {
    /// The channel's connection.
    pub connection: String,
    /// The channel's name.
    pub channel: String,
    /// This node's id.
    pub node_id: String,
    /// The fencing token of the lease this node took.
    pub token: i64,
    /// The grace period, in milliseconds.
    pub grace_ms: i64,
    /// Whether the node's local lease deadline has not passed yet.
    pub valid: std::sync::Arc<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence")
            .field("channel", &format!("{}/{}", self.connection, self.channel))
            .field("node_id", &self.node_id)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Fence {
    fn lost(&self) -> StateError {
        StateError::LeaseLost { channel: format!("{}/{}", self.connection, self.channel) }
    }
}

#[derive(Debug)]
enum Backend {
    // Field order matters: the database closes before the lock is released.
    Sqlite { conn: Connection, _lock: Option<lock::RunLock> },
    Postgres(PgConn),
}

impl StateStore {
    /// Open or create the store at `path` (creating missing parent
    /// directories), take the run lock `<path>.lock` for the store's
    /// lifetime, and migrate the schema to the newest this binary knows.
    ///
    /// Fails with [`StateError::Locked`] if another run holds the lock and
    /// [`StateError::NewerSchema`] if a newer provisio wrote the store.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StateError::Io { path: parent.to_path_buf(), source })?;
        }
        let lock = lock::RunLock::acquire(path)?;
        create_private(path).map_err(|source| StateError::Io { path: path.to_path_buf(), source })?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        schema::configure_writer(&conn)?;
        schema::migrate(&mut conn, path, tx::wall_clock())?;
        Ok(StateStore {
            backend: Backend::Sqlite { conn, _lock: Some(lock) },
            path: path.to_path_buf(),
            read_only: false,
            fence: Default::default(),
        })
    }

    /// Open an existing store for reading, without the run lock (so it
    /// works while a run is going on) and without migrating. Writes fail
    /// with [`StateError::ReadOnly`].
    ///
    /// Fails with [`StateError::NotFound`] if there is no store, and with
    /// [`StateError::NeedsMigration`] or [`StateError::NewerSchema`] if its
    /// schema is not exactly this binary's.
    pub fn open_read_only(path: &Path) -> Result<Self, StateError> {
        if !path.is_file() {
            return Err(StateError::NotFound { path: path.to_path_buf() });
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        schema::configure_reader(&conn)?;
        schema::check_readable(&conn, path)?;
        Ok(StateStore {
            backend: Backend::Sqlite { conn, _lock: None },
            path: path.to_path_buf(),
            read_only: true,
            fence: Default::default(),
        })
    }

    /// Connect to the PostgreSQL store, take its run lock (a session-level
    /// advisory lock, held until the store is dropped) and migrate its
    /// schema, as [`StateStore::open`] does for SQLite.
    pub fn open_postgres(config: &PgConfig) -> Result<Self, StateError> {
        let conn = PgConn::connect(config)?;
        pg::schema::take_run_lock(&conn, false)?;
        pg::schema::migrate(&conn, tx::wall_clock())?;
        Ok(StateStore {
            path: PathBuf::from(conn.location()),
            backend: Backend::Postgres(conn),
            read_only: false,
            fence: Default::default(),
        })
    }

    /// Open the PostgreSQL store as a failover node does: the **shared**
    /// form of the run lock (nodes write side by side, each channel under
    /// its lease and [`Fence`]; a standalone run, which takes the exclusive
    /// form, is kept out), migrations, and `idle_in_transaction_session_timeout`
    /// set to `idle_timeout`, so that a node paused inside a write
    /// transaction loses its session instead of holding the lease row
    /// locked against the node taking over.
    pub fn open_postgres_node(config: &PgConfig, idle_timeout: std::time::Duration) -> Result<Self, StateError> {
        let conn = PgConn::connect(config)?;
        pg::schema::take_run_lock(&conn, true)?;
        pg::schema::migrate(&conn, tx::wall_clock())?;
        conn.batch(&format!("SET idle_in_transaction_session_timeout = {}", idle_timeout.as_millis().max(1)))?;
        Ok(StateStore {
            path: PathBuf::from(conn.location()),
            backend: Backend::Postgres(conn),
            read_only: false,
            fence: Default::default(),
        })
    }

    /// Guard every write with `fence` (a channel's lease) until cleared
    /// with `None`; see [`Fence`].
    pub fn set_fence(&self, fence: Option<Fence>) {
        *self.fence.borrow_mut() = fence;
    }

    /// The fence set, if any.
    fn current_fence(&self) -> Option<Fence> {
        self.fence.borrow().clone()
    }

    /// Connect to the PostgreSQL store for reading, as
    /// [`StateStore::open_read_only`] does for SQLite: no run lock, no
    /// migration, the session read-only (writes fail with
    /// [`StateError::ReadOnly`]); [`StateError::NotFound`] if the database
    /// holds no store yet.
    pub fn open_postgres_read_only(config: &PgConfig) -> Result<Self, StateError> {
        let conn = PgConn::connect(config)?;
        conn.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
        pg::schema::check_readable(&conn)?;
        Ok(StateStore {
            path: PathBuf::from(conn.location()),
            backend: Backend::Postgres(conn),
            read_only: true,
            fence: Default::default(),
        })
    }

    /// Connect and migrate the PostgreSQL store's schema, without the run
    /// lock; the schema version reached. For tests of migrations racing
    /// (nodes starting at once), which the run lock would otherwise hide.
    #[doc(hidden)]
    pub fn migrate_postgres_unlocked(config: &PgConfig) -> Result<u32, StateError> {
        let conn = PgConn::connect(config)?;
        pg::schema::migrate(&conn, tx::wall_clock())
    }

    /// [`StateStore::open`] or [`StateStore::open_postgres`].
    pub fn open_with(config: &StoreConfig) -> Result<Self, StateError> {
        match config {
            StoreConfig::Sqlite(path) => Self::open(path),
            StoreConfig::Postgres(pg) => Self::open_postgres(pg),
        }
    }

    /// [`StateStore::open_read_only`] or
    /// [`StateStore::open_postgres_read_only`].
    pub fn open_read_only_with(config: &StoreConfig) -> Result<Self, StateError> {
        match config {
            StoreConfig::Sqlite(path) => Self::open_read_only(path),
            StoreConfig::Postgres(pg) => Self::open_postgres_read_only(pg),
        }
    }

    /// The store's path; for PostgreSQL its URL (never with a password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Whether this store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The store's schema version.
    pub fn schema_version(&self) -> Result<u32, StateError> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => schema::version(conn),
            Backend::Postgres(conn) => pg::schema::version(conn),
        }
    }

    /// Run `f` in one transaction: committed if it returns `Ok`, rolled
    /// back if it returns `Err` or panics. Not re-entrant (do not call
    /// `transaction` again inside `f`).
    pub fn transaction<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, StateError>) -> Result<T, StateError> {
        let fence = self.current_fence();
        if let Some(fence) = &fence
            && !(fence.valid)()
        {
            return Err(fence.lost());
        }
        match &self.backend {
            Backend::Sqlite { conn, .. } => {
                let tx = conn.unchecked_transaction()?;
                let value = f(&Tx::new(Db::Sqlite(&tx)))?;
                tx.commit()?;
                Ok(value)
            }
            Backend::Postgres(conn) => {
                conn.batch("BEGIN")?;
                conn.set_in_transaction(true);
                struct Guard<'c>(&'c PgConn, bool);
                impl Drop for Guard<'_> {
                    fn drop(&mut self) {
                        if !self.1 {
                            let _ = self.0.batch("ROLLBACK");
                        }
                        self.0.set_in_transaction(false);
                    }
                }
                let mut guard = Guard(conn, false);
                if let Some(fence) = &fence {
                    let holds = conn.query(
                        &format!(
                            "SELECT 1 FROM leases WHERE connection = ?1 AND channel = ?2 AND node_id = ?3 AND token = ?4
                             AND renewed_at >= {} - ?5 FOR SHARE",
                            cluster::NOW_MS
                        ),
                        &[
                            query::Value::Text(fence.connection.as_str().into()),
                            query::Value::Text(fence.channel.as_str().into()),
                            query::Value::Text(fence.node_id.as_str().into()),
                            query::Value::Int(fence.token),
                            query::Value::Int(fence.grace_ms),
                        ],
                    )?;
                    if holds.is_empty() {
                        return Err(fence.lost());
                    }
                }
                let value = f(&Tx::new(Db::Postgres(conn)))?;
                // A COMMIT ends the transaction even when it fails: no ROLLBACK after it.
                guard.1 = true;
                conn.batch("COMMIT")?;
                Ok(value)
            }
        }
    }

    /// A handle on which each operation commits on its own; lets code that
    /// takes a `&Tx` run inside or outside [`StateStore::transaction`].
    pub fn autocommit(&self) -> Tx<'_> {
        Tx::new(self.db())
    }

    fn db(&self) -> Db<'_> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => Db::Sqlite(conn),
            Backend::Postgres(conn) => Db::Postgres(conn),
        }
    }
}

/// Create an empty store file readable by its owner only (Unix), before
/// SQLite opens it: SQLite gives its `-wal` and `-shm` files the same mode.
/// An existing file is left as it is.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The store's own methods: each runs the [`Tx`] method of the same name
/// on its own (see there for the documentation).
macro_rules! delegate {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        impl StateStore {
            $(
                #[doc = concat!("Runs [`Tx::", stringify!($name), "`] on its own.")]
                pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StateError> {
                    // Under a fence (failover) every call is a fenced
                    // transaction; otherwise it commits on its own.
                    if self.fence.borrow().is_some() {
                        return self.transaction(|tx| tx.$name($($arg),*));
                    }
                    self.autocommit().$name($($arg),*)
                }
            )*
        }
    };
}

delegate! {
    fn connection_identifier(&self, connection: &str) -> Option<String>;
    fn set_connection_identifier(&self, connection: &str, identifier: &str) -> ();
    fn check_connection_identifier(&self, connection: &str, identifier: &str) -> ();
    fn connection_has_state(&self, connection: &str) -> bool;
    fn set_discovered_fields(&self, connection: &str, fields: &str, now: i64) -> ();
    fn discovered_fields(&self, connection: &str) -> Option<(String, i64)>;
    fn set_held(&self, ch: ChannelKey, held: &[Held]) -> ();
    fn held(&self, ch: ChannelKey) -> Vec<Held>;
    fn set_held_groups(&self, ch: ChannelKey, held: &[HeldGroup]) -> ();
    fn held_groups(&self, ch: ChannelKey) -> Vec<HeldGroup>;
    fn approve_held(&self, ch: ChannelKey, now: i64) -> u64;
    fn approval(&self, ch: ChannelKey) -> Option<i64>;
    fn clear_approval(&self, ch: ChannelKey) -> ();
    fn health(&self, ch: ChannelKey) -> Health;
    fn set_health(&self, ch: ChannelKey, health: &Health) -> ();
    fn channel(&self, connection: &str, channel: &str) -> ChannelKey;
    fn find_channel(&self, connection: &str, channel: &str) -> Option<ChannelKey>;
    fn channels(&self) -> Vec<(ChannelKey, String, String)>;
    fn reset_channel(&self, connection: &str, channel: &str) -> bool;
    fn delete_channel(&self, connection: &str, channel: &str) -> bool;
    fn high_water(&self, ch: ChannelKey) -> Option<String>;
    fn set_high_water(&self, ch: ChannelKey, value: &str) -> ();
    fn group_high_water(&self, ch: ChannelKey) -> Option<String>;
    fn set_group_high_water(&self, ch: ChannelKey, value: &str) -> ();
    fn high_water_of(&self, ch: ChannelKey, which: HighWater) -> Option<String>;
    fn set_high_water_of(&self, ch: ChannelKey, which: HighWater, value: &str) -> ();
    fn clear_high_water(&self, ch: ChannelKey, which: HighWater) -> bool;
    fn users(&self, ch: ChannelKey) -> HashMap<String, UserState>;
    fn user(&self, ch: ChannelKey, guid: &str) -> Option<UserState>;
    fn user_by_unique_id(&self, ch: ChannelKey, unique_id: &str) -> Option<UserState>;
    fn upsert_user(&self, ch: ChannelKey, user: &UserState) -> ();
    fn remove_user(&self, ch: ChannelKey, guid: &str) -> bool;
    fn mark_dirty(&self, ch: ChannelKey, guid: &str, error: &str, now: i64) -> ();
    fn dirty_users(&self, ch: ChannelKey) -> Vec<UserState>;
    fn reset_attempts(&self, ch: ChannelKey) -> u64;
    fn groups(&self, ch: ChannelKey) -> HashMap<String, GroupState>;
    fn group(&self, ch: ChannelKey, guid: &str) -> Option<GroupState>;
    fn upsert_group(&self, ch: ChannelKey, group: &GroupState, now: i64) -> ();
    fn remove_group(&self, ch: ChannelKey, guid: &str) -> bool;
    fn mark_group_dirty(&self, ch: ChannelKey, guid: &str, error: &str, now: i64) -> ();
    fn dirty_groups(&self, ch: ChannelKey) -> Vec<GroupState>;
    fn begin_cycle(&self, ch: ChannelKey, now: i64) -> CycleId;
    fn finish_cycle(&self, ch: ChannelKey, cycle: CycleId, summary: &CycleSummary, now: i64) -> ();
    fn last_cycle(&self, ch: ChannelKey) -> Option<CycleRecord>;
    fn cycles(&self, ch: ChannelKey, limit: u32) -> Vec<CycleRecord>;
    fn channel_summaries(&self) -> Vec<ChannelSummary>;
    fn channel_summary(&self, ch: ChannelKey) -> Option<ChannelSummary>;
    fn record_create_intent(&self, ch: ChannelKey, guid: &str, unique_id: &str, now: i64) -> ();
    fn unsettled_intents(&self, ch: ChannelKey) -> Vec<Intent>;
    fn settle_intent(&self, ch: ChannelKey, guid: &str) -> bool;
    fn keep_intent(&self, ch: ChannelKey, guid: &str, extra: u32, since: i64) -> ();
    fn note_intent_absent(&self, ch: ChannelKey, guid: &str, now: i64) -> ();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_store_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<super::StateStore>();
    }

    #[cfg(unix)]
    #[test]
    fn a_new_store_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = super::StateStore::open(&path).unwrap();
        store.channel("c", "ch").unwrap();
        for file in [path.clone(), dir.path().join("s.db-wal")] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", file.display());
        }
    }
}
