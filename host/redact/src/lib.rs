//! Keeping secrets out of everything provisio writes.
//!
//! A [`Redactor`] knows every secret value of the running configuration
//! (resolved setting secrets, masked attribute values, the credentials the
//! host sends for connectors, the secrets connectors register) and replaces
//! each one, in plain text and in the encodings a secret is commonly found in
//! ([`forms`]: base64 at any offset, percent- and form-encoding, JSON
//! escaping), with `******`. Every log line that carries connector or target
//! text, and every error shown to a person, goes through it.
//!
//! | module | what |
//! |---|---|
//! | [`forms`] | the needles for one secret, the length rules, weak secrets |
//! | [`credentials`] | the credentials in a request the host sends (headers, form bodies) and in a token answer |

#![forbid(unsafe_code)]

pub mod credentials;
pub mod forms;

use aho_corasick::AhoCorasick;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

pub use forms::{Form, MIN_MASKED_ANYWHERE, MIN_SECRET_LEN};

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
    matcher: Mutex<Option<Arc<Matcher>>>,
    /// Credentials seen in requests ([`Redactor::add_credential`]), the
    /// most recently used last, with an automaton of their own: a
    /// connector that signs every request differently changes this small
    /// set on every request, and must not rebuild the big one each time.
    recent: Mutex<Recent>,
}

/// At most [`RECENT_CREDENTIALS`] credential values.
#[derive(Default)]
struct Recent {
    values: std::collections::VecDeque<String>,
    matcher: Option<Arc<Matcher>>,
}

/// How many distinct credential values seen in requests stay secrets. The
/// ones in use are always among them (each use makes a value the most
/// recent); a value not used for this many newer ones is forgotten.
pub const RECENT_CREDENTIALS: usize = 64;

#[derive(Default)]
struct Needles {
    /// The secrets registered for the run, as given: a value seen again
    /// (a credential header on every request) costs one lookup.
    known: HashSet<String>,
    permanent: BTreeMap<String, Form>,
    transient: BTreeMap<String, Form>,
}

/// The automaton and, by pattern id, how each match is widened.
struct Matcher {
    automaton: AhoCorasick,
    forms: Vec<Form>,
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

    /// The process's redactor: the engine's, and the one every log line
    /// (the binary's logging) and the CLI's error exit go through, so that
    /// nothing is printed unmasked whichever path printed it.
    pub fn process() -> &'static Redactor {
        static PROCESS: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
        PROCESS.get_or_init(Redactor::new)
    }

    /// Register a secret for the rest of the run.
    pub fn add(&self, secret: &str) {
        {
            let needles = self.inner.needles.read().unwrap_or_else(|e| e.into_inner());
            if needles.known.contains(secret) {
                return;
            }
        }
        self.insert(secret, false);
    }

    /// Register a credential the host is about to send (a header value, a
    /// form field). It stays a secret while it is among the
    /// [`RECENT_CREDENTIALS`] most recently sent; a value that is already a
    /// secret for the run costs one lookup.
    pub fn add_credential(&self, secret: &str) {
        {
            let needles = self.inner.needles.read().unwrap_or_else(|e| e.into_inner());
            if needles.known.contains(secret) {
                return;
            }
        }
        let mut recent = self.inner.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.values.back().is_some_and(|v| v == secret) {
            return;
        }
        if let Some(i) = recent.values.iter().position(|v| v == secret) {
            // Already a secret: only its place changes, not the automaton.
            let v = recent.values.remove(i).expect("the position just found");
            recent.values.push_back(v);
            return;
        }
        recent.values.push_back(secret.to_owned());
        if recent.values.len() > RECENT_CREDENTIALS {
            recent.values.pop_front();
        }
        let mut all: BTreeMap<String, Form> = BTreeMap::new();
        for value in &recent.values {
            for (needle, form) in forms::forms(value) {
                let slot = all.entry(needle).or_insert(form);
                *slot = (*slot).max(form);
            }
        }
        recent.matcher = build(all.iter().map(|(n, f)| (n, *f)).collect());
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
        let forms = forms::forms(secret);
        let mut needles = self.inner.needles.write().unwrap_or_else(|e| e.into_inner());
        if !transient {
            needles.known.insert(secret.to_owned());
        }
        let mut changed = false;
        for (needle, form) in forms {
            if needles.permanent.get(&needle).is_some_and(|f| *f >= form) {
                continue;
            }
            let set = if transient { &mut needles.transient } else { &mut needles.permanent };
            let slot = set.entry(needle).or_insert(form);
            if *slot < form {
                *slot = form;
            }
            changed = true;
        }
        if changed {
            *self.inner.matcher.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// The automaton over the current needles (built if the set changed);
    /// `None` when there is no secret.
    fn matcher(&self) -> Option<Arc<Matcher>> {
        let needles = self.inner.needles.read().unwrap_or_else(|e| e.into_inner());
        let mut cached = self.inner.matcher.lock().unwrap_or_else(|e| e.into_inner());
        if cached.is_none() && !(needles.permanent.is_empty() && needles.transient.is_empty()) {
            // A needle in both sets: the broader form wins (the order
            // within one automaton does not matter, every match is used).
            *cached = build(needles.permanent.iter().chain(needles.transient.iter()).map(|(n, f)| (n, *f)).collect());
        }
        cached.clone()
    }

    /// `text` with every known secret replaced by [`MASK`]: each run of
    /// bytes covered by occurrences of secrets (overlapping ones merged)
    /// becomes one mask. A base64 match covers its whole base64 run; a
    /// short secret counts only as a whole word.
    pub fn redact(&self, text: &str) -> String {
        let recent = self.inner.recent.lock().unwrap_or_else(|e| e.into_inner()).matcher.clone();
        let matchers: Vec<Arc<Matcher>> = self.matcher().into_iter().chain(recent).collect();
        if matchers.is_empty() {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (matcher, m) in matchers.iter().flat_map(|k| k.automaton.find_overlapping_iter(text).map(move |m| (k, m))) {
            let (mut start, mut end) = (m.start(), m.end());
            match matcher.forms[m.pattern().as_usize()] {
                Form::Text => {}
                Form::WholeWord => {
                    let word = |i: usize| bytes.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c >= 0x80);
                    if (start > 0 && word(start - 1)) || word(end) {
                        continue;
                    }
                }
                form @ (Form::Base64 | Form::Base64Url) => (start, end) = form.widen(bytes, start, end),
            }
            spans.push((start, end));
        }
        if spans.is_empty() {
            return text.to_owned();
        }
        // Overlapping matches come ordered by where they end: sort by
        // start, then merge the ranges that touch.
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

/// The automaton over `needles`; `None` when there is none (or it cannot
/// be built, which is logged).
fn build(needles: Vec<(&String, Form)>) -> Option<Arc<Matcher>> {
    if needles.is_empty() {
        return None;
    }
    match AhoCorasick::new(needles.iter().map(|(n, _)| n)) {
        Ok(automaton) => Some(Arc::new(Matcher { automaton, forms: needles.iter().map(|(_, f)| *f).collect() })),
        Err(e) => {
            tracing::error!("cannot build the secret matcher: {e}");
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

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
    fn short_values_are_masked_as_whole_words_only() {
        let r = Redactor::new();
        r.add("ab");
        r.add("xyz");
        assert_eq!(r.redact("ab cd abc xyz; Bearer xyz"), format!("{MASK} cd abc {MASK}; Bearer {MASK}"));
    }

    /// The probe: `ops:` + password in a Basic header leaked
    /// whenever the user name's length plus one was not a multiple of 3.
    #[test]
    fn base64_of_a_secret_at_any_offset_is_masked_with_its_whole_run() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let r = Redactor::new();
        r.add("Basic-Pw-Secret-77");
        for user in ["ops", "admin", "svc-provisio", "ab", "a"] {
            for encoded in [
                STANDARD.encode(format!("{user}:Basic-Pw-Secret-77")),
                URL_SAFE_NO_PAD.encode(format!("{user}:Basic-Pw-Secret-77!")),
            ] {
                let out = r.redact(&format!("authorization: Basic {encoded}\nnext"));
                assert_eq!(out, format!("authorization: Basic {MASK}\nnext"), "{user}: {encoded}");
            }
        }
    }

    #[test]
    fn form_encoded_secrets_are_masked() {
        let r = Redactor::new();
        r.add("a\"b\\c$.*99");
        let body = format!(
            "grant_type=client_credentials&client_secret={}",
            form_urlencoded::byte_serialize("a\"b\\c$.*99".as_bytes()).collect::<String>()
        );
        assert_eq!(r.redact(&body), format!("grant_type=client_credentials&client_secret={MASK}"));
    }
}
