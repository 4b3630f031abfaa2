//! The SQLite side of the query layer: statements prepared once per
//! connection and reused from rusqlite's statement cache, parameters bound
//! from [`Value`]s, rows read into [`Row`]s.

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::StateError;
use crate::query::{Row, Value};

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// Execute one statement; the number of rows it changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, StateError> {
    let n = conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))?;
    Ok(n as u64)
}

/// Run one query; all its rows.
pub(crate) fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>, StateError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row, columns)?);
    }
    Ok(out)
}

/// A row as [`Value`]s (the store holds integers and text only).
pub(crate) fn read(row: &rusqlite::Row<'_>, columns: usize) -> Result<Row, StateError> {
    let mut values = Vec::with_capacity(columns);
    for i in 0..columns {
        values.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Int(n),
            ValueRef::Text(t) => {
                Value::Text(String::from_utf8(t.to_vec()).map_err(|e| StateError::Corrupt(format!("column {i}: {e}")))?)
            }
            other => return Err(StateError::Corrupt(format!("column {i} holds a {:?} value", other.data_type()))),
        });
    }
    Ok(Row(values))
}
