//! The SCIM filter subset the sandbox understands (RFC 7644 §3.4.2.2).
//!
//! Supported: `attr eq "value"` clauses joined by `and` (keywords case-insensitive), where
//! `attr` is, for Users, `userName`, `externalId`, `displayName`, `emails` / `emails.value`
//! or `id`; for Groups `displayName`, `externalId`, `id` or `members` / `members.value`.
//! Attribute names are case-insensitive and may carry the core schema URN prefix.
//! Every supported attribute is indexed by the store, so a filtered query never scans all
//! resources. Anything else (`or`, `not`, `pr`, `co`, `sw`, value paths, non-string
//! values, other attributes) is a 400 `invalidFilter`.

use crate::error::ScimError;
use crate::store::Kind;

/// An attribute a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    /// `id` (case-exact).
    Id,
    /// `userName` (Users; case-insensitive).
    UserName,
    /// `externalId` (case-exact, RFC 7643 §3.1).
    ExternalId,
    /// `displayName` (case-insensitive).
    DisplayName,
    /// `emails` or `emails.value` (Users; case-insensitive).
    Email,
    /// `members` or `members.value` (Groups; case-exact member id).
    Member,
}

impl Attr {
    /// Whether values of this attribute compare case-insensitively.
    pub fn case_insensitive(self) -> bool {
        matches!(self, Attr::UserName | Attr::DisplayName | Attr::Email)
    }
}

/// One `attr eq "value"` clause; `value` is already lowercased for case-insensitive attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The attribute.
    pub attr: Attr,
    /// The value to compare with, normalised.
    pub value: String,
}

/// A conjunction of clauses: a resource matches when every clause matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The clauses, at least one.
    pub clauses: Vec<Clause>,
}

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";

/// Parses `text` as a filter on resources of `kind`.
pub fn parse(text: &str, kind: Kind) -> Result<Filter, ScimError> {
    let mut lexer = Lexer { s: text, pos: 0 };
    let mut clauses = Vec::new();
    loop {
        let attr_text = lexer.word().ok_or_else(|| unsupported(text, "expected an attribute"))?;
        let attr = resolve_attr(attr_text, kind)
            .ok_or_else(|| unsupported(text, &format!("attribute {attr_text:?} cannot be filtered on")))?;
        let op = lexer.word().ok_or_else(|| unsupported(text, "expected an operator"))?;
        if !op.eq_ignore_ascii_case("eq") {
            return Err(unsupported(text, &format!("operator {op:?} is not supported (only eq)")));
        }
        let value = lexer.string().map_err(|why| unsupported(text, why))?;
        let value = if attr.case_insensitive() { value.to_lowercase() } else { value };
        clauses.push(Clause { attr, value });
        match lexer.word() {
            None => break,
            Some(w) if w.eq_ignore_ascii_case("and") => continue,
            Some(w) => {
                return Err(unsupported(text, &format!("{w:?} is not supported (only and)")));
            }
        }
    }
    Ok(Filter { clauses })
}

/// Parses the `sub eq "value"` inside a PATCH value path (`members[value eq "x"]`).
pub(crate) fn simple_eq(text: &str) -> Option<(String, String)> {
    let mut lexer = Lexer { s: text, pos: 0 };
    let attr = lexer.word()?;
    if !lexer.word()?.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value = lexer.string().ok()?;
    lexer.skip_ws();
    (lexer.pos == text.len()).then(|| (attr.to_owned(), value))
}

fn unsupported(text: &str, why: &str) -> ScimError {
    ScimError::invalid_filter(format!(
        "unsupported filter {text:?}: {why}; the sandbox supports `attr eq \"value\"` joined by `and`"
    ))
}

fn resolve_attr(name: &str, kind: Kind) -> Option<Attr> {
    let lower = name.to_ascii_lowercase();
    let urn = match kind {
        Kind::User => USER_URN,
        Kind::Group => GROUP_URN,
    };
    let short = lower.strip_prefix(urn).unwrap_or(&lower);
    match (kind, short) {
        (_, "id") => Some(Attr::Id),
        (_, "externalid") => Some(Attr::ExternalId),
        (_, "displayname") => Some(Attr::DisplayName),
        (Kind::User, "username") => Some(Attr::UserName),
        (Kind::User, "emails" | "emails.value") => Some(Attr::Email),
        (Kind::Group, "members" | "members.value") => Some(Attr::Member),
        _ => None,
    }
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next run of non-blank characters that is not a string literal.
    fn word(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        if rest.is_empty() || rest.starts_with('"') {
            return None;
        }
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        self.pos += end;
        Some(&rest[..end])
    }

    /// A JSON string literal.
    fn string(&mut self) -> Result<String, &'static str> {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        if !rest.starts_with('"') {
            return Err("expected a quoted string value");
        }
        let bytes = rest.as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    let literal = &rest[..=i];
                    self.pos += i + 1;
                    return serde_json::from_str(literal).map_err(|_| "malformed string value");
                }
                _ => i += 1,
            }
        }
        Err("unterminated string value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_eq_and() {
        let f = parse(r#"userName eq "Alice" AND externalId Eq "X-1""#, Kind::User).unwrap();
        assert_eq!(
            f.clauses,
            vec![
                Clause { attr: Attr::UserName, value: "alice".into() },
                Clause { attr: Attr::ExternalId, value: "X-1".into() },
            ]
        );
        let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a\"b""#, Kind::User).unwrap();
        assert_eq!(f.clauses[0].value, "a\"b");
        assert_eq!(parse(r#"emails.value eq "A@B.c""#, Kind::User).unwrap().clauses[0].value, "a@b.c");
        assert_eq!(parse(r#"members eq "x""#, Kind::Group).unwrap().clauses[0].attr, Attr::Member);
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            r#"userName co "a""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"title eq "x""#,
            r#"active eq true"#,
            r#"userName eq "a"#,
            r#"emails[type eq "work"]"#,
            "",
            r#"userName eq "a" and"#,
        ] {
            let e = parse(bad, Kind::User).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{bad}");
        }
        assert!(parse(r#"userName eq "a""#, Kind::Group).is_err());
    }
}
