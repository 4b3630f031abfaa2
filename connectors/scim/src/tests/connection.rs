//! The activation check.

use super::*;

const PROBE: &str = "https://scim.example/v2/Users?startIndex=1&count=1";

#[test]
fn test_connection_reads_capabilities_then_proves_the_credentials() {
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, true)).on(
        "GET",
        PROBE,
        200,
        &list(42, json!([user("u-1", "a", true)])),
    );
    let h = open(json!({"authentication_method": "oauth2_bearer_token", "access_token": "t"}), http);
    let report = h.run(Operation::TestConnection).unwrap();
    assert_eq!(report["summary"], format!("GET {PROBE} answered 200; patch supported, etag supported"));
    let details: Vec<String> = serde_json::from_value(report["details"].clone()).unwrap();
    assert!(details.contains(&"42 users at the target".to_owned()), "{details:?}");
    assert!(details.iter().any(|d| d.contains("OAuth 2 Bearer Token")), "{details:?}");
    // Credentials go with the discovery request too.
    assert!(h.requests().iter().all(|r| header(r, "Authorization") == Some("Bearer t")));
    done(&h);
}

#[test]
fn refused_credentials_name_the_url() {
    // The ServiceProviderConfig is public (scim2-server): only the probe proves the credentials.
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, true)).on_response(
        "GET",
        PROBE,
        response(
            401,
            &[("WWW-Authenticate", "Bearer realm=\"SCIM\"")],
            r#"{"status":"401","detail":"Authentication is needed"}"#,
        ),
    );
    let h = open(json!({"authentication_method": "oauth2_bearer_token", "access_token": "wrong"}), http);
    let err = h.run(Operation::TestConnection).unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Auth, Some(401)));
    assert!(err.detail.contains("refused the credentials") && err.detail.contains(PROBE), "{}", err.detail);
    assert!(err.detail.contains("OAuth 2 Bearer Token"), "{}", err.detail);
}

#[test]
fn a_missing_service_provider_config_is_not_a_failure() {
    let http = RecordedHttp::new().on("GET", SPC, 404, "Not Found").on("GET", PROBE, 200, &list(0, json!([])));
    let h = open(json!({}), http);
    let report = h.run(Operation::TestConnection).unwrap();
    let summary = report["summary"].as_str().unwrap();
    assert!(summary.starts_with(&format!("GET {PROBE} answered 200;")) && summary.contains("unknown"), "{summary}");
}

#[test]
fn scim_1_1_discovery_endpoint_is_plural() {
    let http = RecordedHttp::new()
        .on("GET", "https://scim.example/v2/ServiceProviderConfigs", 200, &spc(false, false))
        .on("GET", PROBE, 200, r#"{"schemas":["urn:scim:schemas:core:1.0"],"totalResults":0,"Resources":[]}"#);
    let h = open(json!({"scim_version": "1.1"}), http);
    let report = h.run(Operation::TestConnection).unwrap();
    assert!(report["summary"].as_str().unwrap().ends_with("patch not supported, etag not supported"));
    done(&h);
}

#[test]
fn a_same_origin_redirect_is_followed() {
    let moved = "https://scim.example/scim/v2/Users?startIndex=1&count=1";
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(true, false))
        .on_response("GET", PROBE, response(308, &[("Location", "/scim/v2/Users?startIndex=1&count=1")], ""))
        .on("GET", moved, 200, &list(0, json!([])));
    let h = open(json!({}), http);
    h.run(Operation::TestConnection).unwrap();
    done(&h);
}
