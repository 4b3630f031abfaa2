//! Keeping secrets out of everything provisio writes.
//!
//! A [`Redactor`] knows every secret value of the running configuration
//! (resolved setting secrets, masked attribute values) and replaces each one,
//! in plain text and in the encodings a secret is commonly found in (base64,
//! URL-encoding, JSON escaping), with `******`. Every log line that carries
//! connector or target text, and every error shown to a person, goes through
//! it.

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};

/// What replaces a secret.
pub const MASK: &str = "******";

/// A shared, growable set of secret values.
///
/// Secrets of the configuration stay for the run ([`Redactor::add`]); the
/// masked attribute values a cycle is about to push are secrets only until
/// the cycle ends ([`Redactor::add_transient`], [`Redactor::clear_transient`]),
/// so a long-running service does not collect every value it ever pushed.
/// [`Redactor::redact`] finds every form of every secret in one pass over
/// the text (an Aho-Corasick automaton, built again only after the set
/// changed) and masks every byte that belongs to any occurrence, so that of
/// two overlapping secrets neither shows in part.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    needles: RwLock<Needles>,
    /// The automaton over the current needles; `None` after a change.
    matcher: Mutex<Option<Arc<AhoCorasick>>>,
}

#[derive(Default)]
struct Needles {
    permanent: BTreeSet<String>,
    transient: BTreeSet<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(..)")
    }
}

/// Every form a secret is commonly found in: plain, base64 (standard and
/// URL-safe, unpadded: the padded text contains these), percent-encoded
/// (upper and lower case hex, `+` for spaces) and JSON-escaped. Values
/// shorter than 4 characters have none: they would mask ordinary words and
/// give nothing away.
fn forms(secret: &str) -> Vec<String> {
    if secret.chars().count() < 4 {
        return Vec::new();
    }
    let mut forms = vec![secret.to_owned()];
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
    forms.retain(|f| f.len() >= 4);
    forms
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a secret for the rest of the run.
    pub fn add(&self, secret: &str) {
        self.insert(secret, false);
    }

    /// Register a secret until [`Redactor::clear_transient`] (a masked value
    /// a cycle is about to push).
    pub fn add_transient(&self, secret: &str) {
        self.insert(secret, true);
    }

    /// Forget the transient secrets (a cycle is over).
    pub fn clear_transient(&self) {
        let mut needles = self.inner.needles.write().unwrap_or_else(|e| e.into_inner());
        if !needles.transient.is_empty() {
            needles.transient.clear();
            *self.inner.matcher.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    fn insert(&self, secret: &str, transient: bool) {
        let forms = forms(secret);
        if forms.is_empty() {
            return;
        }
        let mut needles = self.inner.needles.write().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        for form in forms {
            if needles.permanent.contains(&form) {
                continue;
            }
            let set = if transient { &mut needles.transient } else { &mut needles.permanent };
            changed |= set.insert(form);
        }
        if changed {
            *self.inner.matcher.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// The automaton over the current needles (built if the set changed);
    /// `None` when there is no secret.
    fn matcher(&self) -> Option<Arc<AhoCorasick>> {
        let needles = self.inner.needles.read().unwrap_or_else(|e| e.into_inner());
        let mut cached = self.inner.matcher.lock().unwrap_or_else(|e| e.into_inner());
        if cached.is_none() && !(needles.permanent.is_empty() && needles.transient.is_empty()) {
            match AhoCorasick::new(needles.permanent.iter().chain(needles.transient.iter())) {
                Ok(ac) => *cached = Some(Arc::new(ac)),
                Err(e) => tracing::error!("cannot build the secret matcher: {e}"),
            }
        }
        cached.clone()
    }

    /// `text` with every known secret replaced by [`MASK`]: each run of
    /// bytes covered by occurrences of secrets (overlapping ones merged)
    /// becomes one mask.
    pub fn redact(&self, text: &str) -> String {
        let Some(matcher) = self.matcher() else { return text.to_owned() };
        // Overlapping matches come ordered by where they end: sort by
        // start, then merge the ranges that touch.
        let mut spans: Vec<(usize, usize)> =
            matcher.find_overlapping_iter(text).map(|m| (m.start(), m.end())).collect();
        if spans.is_empty() {
            return text.to_owned();
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in merged {
            // A match may end inside a character only if a secret does;
            // widen to character boundaries so the text stays UTF-8.
            let start = floor_char_boundary(text, start);
            let end = ceil_char_boundary(text, end);
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
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
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
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
    fn overlapping_secrets_are_masked_together() {
        let r = Redactor::new();
        r.add("abcd");
        r.add("bcdefg");
        assert_eq!(r.redact("x abcdefg y abcd z bcdefg"), format!("x {MASK} y {MASK} z {MASK}"));
    }

    #[test]
    fn transient_secrets_are_forgotten_when_cleared_permanent_ones_are_not() {
        let r = Redactor::new();
        r.add("token-1234");
        r.add_transient("pässwörd-9");
        r.add_transient("token-1234");
        assert_eq!(r.redact("token-1234 pässwörd-9."), format!("{MASK} {MASK}."));
        r.clear_transient();
        assert_eq!(r.redact("token-1234 pässwörd-9."), format!("{MASK} pässwörd-9."));
        assert_eq!(Redactor::new().redact("nothing to hide"), "nothing to hide");
    }

    #[test]
    fn many_secrets_are_all_found() {
        let r = Redactor::new();
        for i in 0..20_000 {
            r.add_transient(&format!("masked-value-{i:06}"));
        }
        let text = "the target refused masked-value-012345 and masked-value-000001, not masked-value-x";
        assert_eq!(r.redact(text), format!("the target refused {MASK} and {MASK}, not masked-value-x"));
    }

    #[test]
    fn short_values_are_not_masked() {
        let r = Redactor::new();
        r.add("ab");
        assert_eq!(r.redact("ab cd"), "ab cd");
    }
}
