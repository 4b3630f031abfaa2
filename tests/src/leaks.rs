//! Searching everything provisio showed or wrote for secrets: the one
//! helper of `tests/tests/secrets.rs` and `tests/tests/secrets_probes.rs`.
//!
//! A [`Secret`] is a value and every form it must not appear in: plain
//! text, base64 (standard and URL-safe, with and without padding),
//! percent-encoding (upper and lower case hex, `+` or `%20` for a space),
//! form-encoding, JSON escaping, its first 12 characters when it is long, and
//! any credential form a test adds ([`Secret::with`]). [`Artifacts`] collects
//! outputs by where they came from (a run's stdout and stderr, the files of a
//! scenario's directory, a service's endpoints) and
//! [`Artifacts::assert_clean`] searches each of them for every form, as raw
//! bytes and again inside every base64 run found in them, decoded at each of
//! its four character offsets: a secret encoded together with something
//! else (`base64(user:password)`) is found whatever its alignment.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD, URL_SAFE};
use base64::engine::{DecodePaddingMode, general_purpose::URL_SAFE_NO_PAD};
use std::path::Path;
use std::process::Output;

/// A secret and the encodings it must not appear in.
pub struct Secret {
    pub name: String,
    pub forms: Vec<(String, Vec<u8>)>,
}

/// Percent-encoding by hand (RFC 3986 unreserved characters kept).
fn percent(bytes: &[u8], lower: bool, plus: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' if plus => out.push('+'),
            _ if lower => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Secret {
    pub fn new(name: &str, value: &str) -> Secret {
        let v = value.as_bytes();
        let json = serde_json::to_string(value).unwrap();
        let mut forms = vec![
            ("plain".to_owned(), v.to_vec()),
            ("base64".to_owned(), STANDARD.encode(v).into_bytes()),
            ("base64 without padding".to_owned(), STANDARD_NO_PAD.encode(v).into_bytes()),
            ("base64url".to_owned(), URL_SAFE.encode(v).into_bytes()),
            ("base64url without padding".to_owned(), URL_SAFE_NO_PAD.encode(v).into_bytes()),
            ("percent-encoded".to_owned(), percent(v, false, false).into_bytes()),
            ("percent-encoded, lower-case hex".to_owned(), percent(v, true, false).into_bytes()),
            ("percent-encoded, + for space".to_owned(), percent(v, false, true).into_bytes()),
            ("form-encoded".to_owned(), form_urlencoded::byte_serialize(v).collect::<String>().into_bytes()),
            ("JSON-escaped".to_owned(), json.trim_matches('"').as_bytes().to_vec()),
        ];
        // A message that quotes a truncated line still gives the start away
        // (the secrets of these tests start with 32 random hex digits).
        if value.chars().count() > 16 {
            forms.push(("its first 12 characters".to_owned(), value.chars().take(12).collect::<String>().into_bytes()));
        }
        forms.sort_by(|a, b| a.1.cmp(&b.1));
        forms.dedup_by(|a, b| a.1 == b.1);
        Secret { name: name.to_owned(), forms }
    }

    /// Another form, e.g. the Basic header's `base64(user:password)`.
    pub fn with(mut self, form: &str, bytes: impl Into<Vec<u8>>) -> Secret {
        self.forms.push((form.to_owned(), bytes.into()));
        self
    }
}

/// What provisio showed or wrote, by where.
#[derive(Default)]
pub struct Artifacts(Vec<(String, Vec<u8>)>);

impl Artifacts {
    /// One output, e.g. a service's `/metrics`.
    pub fn add(&mut self, place: &str, bytes: impl Into<Vec<u8>>) {
        self.0.push((place.to_owned(), bytes.into()));
    }

    /// A run's stdout and stderr.
    pub fn output(&mut self, label: &str, out: &Output) {
        self.add(&format!("{label}: stdout"), out.stdout.clone());
        self.add(&format!("{label}: stderr"), out.stderr.clone());
    }

    /// Every file of the scenario's directory except the inputs.
    pub fn files(&mut self, label: &str, dir: &Path, inputs: &[&str]) {
        for entry in std::fs::read_dir(dir).expect("the scenario's directory") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_file() && !inputs.contains(&name.as_str()) {
                self.add(&format!("{label}: file {name}"), std::fs::read(&path).expect("read a file"));
            }
        }
    }

    /// How many outputs were collected.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Fails, naming each secret, form and place, if any form of any secret
    /// is in any output, as it is or base64-decoded.
    pub fn assert_clean(&self, secrets: &[Secret]) {
        assert!(self.0.len() > 10, "too little was collected to mean anything: {}", self.0.len());
        let mut hits = Vec::new();
        for (place, bytes) in &self.0 {
            let decoded = decoded_base64_runs(bytes);
            for secret in secrets {
                for (form, needle) in &secret.forms {
                    if let Some(at) = find(bytes, needle) {
                        let from = at.saturating_sub(80);
                        let context = String::from_utf8_lossy(&bytes[from..(at + needle.len() + 40).min(bytes.len())]);
                        hits.push(format!("{} ({form}) in {place}:\n    …{context}…", secret.name));
                    }
                    if let Some((run, _)) = decoded.iter().find(|(_, d)| find(d, needle).is_some()) {
                        hits.push(format!("{} ({form}), base64-encoded in {place}: {run}", secret.name));
                    }
                }
            }
        }
        assert!(hits.is_empty(), "secrets leaked:\n{}", hits.join("\n"));
    }
}

/// The client id and secret of an OAuth token request (RFC 6749 §2.3.1):
/// from HTTP Basic (each part form-encoded first), else from the form body.
pub fn client_credentials(r: &crate::proxy::Request) -> Option<(String, String)> {
    let unescape = |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    let basic = r
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| String::from_utf8(STANDARD.decode(b.trim()).ok()?).ok())
        .and_then(|raw| raw.split_once(':').and_then(|(i, p)| Some((unescape(i)?, unescape(p)?))));
    basic.or_else(|| {
        let fields: Vec<(String, String)> =
            form_urlencoded::parse(&r.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        Some((field("client_id")?, field("client_secret")?))
    })
}

/// Add the masked, create-only `password` mapping (from `userPassword`) to
/// the scenario's configuration.
pub fn map_masked_password(s: &crate::scenario::Scenario) {
    let path = s.config_path();
    let mut root: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let channel = &mut root["connection"].as_array_mut().unwrap()[0]["channel"].as_array_mut().unwrap()[0];
    let mapping = channel.get_mut("mapping").and_then(|m| m.as_array_mut()).unwrap();
    let mut password = toml::Table::new();
    password.insert("field".into(), "password".into());
    password.insert("attributes".into(), toml::Value::Array(vec!["userPassword".into()]));
    password.insert("create_only".into(), true.into());
    password.insert("masked".into(), true.into());
    mapping.push(toml::Value::Table(password));
    std::fs::write(&path, toml::to_string(&root).unwrap()).unwrap();
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decoders that accept any padding and trailing bits: a run cut out of
/// text rarely ends where its encoder did.
fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Every run of at least 8 base64 characters (standard, then URL-safe
/// alphabet) in `bytes`, with what it decodes to at each of the four
/// character offsets it may have started at, concatenated.
pub fn decoded_base64_runs(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (engine, extra) in [(lenient(&alphabet::STANDARD), b"+/"), (lenient(&alphabet::URL_SAFE), b"-_")] {
        let in_run = |c: &u8| c.is_ascii_alphanumeric() || extra.contains(c);
        for run in bytes.split(|c| !in_run(c)).filter(|r| r.len() >= 8) {
            let mut decoded = Vec::new();
            for start in 0..4 {
                let body = &run[start..];
                // A last group of one character carries no whole byte.
                let body = if body.len() % 4 == 1 { &body[..body.len() - 1] } else { body };
                if let Ok(d) = engine.decode(body) {
                    decoded.extend_from_slice(&d);
                    decoded.push(0);
                }
            }
            out.push((String::from_utf8_lossy(run).into_owned(), decoded));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_found_inside_any_base64_run() {
        for user in ["a", "ab", "abc", "svc-provisio"] {
            let text = format!("authorization: Basic {}, next", STANDARD.encode(format!("{user}:Pw-Secret-77")));
            let decoded = decoded_base64_runs(text.as_bytes());
            assert!(decoded.iter().any(|(_, d)| find(d, b"Pw-Secret-77").is_some()), "{user}: {text}");
        }
        let masked = decoded_base64_runs(b"authorization: Basic ******, next");
        assert!(masked.iter().all(|(_, d)| find(d, b"Pw-Secret-77").is_none()));
    }
}
