//! Unit tests of the SCIM connector's operations against recorded HTTP
//! exchanges: every operation, and the target quirks of spec c.1–c.10 and
//! test-peers.md ("Quirks a SCIM client must handle").

mod auth;
mod connection;
mod groups;
mod users;

use crate::ScimConnector;
use provisio_core::host::{HttpRequest, HttpResponse};
use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp, default_config};
use serde_json::{Value, json};

pub const BASE: &str = "https://scim.example/v2";
pub const USERS: &str = "https://scim.example/v2/Users";
pub const GROUPS: &str = "https://scim.example/v2/Groups";
pub const SPC: &str = "https://scim.example/v2/ServiceProviderConfig";

/// A ServiceProviderConfig with PATCH and ETags as given.
pub fn spc(patch: bool, etag: bool) -> String {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": patch},
        "etag": {"supported": etag},
        "filter": {"supported": true, "maxResults": 1000},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "changePassword": {"supported": false},
        "sort": {"supported": false}
    })
    .to_string()
}

/// Open the connector on `BASE` with extra `settings`.
pub fn open(settings: Value, http: RecordedHttp) -> Harness {
    let mut s = json!({"scim_url": format!("{BASE}/")});
    if let (Some(map), Value::Object(extra)) = (s.as_object_mut(), settings) {
        map.extend(extra);
    }
    Harness::open::<ScimConnector>(s, http).expect("the connector opens")
}

/// Open with a complete configuration built from `settings`, adjusted by `f`.
pub fn open_with(settings: Value, f: impl FnOnce(&mut ConnectorConfig), http: RecordedHttp) -> Harness {
    let mut s = json!({"scim_url": BASE});
    if let (Some(map), Value::Object(extra)) = (s.as_object_mut(), settings) {
        map.extend(extra);
    }
    let mut config = default_config(&ScimConnector::manifest(), s).unwrap();
    f(&mut config);
    Harness::open_with::<ScimConnector>(config, http).expect("the connector opens")
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

pub fn body(request: &HttpRequest) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON request body")
}

/// A list response with these resources and totals given as strings, and
/// an `itemsPerPage` that lies.
pub fn list(total: usize, resources: Value) -> String {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total.to_string(),
        "itemsPerPage": "1000",
        "startIndex": "1",
        "Resources": resources
    })
    .to_string()
}

pub fn user(id: &str, user_name: &str, active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "userName": user_name,
        "active": active,
        "meta": {"resourceType": "User", "location": format!("{USERS}/{id}")}
    })
}

pub fn record(user_name: &str, active: bool, attributes: &[(&str, &str)]) -> UserRecord {
    let mut attrs: Attributes = attributes.iter().map(|(k, v)| ((*k).to_owned(), AttributeValue::from(*v))).collect();
    attrs.insert("userName".into(), AttributeValue::from(user_name));
    UserRecord {
        source_id: format!("guid-{user_name}"),
        unique_id: user_name.into(),
        active,
        attributes: attrs,
        clear: vec![],
    }
}

/// Every scripted exchange was used.
pub fn done(h: &Harness) {
    assert_eq!(h.unused_exchanges(), 0, "unused exchanges; requests: {:#?}", h.requests());
}
