//! [`PgConn`]: one PostgreSQL session owned by a dedicated thread.
//!
//! The sync `postgres::Client` blocks on a runtime of its own, which panics
//! if the calling thread is already inside a tokio runtime (the engine
//! calls the store from `Runtime::block_on`). The client therefore lives on
//! a plain OS thread; each call sends it a closure over a channel and waits
//! for the answer. Statements are prepared once per session and cached on
//! that thread (keyed by the store's SQL text, `?N` rewritten to `$N`).
//! Dropping the `PgConn` closes the channel, which ends the thread and the
//! session (and with it any session-level advisory lock).

use std::cell::Cell;
use std::collections::HashMap;
use std::error::Error;
use std::sync::mpsc;
use std::thread::JoinHandle;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use super::{PgConfig, PgTls, connect_error, db_error};
use crate::error::StateError;
use crate::query::{Row, Value, to_dollar_placeholders};

/// The session and its statement cache, on the connection's thread.
pub(crate) struct Session {
    pub(crate) client: Client,
    statements: HashMap<String, Statement>,
}

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A PostgreSQL session on its own thread.
pub(crate) struct PgConn {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    in_transaction: Cell<bool>,
    location: String,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn").field("location", &self.location).finish_non_exhaustive()
    }
}

impl PgConn {
    /// Connect (on the new thread) and return once the session is up.
    pub(crate) fn connect(cfg: &PgConfig) -> Result<PgConn, StateError> {
        let client_config = cfg.client_config()?;
        let tls = match cfg.tls {
            PgTls::Disable => None,
            _ => Some(super::tls::connector(cfg)?),
        };
        let mut client_config = client_config;
        client_config.notice_callback(log_notice);
        client_config.ssl_mode(match cfg.tls {
            PgTls::Disable => postgres::config::SslMode::Disable,
            _ => postgres::config::SslMode::Require,
        });
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, is_ready) = mpsc::sync_channel::<Result<(), StateError>>(1);
        let for_errors = cfg.clone();
        let thread = std::thread::Builder::new()
            .name("provisio-postgres".into())
            .spawn(move || {
                let connected = match tls {
                    None => client_config.connect(NoTls),
                    Some(tls) => client_config.connect(tls),
                };
                let client = match connected {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(connect_error(&for_errors, &client_config, &e)));
                        return;
                    }
                };
                drop(for_errors);
                let _ = ready.send(Ok(()));
                let mut session = Session { client, statements: HashMap::new() };
                while let Ok(job) = queue.recv() {
                    job(&mut session);
                }
            })
            .map_err(|e| StateError::Database {
                message: format!("cannot start the PostgreSQL connection thread: {e}"),
                source: Box::new(e),
            })?;
        let location = cfg.location();
        match is_ready.recv() {
            Ok(Ok(())) => {
                Ok(PgConn { jobs: Some(jobs), thread: Some(thread), in_transaction: Cell::new(false), location })
            }
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StateError::Unavailable {
                    location,
                    message: "the connection thread stopped while connecting".into(),
                })
            }
        }
    }

    /// The URL without query string, for messages.
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// Run `f` on the connection's thread and wait for its answer.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        let stopped = || StateError::Unavailable {
            location: self.location.clone(),
            message: "the PostgreSQL connection thread has stopped".into(),
        };
        let (answer, wait) = mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Box::new(move |session: &mut Session| {
            let _ = answer.send(f(session));
        }))
        .map_err(|_| stopped())?;
        wait.recv().map_err(|_| stopped())?
    }

    /// Execute one statement; the rows it changed.
    pub(crate) fn exec(&self, sql: &str, params: &[Value<'_>]) -> Result<u64, StateError> {
        let (sql, params) = (sql.to_owned(), owned(params));
        self.call(move |s| {
            let stmt = s.prepare(&sql)?;
            s.client.execute(&stmt, &refs(&params)).map_err(db_error)
        })
    }

    /// Run one query; all its rows.
    pub(crate) fn query(&self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row<'static>>, StateError> {
        let (sql, params) = (sql.to_owned(), owned(params));
        let rows = self.call(move |s| {
            let stmt = s.prepare(&sql)?;
            let rows = s.client.query(&stmt, &refs(&params)).map_err(db_error)?;
            rows.iter().map(read).collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows.into_iter().map(Row::new).collect())
    }

    /// Statements without parameters, separated by `;`.
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StateError> {
        let sql = sql.to_owned();
        self.call(move |s| s.client.batch_execute(&sql).map_err(db_error))
    }

    /// Whether a transaction opened by the store is going on.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    pub(crate) fn set_in_transaction(&self, on: bool) {
        self.in_transaction.set(on);
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Release the run lock before returning: closing the session
        // releases it too, but the server notices a closed session a moment
        // later, and the next run (or test) could be refused in between.
        // A ROLLBACK only inside a transaction: outside one the server
        // answers it with a warning ("there is no transaction in progress").
        let sql = if self.in_transaction() {
            "ROLLBACK; SELECT pg_advisory_unlock_all()"
        } else {
            "SELECT pg_advisory_unlock_all()"
        };
        let _ = self.call(move |s| Ok(s.client.batch_execute(sql)));
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Session {
    /// The prepared statement for `sql` (the store's `?N` dialect).
    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement, StateError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(&to_dollar_placeholders(sql)).map_err(db_error)?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// The server's notices and warnings. The client's default logs every one
/// at INFO, so routine notices (`CREATE TABLE IF NOT EXISTS` on a table that
/// exists: "relation ... already exists, skipping", at every open) filled the
/// log. Notices go to debug; a WARNING stays a warning.
fn log_notice(notice: postgres::error::DbError) {
    if notice.severity().eq_ignore_ascii_case("WARNING") {
        log::warn!(target: "provisio::state", "PostgreSQL: {}", notice.message());
    } else {
        log::debug!(target: "provisio::state", "PostgreSQL {}: {}", notice.severity(), notice.message());
    }
}

/// Parameters that can cross to the connection's thread.
fn owned(params: &[Value<'_>]) -> Vec<Value<'static>> {
    params.iter().map(|p| p.clone().into_owned()).collect()
}

/// Parameters as the client takes them.
pub(crate) fn refs<'a>(params: &'a [Value<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A result row as [`Value`]s: integers of any width, booleans as 0/1,
/// text.
pub(crate) fn read(row: &postgres::Row) -> Result<Vec<Value<'static>>, StateError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let bad = |e: postgres::Error| StateError::Corrupt(format!("column {}: {e}", column.name()));
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(|n| Value::Int(n.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(|n| Value::Int(n.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(|b| Value::Int(b.into()))
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME || *ty == Type::BPCHAR {
            row.try_get::<_, Option<String>>(i).map_err(bad)?.map(|t| Value::Text(t.into()))
        } else {
            return Err(StateError::Corrupt(format!(
                "column {} has type {ty}, which the store does not use",
                column.name()
            )));
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(values)
}

impl ToSql for Value<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(s) => s.as_ref().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
