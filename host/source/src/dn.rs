//! Distinguished names (RFC 4514), parsed just enough to compare them.
//!
//! Two DNs are equal when their RDNs are equal pairwise, comparing attribute types
//! case-insensitively and values as `caseIgnoreMatch` (case-insensitive, surrounding whitespace
//! dropped, inner whitespace runs as one space), after undoing escapes (`\,`, `\2C`, quoted
//! values). So `CN=Bob Smith , OU=People,dc=Example,DC=com` equals
//! `cn=bob smith,ou=people,dc=example,dc=com`. Multi-valued RDNs (`cn=a+sn=b`) compare as sets.

use std::fmt;

use crate::filter::case_ignore;

/// A parsed DN: RDNs from the leaf to the root. Equality and hashing use the normalised RDNs
/// only.
#[derive(Debug, Clone)]
pub struct Dn {
    /// Each RDN as its normalised, sorted `type=value` pairs.
    rdns: Vec<Vec<(String, String)>>,
    /// The first RDN's first value as written (unescaped), for display names.
    leaf_value: String,
}

/// Why a DN does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{dn}' is not a distinguished name: {problem} (expected attr=value,attr=value..., e.g. uid=bob,ou=people,dc=example,dc=com)"
)]
pub struct DnError {
    /// The DN as given.
    pub dn: String,
    /// What is wrong.
    pub problem: String,
}

impl Dn {
    /// Parse a DN. The empty DN (the root) parses to no RDNs.
    pub fn parse(dn: &str) -> Result<Dn, DnError> {
        let err = |problem: &str| DnError { dn: dn.to_string(), problem: problem.to_string() };
        let chars: Vec<char> = dn.chars().collect();
        let mut rdns = Vec::new();
        let mut leaf_value = None;
        let mut rdn: Vec<(String, String)> = Vec::new();
        let mut i = 0;
        if dn.trim().is_empty() {
            return Ok(Dn { rdns, leaf_value: String::new() });
        }
        loop {
            // attribute type
            let start = i;
            while i < chars.len() && chars[i] != '=' && chars[i] != ',' && chars[i] != '+' {
                i += 1;
            }
            if i >= chars.len() || chars[i] != '=' {
                return Err(err("a component has no '='"));
            }
            let attr: String = chars[start..i].iter().collect::<String>().trim().to_ascii_lowercase();
            if attr.is_empty() || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                return Err(err("an attribute type is empty or not a name"));
            }
            i += 1;
            // value
            let mut bytes: Vec<u8> = Vec::new();
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '"' {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err("a quoted value is not closed")),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if i + 1 < chars.len() => {
                            push_char(&mut bytes, chars[i + 1]);
                            i += 2;
                        }
                        Some(&c) => {
                            push_char(&mut bytes, c);
                            i += 1;
                        }
                    }
                }
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
            } else {
                while i < chars.len() && chars[i] != ',' && chars[i] != '+' && chars[i] != ';' {
                    if chars[i] == '\\' {
                        match (chars.get(i + 1), chars.get(i + 2)) {
                            (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
                                let hi = a.to_digit(16).unwrap_or(0);
                                let lo = b.to_digit(16).unwrap_or(0);
                                bytes.push((hi * 16 + lo) as u8);
                                i += 3;
                            }
                            (Some(&c), _) => {
                                push_char(&mut bytes, c);
                                i += 2;
                            }
                            (None, _) => return Err(err("it ends with a lone '\\'")),
                        }
                    } else {
                        push_char(&mut bytes, chars[i]);
                        i += 1;
                    }
                }
            }
            let value = String::from_utf8(bytes).map_err(|_| err("an escaped value is not UTF-8"))?;
            if leaf_value.is_none() {
                leaf_value = Some(value.trim().to_string());
            }
            rdn.push((attr, case_ignore(&value)));
            match chars.get(i) {
                None => {
                    rdn.sort();
                    rdns.push(std::mem::take(&mut rdn));
                    break;
                }
                Some('+') => i += 1,
                Some(_) => {
                    // ',' or the legacy ';'
                    rdn.sort();
                    rdns.push(std::mem::take(&mut rdn));
                    i += 1;
                }
            }
        }
        Ok(Dn { rdns, leaf_value: leaf_value.unwrap_or_default() })
    }

    /// Whether this DN is `base` or below it.
    pub fn is_within(&self, base: &Dn) -> bool {
        self.rdns.len() >= base.rdns.len() && self.rdns[self.rdns.len() - base.rdns.len()..] == base.rdns[..]
    }

    /// The first RDN's (first) value as written, e.g. `Bob Smith` for `cn=Bob Smith,ou=people`.
    pub fn leaf_value(&self) -> &str {
        &self.leaf_value
    }

    /// Number of RDNs.
    pub fn len(&self) -> usize {
        self.rdns.len()
    }

    /// Whether this is the empty (root) DN.
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Self) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for Dn {}

impl std::hash::Hash for Dn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.rdns.hash(state);
    }
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// The normalised form: lower case, escaped where needed; equal DNs give equal strings.
impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, (attr, value)) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{attr}=")?;
                for c in value.chars() {
                    if ",+\"\\<>;=#".contains(c) {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
            }
        }
        Ok(())
    }
}

/// Normalise a DN for comparison (see the module documentation); `None` when it does not parse.
pub fn normalize(dn: &str) -> Option<String> {
    Dn::parse(dn).ok().map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(dn: &str) -> String {
        normalize(dn).unwrap()
    }

    #[test]
    fn case_and_whitespace_do_not_matter() {
        assert_eq!(n("CN=Bob  Smith , OU=People,dc=Example, DC=com"), n("cn=bob smith,ou=people,dc=example,dc=com"));
        assert_eq!(n("cn=bob smith,ou=people,dc=example,dc=com"), "cn=bob smith,ou=people,dc=example,dc=com");
        assert_ne!(n("cn=bob,dc=example"), n("cn=bobby,dc=example"));
    }

    #[test]
    fn escapes_and_quotes() {
        assert_eq!(n(r"cn=Smith\, John,dc=x"), n(r"cn=smith\2c john,dc=x"));
        assert_eq!(n(r#"cn="Smith, John",dc=x"#), n(r"cn=Smith\, John,dc=x"));
        assert_eq!(Dn::parse(r"cn=Smith\, John,dc=x").unwrap().len(), 2);
        assert_eq!(Dn::parse(r"cn=Zo\c3\ab,dc=x").unwrap().leaf_value(), "Zoë");
        assert_eq!(n("cn=a+sn=b,dc=x"), n("SN=B + CN=A,dc=x"));
    }

    #[test]
    fn within() {
        let base = Dn::parse("ou=People, dc=Example,dc=com").unwrap();
        assert!(Dn::parse("uid=a,ou=people,dc=example,dc=com").unwrap().is_within(&base));
        assert!(Dn::parse("OU=people,dc=example,dc=com").unwrap().is_within(&base));
        assert!(!Dn::parse("uid=a,ou=groups,dc=example,dc=com").unwrap().is_within(&base));
        assert!(!Dn::parse("dc=example,dc=com").unwrap().is_within(&base));
        // A comma inside a value is not an RDN boundary.
        assert!(
            !Dn::parse(r"cn=x\,ou=People,dc=example,dc=com")
                .unwrap()
                .is_within(&Dn::parse("ou=People,dc=example,dc=com").unwrap())
        );
        assert!(!Dn::parse(r"cn=x\,ou=People").unwrap().is_within(&Dn::parse("ou=People").unwrap()));
        assert!(Dn::parse("uid=a,dc=x").unwrap().is_within(&Dn::parse("").unwrap()));
    }

    #[test]
    fn malformed() {
        assert!(Dn::parse("bob").is_err());
        assert!(Dn::parse("=bob,dc=x").is_err());
        assert!(Dn::parse("cn=a,").is_err());
        assert!(Dn::parse(r#"cn="open,dc=x"#).is_err());
        let e = Dn::parse("bob").unwrap_err().to_string();
        assert!(e.contains("'bob' is not a distinguished name"), "{e}");
    }
}
