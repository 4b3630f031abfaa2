//! Users: find, create, update, disable, enable, delete.

use super::*;

const FIND_JSMITH: &str = "https://scim.example/v2/Users?filter=userName%20eq%20%22jsmith%22";

#[test]
fn find_user_by_user_name() {
    let http = RecordedHttp::new().on("GET", FIND_JSMITH, 200, &list(1, json!([user("u-1", "JSmith", false)])));
    let h = open(json!({}), http);
    let found = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap();
    assert_eq!(found["id"], "u-1");
    assert_eq!(found["unique_id"], "JSmith");
    assert_eq!(found["active"], false);
    let r = &h.requests()[0];
    assert_eq!(header(r, "Accept"), Some("application/scim+json, application/json"));
    assert_eq!(header(r, "Authorization"), None, "authentication method None sends no header");
    done(&h);
}

#[test]
fn find_user_none_and_several() {
    let http = RecordedHttp::new().on("GET", FIND_JSMITH, 200, &list(0, json!([]))).on(
        "GET",
        FIND_JSMITH,
        200,
        &list(2, json!([user("u-1", "jsmith", true), user("u-2", "JSMITH", true)])),
    );
    let h = open(json!({}), http);
    assert_eq!(h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap(), Value::Null);
    let err = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(err.detail.contains(r#"userName eq "jsmith""#) && err.detail.contains("u-1, u-2"), "{}", err.detail);
    done(&h);
}

#[test]
fn filter_values_are_escaped_and_encoded() {
    // j"s\mith → userName eq "j\"s\\mith"
    let url = "https://scim.example/v2/Users?filter=userName%20eq%20%22j%5C%22s%5C%5Cmith%22";
    let h = open(json!({}), RecordedHttp::new().on("GET", url, 200, &list(0, json!([]))));
    assert_eq!(h.run(Operation::FindUser { unique_id: r#"j"s\mith"#.into() }).unwrap(), Value::Null);
    done(&h);
}

#[test]
fn work_email_identifier_and_filter_expression() {
    let by_email = "https://scim.example/v2/Users?filter=emails%20eq%20%22j%40x.example%22";
    let mut u = user("u-9", "jsmith", true);
    u["emails"] = json!([{"type": "work", "value": "J@x.example"}]);
    let h = open(
        json!({"unique_user_identifier": "workEmail"}),
        RecordedHttp::new().on("GET", by_email, 200, &list(1, json!([u]))),
    );
    let found = h.run(Operation::FindUser { unique_id: "j@x.example".into() }).unwrap();
    assert_eq!((found["id"].as_str(), found["unique_id"].as_str()), (Some("u-9"), Some("j@x.example")));
    assert_eq!(found["attributes"]["workEmail"], "J@x.example");
    done(&h);

    let custom = "https://scim.example/v2/Users?filter=externalId%20eq%20%22a%5C%22b%22";
    let h = open(
        json!({"filter_expression": r#"externalId eq "%s""#}),
        RecordedHttp::new().on("GET", custom, 200, &list(1, json!([user("u-3", "someone", true)]))),
    );
    let found = h.run(Operation::FindUser { unique_id: r#"a"b"#.into() }).unwrap();
    assert_eq!(found["id"], "u-3");
    done(&h);
}

#[test]
fn a_target_ignoring_the_filter_cannot_link_the_wrong_user() {
    let page = list(2, json!([user("u-1", "alice", true), user("u-2", "jsmith", true)]));
    let h = open(json!({}), RecordedHttp::new().on("GET", FIND_JSMITH, 200, &page));
    assert_eq!(h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap()["id"], "u-2");
    assert!(h.logs().iter().any(|(l, m)| *l == LogLevel::Warn && m.contains("ignore filters")));
}

#[test]
fn create_user_posts_a_version_correct_payload_and_takes_the_id_from_the_body() {
    // 201 with no Location header: the id comes from the body.
    let created = json!({"id": "new-1", "userName": "jsmith", "active": false, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]});
    let h = open(
        json!({"authentication_method": "oauth2_bearer_token", "access_token": "s3cret"}),
        RecordedHttp::new().on("POST", USERS, 201, &created.to_string()),
    );
    let r = record("jsmith", false, &[("givenName", "John"), ("workEmail", "j@w.example"), ("department", "Ops")]);
    let out = h.run(Operation::CreateUser { user: r }).unwrap();
    assert_eq!((out["id"].as_str(), out["active"].as_bool()), (Some("new-1"), Some(false)));
    let req = &h.requests()[0];
    assert_eq!(header(req, "Content-Type"), Some("application/scim+json"));
    assert_eq!(header(req, "Authorization"), Some("Bearer s3cret"));
    assert_eq!(
        body(req),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "jsmith",
            "name": {"givenName": "John"},
            "emails": [{"type": "work", "value": "j@w.example"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"},
            "active": false
        })
    );
    done(&h);
}

#[test]
fn create_user_without_an_id_in_the_body_uses_location() {
    let h = open(
        json!({}),
        RecordedHttp::new().on_response(
            "POST",
            USERS,
            response(201, &[("Location", "https://scim.example/v2/Users/loc-7")], ""),
        ),
    );
    assert_eq!(h.run(Operation::CreateUser { user: record("jsmith", true, &[]) }).unwrap()["id"], "loc-7");
}

#[test]
fn create_user_conflict_is_a_conflict_error() {
    let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName already exists"}"#;
    let h = open(json!({}), RecordedHttp::new().on("POST", USERS, 409, body));
    let err = h.run(Operation::CreateUser { user: record("jsmith", true, &[]) }).unwrap_err();
    assert_eq!((err.kind, err.status, err.scim_type.as_deref()), (ErrorKind::Conflict, Some(409), Some("uniqueness")));
    assert!(err.detail.contains("userName already exists"), "{}", err.detail);
    assert!(!err.retryable);
}

#[test]
fn error_status_as_a_number_and_non_json_bodies() {
    let h = open(
        json!({}),
        RecordedHttp::new()
            .on("POST", USERS, 400, r#"{"status":400,"scimType":"invalidValue","detail":"bad title"}"#)
            .on("POST", USERS, 502, "<html><body>Bad Gateway</body></html>"),
    );
    let err = h.run(Operation::CreateUser { user: record("jsmith", true, &[]) }).unwrap_err();
    assert_eq!((err.kind, err.scim_type.as_deref()), (ErrorKind::Invalid, Some("invalidValue")));
    assert!(err.detail.ends_with("bad title"), "{}", err.detail);
    let err = h.run(Operation::CreateUser { user: record("jsmith", true, &[]) }).unwrap_err();
    assert_eq!((err.kind, err.retryable), (ErrorKind::Target, true));
    assert!(err.detail.contains("Bad Gateway"), "{}", err.detail);
}

#[test]
fn rate_limits_carry_retry_after() {
    let h = open(
        json!({}),
        RecordedHttp::new().on_response("GET", FIND_JSMITH, response(429, &[("Retry-After", "12")], "")),
    );
    let err = h.run(Operation::FindUser { unique_id: "jsmith".into() }).unwrap_err();
    assert_eq!((err.kind, err.retry_after_ms, err.retryable), (ErrorKind::RateLimited, Some(12_000), true));
}

fn current_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-1",
        "userName": "jsmith",
        "externalId": "ext-1",
        "name": {"givenName": "Jon", "familyName": "Smith"},
        "emails": [{"type": "home", "value": "h@x"}],
        "groups": [{"value": "g-1"}],
        "active": true,
        "meta": {"resourceType": "User", "version": "W/\"3\""}
    })
}

#[test]
fn update_user_puts_the_record_over_the_current_resource() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(true, false))
        .on("GET", &url, 200, &current_user().to_string())
        .on("PUT", &url, 200, &current_user().to_string())
        .on("GET", &url, 200, &current_user().to_string())
        .on("PUT", &url, 204, "");
    let h = open(json!({}), http);
    let r = record("jsmith", true, &[("givenName", "John"), ("workEmail", "w@x")]);
    h.run(Operation::UpdateUser { target_id: "u-1".into(), user: r.clone() }).unwrap();
    // 204 No Content on PUT is success too.
    h.run(Operation::UpdateUser { target_id: "u-1".into(), user: r }).unwrap();
    let put = &h.requests()[2];
    assert_eq!(header(put, "If-Match"), None, "no If-Match when ETags are not advertised");
    assert_eq!(
        body(put),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u-1",
            "userName": "jsmith",
            "externalId": "ext-1",
            "name": {"givenName": "John", "familyName": "Smith"},
            "emails": [{"type": "home", "value": "h@x"}, {"type": "work", "value": "w@x"}],
            "active": true
        })
    );
    assert!(h.requests().iter().all(|r| r.method != "PATCH"), "users are never PATCHed");
    done(&h);
}

#[test]
fn if_match_with_advertised_etags_and_one_retry_on_412() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(true, true))
        .on_response("GET", &url, response(200, &[("ETag", "W/\"3\"")], &current_user().to_string()))
        .on("PUT", &url, 412, r#"{"status":"412","detail":"version mismatch"}"#)
        .on_response("GET", &url, response(200, &[("ETag", "W/\"4\"")], &current_user().to_string()))
        .on("PUT", &url, 200, &current_user().to_string());
    let h = open(json!({}), http);
    h.run(Operation::UpdateUser { target_id: "u-1".into(), user: record("jsmith", true, &[("title", "CTO")]) })
        .unwrap();
    let reqs = h.requests();
    assert_eq!(header(&reqs[2], "If-Match"), Some("W/\"3\""));
    assert_eq!(header(&reqs[4], "If-Match"), Some("W/\"4\""));
    done(&h);
}

#[test]
fn a_second_412_is_a_conflict() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(false, true))
        .on("GET", &url, 200, &current_user().to_string())
        .on("PUT", &url, 412, "")
        .on("GET", &url, 200, &current_user().to_string())
        .on("PUT", &url, 412, "");
    let h = open(json!({}), http);
    let err = h.run(Operation::DisableUser { target_id: "u-1".into() }).unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Conflict, Some(412)));
    // meta.version is the version when there is no ETag header.
    assert_eq!(header(&h.requests()[2], "If-Match"), Some("W/\"3\""));
    done(&h);
}

#[test]
fn disable_and_enable_set_active_with_put() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 404, "")
        .on("GET", &url, 200, &current_user().to_string())
        .on("PUT", &url, 204, "")
        // Already active: nothing to send.
        .on("GET", &url, 200, &current_user().to_string());
    let h = open(json!({}), http);
    h.run(Operation::DisableUser { target_id: "u-1".into() }).unwrap();
    h.run(Operation::EnableUser { target_id: "u-1".into() }).unwrap();
    let put = body(&h.requests()[2]);
    assert_eq!(put["active"], json!(false));
    assert_eq!(put["name"]["givenName"], "Jon");
    assert!(put.get("meta").is_none() && put.get("groups").is_none());
    done(&h);
}

#[test]
fn update_of_a_user_gone_from_the_target_is_not_found() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, false)).on(
        "GET",
        &url,
        404,
        r#"{"status":"404","detail":"no such user"}"#,
    );
    let h = open(json!({}), http);
    let err = h.run(Operation::UpdateUser { target_id: "u-1".into(), user: record("jsmith", true, &[]) }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[test]
fn delete_user_treats_404_as_already_gone() {
    let url = format!("{USERS}/u-1");
    let http = RecordedHttp::new().on("DELETE", &url, 204, "").on("DELETE", &url, 404, "").on("DELETE", &url, 500, "");
    let h = open(json!({}), http);
    h.run(Operation::DeleteUser { target_id: "u-1".into() }).unwrap();
    h.run(Operation::DeleteUser { target_id: "u-1".into() }).unwrap();
    let err = h.run(Operation::DeleteUser { target_id: "u-1".into() }).unwrap_err();
    // A plain 500 is not retried within the cycle (only 408, 429, 502, 503
    // and 504 are); the user is dirty and retried next cycle.
    assert_eq!((err.kind, err.retryable), (ErrorKind::Target, false));
}

#[test]
fn custom_extension_attributes_go_under_their_urn() {
    let urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    let h = open_with(
        json!({"custom_attribute_schema_urns": urn}),
        |c| c.extra_attributes.push(AttributeSpec::new("badgeNumber", &format!("{urn}:badgeNumber"))),
        RecordedHttp::new().on("POST", USERS, 201, r#"{"id":"n1","userName":"jsmith"}"#),
    );
    h.run(Operation::CreateUser { user: record("jsmith", true, &[("badgeNumber", "B-7")]) }).unwrap();
    let sent = body(&h.requests()[0]);
    assert_eq!(sent["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", urn]));
    assert_eq!(sent[urn], json!({"badgeNumber": "B-7"}));
}

#[test]
fn scim_1_1_dialect() {
    let error_1_1 = r#"{"Errors":[{"description":"Attribute title is read-only","code":"400"}]}"#;
    let http = RecordedHttp::new()
        .on("POST", USERS, 201, r#"{"schemas":["urn:scim:schemas:core:1.0"],"id":"v1-1","userName":"jsmith"}"#)
        .on("POST", USERS, 400, error_1_1);
    let h = open(json!({"scim_version": "1.1"}), http);
    let r = record("jsmith", true, &[("employeeNumber", "42")]);
    assert_eq!(h.run(Operation::CreateUser { user: r.clone() }).unwrap()["id"], "v1-1");
    let req = &h.requests()[0];
    assert_eq!(header(req, "Content-Type"), Some("application/json"));
    assert_eq!(header(req, "Accept"), Some("application/json"));
    assert_eq!(
        body(req),
        json!({
            "schemas": ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:enterprise:1.0"],
            "userName": "jsmith",
            "urn:scim:schemas:extension:enterprise:1.0": {"employeeNumber": "42"},
            "active": true
        })
    );
    let err = h.run(Operation::CreateUser { user: r }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.detail.ends_with("Attribute title is read-only"), "{}", err.detail);
    done(&h);
}
