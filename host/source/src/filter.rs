//! LDAP search filters (RFC 4515): parsing, evaluation on an [`Entry`], and rendering back.
//!
//! The same filter string scopes a file source and, later, an LDAP search, so a channel moves
//! from a file to LDAP unchanged. Parsing follows RFC 4515 strictly where a server would refuse
//! the filter (parentheses required, values escaped only as `\XX` hex pairs), with two common
//! tolerances: whitespace between the components of `&`, `|`, `!` and around the whole filter,
//! and the empty `(&)` (always true) and `(|)` (always false) of RFC 4526.
//! Extensible matches (`attr:dn:rule:=value`) are refused with a clear error.
//!
//! Evaluation, in the absence of a schema:
//! * attribute names compare case-insensitively;
//! * values compare as LDAP `caseIgnoreMatch`: case-insensitively (Unicode lower case),
//!   ignoring leading and trailing whitespace and treating runs of inner whitespace as one space;
//! * `>=` and `<=` compare numerically when both sides are integers, otherwise
//!   case-insensitively and lexicographically (which orders `generalizedTime` values correctly);
//! * `~=` (approximate) is equality after dropping everything but letters and digits;
//! * an attribute the entry does not have makes every item on it false (so `(!(a=x))` is true
//!   for an entry without `a`); the three-valued "undefined" of RFC 4511 only arises from
//!   unknown attribute types, which a schema-less file cannot tell.

use std::fmt;
use std::str::FromStr;

use crate::entry::Entry;

/// A parsed LDAP filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `(&f1 f2 ...)`; empty is always true.
    And(Vec<Filter>),
    /// `(|f1 f2 ...)`; empty is always false.
    Or(Vec<Filter>),
    /// `(!f)`.
    Not(Box<Filter>),
    /// `(attr=value)`.
    Equal(String, String),
    /// `(attr=initial*any1*any2*final)`.
    Substring {
        /// The attribute.
        attr: String,
        /// Text the value must start with.
        initial: Option<String>,
        /// Texts that must follow, in order, without overlapping.
        any: Vec<String>,
        /// Text the value must end with.
        final_: Option<String>,
    },
    /// `(attr>=value)`.
    GreaterOrEqual(String, String),
    /// `(attr<=value)`.
    LessOrEqual(String, String),
    /// `(attr=*)`.
    Present(String),
    /// `(attr~=value)`.
    Approx(String, String),
}

/// A filter that does not parse; `column` is 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct FilterError {
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut p = Parser { chars: s.chars().collect(), pos: 0 };
        p.skip_ws();
        if p.at_end() {
            return Err(p.error("the filter is empty; write one such as (objectClass=*)"));
        }
        if p.peek() != Some('(') {
            return Err(
                p.error("a filter must be enclosed in parentheses, e.g. (uid=bob) or (&(objectClass=person)(mail=*))")
            );
        }
        let filter = p.filter(0)?;
        p.skip_ws();
        if !p.at_end() {
            return Err(
                p.error("unexpected text after the end of the filter; combine several filters with (&...) or (|...)")
            );
        }
        Ok(filter)
    }
}

/// Deepest nesting accepted, so that a hostile filter cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> FilterError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> FilterError {
        FilterError { column: pos + 1, message: message.into() }
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "the end of the filter".to_string(),
            Some(c) => format!("'{c}'"),
        }
    }

    fn expect_close(&mut self, open: usize) -> Result<(), FilterError> {
        if self.peek() == Some(')') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!(
                "expected ')' to close the '(' at column {}, found {}",
                open + 1,
                self.describe_here()
            )))
        }
    }

    /// `"(" filtercomp ")"`; the caller has checked the '('.
    fn filter(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("filters nested more than {MAX_DEPTH} deep")));
        }
        let open = self.pos;
        self.pos += 1;
        let filter = match self.peek() {
            Some('&') => {
                self.pos += 1;
                Filter::And(self.list(open, depth)?)
            }
            Some('|') => {
                self.pos += 1;
                Filter::Or(self.list(open, depth)?)
            }
            Some('!') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() != Some('(') {
                    return Err(self.error(format!(
                        "expected '(' after '!', found {}; write (!(attr=value))",
                        self.describe_here()
                    )));
                }
                let inner = self.filter(depth + 1)?;
                self.skip_ws();
                Filter::Not(Box::new(inner))
            }
            _ => self.item()?,
        };
        self.expect_close(open)?;
        Ok(filter)
    }

    fn list(&mut self, open: usize, depth: usize) -> Result<Vec<Filter>, FilterError> {
        let mut list = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('(') => list.push(self.filter(depth + 1)?),
                Some(')') => return Ok(list),
                None => {
                    return Err(self.error(format!(
                        "expected ')' to close the '(' at column {}, found the end of the filter",
                        open + 1
                    )));
                }
                Some(c) => {
                    return Err(
                        self.error(format!("expected '(' to start a filter or ')' to close the list, found '{c}'"))
                    );
                }
            }
        }
    }

    /// `attr filtertype value`, the parenthesis already consumed.
    fn item(&mut self) -> Result<Filter, FilterError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ';' || c == '_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let attr: String = self.chars[start..self.pos].iter().collect();
        if attr.is_empty() {
            return Err(
                self.error(format!("expected an attribute name, '&', '|' or '!', found {}", self.describe_here()))
            );
        }
        if !attr.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(self.error_at(start, format!("'{attr}' is not an attribute name")));
        }
        let op_pos = self.pos;
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), _) => {
                self.pos += 1;
                "="
            }
            (Some('>'), Some('=')) => {
                self.pos += 2;
                ">="
            }
            (Some('<'), Some('=')) => {
                self.pos += 2;
                "<="
            }
            (Some('~'), Some('=')) => {
                self.pos += 2;
                "~="
            }
            (Some(':'), _) => {
                return Err(self.error(
                    "extensible match filters (attr:dn:rule:=value) are not supported; use =, >=, <=, ~= or =*",
                ));
            }
            (Some('>'), _) | (Some('<'), _) => {
                return Err(self.error(format!(
                    "'{}' is not a filter operator; LDAP has '>=' and '<=' only (use (!(attr<=value)) for '>')",
                    self.chars[op_pos]
                )));
            }
            _ => {
                return Err(self.error(format!(
                    "expected '=', '>=', '<=' or '~=' after the attribute name '{attr}', found {}",
                    self.describe_here()
                )));
            }
        };
        let value_start = self.pos;
        let parts = self.value()?;
        if op != "=" {
            if parts.len() > 1 {
                let star = self.chars[value_start..self.pos].iter().position(|&c| c == '*').unwrap_or(0);
                return Err(self.error_at(
                    value_start + star,
                    format!("'*' is only allowed in an equality filter, not with '{op}'; write \\2a for a literal '*'"),
                ));
            }
            let value = parts.into_iter().next().unwrap_or_default();
            return Ok(match op {
                ">=" => Filter::GreaterOrEqual(attr, value),
                "<=" => Filter::LessOrEqual(attr, value),
                _ => Filter::Approx(attr, value),
            });
        }
        match parts.len() {
            1 => Ok(Filter::Equal(attr, parts.into_iter().next().unwrap_or_default())),
            2 if parts[0].is_empty() && parts[1].is_empty() => Ok(Filter::Present(attr)),
            _ => {
                let last = parts.len() - 1;
                // RFC 4515: every part between two '*' has at least one character; a server
                // refuses `**`, and it would print back as another filter.
                if parts[1..last].iter().any(String::is_empty) {
                    let raw = &self.chars[value_start..self.pos];
                    let at = raw.windows(2).position(|w| w == ['*', '*']).map_or(0, |i| i + 1);
                    return Err(self.error_at(
                        value_start + at,
                        "'**' is not allowed in a substring filter; use one '*' (write \\2a for a literal '*')",
                    ));
                }
                let mut initial = None;
                let mut final_ = None;
                let mut any = Vec::new();
                for (i, part) in parts.into_iter().enumerate() {
                    if part.is_empty() {
                        continue;
                    }
                    if i == 0 {
                        initial = Some(part);
                    } else if i == last {
                        final_ = Some(part);
                    } else {
                        any.push(part);
                    }
                }
                Ok(Filter::Substring { attr, initial, any, final_ })
            }
        }
    }

    /// An assertion value up to the closing ')', split at unescaped '*'.
    fn value(&mut self) -> Result<Vec<String>, FilterError> {
        let mut parts = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        let mut part_start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(self.error("expected ')' after the value, found the end of the filter"));
                }
                Some(')') => break,
                Some('(') => {
                    return Err(self.error("'(' in a value must be escaped as \\28"));
                }
                Some('\0') => return Err(self.error("a NUL in a value must be escaped as \\00")),
                Some('*') => {
                    parts.push(self.utf8(bytes, part_start)?);
                    bytes = Vec::new();
                    self.pos += 1;
                    part_start = self.pos;
                }
                Some('\\') => {
                    let hex = (self.peek_at(1), self.peek_at(2));
                    match hex {
                        (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
                            let byte = (a.to_digit(16).unwrap_or(0) * 16 + b.to_digit(16).unwrap_or(0)) as u8;
                            bytes.push(byte);
                            self.pos += 3;
                        }
                        (Some(c), _) if "*()\\".contains(c) => {
                            return Err(
                                self.error(format!("'\\{c}' is not an LDAP filter escape; write \\{:02x}", c as u32))
                            );
                        }
                        _ => {
                            return Err(self.error(
                                "'\\' must be followed by two hex digits (\\2a '*', \\28 '(', \\29 ')', \\5c '\\', \\00 NUL)",
                            ));
                        }
                    }
                }
                Some(c) => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    self.pos += 1;
                }
            }
        }
        parts.push(self.utf8(bytes, part_start)?);
        Ok(parts)
    }

    fn utf8(&self, bytes: Vec<u8>, start: usize) -> Result<String, FilterError> {
        String::from_utf8(bytes).map_err(|_| self.error_at(start, "the escaped bytes of this value are not UTF-8 text"))
    }
}

/// LDAP `caseIgnoreMatch` normal form: trimmed, inner whitespace runs collapsed to one space,
/// lower case.
pub fn case_ignore(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    if value.is_ascii() {
        for word in value.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out.make_ascii_lowercase();
        return out;
    }
    for word in value.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Whether two values are equal under `caseIgnoreMatch` ([`case_ignore`] of
/// each), without building either normal form.
pub fn case_ignore_eq(a: &str, b: &str) -> bool {
    fn normal(value: &str) -> impl Iterator<Item = char> + '_ {
        value
            .split_whitespace()
            .enumerate()
            .flat_map(|(i, word)| (i > 0).then_some(' ').into_iter().chain(word.chars().flat_map(char::to_lowercase)))
    }
    if a.is_ascii() && b.is_ascii() {
        let mut a = a.split_whitespace();
        let mut b = b.split_whitespace();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
    normal(a).eq(normal(b))
}

fn approx(value: &str) -> String {
    value.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn ordering(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<i128>(), b.trim().parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => case_ignore(a).cmp(&case_ignore(b)),
    }
}

fn substring_match(value: &str, initial: Option<&str>, any: &[String], final_: Option<&str>) -> bool {
    let value = case_ignore(value);
    let mut rest: &str = &value;
    if let Some(initial) = initial {
        let initial = case_ignore(initial);
        match rest.strip_prefix(initial.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    let final_ = final_.map(case_ignore);
    if let Some(f) = &final_ {
        match rest.strip_suffix(f.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    for part in any {
        let part = case_ignore(part);
        match rest.find(part.as_str()) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

impl Filter {
    /// Whether the entry matches (see the module documentation for the matching rules).
    pub fn matches(&self, entry: &Entry) -> bool {
        let values = |attr: &str| entry.get(attr).unwrap_or(&[]);
        match self {
            Filter::And(list) => list.iter().all(|f| f.matches(entry)),
            Filter::Or(list) => list.iter().any(|f| f.matches(entry)),
            Filter::Not(inner) => !inner.matches(entry),
            Filter::Equal(attr, value) => values(attr).iter().any(|v| case_ignore_eq(v, value)),
            Filter::Approx(attr, value) => {
                let want = approx(value);
                values(attr).iter().any(|v| approx(v) == want)
            }
            Filter::GreaterOrEqual(attr, value) => {
                values(attr).iter().any(|v| ordering(v, value) != std::cmp::Ordering::Less)
            }
            Filter::LessOrEqual(attr, value) => {
                values(attr).iter().any(|v| ordering(v, value) != std::cmp::Ordering::Greater)
            }
            Filter::Present(attr) => !values(attr).is_empty(),
            Filter::Substring { attr, initial, any, final_ } => {
                values(attr).iter().any(|v| substring_match(v, initial.as_deref(), any, final_.as_deref()))
            }
        }
    }

    /// `(&(objectClass=<class>)<self>)`, or just the object class test when `filter` is `None`.
    pub fn with_object_class(class: &str, filter: Option<Filter>) -> Filter {
        let class = Filter::Equal("objectClass".to_string(), class.to_string());
        match filter {
            None => class,
            Some(f) => Filter::And(vec![class, f]),
        }
    }

    /// The attribute names the filter tests, lower-cased, sorted and without duplicates
    /// (what an LDAP search must at least fetch to evaluate it locally).
    pub fn attributes(&self) -> Vec<String> {
        fn walk(f: &Filter, out: &mut Vec<String>) {
            match f {
                Filter::And(l) | Filter::Or(l) => l.iter().for_each(|f| walk(f, out)),
                Filter::Not(f) => walk(f, out),
                Filter::Equal(a, _)
                | Filter::GreaterOrEqual(a, _)
                | Filter::LessOrEqual(a, _)
                | Filter::Approx(a, _)
                | Filter::Present(a)
                | Filter::Substring { attr: a, .. } => out.push(a.to_ascii_lowercase()),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out.sort();
        out.dedup();
        out
    }
}

/// Escape a value for a filter string: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`,
/// `\5c`, `\00`; everything else (including non-ASCII UTF-8) is written as is.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(list) | Filter::Or(list) => {
                f.write_str(if matches!(self, Filter::And(_)) { "(&" } else { "(|" })?;
                for item in list {
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Filter::Not(inner) => write!(f, "(!{inner})"),
            Filter::Equal(a, v) => write!(f, "({a}={})", escape_value(v)),
            Filter::GreaterOrEqual(a, v) => write!(f, "({a}>={})", escape_value(v)),
            Filter::LessOrEqual(a, v) => write!(f, "({a}<={})", escape_value(v)),
            Filter::Approx(a, v) => write!(f, "({a}~={})", escape_value(v)),
            Filter::Present(a) => write!(f, "({a}=*)"),
            Filter::Substring { attr, initial, any, final_ } => {
                write!(f, "({attr}=")?;
                if let Some(i) = initial {
                    f.write_str(&escape_value(i))?;
                }
                f.write_str("*")?;
                for part in any {
                    write!(f, "{}*", escape_value(part))?;
                }
                if let Some(fin) = final_ {
                    f.write_str(&escape_value(fin))?;
                }
                f.write_str(")")
            }
        }
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
