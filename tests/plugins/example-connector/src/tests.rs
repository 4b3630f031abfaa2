//! Unit tests of the Acme connector through the SDK's in-process harness:
//! each test scripts the HTTP exchanges the connector must make
//! (`RecordedHttp`), runs operations through the same JSON encoding and panic
//! guard as a loaded plugin, and checks the requests it sent.

use super::*;
use provisio_core::testing::{Harness, RecordedHttp};
use serde_json::json;

const BASE: &str = "https://acme.example";

fn open(http: RecordedHttp) -> Harness {
    Harness::open::<Acme>(json!({ "base_url": "https://acme.example/", "api_token": "s3cret" }), http)
        .expect("the connector opens")
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn body(request: &HttpRequest) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

fn jdoe(active: bool) -> UserRecord {
    UserRecord {
        source_id: "guid-1".into(),
        unique_id: "jdoe@example.com".into(),
        active,
        attributes: [
            ("userName".to_owned(), AttributeValue::from("jdoe@example.com")),
            ("workEmail".to_owned(), AttributeValue::from("jdoe@example.com")),
            ("givenName".to_owned(), AttributeValue::from("Jane")),
        ]
        .into_iter()
        .collect(),
        clear: vec![],
    }
}

const JDOE: &str =
    r#"{"id":"u_1","login":"jdoe@example.com","email":"jdoe@example.com","first_name":"Jane","status":"active"}"#;

#[test]
fn the_manifest_follows_the_contract() {
    let manifest = Acme::manifest();
    assert_eq!(manifest.validate(), vec![], "the manifest breaks the contract");
    assert_eq!(manifest.id, "acme");
    assert!(manifest.setting("api_token").expect("api_token").secret);
}

#[test]
fn test_connection_sends_the_token_and_reports_the_organization() {
    let http = RecordedHttp::new().on(
        "GET",
        &format!("{BASE}/api/v1/me"),
        200,
        r#"{"organization":"Example Corp","scopes":["users:read","users:write"]}"#,
    );
    let h = open(http);
    let report = h.run(Operation::TestConnection).expect("test_connection succeeds");
    assert!(report["summary"].as_str().unwrap().contains("Example Corp"), "{report}");
    let sent = &h.requests()[0];
    assert_eq!(header(sent, "Authorization"), Some("Bearer s3cret"));
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn test_connection_names_a_missing_scope() {
    let http = RecordedHttp::new().on(
        "GET",
        &format!("{BASE}/api/v1/me"),
        200,
        r#"{"organization":"X","scopes":["users:read"]}"#,
    );
    let err = open(http).run(Operation::TestConnection).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.detail.contains("users:write"), "{err}");
}

#[test]
fn a_refused_token_is_an_auth_error_with_acmes_message() {
    let http = RecordedHttp::new().on(
        "GET",
        &format!("{BASE}/api/v1/me"),
        401,
        r#"{"error":{"code":"token_revoked","message":"this token was revoked"}}"#,
    );
    let err = open(http).run(Operation::TestConnection).unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Auth, Some(401)));
    assert!(err.detail.contains("this token was revoked (token_revoked)"), "{err}");
    assert!(!err.retryable);
}

#[test]
fn find_user_encodes_the_login_and_reads_the_user_back() {
    let url = format!("{BASE}/api/v1/users?login=jdoe%40example.com");
    let h = open(RecordedHttp::new().on("GET", &url, 200, &format!(r#"{{"users":[{JDOE}]}}"#)));
    let found = h.run(Operation::FindUser { unique_id: "jdoe@example.com".into() }).expect("find_user succeeds");
    let user: Option<TargetUser> = serde_json::from_value(found).expect("a TargetUser");
    let user = user.expect("the user is found");
    assert_eq!(user.id, "u_1");
    assert_eq!(user.active, Some(true));
    assert_eq!(user.attributes["givenName"], AttributeValue::from("Jane"));
}

#[test]
fn find_user_answers_none_when_acme_has_no_such_login() {
    let url = format!("{BASE}/api/v1/users?login=nobody");
    let h = open(RecordedHttp::new().on("GET", &url, 200, r#"{"users":[]}"#));
    assert_eq!(h.run(Operation::FindUser { unique_id: "nobody".into() }).unwrap(), Value::Null);
}

#[test]
fn create_user_posts_the_mapped_fields() {
    let h = open(RecordedHttp::new().on("POST", &format!("{BASE}/api/v1/users"), 201, JDOE));
    let created = h.run(Operation::CreateUser { user: jdoe(true) }).expect("create_user succeeds");
    assert_eq!(created["id"], "u_1");
    let sent = &h.requests()[0];
    assert_eq!(header(sent, "Content-Type"), Some("application/json"));
    assert_eq!(
        body(sent),
        json!({"login": "jdoe@example.com", "email": "jdoe@example.com", "first_name": "Jane", "status": "active"})
    );
}

#[test]
fn a_disabled_user_is_created_suspended() {
    let h = open(RecordedHttp::new().on("POST", &format!("{BASE}/api/v1/users"), 201, JDOE));
    h.run(Operation::CreateUser { user: jdoe(false) }).expect("create_user succeeds");
    assert_eq!(body(&h.requests()[0])["status"], "suspended");
}

#[test]
fn an_existing_login_is_a_conflict() {
    let http = RecordedHttp::new().on(
        "POST",
        &format!("{BASE}/api/v1/users"),
        409,
        r#"{"error":{"code":"login_taken","message":"login exists"}}"#,
    );
    let err = open(http).run(Operation::CreateUser { user: jdoe(true) }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
}

#[test]
fn a_rate_limit_carries_retry_after() {
    let mut response = HttpResponse { status: 429, ..HttpResponse::default() };
    response.headers.push(("Retry-After".into(), "7".into()));
    let http = RecordedHttp::new().on_response("POST", &format!("{BASE}/api/v1/users"), response);
    let err = open(http).run(Operation::CreateUser { user: jdoe(true) }).unwrap_err();
    assert_eq!((err.kind, err.retry_after_ms, err.retryable), (ErrorKind::RateLimited, Some(7000), true));
}

#[test]
fn update_never_sends_the_immutable_login_and_clears_fields() {
    let h = open(RecordedHttp::new().on("PATCH", &format!("{BASE}/api/v1/users/u_1"), 200, JDOE));
    let mut user = jdoe(true);
    user.clear = vec!["title".into()];
    h.run(Operation::UpdateUser { target_id: "u_1".into(), user }).expect("update_user succeeds");
    assert_eq!(body(&h.requests()[0]), json!({"email": "jdoe@example.com", "first_name": "Jane", "title": null}));
}

#[test]
fn disable_and_enable_set_the_status() {
    let url = format!("{BASE}/api/v1/users/u_1");
    let h = open(RecordedHttp::new().on("PATCH", &url, 200, JDOE).on("PATCH", &url, 200, JDOE));
    h.run(Operation::DisableUser { target_id: "u_1".into() }).expect("disable succeeds");
    h.run(Operation::EnableUser { target_id: "u_1".into() }).expect("enable succeeds");
    let sent = h.requests();
    assert_eq!(body(&sent[0]), json!({"status": "suspended"}));
    assert_eq!(body(&sent[1]), json!({"status": "active"}));
}

#[test]
fn deleting_a_gone_user_is_not_found() {
    let h = open(RecordedHttp::new().on("DELETE", &format!("{BASE}/api/v1/users/u_9"), 404, ""));
    let err = h.run(Operation::DeleteUser { target_id: "u_9".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.detail.contains("u_9"), "{err}");
}

#[test]
fn an_attribute_outside_the_catalogue_is_refused_before_any_request() {
    let h = open(RecordedHttp::new());
    let mut user = jdoe(true);
    user.attributes.insert("shoeSize".into(), AttributeValue::from("42"));
    let err = h.run(Operation::CreateUser { user }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.detail.contains("shoeSize"), "{err}");
    assert!(h.requests().is_empty());
}

#[test]
fn groups_are_unsupported_and_the_error_names_the_connector() {
    let err = open(RecordedHttp::new()).run(Operation::FindGroup { name: "staff".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(err.detail.contains("'acme'") && err.detail.contains("find_group"), "{err}");
}

#[test]
fn opening_without_a_token_names_the_setting() {
    let err = Harness::open::<Acme>(json!({ "base_url": BASE }), RecordedHttp::new()).err().expect("open fails");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.detail.contains("api_token"), "{err}");
}

#[test]
fn a_base_url_that_is_not_http_is_refused() {
    let settings = json!({ "base_url": "ftp://acme.example", "api_token": "t" });
    let err = Harness::open::<Acme>(settings, RecordedHttp::new()).err().expect("open fails");
    assert!(err.detail.contains("base_url"), "{err}");
}

#[test]
fn the_token_is_never_logged() {
    let h = open(RecordedHttp::new().on("POST", &format!("{BASE}/api/v1/users"), 201, JDOE));
    h.run(Operation::CreateUser { user: jdoe(true) }).unwrap();
    assert!(!h.logs().is_empty());
    assert!(h.logs().iter().all(|(_, line)| !line.contains("s3cret")));
}
