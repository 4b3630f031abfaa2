//! Unit tests of the Contentful operations against recorded HTTP: the
//! shapes Contentful documents (spec b.2.3), and the refusals.

use crate::ContentfulConnector;
use provisio_core::host::{HostServices, HttpRequest, HttpResponse, LogLevel};
use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp, default_config};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

const BASE: &str = "https://api.contentful.com/scim/v2/organizations/0rg";
const USERS: &str = "https://api.contentful.com/scim/v2/organizations/0rg/Users";
const GROUPS: &str = "https://api.contentful.com/scim/v2/organizations/0rg/Groups";

fn open(http: RecordedHttp) -> Harness {
    Harness::open::<ContentfulConnector>(json!({"scim_url": BASE, "access_token": "CFPAT-t"}), http).unwrap()
}

fn body(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

/// Contentful's list response: `itemsPerPage` as a string.
fn list(resources: Value) -> String {
    let n = resources.as_array().map_or(0, Vec::len);
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": n, "itemsPerPage": n.to_string(), "startIndex": 1, "Resources": resources
    })
    .to_string()
}

fn member(id: &str, email: &str, first: &str, last: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id, "userName": email, "name": {"givenName": first, "familyName": last},
        "active": true, "emails": [{"value": email}]
    })
}

fn team(id: &str, name: &str, members: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": id, "displayName": name, "members": members})
}

fn record(email: &str) -> UserRecord {
    let mut attributes = Attributes::new();
    attributes.insert("userName".into(), email.into());
    attributes.insert("givenName".into(), "Ada".into());
    attributes.insert("familyName".into(), "Lovelace".into());
    attributes.insert("workEmail".into(), email.into());
    UserRecord { source_id: "g".into(), unique_id: email.into(), active: true, attributes, clear: vec![] }
}

#[test]
fn the_activation_check_lists_one_user_with_the_token_and_nothing_else() {
    let url = format!("{USERS}?startIndex=1&count=1");
    let h = open(RecordedHttp::new().on("GET", &url, 200, &list(json!([member("u1", "a@x.io", "A", "B")]))));
    let report = h.run(Operation::TestConnection).unwrap();
    assert!(report["summary"].as_str().unwrap().contains("answered 200"), "{report}");
    let requests = h.requests();
    assert_eq!(requests.len(), 1, "no ServiceProviderConfig is asked for: {requests:?}");
    assert!(requests[0].headers.iter().any(|(n, v)| n == "Authorization" && v == "Bearer CFPAT-t"));
}

#[test]
fn a_member_is_found_by_e_mail_and_created_with_the_documented_fields_only() {
    let filter = format!("{USERS}?filter=userName%20eq%20%22ada%40x.io%22");
    let http = RecordedHttp::new().on("GET", &filter, 200, &list(json!([]))).on(
        "POST",
        USERS,
        201,
        &member("u7", "ada@x.io", "Ada", "Lovelace").to_string(),
    );
    let h = open(http);
    assert_eq!(h.run(Operation::FindUser { unique_id: "ada@x.io".into() }).unwrap(), Value::Null);
    let created = h.run(Operation::CreateUser { user: record("ada@x.io") }).unwrap();
    assert_eq!(created["id"], "u7");
    assert_eq!(
        body(&h.requests()[1]),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@x.io",
            "name": {"givenName": "Ada", "familyName": "Lovelace"}
        }),
        "no active (read-only), no emails (read-only)"
    );
}

#[test]
fn a_member_is_removed_with_delete() {
    let url = format!("{USERS}/u7");
    let h = open(RecordedHttp::new().on("DELETE", &url, 204, "").on("DELETE", &url, 404, ""));
    h.run(Operation::DeleteUser { target_id: "u7".into() }).unwrap();
    h.run(Operation::DeleteUser { target_id: "u7".into() }).unwrap();
}

#[test]
fn update_disable_and_enable_are_not_offered() {
    let h = open(RecordedHttp::new());
    for op in [
        Operation::UpdateUser { target_id: "u".into(), user: record("a@x.io") },
        Operation::DisableUser { target_id: "u".into() },
        Operation::EnableUser { target_id: "u".into() },
    ] {
        assert_eq!(h.run(op).unwrap_err().kind, ErrorKind::Unsupported);
    }
    assert!(h.requests().is_empty());
}

struct NoHttp;

impl HostServices for NoHttp {
    fn http(&self, r: HttpRequest) -> Pin<Box<dyn Future<Output = Result<HttpResponse, ConnectorError>> + Send>> {
        Box::pin(std::future::ready(Err(ConnectorError::internal(format!("unexpected {} {}", r.method, r.url)))))
    }
    fn sleep(&self, _: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(std::future::ready(()))
    }
    fn now_unix_ms(&self) -> u64 {
        0
    }
    fn log(&self, _: LogLevel, _: &str) {}
}

/// Poll a future that completes without waiting.
fn now<T>(f: impl Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the refusal should not wait"),
    }
}

#[test]
fn called_directly_update_and_disable_are_refused_with_the_reason() {
    let config =
        default_config(&ContentfulConnector::manifest(), json!({"scim_url": BASE, "access_token": "t"})).unwrap();
    let c = ContentfulConnector::open(config, Host::new(NoHttp)).unwrap();
    let err = now(c.update_user("u", &record("a@x.io"))).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(err.detail.contains("immutable"), "{}", err.detail);
    let err = now(c.disable_user("u")).unwrap_err();
    assert!(err.detail.contains("read-only"), "{}", err.detail);
    assert!(now(c.enable_user("u")).unwrap_err().detail.contains("read-only"));
}

#[test]
fn a_team_is_created_by_name_then_its_members_added_with_display_and_value() {
    let http = RecordedHttp::new()
        .on("GET", &format!("{USERS}/u1"), 200, &member("u1", "ada@x.io", "Ada", "Lovelace").to_string())
        .on("GET", &format!("{USERS}/u2"), 200, &member("u2", "alan@x.io", "Alan", "Turing").to_string())
        .on("POST", GROUPS, 201, &team("t1", "Writers", json!([])).to_string())
        .on("PATCH", &format!("{GROUPS}/t1"), 204, "");
    let h = open(http);
    let group = GroupRecord { source_id: "g".into(), name: "Writers".into(), members: vec!["u1".into(), "u2".into()] };
    let out = h.run(Operation::CreateGroup { group }).unwrap();
    assert_eq!(out["id"], "t1");
    let r = h.requests();
    assert_eq!(
        body(&r[2]),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Writers"})
    );
    assert_eq!(
        body(&r[3]),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "add", "path": "members", "value": [
                {"value": "u1", "display": "Ada Lovelace"}, {"value": "u2", "display": "Alan Turing"}
            ]}
        ]})
    );
}

#[test]
fn membership_changes_patch_members_only_and_a_rename_is_not_pushed() {
    let url = format!("{GROUPS}/t1");
    let current = team("t1", "Writers", json!([{"value": "u1", "display": "Ada Lovelace"}, {"value": "u3"}]));
    let http = RecordedHttp::new()
        .on("GET", &url, 200, &current.to_string())
        .on("GET", &format!("{USERS}/u2"), 200, &member("u2", "alan@x.io", "Alan", "Turing").to_string())
        .on("GET", &url, 200, &current.to_string())
        .on("PATCH", &url, 204, "");
    let h = open(http);
    let group = GroupRecord { source_id: "g".into(), name: "Authors".into(), members: vec!["u1".into(), "u2".into()] };
    let op = Operation::UpdateGroup { target_id: "t1".into(), group, added: vec!["u2".into()], removed: vec![] };
    h.run(op).unwrap();
    let patch = body(&h.requests()[3]);
    assert_eq!(
        patch["Operations"],
        json!([
            {"op": "add", "path": "members", "value": [{"value": "u2", "display": "Alan Turing"}]},
            {"op": "remove", "path": "members", "value": [{"value": "u3"}]}
        ])
    );
    let logs = h.logs();
    assert!(logs.iter().any(|(l, m)| *l == LogLevel::Warn && m.contains("not renamed")), "{logs:?}");
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn teams_are_listed_with_itemsperpage_as_a_string_and_deleted() {
    let page = format!("{GROUPS}?startIndex=1&count=1000");
    let http = RecordedHttp::new()
        .on("GET", &page, 200, &list(json!([team("t1", "Writers", json!([])), team("t2", "Editors", json!([]))])))
        .on("DELETE", &format!("{GROUPS}/t2"), 204, "");
    let h = open(http);
    assert_eq!(h.run(Operation::FindGroup { name: "Editors".into() }).unwrap()["id"], "t2");
    h.run(Operation::DeleteGroup { target_id: "t2".into() }).unwrap();
}

#[test]
fn a_refused_token_is_an_auth_error() {
    let url = format!("{USERS}?startIndex=1&count=1");
    let refusal =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "Invalid token"});
    let h = open(RecordedHttp::new().on("GET", &url, 401, &refusal.to_string()));
    let err = h.run(Operation::TestConnection).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.detail.contains("Invalid token"), "{}", err.detail);
}
