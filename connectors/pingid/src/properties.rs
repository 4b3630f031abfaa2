//! Reading `pingid.properties`, the file PingOne for Enterprise hands out for
//! the PingID API (spec b.5.3).
//!
//! The host reads the uploaded file and passes its text in the
//! `pingid_properties` setting; [`PingIdProperties::parse`] parses it as a
//! Java `.properties` file (comments, `key=value`, `key: value`, line
//! continuations, backslash escapes such as `\=` in the Base64 key) and checks
//! that the keys provisioning needs are there. The HMAC key is a secret: the
//! `Debug` output never shows it.

use std::collections::BTreeMap;
use std::fmt;

/// The keys provisioning needs.
pub const REQUIRED_KEYS: [&str; 4] = ["use_base64_key", "token", "idp_url", "org_alias"];

/// The parsed properties of one PingID organization.
#[derive(Clone, PartialEq, Eq)]
pub struct PingIdProperties {
    /// Base64 HMAC key that signs every request (still encoded).
    pub use_base64_key: String,
    /// Client id of the API caller; also the `secretKey` of each request header.
    pub token: String,
    /// API base, e.g. `https://idpxnyl3m.pingidentity.com/pingid`, without a trailing slash.
    pub idp_url: String,
    pub org_alias: String,
    /// `use_signature` as written, if present.
    pub use_signature: Option<String>,
}

impl fmt::Debug for PingIdProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PingIdProperties")
            .field("use_base64_key", &"<redacted>")
            .field("token", &"<redacted>")
            .field("idp_url", &self.idp_url)
            .field("org_alias", &self.org_alias)
            .field("use_signature", &self.use_signature)
            .finish()
    }
}

impl PingIdProperties {
    /// Parse the file's text. The error names every missing key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let map = parse_properties(text);
        let missing: Vec<_> =
            REQUIRED_KEYS.iter().filter(|k| map.get(**k).is_none_or(|v| v.trim().is_empty())).copied().collect();
        if !missing.is_empty() {
            return Err(format!(
                "the pingid.properties file lacks {}; download it again from PingOne for Enterprise \
                 (Setup > PingID > Client Integration > Integrate with PingFederate)",
                missing.join(", ")
            ));
        }
        let get = |k: &str| map[k].trim().to_owned();
        let idp_url = get("idp_url").trim_end_matches('/').to_owned();
        if !(idp_url.starts_with("https://") || idp_url.starts_with("http://")) {
            return Err(format!("idp_url in pingid.properties is '{idp_url}', which is not an http or https URL"));
        }
        Ok(PingIdProperties {
            use_base64_key: get("use_base64_key"),
            token: get("token"),
            idp_url,
            org_alias: get("org_alias"),
            use_signature: map.get("use_signature").map(|v| v.trim().to_owned()),
        })
    }
}

/// Parse Java `.properties` text into key/value pairs (the last one wins).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // Join continuation lines: an odd number of trailing backslashes.
        let mut logical = String::from(trimmed);
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(key), unescape(value));
    }
    out
}

fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Split at the first unescaped `=`, `:` or whitespace, then skip the
/// separator and the whitespace around it.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(bytes.len());
    let mut rest = line[key_end..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\x0c']);
    }
    (&line[..key_end], rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => out.push(ch),
                    _ => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#Auto-Generated from PingOne\n\
        #Mon Mar 05 10:00:00 UTC 2018\n\
        use_base64_key=Ab3dEfGh\\=\\=\n\
        use_signature=true\n\
        token=4f6b2c0c12345\n\
        idp_url=https\\://idpxnyl3m.pingidentity.com/pingid\n\
        org_alias = 5e9a1c2d-0000-1111-2222-333344445555\n\
        admin_url : https\\://admin.pingone.com/pingid\n\
        authenticator_url=https\\://authenticator.pingone.com/pingid/ppm\n";

    #[test]
    fn parses_the_downloaded_file() {
        let p = PingIdProperties::parse(SAMPLE).unwrap();
        assert_eq!(p.use_base64_key, "Ab3dEfGh==");
        assert_eq!(p.token, "4f6b2c0c12345");
        assert_eq!(p.idp_url, "https://idpxnyl3m.pingidentity.com/pingid");
        assert_eq!(p.org_alias, "5e9a1c2d-0000-1111-2222-333344445555");
        assert_eq!(p.use_signature.as_deref(), Some("true"));
    }

    #[test]
    fn java_properties_rules() {
        let m = parse_properties("! comment\n  a\\ b = one \\\n    two\nc:3\nd 4\ne\nf=\\u0041\\t\n");
        assert_eq!(m["a b"], "one two");
        assert_eq!(m["c"], "3");
        assert_eq!(m["d"], "4");
        assert_eq!(m["e"], "");
        assert_eq!(m["f"], "A\t");
    }

    #[test]
    fn names_every_missing_key() {
        let err = PingIdProperties::parse("token=x\nidp_url=https://h/pingid\n").unwrap_err();
        assert!(err.contains("use_base64_key") && err.contains("org_alias"), "{err}");
        assert!(!err.contains("token,"), "{err}");
    }

    #[test]
    fn debug_hides_the_key() {
        let p = PingIdProperties::parse(SAMPLE).unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("Ab3dEfGh") && !shown.contains("4f6b2c0c12345"), "{shown}");
    }
}
