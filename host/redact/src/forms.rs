//! The forms a secret takes in text provisio may show, and how each form is
//! matched.
//!
//! A secret reaches a log line or an error in plain text or encoded: base64
//! (a `Basic` header, a JWT, a target that base64s what it echoes),
//! percent- or form-encoding (a query string, an OAuth form body) or JSON
//! escaping (a target's error body). [`forms`] lists every needle the
//! [`Redactor`](super::Redactor) looks for, each with the [`Form`] that says
//! how a match is widened before it is masked.
//!
//! Base64 is the hard one: a secret embedded in a longer value (`ops:` +
//! password in a `Basic` header) is encoded at whichever of the three byte
//! offsets modulo 3 it happens to start at, and each offset gives different
//! characters. For each offset only the characters that depend on the
//! secret's bytes alone are stable; those three middles (standard and
//! URL-safe alphabets) are the needles, and a match masks the whole base64
//! run that holds it, so neither the ends of the secret nor what was encoded
//! with it (the user name) show.
//!
//! Length rules (RELIABILITY.md, "Secrets never leak"): a secret of fewer
//! than [`MIN_MASKED_ANYWHERE`] characters is masked only where it stands as
//! a whole word, and has no encoded forms; `config check` warns about any
//! secret shorter than [`MIN_SECRET_LEN`].

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The shortest secret `config check` accepts without a warning: shorter
/// ones are masked (see the module doc), but a short value is guessable
/// and its encodings are too short to be told from other text.
pub const MIN_SECRET_LEN: usize = 8;

/// Secrets shorter than this (in characters) are masked only as whole words.
pub const MIN_MASKED_ANYWHERE: usize = 4;

/// Base64 needles shorter than this are not used (they would match noise).
const MIN_BASE64_NEEDLE: usize = 4;

/// How a needle's match is turned into the span that is masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    /// Only where it is not part of a longer word (letters and digits).
    WholeWord,
    /// Exactly the bytes matched.
    Text,
    /// The whole run of standard base64 characters that holds the match.
    Base64,
    /// The whole run of URL-safe base64 characters that holds the match.
    Base64Url,
}

impl Form {
    /// Whether `c` belongs to a run of this form (base64 forms only; the
    /// `=` padding is not a run character, see [`Form::widen`]).
    pub fn extends_over(self, c: u8) -> bool {
        match self {
            Form::Base64 => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'),
            Form::Base64Url => c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'),
            Form::WholeWord | Form::Text => false,
        }
    }

    /// The span `start..end` of a base64 match widened to the whole run
    /// that holds it, with its `=` padding (text forms: unchanged).
    pub fn widen(self, text: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
        if !matches!(self, Form::Base64 | Form::Base64Url) {
            return (start, end);
        }
        while start > 0 && self.extends_over(text[start - 1]) {
            start -= 1;
        }
        while end < text.len() && self.extends_over(text[end]) {
            end += 1;
        }
        let mut padding = 0;
        while padding < 2 && end < text.len() && text[end] == b'=' {
            end += 1;
            padding += 1;
        }
        (start, end)
    }
}

/// Every needle for `secret`, each with how its match is widened. Empty for
/// an empty or blank secret.
pub fn forms(secret: &str) -> Vec<(String, Form)> {
    if secret.trim().is_empty() {
        return Vec::new();
    }
    if secret.chars().count() < MIN_MASKED_ANYWHERE {
        return vec![(secret.to_owned(), Form::WholeWord)];
    }
    let mut forms = vec![(secret.to_owned(), Form::Text)];
    let percent = urlencoding::encode(secret).into_owned();
    forms.push((lower_hex_escapes(&percent), Form::Text));
    forms.push((percent.replace("%20", "+"), Form::Text));
    // application/x-www-form-urlencoded leaves `*` alone and writes `+` for
    // a space: not the same text as percent-encoding.
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    forms.push((lower_hex_escapes(&form), Form::Text));
    forms.push((form, Form::Text));
    forms.push((percent, Form::Text));
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push((json.trim_matches('"').to_owned(), Form::Text));
    }
    for middle in base64_middles(secret.as_bytes(), &STANDARD_NO_PAD) {
        forms.push((middle, Form::Base64));
    }
    for middle in base64_middles(secret.as_bytes(), &URL_SAFE_NO_PAD) {
        forms.push((middle, Form::Base64Url));
    }
    forms.retain(|(f, _)| f.len() >= MIN_MASKED_ANYWHERE);
    forms.sort();
    forms.dedup_by(|a, b| a.0 == b.0);
    forms
}

/// The base64 characters that depend on `bytes` alone, for each of the
/// three offsets (modulo 3) at which `bytes` may start inside encoded data.
fn base64_middles(bytes: &[u8], engine: &impl base64::Engine) -> Vec<String> {
    let n = bytes.len();
    let mut middles = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut buffer = vec![0u8; shift];
        buffer.extend_from_slice(bytes);
        buffer.extend_from_slice(&[0, 0]);
        let encoded = engine.encode(&buffer);
        // Character i carries bits [6i, 6i + 6); the secret's are [8 shift, 8 (shift + n)).
        let first = (8 * shift).div_ceil(6);
        let end = (8 * (shift + n)) / 6;
        if end >= first + MIN_BASE64_NEEDLE {
            middles.push(encoded[first..end].to_owned());
        }
    }
    middles
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

/// Why `secret` is weak, if it is: too short to mask safely, or a plain
/// word that masking would give away by where the mask lands (the same word
/// elsewhere, say a URL's path, is masked too). `config check` warns with
/// this.
pub fn weakness(secret: &str) -> Option<String> {
    let chars = secret.chars().count();
    if chars < MIN_SECRET_LEN {
        let what = if chars < MIN_MASKED_ANYWHERE {
            "masked only where it stands as a whole word, never when encoded or inside a longer word"
        } else {
            "masked, but its encodings are too short to be told reliably from other text"
        };
        return Some(format!(
            "it has {chars} characters, fewer than the {MIN_SECRET_LEN} provisio needs to mask a secret safely: it is \
             {what}; use a longer secret"
        ));
    }
    if secret.chars().all(char::is_alphabetic) {
        return Some(
            "it is a plain word: every place that word appears (a URL path, a target's message) is masked, which gives \
             the secret away by where the mask lands; use a secret with digits or symbols"
                .to_owned(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    /// Every base64 encoding of `prefix + secret + suffix`, for prefixes of
    /// every length modulo 3, contains one of the secret's middles.
    #[test]
    fn a_middle_is_found_at_every_offset_in_both_alphabets() {
        let secret = "Basic-Pw-Secret-77?>~";
        let needles = forms(secret);
        for prefix in ["", "o", "op", "ops:", "admin:", "svc-provisio:"] {
            for suffix in ["", "x", "xy"] {
                let raw = format!("{prefix}{secret}{suffix}");
                for encoded in [STANDARD.encode(&raw), URL_SAFE.encode(&raw)] {
                    assert!(
                        needles.iter().any(|(n, f)| matches!(f, Form::Base64 | Form::Base64Url) && encoded.contains(n)),
                        "{raw} -> {encoded}"
                    );
                }
            }
        }
    }

    #[test]
    fn form_encoding_is_a_form_of_its_own() {
        let needles = forms("a\"b\\c$.*99");
        assert!(needles.iter().any(|(n, _)| n == "a%22b%5Cc%24.*99"), "{needles:?}");
        assert!(needles.iter().any(|(n, _)| n == "a%22b%5Cc%24.%2A99"), "{needles:?}");
    }

    #[test]
    fn short_secrets_are_whole_words_and_weak() {
        assert_eq!(forms("xyz"), vec![("xyz".to_owned(), Form::WholeWord)]);
        assert!(forms("  ").is_empty());
        assert!(weakness("xyz").unwrap().contains("whole word"));
        assert!(weakness("abc12").unwrap().contains("fewer than the 8"));
        assert!(weakness("Users").is_some());
        assert!(weakness("Provisioning").unwrap().contains("plain word"));
        assert_eq!(weakness("Tok-Sandbox-Secret-1234"), None);
    }
}
