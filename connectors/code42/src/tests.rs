//! Unit tests of the Code42 operations against recorded HTTP (spec b.3).

use crate::Code42Connector;
use provisio_core::host::{HttpRequest, LogLevel};
use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp};
use serde_json::{Value, json};

const BASE: &str = "https://console.us.code42.com/api/v3/scim-user-provisioning/p1/v2";
const USERS: &str = "https://console.us.code42.com/api/v3/scim-user-provisioning/p1/v2/Users";
const SPC: &str = "https://console.us.code42.com/api/v3/scim-user-provisioning/p1/v2/ServiceProviderConfig";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn open(settings: Value, http: RecordedHttp) -> Harness {
    let mut s = json!({"scim_url": BASE, "access_token": "c42-token"});
    if let (Some(map), Value::Object(extra)) = (s.as_object_mut(), settings) {
        map.extend(extra);
    }
    Harness::open::<Code42Connector>(s, http).unwrap()
}

fn body(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn spc() -> String {
    json!({"patch": {"supported": true}, "etag": {"supported": false}, "filter": {"supported": true, "maxResults": 200}})
        .to_string()
}

/// A record with every documented Code42 field.
fn full_record(active: bool) -> UserRecord {
    let fields = [
        ("userName", "ada@example.org"),
        ("givenName", "Ada"),
        ("familyName", "Lovelace"),
        ("workEmail", "ada@example.org"),
        ("title", "Analyst"),
        ("externalId", "guid-1"),
        ("workCity", "London"),
        ("workState", "Greater London"),
        ("workCountry", "GB"),
        ("workStreet", "12 St James's Square"),
        ("workPostalCode", "SW1Y 4JH"),
        ("division", "Engines"),
        ("department", "Analysis"),
        ("manager", "123098456876789543"),
    ];
    let attributes = fields.iter().map(|(k, v)| ((*k).to_owned(), AttributeValue::from(*v))).collect();
    UserRecord { source_id: "guid-1".into(), unique_id: "ada@example.org".into(), active, attributes, clear: vec![] }
}

fn created(id: &str, active: bool) -> String {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": "ada@example.org", "active": active})
        .to_string()
}

#[test]
fn the_fourteen_documented_fields_land_where_code42_reads_them() {
    let h = open(json!({}), RecordedHttp::new().on("POST", USERS, 201, &created("c1", true)));
    h.run(Operation::CreateUser { user: full_record(true) }).unwrap();
    let b = body(&h.requests()[0]);
    assert_eq!(b["userName"], "ada@example.org");
    assert_eq!(b["name"], json!({"givenName": "Ada", "familyName": "Lovelace"}));
    assert_eq!(b["emails"], json!([{"type": "work", "value": "ada@example.org"}]));
    assert_eq!((b["title"].as_str(), b["externalId"].as_str()), (Some("Analyst"), Some("guid-1")));
    let work = &b["addresses"][0];
    assert_eq!(work["type"], "work");
    assert_eq!(work["streetAddress"], "12 St James's Square", "workStreet is the street address");
    assert_eq!(
        (&work["locality"], &work["region"], &work["postalCode"], &work["country"]),
        (&json!("London"), &json!("Greater London"), &json!("SW1Y 4JH"), &json!("GB"))
    );
    assert_eq!(b[ENTERPRISE]["division"], "Engines");
    assert_eq!(b[ENTERPRISE]["department"], "Analysis");
    assert_eq!(b[ENTERPRISE]["manager"], json!({"value": "123098456876789543"}), "manager is the Code42 user id");
    assert!(b["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE)));
    assert_eq!(b["active"], true);
}

#[test]
fn the_catalogue_name_work_street_address_is_accepted() {
    let mut record = full_record(true);
    let street = record.attributes.remove("workStreet").unwrap();
    record.attributes.insert("workStreetAddress".into(), street);
    let h = open(json!({}), RecordedHttp::new().on("POST", USERS, 201, &created("c1", true)));
    h.run(Operation::CreateUser { user: record }).unwrap();
    assert_eq!(body(&h.requests()[0])["addresses"][0]["streetAddress"], "12 St James's Square");
}

#[test]
fn a_user_disabled_in_the_source_is_created_active_with_a_warning() {
    let h = open(json!({}), RecordedHttp::new().on("POST", USERS, 201, &created("c1", true)));
    let out = h.run(Operation::CreateUser { user: full_record(false) }).unwrap();
    assert_eq!(out["active"], true);
    assert_eq!(body(&h.requests()[0])["active"], true);
    assert!(h.logs().iter().any(|(l, m)| *l == LogLevel::Warn && m.contains("created active")), "{:?}", h.logs());
}

#[test]
fn update_is_a_put_over_the_current_user_and_disable_enable_set_active() {
    let url = format!("{USERS}/c1");
    let current = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "c1",
        "userName": "ada@example.org", "active": true, "nickName": "kept", "meta": {"version": "W/\"1\""}});
    let mut inactive = current.clone();
    inactive["active"] = json!(false);
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc())
        .on("GET", &url, 200, &current.to_string())
        .on("PUT", &url, 200, &current.to_string())
        .on("GET", &url, 200, &current.to_string())
        .on("PUT", &url, 200, &inactive.to_string())
        .on("GET", &url, 200, &inactive.to_string())
        .on("PUT", &url, 200, &current.to_string());
    let h = open(json!({}), http);
    h.run(Operation::UpdateUser { target_id: "c1".into(), user: full_record(true) }).unwrap();
    h.run(Operation::DisableUser { target_id: "c1".into() }).unwrap();
    h.run(Operation::EnableUser { target_id: "c1".into() }).unwrap();
    let r = h.requests();
    let put = body(&r[2]);
    assert_eq!(put["nickName"], "kept", "PUT keeps what is not mapped");
    assert_eq!(put["title"], "Analyst");
    assert!(put.get("meta").is_none());
    assert_eq!(body(&r[4])["active"], false);
    assert_eq!(body(&r[6])["active"], true);
    assert!(r.iter().all(|r| r.method != "PATCH" && r.method != "DELETE"));
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn delete_is_never_sent() {
    let h = open(json!({}), RecordedHttp::new());
    let err = h.run(Operation::DeleteUser { target_id: "c1".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(h.requests().is_empty());
}

#[test]
fn basic_credentials_are_sent_when_chosen() {
    let url = format!("{USERS}?startIndex=1&count=1");
    let list =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []});
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc()).on("GET", &url, 200, &list.to_string());
    let h = open(
        json!({"authentication_method": "basic", "basic_username": "svc", "basic_password": "pw", "access_token": null}),
        http,
    );
    h.run(Operation::TestConnection).unwrap();
    // base64("svc:pw")
    assert_eq!(header(&h.requests()[1], "Authorization"), Some("Basic c3ZjOnB3"));
}

#[test]
fn a_refused_token_says_so() {
    let url = format!("{USERS}?startIndex=1&count=1");
    let refusal =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 401, "detail": "token rejected"});
    let http = RecordedHttp::new().on("GET", SPC, 401, "").on("GET", &url, 401, &refusal.to_string());
    let h = open(json!({}), http);
    let err = h.run(Operation::TestConnection).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.detail.contains("token rejected") && err.detail.contains("Bearer"), "{}", err.detail);
}
