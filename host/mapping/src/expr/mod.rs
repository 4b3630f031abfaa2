//! The mapping expression language (grammar and examples in
//! `docs/mapping-expressions.md`): attribute references `${attr}`, string
//! literals, concatenation `+`, the fallback operator `??`, and the
//! functions `lower`, `upper`, `trim` and `substring`.
//!
//! [`Expression::parse`] compiles the text once (errors carry a 1-based
//! character column); [`Expression::eval`] runs it against one entry.
//! Neither panics on any input.

mod eval;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

pub use eval::{EvalError, MAX_VALUE_BYTES};
pub use parser::{FUNCTIONS, MAX_DEPTH};

use std::collections::BTreeSet;

/// A syntax error in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// 1-based, in characters from the start of the expression.
    pub column: usize,
    pub message: String,
}

impl ExprError {
    pub(crate) fn new(column: usize, message: impl Into<String>) -> Self {
        ExprError { column, message: message.into() }
    }
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ExprError {}

/// A compiled expression.
#[derive(Clone, PartialEq, Eq)]
pub struct Expression {
    root: parser::Node,
    source: String,
}

impl std::fmt::Debug for Expression {
    /// Only the number of characters: a literal in the expression of a
    /// masked field could be a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expression(<{} chars>)", self.source.chars().count())
    }
}

impl Expression {
    /// Parse `src`.
    pub fn parse(src: &str) -> Result<Self, ExprError> {
        let tokens = lexer::tokenize(src)?;
        let root = parser::parse(&tokens)?;
        Ok(Expression { root, source: src.to_owned() })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluate against one entry: `Ok(None)` when the expression yields
    /// nothing (see the absence rules in the module `eval`).
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Vec<String>>) -> Result<Option<String>, EvalError> {
        eval::eval(&self.root, lookup)
    }

    /// The attribute names referenced with `${...}`, as written.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        collect_refs(&self.root, &mut out);
        out
    }
}

fn collect_refs(node: &parser::Node, out: &mut BTreeSet<String>) {
    use parser::Node::*;
    match node {
        Ref(n) => {
            out.insert(n.clone());
        }
        Str(_) => {}
        Concat(ops) | Fallback(ops) => ops.iter().for_each(|o| collect_refs(o, out)),
        Lower(a) | Upper(a) | Trim(a) | Substring(a, _, _) => collect_refs(a, out),
    }
}
