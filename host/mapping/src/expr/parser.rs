//! The expression parser: recursive descent over the lexer's tokens into a
//! [`Node`] tree, following the grammar in `docs/mapping-expressions.md`:
//!
//! ```text
//! expr      := fallback
//! fallback  := concat ( "??" concat )*
//! concat    := term ( "+" term )*
//! term      := "${" name "}" | string | call | "(" expr ")"
//! call      := ident "(" [ expr ( "," expr )* ] ")"
//! ```
//!
//! `+` binds tighter than `??`. Integer literals exist only as the start and
//! length arguments of `substring`. Nesting (parentheses and calls) is
//! limited to [`MAX_DEPTH`] levels so that no input can exhaust the stack.

use super::ExprError;
use super::lexer::{Tok, Token};

/// Deepest nesting of parentheses and function calls accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// `${name}`
    Ref(String),
    /// A string literal.
    Str(String),
    /// Operands joined by `+` (at least two).
    Concat(Vec<Node>),
    /// Operands joined by `??` (at least two).
    Fallback(Vec<Node>),
    Lower(Box<Node>),
    Upper(Box<Node>),
    Trim(Box<Node>),
    /// `substring(x, start[, length])`
    Substring(Box<Node>, usize, Option<usize>),
}

/// An intermediate result: an integer literal is only legal in the argument
/// list of `substring`, so it never becomes a [`Node`].
enum Parsed {
    Node(Node),
    Int(usize),
}

/// The functions, for "unknown function" messages.
pub const FUNCTIONS: &[&str] = &["lower", "upper", "trim", "substring"];

/// Parse the tokens (ending in [`Tok::Eof`]) into an expression tree.
pub(crate) fn parse(tokens: &[Token]) -> Result<Node, ExprError> {
    let mut p = Parser { tokens, pos: 0 };
    if p.peek().tok == Tok::Eof {
        return Err(ExprError::new(p.peek().col, "the expression is empty"));
    }
    let start = p.peek().col;
    let e = p.expr(0)?;
    let end = p.peek();
    if end.tok != Tok::Eof {
        let hint = match end.tok {
            Tok::RParen => "unmatched ')'".to_owned(),
            _ => format!("expected '+', '??' or the end of the expression, found {}", end.tok.describe()),
        };
        return Err(ExprError::new(end.col, hint));
    }
    into_node(e, start)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof; never step past it.
        let i = self.pos.min(self.tokens.len().saturating_sub(1));
        &self.tokens[i]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn expr(&mut self, depth: usize) -> Result<Parsed, ExprError> {
        if depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.peek().col,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        self.fallback(depth)
    }

    fn fallback(&mut self, depth: usize) -> Result<Parsed, ExprError> {
        let first_col = self.peek().col;
        let first = self.concat(depth)?;
        if self.peek().tok != Tok::Fallback {
            return Ok(first);
        }
        let mut ops = vec![into_node(first, first_col)?];
        while self.peek().tok == Tok::Fallback {
            self.bump();
            let col = self.peek().col;
            let next = self.concat(depth)?;
            ops.push(into_node(next, col)?);
        }
        Ok(Parsed::Node(Node::Fallback(ops)))
    }

    fn concat(&mut self, depth: usize) -> Result<Parsed, ExprError> {
        let first_col = self.peek().col;
        let first = self.term(depth)?;
        if self.peek().tok != Tok::Plus {
            return Ok(first);
        }
        let mut ops = vec![into_node(first, first_col)?];
        while self.peek().tok == Tok::Plus {
            self.bump();
            let col = self.peek().col;
            let next = self.term(depth)?;
            ops.push(into_node(next, col)?);
        }
        Ok(Parsed::Node(Node::Concat(ops)))
    }

    fn term(&mut self, depth: usize) -> Result<Parsed, ExprError> {
        let t = self.bump();
        match t.tok {
            Tok::Ref(name) => Ok(Parsed::Node(Node::Ref(name))),
            Tok::Str(s) => Ok(Parsed::Node(Node::Str(s))),
            Tok::Int(n) => Ok(Parsed::Int(n)),
            Tok::LParen => {
                let inner = self.expr(depth + 1)?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return Err(ExprError::new(
                        close.col,
                        format!("expected ')' to close the '(' at column {}, found {}", t.col, close.tok.describe()),
                    ));
                }
                Ok(inner)
            }
            Tok::Ident(name) => self.call(name, t.col, depth),
            other => Err(ExprError::new(
                t.col,
                format!(
                    "expected an attribute reference, a string, a function call or '(', found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn call(&mut self, name: String, col: usize, depth: usize) -> Result<Parsed, ExprError> {
        if !FUNCTIONS.contains(&name.as_str()) {
            let hint = if FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
                format!(" (function names are lower case: {})", name.to_ascii_lowercase())
            } else {
                String::new()
            };
            return Err(ExprError::new(
                col,
                format!("unknown function '{name}'{hint}; the functions are {}", FUNCTIONS.join(", ")),
            ));
        }
        let open = self.bump();
        if open.tok != Tok::LParen {
            return Err(ExprError::new(
                open.col,
                format!("expected '(' after the function name {name}, found {}", open.tok.describe()),
            ));
        }
        let mut args: Vec<(Parsed, usize)> = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.bump();
        } else {
            loop {
                let acol = self.peek().col;
                args.push((self.expr(depth + 1)?, acol));
                let sep = self.bump();
                match sep.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    other => {
                        return Err(ExprError::new(
                            sep.col,
                            format!("expected ',' or ')' after the arguments of {name}, found {}", other.describe()),
                        ));
                    }
                }
            }
        }
        build_call(&name, col, args).map(Parsed::Node)
    }
}

/// Reject an integer literal where a text value is expected.
fn into_node(p: Parsed, col: usize) -> Result<Node, ExprError> {
    match p {
        Parsed::Node(n) => Ok(n),
        Parsed::Int(_) => Err(ExprError::new(
            col,
            "a number is only allowed as the start or length of substring; quote it to use it as text",
        )),
    }
}

fn build_call(name: &str, col: usize, args: Vec<(Parsed, usize)>) -> Result<Node, ExprError> {
    let count = args.len();
    let mut it = args.into_iter();
    match name {
        "lower" | "upper" | "trim" => {
            if count != 1 {
                return Err(ExprError::new(col, format!("{name} takes 1 argument, found {count}")));
            }
            let (a, acol) = it.next().ok_or_else(|| ExprError::new(col, "missing argument"))?;
            let a = Box::new(into_node(a, acol)?);
            Ok(match name {
                "lower" => Node::Lower(a),
                "upper" => Node::Upper(a),
                _ => Node::Trim(a),
            })
        }
        _ => {
            if !(2..=3).contains(&count) {
                return Err(ExprError::new(
                    col,
                    format!("substring takes 2 or 3 arguments (text, start[, length]), found {count}"),
                ));
            }
            let (text, tcol) = it.next().ok_or_else(|| ExprError::new(col, "missing argument"))?;
            let text = into_node(text, tcol)?;
            let mut ints = it.map(|(p, c)| match p {
                Parsed::Int(n) => Ok(n),
                Parsed::Node(_) => {
                    Err(ExprError::new(c, "the start and length of substring must be non-negative integer literals"))
                }
            });
            let start = ints.next().transpose()?.unwrap_or(0);
            let len = ints.next().transpose()?;
            Ok(Node::Substring(Box::new(text), start, len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::lexer::tokenize;

    fn p(s: &str) -> Node {
        parse(&tokenize(s).unwrap()).unwrap()
    }

    fn err(s: &str) -> ExprError {
        parse(&tokenize(s).unwrap()).unwrap_err()
    }

    fn r(n: &str) -> Node {
        Node::Ref(n.into())
    }

    #[test]
    fn plus_binds_tighter_than_fallback() {
        assert_eq!(
            p("${a} + 'x' ?? ${b} + ${c}"),
            Node::Fallback(
                vec![Node::Concat(vec![r("a"), Node::Str("x".into())]), Node::Concat(vec![r("b"), r("c")]),]
            )
        );
        assert_eq!(
            p("${a} + (${b} ?? 'x')"),
            Node::Concat(vec![r("a"), Node::Fallback(vec![r("b"), Node::Str("x".into())])])
        );
    }

    #[test]
    fn calls() {
        assert_eq!(p("lower(${a})"), Node::Lower(Box::new(r("a"))));
        assert_eq!(p("substring(${a}, 1)"), Node::Substring(Box::new(r("a")), 1, None));
        assert_eq!(
            p("substring(upper(${a}), 0, 3)"),
            Node::Substring(Box::new(Node::Upper(Box::new(r("a")))), 0, Some(3))
        );
        assert_eq!(p("trim((${a}))"), Node::Trim(Box::new(r("a"))));
    }

    #[test]
    fn errors_with_columns() {
        let e = err("substring(${displayName}, 0");
        assert_eq!(e.column, 28);
        assert!(e.message.contains("expected ',' or ')' after the arguments of substring"), "{e}");
        let e = err("${a} + frob(${b})");
        assert_eq!(e.column, 8);
        assert!(e.message.contains("unknown function 'frob'"));
        assert!(err("LOWER(${a})").message.contains("lower case"));
        let e = err("lower(${a}, ${b})");
        assert_eq!((e.column, e.message.as_str()), (1, "lower takes 1 argument, found 2"));
        assert!(err("upper()").message.contains("found 0"));
        assert!(err("substring(${a})").message.contains("2 or 3"));
        assert_eq!(err("substring(${a}, ${b})").column, 17);
        assert_eq!(err("${a} + 1").column, 8);
        assert_eq!(err("substring(1, 2)").column, 11);
        assert_eq!(err("${a} ${b}").column, 6);
        assert_eq!(err("${a})").message, "unmatched ')'");
        assert_eq!(err("(${a}").column, 6);
        assert_eq!(err("${a} +").column, 7);
        assert_eq!(err("?? ${a}").column, 1);
        assert_eq!(err("   ").message, "the expression is empty");
        assert!(err("lower ${a}").message.contains("expected '('"));
        assert_eq!(err("lower(${a},)").column, 12);
    }

    #[test]
    fn depth_is_limited() {
        let deep = format!("{}${{a}}{}", "(".repeat(1000), ")".repeat(1000));
        assert!(err(&deep).message.contains("nested too deeply"));
        let ok = format!("{}${{a}}{}", "lower(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&tokenize(&ok).unwrap()).is_ok());
    }
}
