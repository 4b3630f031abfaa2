//! The value parsers of a field mapping ("Parsing" in PingFederate):
//! *Extract CN from DN* and *Extract Username from Email*.
//!
//! Both return `None` when the value does not have the expected shape; the
//! caller then keeps the value unchanged (and records a warning without
//! the value).

/// The value of the first RDN of `dn` when its attribute type is `CN`
/// (case-insensitive; the OID `2.5.4.3` also counts), RFC 4514 escapes
/// resolved: `\,` `\+` `\"` `\\` `\;` `\<` `\>` `\=` `\#` `\ ` and hex pairs
/// `\C3\A9` (decoded as UTF-8). A legacy quoted value (`CN="Doe, Jane"`)
/// is unquoted. In a multi-valued first RDN (`uid=x+cn=Jane`) the `CN`
/// part is taken.
///
/// `None` (leave unchanged) when the value is not a DN, the first RDN has
/// no `CN`, the value is hex-encoded BER (`cn=#04...`), an escape is
/// malformed, or hex escapes do not form UTF-8.
pub fn extract_cn_from_dn(dn: &str) -> Option<String> {
    let mut rest = dn.trim_start();
    loop {
        let eq = rest.find('=')?;
        let ty = rest[..eq].trim();
        if ty.is_empty() || ty.contains([',', '+', '\\', '"']) {
            return None;
        }
        let (value, sep, after) = read_value(&rest[eq + 1..])?;
        if ty.eq_ignore_ascii_case("cn") || ty == "2.5.4.3" || ty.eq_ignore_ascii_case("oid.2.5.4.3") {
            return Some(value);
        }
        // The next attribute of the same (multi-valued) RDN, if any.
        if sep != Some('+') {
            return None;
        }
        rest = after;
    }
}

/// Read one attribute value up to an unescaped `,`, `;` or `+` (or the
/// end). Returns the decoded value, the separator met, and the rest.
fn read_value(s: &str) -> Option<(String, Option<char>, &str)> {
    let s = s.trim_start_matches(' ');
    if s.starts_with('#') {
        return None;
    }
    if let Some(q) = s.strip_prefix('"') {
        return read_quoted(q);
    }
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    // Length of `bytes` that must be kept even if it ends in spaces
    // (an escaped trailing space is significant).
    let mut keep = 0usize;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            ',' | ';' | '+' => {
                let v = finish(bytes, keep)?;
                return Some((v, Some(c), &s[i + c.len_utf8()..]));
            }
            '\\' => {
                let (_, e) = it.next()?;
                if e.is_ascii_hexdigit() {
                    let (_, e2) = it.next()?;
                    let hi = e.to_digit(16)?;
                    let lo = e2.to_digit(16)?;
                    bytes.push((hi * 16 + lo) as u8);
                } else if matches!(e, ',' | '+' | '"' | '\\' | ';' | '<' | '>' | '=' | '#' | ' ') {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                } else {
                    return None;
                }
                keep = bytes.len();
            }
            '"' => return None,
            _ => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                if c != ' ' {
                    keep = bytes.len();
                }
            }
        }
    }
    Some((finish(bytes, keep)?, None, ""))
}

/// Drop unescaped trailing spaces and decode UTF-8.
fn finish(mut bytes: Vec<u8>, keep: usize) -> Option<String> {
    bytes.truncate(keep);
    String::from_utf8(bytes).ok()
}

/// A quoted value (RFC 2253 legacy form); `s` starts after the opening quote.
fn read_quoted(s: &str) -> Option<(String, Option<char>, &str)> {
    let mut out = String::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => out.push(it.next()?.1),
            '"' => {
                let after = s[i + 1..].trim_start_matches(' ');
                let mut chars = after.chars();
                return match chars.next() {
                    None => Some((out, None, "")),
                    Some(sep @ (',' | ';' | '+')) => Some((out, Some(sep), chars.as_str())),
                    Some(_) => None,
                };
            }
            _ => out.push(c),
        }
    }
    None
}

/// The part of an e-mail address before the last `@`; `None` when there is
/// no `@`. `"@example.org"` gives `""` (no value).
pub fn extract_username_from_email(email: &str) -> Option<String> {
    email.rfind('@').map(|i| email[..i].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cn(s: &str) -> Option<String> {
        extract_cn_from_dn(s)
    }

    #[test]
    fn cn_from_plain_dns() {
        assert_eq!(cn("CN=Ada Lovelace,OU=People,DC=example,DC=org").as_deref(), Some("Ada Lovelace"));
        assert_eq!(cn("cn=ada,dc=example").as_deref(), Some("ada"));
        assert_eq!(cn("Cn = ada , dc=example").as_deref(), Some("ada"));
        assert_eq!(cn("cn=ada").as_deref(), Some("ada"));
        assert_eq!(cn("2.5.4.3=ada,dc=x").as_deref(), Some("ada"));
        assert_eq!(cn("cn=,dc=x").as_deref(), Some(""));
    }

    #[test]
    fn cn_with_escapes() {
        assert_eq!(cn(r"CN=Doe\, Jane,OU=People,DC=example").as_deref(), Some("Doe, Jane"));
        assert_eq!(cn(r"cn=a\+b\\c\=d\<e\>\;\#\22,dc=x").as_deref(), Some("a+b\\c=d<e>;#\""));
        assert_eq!(cn(r"cn=Ren\C3\A9 Dupont,dc=x").as_deref(), Some("René Dupont"));
        assert_eq!(cn(r"cn=trailing\ ,dc=x").as_deref(), Some("trailing "));
        assert_eq!(cn(r"cn=\ lead,dc=x").as_deref(), Some(" lead"));
        assert_eq!(cn("cn=日本語,dc=x").as_deref(), Some("日本語"));
        assert_eq!(cn(r#"CN="Doe, Jane",DC=x"#).as_deref(), Some("Doe, Jane"));
        assert_eq!(cn(r#"CN="say \"hi\"""#).as_deref(), Some("say \"hi\""));
    }

    #[test]
    fn cn_in_multi_valued_first_rdn() {
        assert_eq!(cn("uid=ada+cn=Ada L,dc=x").as_deref(), Some("Ada L"));
        assert_eq!(cn("cn=Ada+uid=ada,dc=x").as_deref(), Some("Ada"));
        assert_eq!(cn("uid=ada,cn=Ada,dc=x"), None, "only the first RDN counts");
    }

    #[test]
    fn not_a_cn_dn_is_none() {
        for s in [
            "ada@example.org",
            "uid=ada,ou=People",
            "",
            "=x",
            "cn=#0403616461,dc=x",
            r"cn=bad\zz,dc=x",
            r"cn=bad\C3,dc=x",
            r"cn=dangling\",
            r#"cn="unterminated"#,
            r#"cn="x" junk,dc=y"#,
            "cn=a\"b",
        ] {
            assert_eq!(cn(s), None, "{s}");
        }
    }

    #[test]
    fn username_from_email() {
        assert_eq!(extract_username_from_email("ada@example.org").as_deref(), Some("ada"));
        assert_eq!(extract_username_from_email("\"a@b\"@example.org").as_deref(), Some("\"a@b\""));
        assert_eq!(extract_username_from_email("ada").as_deref(), None);
        assert_eq!(extract_username_from_email("@example.org").as_deref(), Some(""));
        assert_eq!(extract_username_from_email("josé@exämple.org").as_deref(), Some("josé"));
    }
}
