//! Unit tests of the PingID operations through the SDK's [`Harness`]:
//! the exact signed request (a known-answer vector computed outside this
//! crate), the request shapes of each operation, EditUser's merge, device
//! Merge/Overwrite, Primary Device on Create, and the handling of PingID's
//! answers (`errorId`s, plain-JSON errors, bad signatures, HTTP 401).

use provisio_core::prelude::*;
use provisio_core::testing::{Harness, RecordedHttp};
use serde_json::{Value, json};

use crate::PingIdConnector;
use crate::jws;

const KEY_B64: &str = "+yBFao+02f4jSG2St9wBJktwlbrfBClOc5i94gcsUXY=";
const BASE: &str = "https://idpxnyl3m.pingidentity.com/pingid";
/// The known-answer JWS of GetUserDetails for `alice` at the harness's clock
/// (2026-01-01 00:00:00.000 UTC), computed with Python's hmac and base64.
const ALICE_LOOKUP: &str = "eyJhbGciOiJIUzI1NiIsIm9yZ19hbGlhcyI6Im9yZy1hbGlhcy0xIiwidG9rZW4iOiJ0b2tlbi0xIn0.eyJyZXFIZWFkZXIiOnsibG9jYWxlIjoiZW4iLCJvcmdBbGlhcyI6Im9yZy1hbGlhcy0xIiwic2VjcmV0S2V5IjoidG9rZW4tMSIsInRpbWVzdGFtcCI6IjIwMjYtMDEtMDEgMDA6MDA6MDAuMDAwIiwidmVyc2lvbiI6IjQuOSJ9LCJyZXFCb2R5Ijp7ImdldFNhbWVEZXZpY2VVc2VycyI6ZmFsc2UsInVzZXJOYW1lIjoiYWxpY2UifX0.GeiMKttKI-oNRz4ow3RKCukLRV1IMi3VcFCIMeCZAFw";

fn properties() -> String {
    // As PingOne writes it: `=` and `:` escaped.
    format!(
        "#Auto-Generated\nuse_base64_key={}\nuse_signature=true\ntoken=token-1\nidp_url=https\\://idpxnyl3m.pingidentity.com/pingid\norg_alias=org-alias-1\n",
        KEY_B64.replace('=', "\\=")
    )
}

fn key() -> Vec<u8> {
    jws::decode_key(KEY_B64).unwrap()
}

fn url(segment: &str) -> String {
    format!("{BASE}/rest/4/{segment}/do")
}

/// A signed PingID answer with `body` as its responseBody (errorId 200 unless given).
fn answer(mut body: Value) -> String {
    if body.get("errorId").is_none() {
        body["errorId"] = json!(200);
        body["errorMsg"] = json!("OK");
    }
    body["uniqueMsgId"] = json!("webs_test");
    body["clientData"] = Value::Null;
    let header = br#"{"alg":"HS256","org_alias":"org-alias-1","token":"token-1"}"#;
    jws::sign(&key(), header, &serde_json::to_vec(&json!({ "responseBody": body })).unwrap())
}

fn ok() -> String {
    answer(json!({}))
}

fn error(id: i64, msg: &str) -> String {
    answer(json!({"errorId": id, "errorMsg": msg}))
}

fn details(name: &str, status: &str, devices: Value) -> String {
    answer(json!({"userDetails": {
        "userName": name, "email": "old@example.org", "fname": "Old", "lname": "Keep", "status": status,
        "role": "ADMIN", "userEnabled": true, "lastLogin": null, "spList": [], "deviceDetails": null,
        "devicesDetails": devices
    }}))
}

fn open(settings: Value, http: RecordedHttp) -> Harness {
    let mut s = json!({"pingid_properties": properties()});
    s.as_object_mut().unwrap().extend(settings.as_object().cloned().unwrap_or_default());
    Harness::open::<PingIdConnector>(s, http).unwrap()
}

/// (operation path segment, reqBody) of every request sent, checking each signature and header.
fn sent(h: &Harness) -> Vec<(String, Value)> {
    h.requests()
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            assert!(r.headers.iter().any(|(k, v)| k == "Content-Type" && v == "application/json"));
            let v = jws::verify(&key(), std::str::from_utf8(&r.body).unwrap()).expect("a signed request");
            assert_eq!(v.header, json!({"alg": "HS256", "org_alias": "org-alias-1", "token": "token-1"}));
            let rh = &v.payload["reqHeader"];
            assert_eq!(
                (rh["orgAlias"].as_str(), rh["secretKey"].as_str(), rh["version"].as_str()),
                (Some("org-alias-1"), Some("token-1"), Some("4.9"))
            );
            let segment = r.url.trim_start_matches(&format!("{BASE}/rest/4/")).trim_end_matches("/do").to_owned();
            (segment, v.payload["reqBody"].clone())
        })
        .collect()
}

fn user(name: &str, active: bool, attrs: &[(&str, &str)]) -> UserRecord {
    let mut attributes: Attributes = attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect();
    attributes.insert("Username".into(), name.into());
    UserRecord { source_id: format!("guid-{name}"), unique_id: name.into(), active, attributes, clear: vec![] }
}

#[test]
fn find_user_sends_the_known_answer_request_and_reads_the_user() {
    let devices = json!([{"deviceId": 7, "nickname": "Email 1", "type": "EMAIL", "email": "a@example.org", "deviceRole": "PRIMARY"}]);
    let http = RecordedHttp::new().on("POST", &url("getuserdetails"), 200, &details("alice", "SUSPENDED", devices));
    let h = open(json!({}), http);
    let found = h.run(Operation::FindUser { unique_id: "alice".into() }).unwrap();
    assert_eq!(std::str::from_utf8(&h.requests()[0].body).unwrap(), ALICE_LOOKUP);
    assert_eq!(found["id"], "alice");
    assert_eq!(found["active"], false);
    assert_eq!(found["attributes"]["First Name"], "Old");
    assert_eq!(found["attributes"]["MFA Email 1"], "a@example.org");
}

#[test]
fn a_user_that_does_not_exist_is_not_found_and_test_connection_succeeds_on_it() {
    let http = RecordedHttp::new().on("POST", &url("getuserdetails"), 400, &error(10564, "User does not exist.")).on(
        "POST",
        &url("getuserdetails"),
        400,
        &error(10564, "User does not exist."),
    );
    let h = open(json!({}), http);
    assert_eq!(h.run(Operation::FindUser { unique_id: "nobody".into() }).unwrap(), Value::Null);
    let report = h.run(Operation::TestConnection).unwrap();
    assert!(report["summary"].as_str().unwrap().contains("org-alias-1"), "{report}");
    assert!(sent(&h)[1].1["userName"].as_str().unwrap().starts_with("provisio-connection-check-"));
}

#[test]
fn create_adds_pairs_names_sets_primary_and_suspends_a_disabled_user() {
    let mut http = RecordedHttp::new().on("POST", &url("adduser"), 200, &ok());
    for id in [11, 12] {
        http = http.on("POST", &url("offlinepairing"), 200, &answer(json!({"deviceId": id, "deviceUuid": "u"})));
        http = http.on("POST", &url("updatedeviceattr"), 200, &ok());
        if id == 12 {
            http = http.on("POST", &url("updatedeviceattr"), 200, &ok());
        }
    }
    http = http.on("POST", &url("suspenduser"), 200, &ok());
    let h = open(json!({"manage_devices": "merge", "primary_device_on_create": "mfa_sms_number_1"}), http);
    let u = user(
        "bob",
        false,
        &[
            ("First Name", "Bob"),
            ("Email", "bob@example.org"),
            ("MFA Email 1", "bob@example.org"),
            ("MFA SMS Number 1", "+1 555 0100"),
        ],
    );
    let created = h.run(Operation::CreateUser { user: u }).unwrap();
    assert_eq!((created["id"].as_str(), created["active"].as_bool()), (Some("bob"), Some(false)));
    let s = sent(&h);
    assert_eq!(
        s[0].1,
        json!({"activateUser": false, "username": "bob", "fname": "Bob", "email": "bob@example.org", "role": "REGULAR"})
    );
    assert_eq!(s[1].1, json!({"username": "bob", "type": "EMAIL", "pairingData": "bob@example.org"}));
    assert_eq!(
        s[2].1,
        json!({"userName": "bob", "deviceId": 11, "attributeName": "NICKNAME", "attributeValue": "Email 1"})
    );
    assert_eq!(s[3].1["type"], "SMS");
    assert_eq!(s[4].1["attributeValue"], "SMS Number 1");
    assert_eq!(
        s[5].1,
        json!({"userName": "bob", "deviceId": 12, "attributeName": "SET_PRIMARY", "attributeValue": "true"})
    );
    assert_eq!(s[6], ("suspenduser".to_owned(), json!({"userName": "bob"})));
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn do_not_manage_pairs_nothing_and_an_existing_user_is_a_conflict() {
    let http = RecordedHttp::new().on("POST", &url("adduser"), 200, &ok()).on(
        "POST",
        &url("adduser"),
        400,
        &error(10556, "User already exists."),
    );
    let h = open(json!({"primary_device_on_create": "mfa_email_1"}), http);
    let u = user("carol", true, &[("MFA Email 1", "carol@example.org")]);
    h.run(Operation::CreateUser { user: u.clone() }).unwrap();
    assert_eq!(h.requests().len(), 1);
    assert_eq!(h.run(Operation::CreateUser { user: u }).unwrap_err().kind, ErrorKind::Conflict);
}

#[test]
fn edit_user_merges_the_mapped_values_over_the_current_record() {
    let http = RecordedHttp::new()
        .on("POST", &url("getuserdetails"), 200, &details("dave", "ACTIVE", json!([])))
        .on("POST", &url("edituser"), 200, &ok())
        .on("POST", &url("getuserdetails"), 200, &details("dave", "ACTIVE", json!([])));
    let h = open(json!({}), http);
    h.run(Operation::UpdateUser { target_id: "dave".into(), user: user("dave", true, &[("First Name", "New")]) })
        .unwrap();
    assert_eq!(
        sent(&h)[1].1,
        json!({"userName": "dave", "fname": "New", "lname": "Keep", "email": "old@example.org", "role": "ADMIN", "activateUser": false})
    );
    // Nothing changed: no EditUser at all.
    h.run(Operation::UpdateUser { target_id: "dave".into(), user: user("dave", true, &[("First Name", "Old")]) })
        .unwrap();
    assert_eq!(h.requests().len(), 3);
}

#[test]
fn a_username_change_is_refused_before_anything_is_sent() {
    let h = open(json!({}), RecordedHttp::new());
    let err = h.run(Operation::UpdateUser { target_id: "erin".into(), user: user("erin2", true, &[]) }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.detail.contains("PingID usernames cannot change"), "{}", err.detail);
    assert!(h.requests().is_empty());
}

#[test]
fn update_reconciles_the_status() {
    let http = RecordedHttp::new()
        .on("POST", &url("getuserdetails"), 200, &details("fay", "SUSPENDED", json!([])))
        .on("POST", &url("activateuser"), 200, &ok())
        .on("POST", &url("getuserdetails"), 200, &details("fay", "ACTIVE", json!([])))
        .on("POST", &url("suspenduser"), 200, &ok());
    let h = open(json!({}), http);
    h.run(Operation::UpdateUser { target_id: "fay".into(), user: user("fay", true, &[]) }).unwrap();
    h.run(Operation::UpdateUser { target_id: "fay".into(), user: user("fay", false, &[]) }).unwrap();
    assert_eq!(h.unused_exchanges(), 0);
}

fn existing_devices() -> Value {
    json!([
        {"deviceId": 1, "nickname": "Email 1", "type": "EMAIL", "email": "gus@example.org", "deviceRole": "PRIMARY"},
        {"deviceId": 2, "nickname": "SMS Number 1", "type": "SMS", "phoneNumber": "+1 555 0100", "deviceRole": "SECONDARY"},
        {"deviceId": 3, "nickname": "My iPhone", "type": "iPhone", "deviceRole": "SECONDARY"}
    ])
}

#[test]
fn merge_replaces_only_the_changed_managed_device() {
    let http = RecordedHttp::new()
        .on("POST", &url("getuserdetails"), 200, &details("gus", "ACTIVE", existing_devices()))
        .on("POST", &url("unpairdevice"), 200, &ok())
        .on("POST", &url("offlinepairing"), 200, &answer(json!({"deviceId": 9})))
        .on("POST", &url("updatedeviceattr"), 200, &ok());
    let h = open(json!({"manage_devices": "merge", "primary_device_on_create": "mfa_sms_number_1"}), http);
    let u = user("gus", true, &[("MFA Email 1", "GUS@example.org"), ("MFA SMS Number 1", "+1 555 0199")]);
    h.run(Operation::UpdateUser { target_id: "gus".into(), user: u }).unwrap();
    let s = sent(&h);
    assert_eq!(s[1], ("unpairdevice".to_owned(), json!({"userName": "gus", "deviceId": 2})));
    assert_eq!(s[2].1["pairingData"], "+1 555 0199");
    assert_eq!(s[3].1["attributeValue"], "SMS Number 1");
    assert_eq!(s.len(), 4, "no SET_PRIMARY on update, the iPhone is kept: {s:?}");
}

#[test]
fn overwrite_also_unpairs_unmanaged_devices_one_by_one() {
    let http = RecordedHttp::new()
        .on("POST", &url("getuserdetails"), 200, &details("gus", "ACTIVE", existing_devices()))
        .on("POST", &url("unpairdevice"), 200, &ok());
    let h = open(json!({"manage_devices": "overwrite"}), http);
    let u = user("gus", true, &[("MFA Email 1", "gus@example.org"), ("MFA SMS Number 1", "+15550100")]);
    h.run(Operation::UpdateUser { target_id: "gus".into(), user: u }).unwrap();
    let s = sent(&h);
    assert_eq!(s[1].1, json!({"userName": "gus", "deviceId": 3}));
    assert!(s.iter().all(|(op, b)| op != "unpairdevice" || !b["deviceId"].is_null()));
}

#[test]
fn disable_enable_and_delete_are_idempotent() {
    let http = RecordedHttp::new()
        .on("POST", &url("suspenduser"), 400, &error(10561, "The user is not active and cannot be suspended."))
        .on("POST", &url("getuserdetails"), 200, &details("hal", "SUSPENDED", json!([])))
        .on("POST", &url("activateuser"), 400, &error(10562, "Active user can not be activated again."))
        .on("POST", &url("deleteuser"), 400, &error(10564, "User does not exist."));
    let h = open(json!({}), http);
    h.run(Operation::DisableUser { target_id: "hal".into() }).unwrap();
    h.run(Operation::EnableUser { target_id: "hal".into() }).unwrap();
    h.run(Operation::DeleteUser { target_id: "hal".into() }).unwrap();
}

#[test]
fn answers_are_verified_and_errors_mapped() {
    let forged = jws::sign(b"another key", br#"{"alg":"HS256"}"#, br#"{"responseBody":{"errorId":200}}"#);
    let http = RecordedHttp::new()
        .on("POST", &url("suspenduser"), 200, &forged)
        .on("POST", &url("suspenduser"), 400, r#"{"errorId": 10551, "errorMsg": "Failed transaction. Please retry."}"#)
        .on("POST", &url("suspenduser"), 401, r#"{"errorId": 401, "errorMsg": "Invalid signature"}"#)
        .on("POST", &url("suspenduser"), 200, r#"{"responseBody": {"errorId": 200}}"#)
        .on("POST", &url("suspenduser"), 404, "Not Found")
        .on("POST", &url("suspenduser"), 400, &error(400, "Invalid input."));
    let h = open(json!({}), http);
    let run = || h.run(Operation::DisableUser { target_id: "ivy".into() }).unwrap_err();
    let forged = run();
    assert_eq!(forged.kind, ErrorKind::Protocol);
    assert!(forged.detail.contains("verif"), "{}", forged.detail);
    let retry = run();
    assert!(retry.kind == ErrorKind::Target && retry.retryable, "{retry:?}");
    let auth = run();
    assert_eq!(auth.kind, ErrorKind::Auth);
    assert!(auth.detail.contains("pingid.properties"), "{}", auth.detail);
    assert_eq!(run().kind, ErrorKind::Protocol, "an unsigned success is refused");
    let not_found = run();
    assert!(not_found.kind == ErrorKind::Config && not_found.detail.contains("idp_url"), "{not_found:?}");
    let invalid = run();
    assert!(invalid.kind == ErrorKind::Invalid && !invalid.retryable && invalid.detail.contains("Invalid input."));
}

#[test]
fn the_key_never_reaches_a_log_line_or_an_error() {
    let http = RecordedHttp::new().on(
        "POST",
        &url("getuserdetails"),
        401,
        r#"{"errorId": 401, "errorMsg": "Invalid signature"}"#,
    );
    let h = open(json!({"manage_devices": "merge"}), http);
    let err = h.run(Operation::TestConnection).unwrap_err();
    let everything = format!("{err:?} {:?}", h.logs());
    for needle in [KEY_B64, KEY_B64.trim_end_matches('='), "+yBFao"] {
        assert!(!everything.contains(needle), "{everything}");
    }
    let bad = Harness::open::<PingIdConnector>(
        json!({"pingid_properties": properties().replace(&KEY_B64.replace('=', "\\="), "%%%%")}),
        RecordedHttp::new(),
    );
    let bad = bad.err().unwrap();
    assert!(
        bad.kind == ErrorKind::Config && bad.detail.contains("use_base64_key") && !bad.detail.contains("%%%%"),
        "{bad:?}"
    );
}
