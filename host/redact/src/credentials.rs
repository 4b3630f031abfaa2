//! The credentials in the HTTP the host sends and receives for connectors.
//!
//! Before the host sends a connector's request (`provisio-runtime`'s HTTP service) it
//! registers every credential in it with the [`Redactor`], so that a target
//! that echoes the request (its headers in an error body, a proxy's 502 page)
//! shows only masks, whatever the connector did:
//!
//! - the value of every credential header: `Authorization`,
//!   `Proxy-Authorization`, and any header whose name marks an API key or
//!   token ([`is_credential_header`]); for `Scheme credentials` the
//!   credentials too, and for `Basic` the decoded `user:password` and the
//!   password;
//! - in a form body (`application/x-www-form-urlencoded`), the fields that
//!   carry credentials (`client_secret`, `password`, `refresh_token`, ...);
//! - in the JSON answer to a token request (a form body with `grant_type`),
//!   `access_token`, `refresh_token` and `id_token`, before the connector
//!   sees them.
//!
//! A secret a connector learns some other way it registers itself
//! (`Host::register_secret`, CONNECTORS.md §4).

use base64::Engine as _;
use provisio_core::host::HttpRequest;

use super::Redactor;

/// Header names that always carry a credential (lower case).
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// A header whose name contains one of these (case-insensitive) is an
/// API-key or token header: `X-Api-Key`, `X-Auth-Token`,
/// `Ocp-Apim-Subscription-Key`, `X-Acme-Secret`.
const CREDENTIAL_NAME_PARTS: &[&str] = &["key", "token", "secret", "password", "auth", "session", "credential"];

/// Form fields that carry credentials (RFC 6749 and its extensions).
const CREDENTIAL_FIELDS: &[&str] = &[
    "client_secret",
    "password",
    "refresh_token",
    "access_token",
    "id_token",
    "token",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "code",
    "code_verifier",
];

/// Fields of a token answer that carry credentials.
const TOKEN_FIELDS: &[&str] = &["access_token", "refresh_token", "id_token"];

/// Whether a header called `name` carries a credential.
pub fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.contains(&name.as_str()) || CREDENTIAL_NAME_PARTS.iter().any(|p| name.contains(p))
}

/// The secrets in one credential header value: the value, the credentials
/// after a scheme word, and for `Basic` the decoded `user:password` and the
/// password.
pub fn header_secrets(value: &str) -> Vec<String> {
    let value = value.trim();
    let mut secrets = vec![value.to_owned()];
    if let Some((scheme, credentials)) = value.split_once(' ') {
        let credentials = credentials.trim();
        secrets.push(credentials.to_owned());
        if scheme.eq_ignore_ascii_case("basic")
            && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(credentials)
            && let Ok(raw) = String::from_utf8(raw)
        {
            if let Some((_, password)) = raw.split_once(':') {
                secrets.push(password.to_owned());
            }
            secrets.push(raw);
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

/// The credential fields of a form body.
pub fn form_secrets(body: &[u8]) -> Vec<String> {
    form_urlencoded::parse(body)
        .filter(|(k, v)| CREDENTIAL_FIELDS.contains(&k.as_ref()) && !v.is_empty())
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The tokens in a token request's JSON answer, whatever its status.
pub fn token_answer_secrets(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(answer)) = serde_json::from_slice(body) else { return Vec::new() };
    TOKEN_FIELDS.iter().filter_map(|f| answer.get(*f)?.as_str()).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// Register the credentials of `request` with `redactor`. Returns whether
/// it is a token request (a form body with `grant_type`), whose answer's
/// tokens the caller registers with [`token_answer_secrets`].
pub fn register_request(redactor: &Redactor, request: &HttpRequest) -> bool {
    for (name, value) in &request.headers {
        if is_credential_header(name) {
            for secret in header_secrets(value) {
                redactor.add_credential(&secret);
            }
        }
    }
    let form = request.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
    });
    if !form {
        return false;
    }
    for secret in form_secrets(&request.body) {
        redactor.add_credential(&secret);
    }
    form_urlencoded::parse(&request.body).any(|(k, _)| k == "grant_type")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MASK;

    #[test]
    fn credential_headers_are_recognised() {
        for name in ["Authorization", "proxy-authorization", "X-Api-Key", "X-Auth-Token", "Ocp-Apim-Subscription-Key"] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["Accept", "Content-Type", "If-Match", "User-Agent"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }

    #[test]
    fn a_basic_header_gives_its_encoded_and_decoded_parts() {
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("ops:Basic-Pw-Secret-77"));
        let secrets = header_secrets(&header);
        assert!(secrets.contains(&"ops:Basic-Pw-Secret-77".to_owned()), "{secrets:?}");
        assert!(secrets.contains(&"Basic-Pw-Secret-77".to_owned()), "{secrets:?}");
        assert_eq!(header_secrets("Bearer dyn-Access-Token-31337")[1], "dyn-Access-Token-31337");
    }

    #[test]
    fn a_token_request_registers_its_form_secrets_and_is_recognised() {
        let r = Redactor::new();
        let request = HttpRequest::post("https://idp.example/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", "Bearer dyn-Access-Token-31337")
            .body("grant_type=client_credentials&client_id=app1&client_secret=a%22b%5Cc%24.*99");
        assert!(register_request(&r, &request));
        assert_eq!(r.redact("a\"b\\c$.*99 and dyn-Access-Token-31337"), format!("{MASK} and {MASK}"));
        let answer = br#"{"access_token":"fresh-Token-4242","token_type":"Bearer"}"#;
        assert_eq!(token_answer_secrets(answer), ["fresh-Token-4242"]);
        assert!(!register_request(&r, &HttpRequest::get("https://t.example/Users")));
    }

    #[test]
    fn credentials_are_forgotten_only_when_many_newer_ones_were_sent() {
        let r = Redactor::new();
        r.add_credential("first-Credential-0");
        for i in 1..super::super::RECENT_CREDENTIALS {
            r.add_credential(&format!("signed-request-{i:04}"));
        }
        assert_eq!(r.redact("first-Credential-0"), MASK);
        r.add_credential("first-Credential-0");
        for i in 0..super::super::RECENT_CREDENTIALS - 1 {
            r.add_credential(&format!("another-request-{i:04}"));
        }
        assert_eq!(r.redact("first-Credential-0 signed-request-0001"), format!("{MASK} signed-request-0001"));
    }
}
