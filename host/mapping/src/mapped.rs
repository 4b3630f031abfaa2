//! The result of mapping one source entry ([`Mapped`]), its redacted form
//! for logs and plans, and its update hash for the state store.
//!
//! The update hash is HMAC-SHA256, keyed by the caller's secret, over a
//! canonical, length-prefixed encoding of what an update would push:
//! every value except create-only fields, plus a marker per field to be
//! cleared. Because the whole digest is keyed, a stored hash cannot be
//! used to test guesses of a masked value (a password) without the key.
//! Changing the key changes every hash (one round of updates).
//!
//! Encoding (v1): the bytes `provisio-mapping/update-hash/v1\0`, then a
//! sequence of parts, each written as its length (u64, big-endian) and its
//! bytes. Per field with a value, in field-name order: `V`, the name, then
//! `S` and the value, or `M`, the count (8 bytes big-endian, itself a
//! part) and each value. Then per field to clear, in name order: `C`, the
//! name. The result is the MAC in lower-case hex.

use std::collections::{BTreeMap, BTreeSet};

use hmac::{Hmac, Mac};
use provisio_core::ops::AttributeValue;
use sha2::Sha256;

/// What masked values are replaced with.
pub const REDACTED: &str = "******";

/// Domain separator and version of the hash encoding.
const HASH_DOMAIN: &[u8] = b"provisio-mapping/update-hash/v1\0";

/// One mapped entry.
///
/// `Debug` shows field names and value counts only, never values: a
/// `Mapped` does not know which fields are masked.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Mapped {
    /// Fields with a value (create-only ones included; the engine drops
    /// them on update).
    pub values: BTreeMap<String, AttributeValue>,
    /// Fields that produced no value, in configuration order.
    pub empty: Vec<String>,
    /// The subset of `empty` whose mapping has `clear_when_empty`.
    pub clear: Vec<String>,
    /// Run-time problems (expression failure, unparsable value). Name the
    /// field, never a value.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shapes: BTreeMap<&str, String> = self
            .values
            .iter()
            .map(|(k, v)| {
                let shape = match v {
                    AttributeValue::Single(_) => "<1 value>".to_owned(),
                    AttributeValue::Multi(vs) => format!("<{} values>", vs.len()),
                };
                (k.as_str(), shape)
            })
            .collect();
        f.debug_struct("Mapped")
            .field("values", &shapes)
            .field("empty", &self.empty)
            .field("clear", &self.clear)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl Mapped {
    /// A stable hash (64 lower-case hex digits) of what would be pushed on
    /// update: values of every field not in `create_only`, and the fields
    /// to clear. Keyed with `key` (HMAC-SHA256), so masked values enter it
    /// only through a keyed digest. Same values and key → same hash.
    pub fn update_hash(&self, create_only: &BTreeSet<String>, key: &[u8]) -> String {
        // An HMAC accepts keys of any length; `new_from_slice` cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(HASH_DOMAIN);
        let mut put = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        for (field, value) in self.values.iter().filter(|(f, _)| !create_only.contains(*f)) {
            put(b"V");
            put(field.as_bytes());
            match value {
                AttributeValue::Single(s) => {
                    put(b"S");
                    put(s.as_bytes());
                }
                AttributeValue::Multi(vs) => {
                    put(b"M");
                    put(&(vs.len() as u64).to_be_bytes());
                    for v in vs {
                        put(v.as_bytes());
                    }
                }
            }
        }
        let clear: BTreeSet<&String> = self.clear.iter().filter(|f| !create_only.contains(*f)).collect();
        for field in clear {
            put(b"C");
            put(field.as_bytes());
        }
        hex(&mac.finalize().into_bytes())
    }

    /// The values with those of `masked` fields replaced by `******` (a
    /// list becomes a one-entry list, so its length is not revealed either).
    pub fn redacted(&self, masked: &BTreeSet<String>) -> BTreeMap<String, AttributeValue> {
        self.values
            .iter()
            .map(|(k, v)| {
                let v = if !masked.contains(k) {
                    v.clone()
                } else {
                    match v {
                        AttributeValue::Single(_) => AttributeValue::Single(REDACTED.to_owned()),
                        AttributeValue::Multi(_) => AttributeValue::Multi(vec![REDACTED.to_owned()]),
                    }
                };
                (k.clone(), v)
            })
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
