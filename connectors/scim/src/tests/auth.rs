//! Authentication methods: Basic, static bearer with a header type, OAuth 2
//! client credentials (cached token, one refresh on 401).

use super::*;

const TOKEN: &str = "https://as.example/as/token.oauth2";
const FIND: &str = "https://scim.example/v2/Users?filter=userName%20eq%20%22jsmith%22";

fn client_credentials(scope: &str) -> Value {
    json!({
        "authentication_method": "oauth2_client_credentials",
        "token_endpoint": TOKEN,
        "client_id": "provisio",
        "client_secret": "s3cr:t",
        "scope": scope,
    })
}

fn token(t: &str, expires_in: Value) -> String {
    json!({"access_token": t, "token_type": "Bearer", "expires_in": expires_in}).to_string()
}

#[test]
fn basic_and_bearer_headers() {
    let h = open(
        json!({"authentication_method": "basic", "basic_username": "admin", "basic_password": "pw"}),
        RecordedHttp::new().on("GET", FIND, 200, &list(0, json!([]))),
    );
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    assert_eq!(header(&h.requests()[0], "Authorization"), Some("Basic YWRtaW46cHc="));

    let h = open(
        json!({"authentication_method": "oauth2_bearer_token", "access_token": "tok", "authorization_header_type": "oauth2"}),
        RecordedHttp::new().on("GET", FIND, 200, &list(0, json!([]))),
    );
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    assert_eq!(header(&h.requests()[0], "Authorization"), Some("oauth2 tok"));
}

#[test]
fn a_static_token_refused_is_an_auth_error_without_retry() {
    let h = open(
        json!({"authentication_method": "oauth2_bearer_token", "access_token": "bad"}),
        RecordedHttp::new().on(
            "GET",
            FIND,
            401,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"Unauthorized"}"#,
        ),
    );
    let err = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap_err();
    assert_eq!((err.kind, err.status, err.retryable), (ErrorKind::Auth, Some(401), false));
    assert!(err.detail.contains("refused the credentials") && err.detail.contains(FIND), "{}", err.detail);
    done(&h);
}

#[test]
fn client_credentials_token_is_requested_once_and_cached() {
    let http = RecordedHttp::new()
        .on("POST", TOKEN, 200, &token("tok-1", json!(3600)))
        .on("GET", FIND, 200, &list(0, json!([])))
        .on("GET", FIND, 200, &list(0, json!([])));
    let h = open(client_credentials("scim:read, scim:write"), http);
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    let reqs = h.requests();
    assert_eq!(reqs.iter().filter(|r| r.url == TOKEN).count(), 1, "one token request for two calls");
    let t = &reqs[0];
    assert_eq!(header(t, "Content-Type"), Some("application/x-www-form-urlencoded"));
    // RFC 6749 §2.3.1: "provisio:s3cr%3At" in base64.
    assert_eq!(header(t, "Authorization"), Some("Basic cHJvdmlzaW86czNjciUzQXQ="));
    assert_eq!(String::from_utf8_lossy(&t.body), "grant_type=client_credentials&scope=scim%3Aread+scim%3Awrite");
    assert_eq!(header(&reqs[1], "Authorization"), Some("Bearer tok-1"));
    assert_eq!(header(&reqs[2], "Authorization"), Some("Bearer tok-1"));
    assert_eq!(h.secrets(), ["tok-1"], "the token obtained is registered with the host as a secret, once");
    done(&h);
}

#[test]
fn a_401_fetches_one_new_token_and_retries() {
    let http = RecordedHttp::new()
        .on("POST", TOKEN, 200, &token("tok-1", json!("3600")))
        .on("GET", FIND, 401, "")
        .on("POST", TOKEN, 200, &token("tok-2", json!(3600)))
        .on("GET", FIND, 200, &list(0, json!([])));
    let h = open(client_credentials(""), http);
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    let reqs = h.requests();
    assert_eq!(String::from_utf8_lossy(&reqs[0].body), "grant_type=client_credentials");
    assert_eq!(header(&reqs[3], "Authorization"), Some("Bearer tok-2"));
    done(&h);
}

#[test]
fn a_second_401_is_an_auth_error() {
    let http = RecordedHttp::new()
        .on("POST", TOKEN, 200, &token("tok-1", json!(3600)))
        .on("GET", FIND, 401, "")
        .on("POST", TOKEN, 200, &token("tok-2", json!(3600)))
        .on("GET", FIND, 401, "");
    let h = open(client_credentials(""), http);
    let err = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    done(&h);
}

#[test]
fn an_expired_token_is_renewed() {
    // expires_in 0: due at once, so the next call asks again.
    let http = RecordedHttp::new()
        .on("POST", TOKEN, 200, &token("tok-1", json!(0)))
        .on("GET", FIND, 200, &list(0, json!([])))
        .on("POST", TOKEN, 200, &token("tok-2", json!(3600)))
        .on("GET", FIND, 200, &list(0, json!([])));
    let h = open(client_credentials(""), http);
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    assert_eq!(header(&h.requests()[3], "Authorization"), Some("Bearer tok-2"));
    done(&h);
}

#[test]
fn refused_client_credentials_are_an_auth_error() {
    let http = RecordedHttp::new().on(
        "POST",
        TOKEN,
        400,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
    );
    let h = open(client_credentials(""), http);
    let err = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap_err();
    assert_eq!((err.kind, err.retryable), (ErrorKind::Auth, false));
    assert!(
        err.detail.contains("token endpoint refused") && err.detail.contains("client authentication failed"),
        "{}",
        err.detail
    );
}
