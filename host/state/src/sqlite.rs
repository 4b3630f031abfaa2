//! The SQLite side of the query layer: statements prepared once per
//! connection and reused from rusqlite's statement cache, parameters bound
//! from [`Value`]s, rows read into [`Row`]s.

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::StateError;
use crate::query::{Row, Value};

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// Execute one statement; the number of rows it changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: &[Value<'_>]) -> Result<u64, StateError> {
    let n = conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))?;
    Ok(n as u64)
}

/// Run one query; all its rows.
pub(crate) fn query(conn: &Connection, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row<'static>>, StateError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row, columns)?);
    }
    Ok(out)
}

/// Run one query and map each row in place (no copy of the row).
pub(crate) fn query_map<T>(
    conn: &Connection,
    sql: &str,
    params: &[Value<'_>],
    mut f: impl FnMut(&Row<'_>) -> Result<T, StateError>,
) -> Result<Vec<T>, StateError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(&Row::Sqlite(row))?);
    }
    Ok(out)
}

/// A column as a [`Value`] borrowing its text (the store holds integers
/// and text only).
pub(crate) fn value(v: ValueRef<'_>, i: usize) -> Result<Value<'_>, StateError> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Text(t) => {
            Value::Text(std::str::from_utf8(t).map_err(|e| StateError::Corrupt(format!("column {i}: {e}")))?.into())
        }
        other => return Err(StateError::Corrupt(format!("column {i} holds a {:?} value", other.data_type()))),
    })
}

/// A row as owned [`Value`]s.
pub(crate) fn read(row: &rusqlite::Row<'_>, columns: usize) -> Result<Row<'static>, StateError> {
    let mut values = Vec::with_capacity(columns);
    for i in 0..columns {
        values.push(value(row.get_ref(i)?, i)?.into_owned());
    }
    Ok(Row::new(values))
}
