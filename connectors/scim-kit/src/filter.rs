//! SCIM filters (RFC 7644 §3.4.2.2) and URL encoding.
//!
//! Filter values are JSON string literals: a value is quoted with JSON
//! escaping, so `"` becomes `\"` and `\` becomes `\\` (control characters
//! become `\n`, `\u0001`, …). The *Filter Expression* setting is a template
//! with one `%s`; [`substitute`] puts the escaped value in its place.
//!
//! The filter then travels in the query string, percent-encoded by
//! [`encode_component`] (RFC 3986: everything but unreserved characters is
//! encoded, a space is `%20`). [`encode_form`] is the
//! `application/x-www-form-urlencoded` variant used for OAuth token
//! requests.

/// The JSON string literal of `value`, quotes included: `a"b` → `"a\"b"`.
pub fn quote(value: &str) -> String {
    // serde_json escapes exactly what JSON requires; a str always serializes.
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{}\"", escape(value)))
}

/// The escaped content of `value` without the surrounding quotes:
/// `a"b\c` → `a\"b\\c` (what [`quote`] puts between its quotes).
pub fn escape(value: &str) -> String {
    let quoted = quote(value);
    quoted[1..quoted.len() - 1].to_owned()
}

/// `attribute eq "value"`, the value escaped.
pub fn eq(attribute: &str, value: &str) -> String {
    format!("{attribute} eq {}", quote(value))
}

/// Replace the `%s` placeholder(s) of a Filter Expression with `value`.
///
/// Where the placeholder sits inside a string literal (`userName eq "%s"`,
/// the documented form, or `userName eq "%s@example.org"`) the escaped value
/// goes in; where it stands bare (`userName eq %s`) the whole quoted literal
/// goes in, so the result is a valid filter either way and the value is
/// escaped exactly once.
pub fn substitute(template: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len() + value.len());
    let mut in_string = false;
    let mut chars = template.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '%' if template[i..].starts_with("%s") => {
                chars.next();
                out.push_str(&if in_string { escape(value) } else { quote(value) });
            }
            '\\' if in_string => {
                out.push(c);
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            }
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn percent_encode(value: &str, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' if space_as_plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encode a query-string or path component (RFC 3986 unreserved
/// characters stay, everything else is `%XX`, a space is `%20`).
pub fn encode_component(value: &str) -> String {
    percent_encode(value, false)
}

/// `application/x-www-form-urlencoded` encoding of one name or value (a
/// space is `+`).
pub fn encode_form(value: &str) -> String {
    percent_encode(value, true)
}

/// A query string (`?a=1&b=2`) from name/value pairs; empty when there are
/// none.
pub fn query(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let parts: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_escaped() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("x\ny\u{1}"), "x\\ny\\u0001");
        assert_eq!(eq("userName", r#"bob "the" \builder"#), r#"userName eq "bob \"the\" \\builder""#);
        assert_eq!(eq("userName", "zoë"), "userName eq \"zoë\"");
    }

    #[test]
    fn the_placeholder_gets_the_escaped_value() {
        assert_eq!(substitute(r#"userName eq "%s""#, r#"j"s\"#), r#"userName eq "j\"s\\""#);
        assert_eq!(substitute("emails co %s", "a@b"), r#"emails co "a@b""#);
        assert_eq!(substitute(r#"userName eq "%s" or emails eq "%s""#, "x"), r#"userName eq "x" or emails eq "x""#);
        // Inside a longer string literal: escaped once, not quoted again.
        assert_eq!(substitute(r#"userName eq "%s@example.org""#, r#"a"b"#), r#"userName eq "a\"b@example.org""#);
        assert_eq!(
            substitute(r#"userName sw "x-%s" and title eq "say \"hi\" %s""#, "v"),
            r#"userName sw "x-v" and title eq "say \"hi\" v""#
        );
        assert_eq!(escape("a\"b\\c\n\u{1}"), r#"a\"b\\c\n\u0001"#);
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component(r#"userName eq "a+b@c.d""#), "userName%20eq%20%22a%2Bb%40c.d%22");
        assert_eq!(encode_component("zoë"), "zo%C3%AB");
        assert_eq!(encode_form("a b&c"), "a+b%26c");
        assert_eq!(query(&[("startIndex", "1".into()), ("count", "10".into())]), "?startIndex=1&count=10");
        assert_eq!(query(&[]), "");
    }
}
