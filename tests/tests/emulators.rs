//! The vendor emulators' own negative tests: each refuses every request its
//! vendor documents as refused (spec b.2.3, b.3, b.4), so the connector
//! tests against them cannot pass on something the vendor would reject.
//! Each also accepts the documented shapes, so a refusal means something.

use base64::Engine as _;
use provisio_e2e::emulators::aquera::{AqueraEmulator, IANUSER_URN};
use provisio_e2e::emulators::code42::Code42Emulator;
use provisio_e2e::emulators::contentful::ContentfulEmulator;
use provisio_e2e::emulators::{Auth, ENTERPRISE, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA};
use serde_json::{Value, json};

struct Answer {
    status: u16,
    body: Value,
}

fn call(method: &str, url: &str, auth: &str, body: Option<Value>) -> Answer {
    let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let mut req =
        client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url).header("Authorization", auth);
    if let Some(b) = body {
        req = req.header("Content-Type", "application/scim+json").body(b.to_string());
    }
    let r = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn basic(u: &str, p: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
}

fn refused(a: &Answer, status: u16, detail: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    let text = a.body["detail"].as_str().unwrap_or_default();
    assert!(text.contains(detail), "expected '{detail}' in {}", a.body);
}

// ------------------------------------------------------------ Contentful

fn cf_user(email: &str) -> Value {
    json!({"schemas": [USER_SCHEMA], "userName": email, "name": {"givenName": "Ada", "familyName": "Lovelace"}})
}

#[test]
fn contentful_accepts_the_documented_shapes_and_lists_itemsperpage_as_a_string() {
    let e = ContentfulEmulator::start();
    let (url, auth) = (e.scim_url(), bearer(&e.token));
    let created = call("POST", &format!("{url}/Users"), &auth, Some(cf_user("ada@example.org")));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let list = call("GET", &format!("{url}/Users?filter=userName%20eq%20%22ada%40example.org%22"), &auth, None);
    assert_eq!(list.status, 200);
    assert_eq!(list.body["itemsPerPage"], json!("1"), "itemsPerPage is a string: {}", list.body);
    let team = call(
        "POST",
        &format!("{url}/Groups"),
        &auth,
        Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Writers"})),
    );
    assert_eq!(team.status, 201, "{}", team.body);
    let tid = team.body["id"].as_str().unwrap().to_owned();
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"display": "Ada Lovelace", "value": id}]}]});
    assert_eq!(call("PATCH", &format!("{url}/Groups/{tid}"), &auth, Some(add)).status, 204);
    assert_eq!(e.tenant.get(&format!("/Groups/{tid}")).body["members"][0]["value"], json!(id));
    let remove =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "members", "value": [{"value": id}]}]});
    assert_eq!(call("PATCH", &format!("{url}/Groups/{tid}"), &auth, Some(remove)).status, 204);
    assert!(e.tenant.get(&format!("/Groups/{tid}")).body["members"].as_array().is_none_or(Vec::is_empty));
    let groups = call("GET", &format!("{url}/Groups?startIndex=1&count=10"), &auth, None);
    assert_eq!(groups.body["itemsPerPage"], json!("1"));
    assert!(e.front.refused().is_empty(), "{:?}", e.front.refused());
}

#[test]
fn contentful_refuses_a_wrong_token_and_every_user_change() {
    let e = ContentfulEmulator::start();
    let (url, auth) = (e.scim_url(), bearer(&e.token));
    refused(&call("GET", &format!("{url}/Users"), &bearer("CFPAT-wrong"), None), 401, "Authentication failed");
    refused(&call("GET", &format!("{url}/Users"), &basic("u", "p"), None), 401, "Authentication failed");
    let id = call("POST", &format!("{url}/Users"), &auth, Some(cf_user("ada@example.org"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut changed = cf_user("ada@example.org");
    changed["name"]["familyName"] = json!("Byron");
    refused(&call("PUT", &format!("{url}/Users/{id}"), &auth, Some(changed)), 400, "immutable");
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    refused(&call("PATCH", &format!("{url}/Users/{id}"), &auth, Some(patch)), 400, "immutable");
    assert_eq!(e.tenant.user(&id).unwrap()["name"]["familyName"], "Lovelace");
}

#[test]
fn contentful_creates_members_from_the_three_documented_attributes_only() {
    let e = ContentfulEmulator::start();
    let (users, auth) = (format!("{}/Users", e.scim_url()), bearer(&e.token));
    let with = |k: &str, v: Value| {
        let mut u = cf_user("x@example.org");
        u[k] = v;
        u
    };
    refused(&call("POST", &users, &auth, Some(with("active", json!(true)))), 400, "read-only");
    refused(&call("POST", &users, &auth, Some(with("emails", json!([{"value": "x@example.org"}])))), 400, "read-only");
    refused(&call("POST", &users, &auth, Some(with("title", json!("Boss")))), 400, "not a Contentful user attribute");
    refused(&call("POST", &users, &auth, Some(cf_user("ada"))), 400, "not an e-mail");
    refused(&call("POST", &users, &auth, Some(with("name", json!({"givenName": "Ada"})))), 400, "required");
    refused(&call("POST", &users, &auth, Some(with("schemas", json!([USER_SCHEMA, ENTERPRISE])))), 400, "schemas");
    refused(&call("GET", &format!("{users}?filter=title%20eq%20%22x%22"), &auth, None), 400, "userName eq");
    refused(&call("GET", &format!("{}/ServiceProviderConfig", e.scim_url()), &auth, None), 404, "not a Contentful");
    assert!(e.tenant.users().is_empty());
}

#[test]
fn contentful_teams_take_patch_on_members_with_display_and_value_only() {
    let e = ContentfulEmulator::start();
    let (url, auth) = (e.scim_url(), bearer(&e.token));
    let id = call("POST", &format!("{url}/Users"), &auth, Some(cf_user("ada@example.org"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tid = e.tenant.create_group(json!({"displayName": "Writers"}));
    let team = format!("{url}/Groups/{tid}");
    let op = |op: Value| json!({"schemas": [PATCH_OP], "Operations": [op]});
    refused(&call("PUT", &team, &auth, Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "W"}))), 405, "PATCH");
    let rename = op(json!({"op": "replace", "path": "displayName", "value": "Authors"}));
    refused(&call("PATCH", &team, &auth, Some(rename)), 400, "must be 'members'");
    let filtered = op(json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}));
    refused(&call("PATCH", &team, &auth, Some(filtered)), 400, "must be 'members'");
    let no_display = op(json!({"op": "add", "path": "members", "value": [{"value": id}]}));
    refused(&call("PATCH", &team, &auth, Some(no_display)), 400, "needs a display");
    let wrong_display = op(json!({"op": "add", "path": "members", "value": [{"value": id, "display": "Someone"}]}));
    refused(&call("PATCH", &team, &auth, Some(wrong_display)), 400, "is called 'Ada Lovelace'");
    let stranger = op(json!({"op": "add", "path": "members", "value": [{"value": "nobody", "display": "No Body"}]}));
    refused(&call("PATCH", &team, &auth, Some(stranger)), 400, "not a user");
    let bad_op = op(json!({"op": "move", "path": "members", "value": []}));
    refused(&call("PATCH", &team, &auth, Some(bad_op)), 400, "not add, remove or replace");
    let members = json!([{"value": id, "display": "Ada Lovelace"}]);
    let extra = json!({"schemas": [GROUP_SCHEMA], "displayName": "Editors", "externalId": "x", "members": members});
    refused(&call("POST", &format!("{url}/Groups"), &auth, Some(extra)), 400, "not a team attribute");
    refused(
        &call("GET", &format!("{url}/Groups?filter=displayName%20eq%20%22W%22"), &auth, None),
        400,
        "not supported",
    );
    assert_eq!(e.tenant.get(&format!("/Groups/{tid}")).body["displayName"], "Writers");
}

#[test]
fn contentful_deleting_a_member_removes_its_team_memberships() {
    let e = ContentfulEmulator::start();
    let (url, auth) = (e.scim_url(), bearer(&e.token));
    let id = call("POST", &format!("{url}/Users"), &auth, Some(cf_user("ada@example.org"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tid = e.tenant.create_group(json!({"displayName": "Writers", "members": [{"value": id}]}));
    assert_eq!(call("DELETE", &format!("{url}/Users/{id}"), &auth, None).status, 204);
    assert!(e.tenant.user(&id).is_none());
    assert!(e.tenant.get(&format!("/Groups/{tid}")).body["members"].as_array().is_none_or(Vec::is_empty));
}

// ------------------------------------------------------------ Code42

fn c42_user(name: &str) -> Value {
    json!({"schemas": [USER_SCHEMA, ENTERPRISE], "userName": name, "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"type": "work", "value": name}], "title": "Analyst", "externalId": "g1",
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Minneapolis", "region": "MN", "postalCode": "55401", "country": "US"}],
        "active": true, ENTERPRISE: {"division": "D", "department": "Dept"}})
}

#[test]
fn code42_accepts_its_documented_attributes_and_a_manager_by_user_id() {
    let e = Code42Emulator::start();
    let (users, auth) = (format!("{}/Users", e.base_url()), bearer(e.token()));
    let boss = call("POST", &users, &auth, Some(c42_user("boss@example.org")));
    assert_eq!(boss.status, 201, "{}", boss.body);
    let boss_id = boss.body["id"].as_str().unwrap().to_owned();
    let mut ada = c42_user("ada@example.org");
    ada[ENTERPRISE]["manager"] = json!({"value": boss_id});
    ada["userType"] = json!("Employee");
    let created = call("POST", &users, &auth, Some(ada.clone()));
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.get("userType").is_none(), "userType is dropped");
    let id = created.body["id"].as_str().unwrap();
    ada["active"] = json!(false);
    ada["id"] = json!(id);
    assert_eq!(call("PUT", &format!("{users}/{id}"), &auth, Some(ada)).status, 200, "deactivation by PUT");
    assert_eq!(e.tenant.user(id).unwrap()["active"], false);
    assert_eq!(call("GET", &format!("{}/ServiceProviderConfig", e.base_url()), &auth, None).status, 200);
    assert!(e.front.refused().is_empty(), "{:?}", e.front.refused());
}

#[test]
fn code42_refuses_delete_patch_inactive_creation_and_undocumented_attributes() {
    let e = Code42Emulator::start();
    let (users, auth) = (format!("{}/Users", e.base_url()), bearer(e.token()));
    refused(&call("GET", &users, &bearer("c42-wrong"), None), 401, "Authentication failed");
    let id = call("POST", &users, &auth, Some(c42_user("ada@example.org"))).body["id"].as_str().unwrap().to_owned();
    refused(&call("DELETE", &format!("{users}/{id}"), &auth, None), 405, "does not support deleting users");
    assert!(e.tenant.user(&id).is_some(), "the user survives");
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    refused(&call("PATCH", &format!("{users}/{id}"), &auth, Some(patch)), 405, "PUT");
    let mut inactive = c42_user("bob@example.org");
    inactive["active"] = json!(false);
    refused(&call("POST", &users, &auth, Some(inactive)), 400, "cannot create a deactivated user");
    let mut nick = c42_user("carl@example.org");
    nick["nickName"] = json!("C");
    refused(&call("POST", &users, &auth, Some(nick)), 400, "not an attribute Code42 supports");
    let mut home = c42_user("dora@example.org");
    home["emails"] = json!([{"type": "home", "value": "d@home.org"}]);
    refused(&call("POST", &users, &auth, Some(home)), 400, "work e-mail only");
    let mut dn = c42_user("erin@example.org");
    dn[ENTERPRISE]["manager"] = json!({"value": "uid=boss,ou=people,dc=example,dc=org"});
    refused(&call("POST", &users, &auth, Some(dn)), 400, "not the Code42 user id");
    let mut country = c42_user("fay@example.org");
    country["addresses"][0]["country"] = json!("France");
    refused(&call("POST", &users, &auth, Some(country)), 400, "ISO 3166-1");
    let mut cost = c42_user("gil@example.org");
    cost[ENTERPRISE]["costCenter"] = json!("42");
    refused(&call("POST", &users, &auth, Some(cost)), 400, "not an attribute Code42 supports");
    refused(&call("GET", &format!("{}/Groups", e.base_url()), &auth, None), 404, "no groups");
    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "G"});
    refused(&call("POST", &format!("{}/Groups", e.base_url()), &auth, Some(group)), 404, "no groups");
    assert_eq!(e.tenant.users().len(), 1);
}

#[test]
fn code42_with_basic_credentials_refuses_a_bearer_token() {
    let e = Code42Emulator::start_basic("svc", "s3cret");
    let users = format!("{}/Users", e.base_url());
    assert_eq!(call("GET", &users, &basic("svc", "s3cret"), None).status, 200);
    refused(&call("GET", &users, &basic("svc", "wrong"), None), 401, "Authentication failed");
    refused(&call("GET", &users, &bearer("s3cret"), None), 401, "Authentication failed");
}

// ------------------------------------------------------------ Aquera

fn aq_user(name: &str, ext: Value) -> Value {
    json!({"schemas": [USER_SCHEMA, IANUSER_URN], "userName": name, IANUSER_URN: ext})
}

#[test]
fn aquera_serves_the_ianuser_schema_and_the_real_server_validates_it() {
    let e = AqueraEmulator::start();
    let Auth::Bearer(token) = e.auth.clone() else { unreachable!() };
    let (url, auth) = (e.scim_url(), bearer(&token));
    let schemas = call("GET", &format!("{url}/Schemas"), &auth, None);
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(ids.contains(&IANUSER_URN), "{ids:?}");
    let types = call("GET", &format!("{url}/ResourceTypes"), &auth, None);
    assert!(types.body.to_string().contains(IANUSER_URN));
    let ok = call(
        "POST",
        &format!("{url}/Users"),
        &auth,
        Some(aq_user("ada", json!({"officeLocation": "Paris", "badgeNumber": "7"}))),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    let missing =
        call("POST", &format!("{url}/Users"), &auth, Some(aq_user("bob", json!({"officeLocation": "Paris"}))));
    assert_eq!(missing.status, 400, "badgeNumber is required: {}", missing.body);
    let unknown = call(
        "POST",
        &format!("{url}/Users"),
        &auth,
        Some(aq_user("carl", json!({"badgeNumber": "1", "shoeSize": "44"}))),
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(e.tenant.users().len(), 1);
}

#[test]
fn aquera_refuses_wrong_credentials_user_patch_and_on_request_group_creation() {
    let e = AqueraEmulator::start_with(Auth::Basic("svc".into(), "pw".into()));
    let url = e.scim_url();
    let auth = basic("svc", "pw");
    refused(&call("GET", &format!("{url}/Users"), &bearer("pw"), None), 401, "Authentication failed");
    let id = call("POST", &format!("{url}/Users"), &auth, Some(json!({"schemas": [USER_SCHEMA], "userName": "ada"})))
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    refused(&call("PATCH", &format!("{url}/Users/{id}"), &auth, Some(patch)), 501, "PATCH on users");
    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales"});
    assert_eq!(call("POST", &format!("{url}/Groups"), &auth, Some(group.clone())).status, 201);
    e.refuse_group_creation(true);
    refused(&call("POST", &format!("{url}/Groups"), &auth, Some(group)), 403, "does not allow creating groups");

    let both = AqueraEmulator::start_with(Auth::Both("tok".into(), "svc".into(), "pw".into()));
    assert_eq!(call("GET", &format!("{}/Users", both.scim_url()), &bearer("tok"), None).status, 200);
    assert_eq!(call("GET", &format!("{}/Users", both.scim_url()), &basic("svc", "pw"), None).status, 200);
}

#[test]
fn aquera_can_serve_an_invalid_schema() {
    let e = AqueraEmulator::start();
    let Auth::Bearer(token) = e.auth.clone() else { unreachable!() };
    e.serve_broken_schema(true);
    let schemas = call("GET", &format!("{}/Schemas", e.scim_url()), &bearer(&token), None);
    let custom = schemas.body["Resources"].as_array().unwrap().iter().find(|s| s["id"] == IANUSER_URN).unwrap().clone();
    assert!(custom["attributes"][0].get("name").is_none());
}
