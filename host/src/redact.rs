//! Keeping secrets out of everything provisio writes.
//!
//! A [`Redactor`] knows every secret value of the running configuration
//! (resolved setting secrets, masked attribute values) and replaces each one,
//! in plain text and in the encodings a secret is commonly found in (base64,
//! URL-encoding, JSON escaping), with `******`. Every log line that carries
//! connector or target text, and every error shown to a person, goes through
//! it.

use base64::Engine as _;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

/// What replaces a secret.
pub const MASK: &str = "******";

/// A shared, growable set of secret values.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Arc<RwLock<BTreeSet<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(..)")
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a secret. Values shorter than 4 characters are ignored: they
    /// would mask ordinary words and give nothing away.
    pub fn add(&self, secret: &str) {
        if secret.chars().count() < 4 {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        let b64 = base64::engine::general_purpose::STANDARD;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        forms.push(b64.encode(secret));
        forms.push(b64url.encode(secret));
        forms.push(urlencoding::encode(secret).into_owned());
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json.trim_matches('"').to_owned());
        }
        let mut needles = self.needles.write().expect("redactor lock");
        for form in forms {
            if form.len() >= 4 {
                needles.insert(form);
            }
        }
    }

    /// `text` with every known secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let needles = self.needles.read().expect("redactor lock");
        let mut out = text.to_owned();
        // Longest first, so a secret containing another is masked whole.
        let mut sorted: Vec<&String> = needles.iter().collect();
        sorted.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for needle in sorted {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_encoded_forms() {
        let r = Redactor::new();
        r.add("s3cr3t/pa ss\"word");
        for text in [
            "token s3cr3t/pa ss\"word here".to_owned(),
            format!("b64 {}", base64::engine::general_purpose::STANDARD.encode("s3cr3t/pa ss\"word")),
            format!("url {}", urlencoding::encode("s3cr3t/pa ss\"word")),
            format!("json {}", serde_json::to_string("s3cr3t/pa ss\"word").unwrap()),
        ] {
            let out = r.redact(&text);
            assert!(out.contains(MASK), "{text} -> {out}");
            assert!(!out.contains("s3cr3t"), "{out}");
        }
    }

    #[test]
    fn short_values_are_not_masked() {
        let r = Redactor::new();
        r.add("ab");
        assert_eq!(r.redact("ab cd"), "ab cd");
    }
}
