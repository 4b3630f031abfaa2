//! Evaluation of a parsed expression against one source entry.
//!
//! Every sub-expression yields either a value (possibly the empty string)
//! or *absent*:
//!
//! * `${a}` is absent when the entry has no non-empty value for `a`;
//!   otherwise it is the first non-empty value (a multi-valued attribute
//!   yields its first value).
//! * A string literal is always present, even `""`.
//! * `a + b + ...` is absent as soon as one operand is absent; otherwise the
//!   operands joined.
//! * `a ?? b ?? ...` is the first operand that is present and non-empty;
//!   when there is none, the result of the last operand (so `${mid} ?? ''`
//!   is the empty string, not absent, and can sit inside a concatenation).
//! * `lower`, `upper`, `trim`, `substring` of an absent argument are absent.
//!
//! The only run-time failure is a value longer than [`MAX_VALUE_BYTES`]
//! (at any step, including a referenced attribute value): the mapping then
//! falls back to the field's default and records a warning.

use super::parser::Node;

/// Longest value, in bytes, an expression may produce at any step.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// Why an expression failed at run time. Never carries a value, so it is
/// safe to log for masked fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

fn check(s: String) -> Result<String, EvalError> {
    if s.len() > MAX_VALUE_BYTES {
        Err(EvalError { message: format!("a value longer than {MAX_VALUE_BYTES} bytes") })
    } else {
        Ok(s)
    }
}

/// Evaluate `node`; `Ok(None)` is *absent*.
pub(crate) fn eval(node: &Node, lookup: &dyn Fn(&str) -> Option<Vec<String>>) -> Result<Option<String>, EvalError> {
    Ok(match node {
        Node::Ref(name) => match lookup(name).and_then(|vs| vs.into_iter().find(|v| !v.is_empty())) {
            Some(v) => Some(check(v)?),
            None => None,
        },
        Node::Str(s) => Some(s.clone()),
        Node::Concat(ops) => {
            let mut out = String::new();
            for op in ops {
                match eval(op, lookup)? {
                    Some(v) => {
                        out.push_str(&v);
                        if out.len() > MAX_VALUE_BYTES {
                            return check(out).map(Some);
                        }
                    }
                    None => return Ok(None),
                }
            }
            Some(out)
        }
        Node::Fallback(ops) => {
            let mut last = None;
            for op in ops {
                match eval(op, lookup)? {
                    Some(v) if !v.is_empty() => return Ok(Some(v)),
                    other => last = other,
                }
            }
            last
        }
        Node::Lower(a) => match eval(a, lookup)? {
            Some(v) => Some(check(v.to_lowercase())?),
            None => None,
        },
        Node::Upper(a) => match eval(a, lookup)? {
            Some(v) => Some(check(v.to_uppercase())?),
            None => None,
        },
        Node::Trim(a) => eval(a, lookup)?.map(|v| v.trim().to_owned()),
        Node::Substring(a, start, len) => eval(a, lookup)?.map(|v| {
            let it = v.chars().skip(*start);
            match len {
                Some(n) => it.take(*n).collect(),
                None => it.collect(),
            }
        }),
    })
}
