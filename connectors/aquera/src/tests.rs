//! Unit tests of the Aquera operations and Refresh Fields against recorded
//! HTTP (spec b.4).

use crate::AqueraConnector;
use provisio_core::host::HttpRequest;
use provisio_core::manifest::{AttributeSpec, Mutability};
use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp, default_config};
use serde_json::{Value, json};

const BASE: &str = "https://api.aquera.io/scim/t1/app1";
const URN: &str = "urn:ietf:params:scim:schemas:extension:IANUser:2.0:User";

fn open(http: RecordedHttp) -> Harness {
    Harness::open::<AqueraConnector>(json!({"scim_url": BASE, "access_token": "aq-t"}), http).unwrap()
}

fn url(path: &str) -> String {
    format!("{BASE}{path}")
}

fn body(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

fn attr(name: &str, kind: &str, required: bool) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "required": required, "mutability": "readWrite"})
}

/// A `/Schemas` answer: a small core User schema, and the IANUser extension.
fn schemas(custom: Vec<Value>) -> Value {
    let core = json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User", "attributes": [
        attr("userName", "string", true),
        {"name": "name", "type": "complex", "subAttributes": [attr("givenName", "string", false), attr("familyName", "string", false)]},
        {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [attr("value", "string", false), attr("type", "string", false)]},
        attr("title", "string", false),
        attr("active", "boolean", false)
    ]});
    let ext = json!({"id": URN, "name": "IANUser", "attributes": custom});
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2, "Resources": [core, ext]})
}

fn resource_types() -> Value {
    json!({"totalResults": 1, "Resources": [{"id": "User", "name": "User", "endpoint": "/Users",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        "schemaExtensions": [{"schema": URN, "required": false}]}]})
}

fn discover(schemas_body: Value, types: (u16, Value)) -> Result<Value, ConnectorError> {
    let http = RecordedHttp::new().on("GET", &url("/Schemas"), 200, &schemas_body.to_string()).on(
        "GET",
        &url("/ResourceTypes"),
        types.0,
        &types.1.to_string(),
    );
    open(http).run(Operation::DiscoverSchema)
}

fn field<'a>(schema: &'a Value, code: &str) -> Option<&'a Value> {
    schema["attributes"].as_array().unwrap().iter().find(|a| a["code"] == code)
}

#[test]
fn refresh_fields_flattens_the_ianuser_extension_and_merges_the_standard_fields() {
    let custom = vec![
        attr("officeLocation", "string", false),
        attr("badgeNumber", "string", true),
        json!({"name": "costCenter", "type": "complex", "subAttributes": [attr("code", "string", true), attr("owner", "string", false)], "required": true}),
        json!({"name": "skills", "type": "complex", "multiValued": true, "subAttributes": [attr("value", "string", false)]}),
        json!({"name": "createdBy", "type": "string", "mutability": "readOnly"}),
    ];
    let out = discover(schemas(custom), (200, resource_types())).unwrap();
    let office = field(&out, "IANUser:officeLocation").unwrap();
    assert_eq!(office["target"], format!("{URN}:officeLocation"));
    assert_eq!(office["required"], false);
    assert_eq!(field(&out, "IANUser:badgeNumber").unwrap()["required"], true);
    assert_eq!(field(&out, "IANUser:costCenter.code").unwrap()["target"], format!("{URN}:costCenter.code"));
    assert_eq!(field(&out, "IANUser:costCenter.code").unwrap()["required"], true);
    assert_eq!(field(&out, "IANUser:costCenter.owner").unwrap()["required"], false);
    let skills = field(&out, "IANUser:skills").unwrap();
    assert_eq!(
        (skills["target"].as_str(), skills["multi_valued"].as_bool()),
        (Some(&*format!("{URN}:skills[].value")), Some(true))
    );
    assert!(field(&out, "IANUser:createdBy").is_none(), "read-only fields are not offered");
    // Standard fields the target defines come first; the others are named in a note.
    assert_eq!(out["attributes"][0]["code"], "userName");
    assert!(field(&out, "givenName").is_some() && field(&out, "workEmail").is_some());
    assert!(field(&out, "nickName").is_none());
    let notes = out["notes"].to_string();
    assert!(notes.contains("does not define these standard fields") && notes.contains("nickName"), "{notes}");
}

#[test]
fn the_tag_is_configurable() {
    let ext = json!({"id": "urn:acme:schemas:AcmeUser", "attributes": [attr("floor", "integer", false)]});
    let list = json!({"Resources": [ext]});
    let types = json!({"Resources": [{"id": "User", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        "schemaExtensions": [{"schema": "urn:acme:schemas:AcmeUser", "required": false}]}]});
    let http = RecordedHttp::new().on("GET", &url("/Schemas"), 200, &list.to_string()).on(
        "GET",
        &url("/ResourceTypes"),
        200,
        &types.to_string(),
    );
    let h = Harness::open::<AqueraConnector>(
        json!({"scim_url": BASE, "access_token": "t", "custom_attribute_tag": "AcmeUser"}),
        http,
    )
    .unwrap();
    let out = h.run(Operation::DiscoverSchema).unwrap();
    assert_eq!(field(&out, "AcmeUser:floor").unwrap()["target"], "urn:acme:schemas:AcmeUser:floor");
}

#[test]
fn without_resource_types_tagged_schemas_are_found_by_id() {
    let out = discover(schemas(vec![attr("officeLocation", "string", false)]), (404, json!({}))).unwrap();
    assert!(field(&out, "IANUser:officeLocation").is_some());
    assert!(out["notes"].to_string().contains("found by their id alone"));
}

#[test]
fn an_invalid_schema_is_refused_with_what_is_wrong() {
    for (custom, expected) in [
        (vec![json!({"type": "string"})], "has no name"),
        (vec![attr("office Location", "string", false)], "not a valid attribute name"),
        (vec![attr("office", "text", false)], "not an RFC 7643 type"),
        (vec![attr("office", "string", false), attr("Office", "string", false)], "defined twice"),
        (vec![json!({"name": "office", "type": "string", "required": "maybe"})], "not true or false"),
    ] {
        let err = discover(schemas(custom), (200, resource_types())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{}", err.detail);
        assert!(err.detail.contains(expected), "{expected}: {}", err.detail);
    }
    let err = discover(json!({"detail": "oops"}), (200, resource_types())).unwrap_err();
    assert!(err.detail.contains("/Schemas is not a list"), "{}", err.detail);
    let missing = json!({"Resources": [{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": []}]});
    let err = discover(missing, (200, resource_types())).unwrap_err();
    assert!(err.detail.contains("which /Schemas does not define"), "{}", err.detail);
}

#[test]
fn an_unreadable_schema_is_the_requests_error() {
    let http = RecordedHttp::new().on("GET", &url("/Schemas"), 401, r#"{"detail": "bad token", "status": "401"}"#);
    let err = open(http).run(Operation::DiscoverSchema).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.detail.contains("Refresh Fields cannot read the schema"), "{}", err.detail);
}

fn custom(code: &str, required: bool) -> AttributeSpec {
    let mut a = AttributeSpec::new(&format!("IANUser:{code}"), &format!("{URN}:{code}"));
    a.required = required;
    a.mutability = Mutability::ReadWrite;
    a
}

fn record(attrs: &[(&str, &str)]) -> UserRecord {
    UserRecord {
        source_id: "g".into(),
        unique_id: "ada".into(),
        active: true,
        attributes: attrs.iter().map(|(k, v)| ((*k).to_owned(), AttributeValue::from(*v))).collect(),
        clear: vec![],
    }
}

#[test]
fn custom_fields_travel_in_their_extension_on_create_and_update() {
    let mut config =
        default_config(&AqueraConnector::manifest(), json!({"scim_url": BASE, "access_token": "aq-t"})).unwrap();
    // As the host hands them over: discovered fields, standard ones included.
    config.extra_attributes =
        vec![AttributeSpec::new("userName", "userName").required(), custom("officeLocation", false)];
    let current = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN], "id": "u1", "userName": "ada",
        "active": true, URN: {"officeLocation": "Paris", "badgeNumber": "7"}});
    let spc = json!({"patch": {"supported": true}, "etag": {"supported": false}});
    let http = RecordedHttp::new()
        .on("POST", &url("/Users"), 201, &current.to_string())
        .on("GET", &url("/ServiceProviderConfig"), 200, &spc.to_string())
        .on("GET", &url("/Users/u1"), 200, &current.to_string())
        .on("PUT", &url("/Users/u1"), 200, &current.to_string());
    let h = Harness::open_with::<AqueraConnector>(config, http).unwrap();
    h.run(Operation::CreateUser { user: record(&[("userName", "ada"), ("IANUser:officeLocation", "Paris")]) }).unwrap();
    let post = body(&h.requests()[0]);
    assert_eq!(post[URN], json!({"officeLocation": "Paris"}));
    assert!(post["schemas"].as_array().unwrap().contains(&json!(URN)));
    let update = record(&[("userName", "ada"), ("IANUser:officeLocation", "Lyon")]);
    h.run(Operation::UpdateUser { target_id: "u1".into(), user: update }).unwrap();
    let put = body(&h.requests()[3]);
    assert_eq!(put[URN], json!({"officeLocation": "Lyon", "badgeNumber": "7"}), "unmapped custom values survive");
}

#[test]
fn a_refused_group_creation_says_to_create_it_by_hand() {
    let refusal = r#"{"status": "403", "detail": "groups are read-only for this application"}"#;
    let h = open(RecordedHttp::new().on("POST", &url("/Groups"), 403, refusal));
    let group = GroupRecord { source_id: "g".into(), name: "Sales".into(), members: vec![] };
    let err = h.run(Operation::CreateGroup { group }).unwrap_err();
    assert!(
        err.detail.contains("create it at the target by hand") && err.detail.contains("read-only"),
        "{}",
        err.detail
    );
}

#[test]
fn groups_are_found_by_filter_first() {
    let filtered = url("/Groups?filter=displayName%20eq%20%22Sales%22&startIndex=1&count=1000");
    let list = json!({"totalResults": 1, "Resources": [{"id": "g1", "displayName": "Sales", "members": []}]});
    let h = open(RecordedHttp::new().on("GET", &filtered, 200, &list.to_string()));
    assert_eq!(h.run(Operation::FindGroup { name: "Sales".into() }).unwrap()["id"], "g1");
}

#[test]
fn the_token_is_sent_when_basic_credentials_are_also_set() {
    let list = json!({"totalResults": 0, "Resources": []});
    let http = RecordedHttp::new().on("GET", &url("/ServiceProviderConfig"), 404, "").on(
        "GET",
        &url("/Users?startIndex=1&count=1"),
        200,
        &list.to_string(),
    );
    let settings = json!({"scim_url": BASE, "access_token": "aq-t", "basic_username": "u", "basic_password": "p"});
    let h = Harness::open::<AqueraConnector>(settings, http).unwrap();
    h.run(Operation::TestConnection).unwrap();
    let auth = h.requests()[1].headers.iter().find(|(n, _)| n == "Authorization").map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some("Bearer aq-t"));
}
