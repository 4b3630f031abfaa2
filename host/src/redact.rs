//! Keeping secrets out of everything provisio writes.
//!
//! A [`Redactor`] knows every secret value of the running configuration
//! (resolved setting secrets, masked attribute values) and replaces each one,
//! in plain text and in the encodings a secret is commonly found in (base64,
//! URL-encoding, JSON escaping), with `******`. Every log line that carries
//! connector or target text, and every error shown to a person, goes through
//! it.

use base64::Engine as _;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

/// What replaces a secret.
pub const MASK: &str = "******";

/// A shared, growable set of secret values.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every form of every secret, longest first (so a secret containing
    /// another is masked whole), without sorting on each use.
    needles: Arc<RwLock<BTreeSet<(Reverse<usize>, String)>>>,
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
        // Without padding: the padded text contains these, and so is masked too.
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        forms.push(b64.encode(secret));
        forms.push(b64url.encode(secret));
        let percent = urlencoding::encode(secret).into_owned();
        forms.push(lower_hex_escapes(&percent));
        forms.push(percent.replace("%20", "+"));
        forms.push(percent);
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json.trim_matches('"').to_owned());
        }
        let mut needles = self.needles.write().unwrap_or_else(|e| e.into_inner());
        for form in forms {
            if form.len() >= 4 {
                needles.insert((Reverse(form.len()), form));
            }
        }
    }

    /// `text` with every known secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let needles = self.needles.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        for (_, needle) in needles.iter() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
}

/// `%2f` for `%2F`: percent-encoding with lower-case hex digits.
fn lower_hex_escapes(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut hex_left = 0;
    for c in percent.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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
    fn masks_unpadded_base64_lower_case_and_form_encoding() {
        use base64::engine::general_purpose::{URL_SAFE, STANDARD_NO_PAD};
        let secret = "pä55 wörd/+?";
        let r = Redactor::new();
        r.add(secret);
        for text in [
            STANDARD_NO_PAD.encode(secret),
            URL_SAFE.encode(secret),
            "p%C3%A455+w%C3%B6rd%2F%2B%3F".to_owned(),
            "p%c3%a455%20w%c3%b6rd%2f%2b%3f".to_owned(),
        ] {
            let out = r.redact(&format!("x {text} y"));
            assert!(out.contains(MASK) && !out.contains(&text), "{text} -> {out}");
        }
    }

    #[test]
    fn a_secret_containing_another_is_masked_whole() {
        let r = Redactor::new();
        r.add("abcd");
        r.add("xxabcdxx");
        assert_eq!(r.redact("1 xxabcdxx 2 abcd"), format!("1 {MASK} 2 {MASK}"));
    }

    #[test]
    fn short_values_are_not_masked() {
        let r = Redactor::new();
        r.add("ab");
        assert_eq!(r.redact("ab cd"), "ab cd");
    }
}
