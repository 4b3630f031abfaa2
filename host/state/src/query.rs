//! The backend-neutral query layer: parameters ([`Value`]), result rows
//! ([`Row`]) and the conversions between them and Rust values.
//!
//! Every [`crate::Tx`] method is written once against this layer, in the
//! SQL that SQLite and PostgreSQL share, with SQLite's `?N` placeholders
//! (rewritten to `$N` for PostgreSQL by [`to_dollar_placeholders`]).
//! Values are deliberately few: the store keeps integers and text only
//! (flags are the integers 0/1 in both backends; PostgreSQL's boolean
//! results, e.g. of `EXISTS`, read back as 0/1 too).

use std::borrow::Cow;
use std::cell::Cell;

use crate::error::StateError;

/// A parameter or a column's value. Parameters borrow their text (the
/// engine writes batches of 500 rows: no copy per bound string); values
/// read back own theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    #[default]
    Null,
    Int(i64),
    Text(Cow<'a, str>),
}

impl Value<'_> {
    /// The same value, owning its text (to cross to PostgreSQL's thread).
    pub(crate) fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Int(n) => Value::Int(n),
            Value::Text(s) => Value::Text(Cow::Owned(s.into_owned())),
        }
    }
}

/// Conversion of a Rust value into a [`Value`], borrowing its text (so
/// that `vals![user.guid]` neither moves nor copies `user.guid`).
pub(crate) trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self.as_str()))
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}
impl ToValue for u32 {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// The parameters of one statement: `vals![ch.0, guid]`.
macro_rules! vals {
    ($($x:expr),* $(,)?) => {
        &[$($crate::query::ToValue::to_value(&$x)),*][..]
    };
}
pub(crate) use vals;

/// One result row: owned values (PostgreSQL's, and SQLite's single rows),
/// or a SQLite row read in place by [`crate::Tx::query_map`]. Each column
/// is read once: [`Row::get`] moves an owned value out (no copy of the
/// text), leaving NULL behind.
pub(crate) enum Row<'r> {
    Owned(Vec<Cell<Value<'static>>>),
    Sqlite(&'r rusqlite::Row<'r>),
}

impl Row<'_> {
    pub(crate) fn new(values: Vec<Value<'static>>) -> Row<'static> {
        Row::Owned(values.into_iter().map(Cell::new).collect())
    }

    /// The values, for copying them elsewhere.
    pub(crate) fn into_values(self) -> Vec<Value<'static>> {
        match self {
            Row::Owned(values) => values.into_iter().map(Cell::into_inner).collect(),
            Row::Sqlite(_) => unreachable!("SQLite rows are read in place, never copied"),
        }
    }

    /// Column `i` as `T` (once); a type mismatch is [`StateError::Corrupt`].
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> Result<T, StateError> {
        let missing = || StateError::Corrupt(format!("a query returned no column {i}"));
        let v = match self {
            Row::Owned(values) => values.get(i).ok_or_else(missing)?.take(),
            Row::Sqlite(row) => crate::sqlite::value(row.get_ref(i)?, i)?,
        };
        let kind = match &v {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
        };
        T::from_value(v).ok_or_else(|| StateError::Corrupt(format!("column {i} holds {kind}, not the expected type")))
    }
}

/// Conversion of a column's [`Value`] into a Rust value.
pub(crate) trait FromValue: Sized {
    fn from_value(v: Value<'_>) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: Value<'_>) -> Option<Self> {
        match v {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: Value<'_>) -> Option<Self> {
        match v {
            Value::Int(i) => Some(i != 0),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value<'_>) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.into_owned()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value<'_>) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Rewrite SQLite's numbered placeholders `?N` to PostgreSQL's `$N`. The
/// store's SQL has no `?` inside string literals, so a plain scan does.
pub(crate) fn to_dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten() {
        assert_eq!(
            to_dollar_placeholders("SELECT a FROM t WHERE x = ?1 AND y = ?12 OR z = '?'"),
            "SELECT a FROM t WHERE x = $1 AND y = $12 OR z = '?'"
        );
    }

    #[test]
    fn values_convert_both_ways() {
        let guid = String::from("g");
        let none: Option<String> = None;
        assert_eq!(
            vals![1i64, guid, true, none, 7u32],
            [Value::Int(1), Value::Text("g".into()), Value::Int(1), Value::Null, Value::Int(7)]
        );
        let row = Row::new(vec![Value::Int(0), Value::Null, Value::Text("x".into()), Value::Text("y".into())]);
        assert!(!row.get::<bool>(0).unwrap());
        assert_eq!(row.get::<Option<String>>(1).unwrap(), None);
        assert_eq!(row.get::<String>(2).unwrap(), "x");
        assert!(row.get::<i64>(3).is_err());
    }
}
