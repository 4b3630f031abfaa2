//! PingID request signing (spec b.5.5): compact JWS with HS256.
//!
//! Every PingID API call is `base64url(header) "." base64url(payload) "."
//! base64url(HMAC-SHA256(key, signing input))`, where the key is the
//! **decoded** `use_base64_key` of `pingid.properties`. [`decode_key`]
//! accepts the standard and the URL-safe Base64 alphabets, padded or not
//! (samples differ; Java-properties escapes such as `\=` are already undone by
//! [`crate::properties`]). [`verify`] checks an answer the same way, in
//! constant time, and refuses any algorithm but HS256.
//!
//! [`timestamp`] formats the `reqHeader.timestamp` (`yyyy-MM-dd HH:mm:ss.SSS`,
//! UTC) from the host's clock. Nothing here logs or formats the key.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a key or a JWS was refused. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsError(pub String);

impl std::fmt::Display for JwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);

/// Decode `use_base64_key` into the HMAC key: standard or URL-safe alphabet,
/// with or without padding, whitespace ignored.
pub fn decode_key(encoded: &str) -> Result<Vec<u8>, JwsError> {
    let normalized: String = encoded
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    let key = STANDARD_LENIENT.decode(normalized.as_bytes()).map_err(|e| {
        JwsError(format!("use_base64_key is not valid Base64 ({e}); copy it unchanged from pingid.properties"))
    })?;
    if key.is_empty() {
        return Err(JwsError("use_base64_key is empty".into()));
    }
    Ok(key)
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The compact JWS of `header` and `payload` (both exact JSON bytes).
pub fn sign(key: &[u8], header: &[u8], payload: &[u8]) -> String {
    let mut out = URL_SAFE_NO_PAD.encode(header);
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let mut m = mac(key);
    m.update(out.as_bytes());
    let signature = m.finalize().into_bytes();
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(signature));
    out
}

/// A verified JWS: its header and payload as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub header: serde_json::Value,
    pub payload: serde_json::Value,
}

/// Verify a compact JWS signed with HS256 under `key`.
pub fn verify(key: &[u8], jws: &str) -> Result<Verified, JwsError> {
    let jws = jws.trim();
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError("the answer is not a compact JWS (three dot-separated parts)".into()));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|e| JwsError(format!("the JWS {what} is not base64url: {e}")))
    };
    let header: serde_json::Value = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|e| JwsError(format!("the JWS header is not JSON: {e}")))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(JwsError(format!(
            "the JWS header names algorithm {}, not HS256",
            header.get("alg").unwrap_or(&serde_json::Value::Null)
        )));
    }
    let signature = decode(s, "signature")?;
    let mut m = mac(key);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(p.as_bytes());
    m.verify_slice(&signature).map_err(|_| JwsError("the JWS signature does not verify with use_base64_key".into()))?;
    let payload = serde_json::from_slice(&decode(p, "payload")?)
        .map_err(|e| JwsError(format!("the JWS payload is not JSON: {e}")))?;
    Ok(Verified { header, payload })
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC for milliseconds since the Unix epoch.
pub fn timestamp(unix_ms: u64) -> String {
    let ms = unix_ms % 1000;
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{ms:03}", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of the known-answer vector: bytes (i*37+251) mod 256, i in 0..32.
    pub(crate) const VECTOR_KEY_STANDARD: &str = "+yBFao+02f4jSG2St9wBJktwlbrfBClOc5i94gcsUXY=";
    const VECTOR_KEY_URL_SAFE: &str = "-yBFao-02f4jSG2St9wBJktwlbrfBClOc5i94gcsUXY";
    const VECTOR_HEADER: &str = r#"{"alg":"HS256","org_alias":"org-alias-1","token":"token-1"}"#;
    const VECTOR_PAYLOAD: &str = r#"{"reqHeader":{"locale":"en","orgAlias":"org-alias-1","secretKey":"token-1","timestamp":"2026-01-01 00:00:00.000","version":"4.9"},"reqBody":{"getSameDeviceUsers":false,"userName":"alice"}}"#;
    /// Computed independently (Python's hmac and base64 modules), not by this crate.
    pub(crate) const VECTOR_JWS: &str = "eyJhbGciOiJIUzI1NiIsIm9yZ19hbGlhcyI6Im9yZy1hbGlhcy0xIiwidG9rZW4iOiJ0b2tlbi0xIn0.eyJyZXFIZWFkZXIiOnsibG9jYWxlIjoiZW4iLCJvcmdBbGlhcyI6Im9yZy1hbGlhcy0xIiwic2VjcmV0S2V5IjoidG9rZW4tMSIsInRpbWVzdGFtcCI6IjIwMjYtMDEtMDEgMDA6MDA6MDAuMDAwIiwidmVyc2lvbiI6IjQuOSJ9LCJyZXFCb2R5Ijp7ImdldFNhbWVEZXZpY2VVc2VycyI6ZmFsc2UsInVzZXJOYW1lIjoiYWxpY2UifX0.GeiMKttKI-oNRz4ow3RKCukLRV1IMi3VcFCIMeCZAFw";

    #[test]
    fn known_answer_vector() {
        let key = decode_key(VECTOR_KEY_STANDARD).unwrap();
        assert_eq!(key, (0..32u32).map(|i| ((i * 37 + 251) % 256) as u8).collect::<Vec<_>>());
        assert_eq!(sign(&key, VECTOR_HEADER.as_bytes(), VECTOR_PAYLOAD.as_bytes()), VECTOR_JWS);
        let v = verify(&key, VECTOR_JWS).unwrap();
        assert_eq!(v.header["org_alias"], "org-alias-1");
        assert_eq!(v.payload["reqBody"]["userName"], "alice");
    }

    #[test]
    fn both_alphabets_padded_or_not_decode_to_the_same_key() {
        let key = decode_key(VECTOR_KEY_STANDARD).unwrap();
        assert_eq!(decode_key(VECTOR_KEY_URL_SAFE).unwrap(), key);
        assert_eq!(decode_key(VECTOR_KEY_STANDARD.trim_end_matches('=')).unwrap(), key);
        assert_eq!(decode_key(&format!(" {VECTOR_KEY_STANDARD}\n")).unwrap(), key);
        assert!(decode_key("not base64 !!").is_err());
        assert!(decode_key("").is_err());
        let err = decode_key("a*b").unwrap_err().to_string();
        assert!(!err.contains("a*b"), "the message must not echo the key: {err}");
    }

    #[test]
    fn tampering_and_wrong_keys_and_other_algorithms_are_refused() {
        let key = decode_key(VECTOR_KEY_STANDARD).unwrap();
        assert!(verify(b"another key", VECTOR_JWS).is_err());
        let mut parts: Vec<String> = VECTOR_JWS.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(VECTOR_PAYLOAD.replace("alice", "mallory"));
        assert!(verify(&key, &parts.join(".")).is_err());
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode("{}"));
        assert!(verify(&key, &none).unwrap_err().0.contains("HS256"));
        assert!(verify(&key, "only.two").is_err());
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00.000");
        assert_eq!(timestamp(1_767_225_600_000), "2026-01-01 00:00:00.000");
        assert_eq!(timestamp(951_782_400_000 + 86_399_999), "2000-02-29 23:59:59.999");
        assert_eq!(timestamp(1_709_251_199_007), "2024-02-29 23:59:59.007");
    }
}
