//! The PingID emulator's own tests: it must refuse every request PingID
//! would refuse (bad or foreign signatures, stale or future timestamps,
//! missing or extra header fields, unknown operations, wrong field names,
//! username edits) and leave its state untouched when it does, and it must
//! implement the documented operations faithfully, since the connector's
//! end-to-end tests trust it.

use provisio_e2e::pingid_emulator::{PingIdEmulator, format_timestamp, parse_timestamp};
use serde_json::{Value, json};

const ADD: &str = "/pingid/rest/4/adduser/do";

fn add_body(name: &str) -> Value {
    json!({"activateUser": false, "username": name, "fname": "Ann", "lname": "Lee", "email": format!("{name}@example.org"), "role": "REGULAR"})
}

/// Post a hand-made JWS to AddUser; the status and responseBody. Nothing may be created.
fn refused(e: &PingIdEmulator, jws: &str) -> (u16, Value) {
    let before = e.users().len();
    let (status, body) = e.post(ADD, "application/json", jws);
    assert_eq!(e.users().len(), before, "a refused request changed the state");
    (status, e.response_body(&body))
}

#[test]
fn a_well_formed_request_is_accepted_and_answered_with_a_signed_jws() {
    let e = PingIdEmulator::start();
    let (status, body) = e.post(ADD, "application/json; charset=utf-8", &e.signed_request(add_body("ann")));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.split('.').count(), 3, "a compact JWS: {body}");
    assert_eq!(e.response_body(&body)["errorId"], 200);
    let (status, details) = e.call("getuserdetails", json!({"userName": "ann", "getSameDeviceUsers": false}));
    assert_eq!(status, 200);
    assert_eq!(details["userDetails"]["fname"], "Ann");
    assert_eq!(details["userDetails"]["status"], "ACTIVE");
    assert_eq!(e.requests()[0].req_body.as_ref().unwrap()["username"], "ann");
}

#[test]
fn a_bad_signature_or_a_foreign_key_is_refused_with_401() {
    let e = PingIdEmulator::start();
    let good = e.signed_request(add_body("ann"));
    let mut parts: Vec<&str> = good.split('.').collect();
    let other =
        PingIdEmulator::sign_with(b"some other organization's key!!!", &e.header(), &e.payload(add_body("mallory"), 0));
    let forged_payload = other.split('.').nth(1).unwrap().to_owned();
    parts[1] = &forged_payload;
    let (status, body) = refused(&e, &parts.join("."));
    assert_eq!((status, body["errorId"].as_i64()), (401, Some(401)), "{body}");
    assert_eq!(refused(&e, &other).0, 401, "signed with the wrong key");
    let unsigned = format!("{}.{}.", good.split('.').next().unwrap(), good.split('.').nth(1).unwrap());
    assert_eq!(refused(&e, &unsigned).0, 401, "no signature");
    // The undecoded Base64 text as the key (a classic mistake) does not verify either.
    let undecoded = PingIdEmulator::sign_with(e.key_b64().as_bytes(), &e.header(), &e.payload(add_body("bob"), 0));
    assert_eq!(refused(&e, &undecoded).0, 401);
}

#[test]
fn stale_future_and_malformed_timestamps_are_refused() {
    let e = PingIdEmulator::start();
    let sign = |payload: Value| PingIdEmulator::sign_with(&e.key(), &e.header(), &payload);
    for skew in [-6 * 60_000, 6 * 60_000, -24 * 3_600_000] {
        let (status, body) = refused(&e, &sign(e.payload(add_body("ann"), skew)));
        assert_eq!((status, body["errorId"].as_i64()), (400, Some(400)), "skew {skew}: {body}");
        assert!(body["errorMsg"].as_str().unwrap().contains("timestamp"), "{body}");
    }
    for bad in ["2026-01-01T00:00:00.000Z", "2026-01-01 00:00:00", "2026-13-01 00:00:00.000", "now"] {
        let mut p = e.payload(add_body("ann"), 0);
        p["reqHeader"]["timestamp"] = bad.into();
        assert_eq!(refused(&e, &sign(p)).0, 400, "{bad}");
    }
    let (status, _) = e.post(ADD, "application/json", &sign(e.payload(add_body("ann"), -4 * 60_000)));
    assert_eq!(status, 200, "four minutes of skew are within the window");
}

#[test]
fn missing_or_extra_header_fields_are_refused() {
    let e = PingIdEmulator::start();
    let payload = e.payload(add_body("ann"), 0);
    let headers = [
        json!({"alg": "HS256", "org_alias": e.org_alias()}),
        json!({"alg": "HS256", "token": e.token()}),
        json!({"alg": "HS256", "orgAlias": e.org_alias(), "token": e.token()}),
        json!({"alg": "HS256", "org_alias": e.org_alias(), "token": e.token(), "typ": "JWT"}),
        json!({"alg": "HS512", "org_alias": e.org_alias(), "token": e.token()}),
        json!({"alg": "none", "org_alias": e.org_alias(), "token": e.token()}),
    ];
    for h in headers {
        let (status, body) = refused(&e, &PingIdEmulator::sign_with(&e.key(), &h, &payload));
        assert_eq!(status, 400, "{h}: {body}");
    }
    let foreign = json!({"alg": "HS256", "org_alias": "another-org", "token": e.token()});
    assert_eq!(refused(&e, &PingIdEmulator::sign_with(&e.key(), &foreign, &payload)).0, 401);
    for field in ["locale", "orgAlias", "secretKey", "timestamp", "version"] {
        let mut p = payload.clone();
        p["reqHeader"].as_object_mut().unwrap().remove(field);
        let (status, body) = refused(&e, &PingIdEmulator::sign_with(&e.key(), &e.header(), &p));
        assert_eq!(status, 400, "without {field}: {body}");
        assert!(body["errorMsg"].as_str().unwrap().contains(field), "{body}");
    }
    let mut p = payload.clone();
    p["reqHeader"]["secretKey"] = "another-token".into();
    assert_eq!(refused(&e, &PingIdEmulator::sign_with(&e.key(), &e.header(), &p)).0, 400);
    let mut p = payload;
    p.as_object_mut().unwrap().remove("reqBody");
    assert_eq!(refused(&e, &PingIdEmulator::sign_with(&e.key(), &e.header(), &p)).0, 400);
}

#[test]
fn unknown_operations_paths_methods_and_bodies_are_refused() {
    let e = PingIdEmulator::start();
    let jws = e.signed_request(add_body("ann"));
    assert_eq!(e.post("/pingid/rest/4/createuser/do", "application/json", &jws).0, 404);
    assert_eq!(e.post("/pingid/rest/3/adduser/do", "application/json", &jws).0, 404);
    assert_eq!(e.post("/rest/4/adduser/do", "application/json", &jws).0, 404);
    assert_eq!(e.post(ADD, "text/plain", &jws).0, 400);
    assert_eq!(e.post(ADD, "application/json", &add_body("ann").to_string()).0, 400, "unsigned JSON");
    let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let get = client.get(format!("{}/rest/4/adduser/do", e.idp_url())).send().unwrap();
    assert_eq!(get.status().as_u16(), 405);
    assert!(e.users().is_empty());
}

#[test]
fn field_names_are_checked_per_operation_and_usernames_cannot_change() {
    let e = PingIdEmulator::start();
    let (status, body) = e.call("adduser", json!({"userName": "ann", "activateUser": false}));
    assert_eq!((status, body["errorId"].as_i64()), (400, Some(400)), "AddUser takes 'username': {body}");
    assert_eq!(e.call("adduser", add_body("ann")).0, 200);
    for rename in [
        json!({"userName": "ann", "username": "bob"}),
        json!({"userName": "ann", "newUserName": "bob", "fname": "Ann"}),
    ] {
        let (status, body) = e.call("edituser", rename.clone());
        assert_eq!(status, 400, "{rename}");
        assert!(body["errorMsg"].as_str().unwrap().contains("username cannot be changed"), "{body}");
    }
    assert_eq!(e.user("ann").unwrap().fname.as_deref(), Some("Ann"));
    assert!(e.user("bob").is_none());
    assert_eq!(e.call("edituser", json!({"userName": "ann", "fName": "X"})).0, 400, "EditUser spells it 'fname'");
}

#[test]
fn edit_user_replaces_the_whole_record() {
    let e = PingIdEmulator::start();
    e.call("adduser", add_body("ann"));
    let (status, _) = e.call("edituser", json!({"userName": "ann", "fname": "Anna", "role": "REGULAR"}));
    assert_eq!(status, 200);
    let u = e.user("ann").unwrap();
    assert_eq!((u.fname.as_deref(), u.lname, u.email), (Some("Anna"), None, None));
}

#[test]
fn documented_error_ids() {
    let e = PingIdEmulator::start();
    let id = |(_, b): (u16, Value)| b["errorId"].as_i64().unwrap();
    assert_eq!(id(e.call("getuserdetails", json!({"userName": "nobody"}))), 10564);
    assert_eq!(id(e.call("adduser", add_body("ann"))), 200);
    assert_eq!(id(e.call("adduser", add_body("ann"))), 10556);
    assert_eq!(id(e.call("activateuser", json!({"userName": "ann"}))), 10562);
    assert_eq!(id(e.call("suspenduser", json!({"userName": "ann"}))), 200);
    assert_eq!(id(e.call("suspenduser", json!({"userName": "ann"}))), 10561);
    assert_eq!(e.user("ann").unwrap().status, "SUSPENDED");
    assert_eq!(id(e.call("activateuser", json!({"userName": "ann"}))), 200);
    assert_eq!(id(e.call("deleteuser", json!({"userName": "ann"}))), 200);
    assert_eq!(id(e.call("deleteuser", json!({"userName": "ann"}))), 10564);
}

#[test]
fn devices_pair_rename_become_primary_and_unpair() {
    let e = PingIdEmulator::start();
    e.call("adduser", add_body("ann"));
    let (_, first) =
        e.call("offlinepairing", json!({"username": "ann", "type": "EMAIL", "pairingData": "ann@example.org"}));
    let (_, second) = e.call("offlinepairing", json!({"username": "ann", "type": "SMS", "pairingData": "+1 555 0100"}));
    let first_id = first["deviceId"].as_i64().unwrap();
    let second_id = second["deviceId"].as_i64().unwrap();
    assert!(first_id > (1 << 53), "device ids exceed a double's precision, as PingID's do");
    assert_eq!(
        e.call("offlinepairing", json!({"username": "ann", "type": "SMS", "pairingData": "not a number"})).0,
        400
    );
    e.call("updatedeviceattr", json!({"userName": "ann", "deviceId": second_id, "attributeName": "NICKNAME", "attributeValue": "SMS Number 1"}));
    e.call(
        "updatedeviceattr",
        json!({"userName": "ann", "deviceId": second_id, "attributeName": "SET_PRIMARY", "attributeValue": "true"}),
    );
    let sms = e.device("ann", "SMS Number 1").unwrap();
    assert_eq!((sms.role.as_str(), sms.value()), ("PRIMARY", Some("+1 555 0100")));
    let (_, details) = e.call("getuserdetails", json!({"userName": "ann"}));
    assert_eq!(details["userDetails"]["devicesDetails"][0]["deviceId"].as_i64(), Some(first_id));
    assert_eq!(details["userDetails"]["deviceDetails"]["nickname"], "SMS Number 1");
    assert_eq!(
        e.call(
            "updatedeviceattr",
            json!({"userName": "ann", "deviceId": 1, "attributeName": "NICKNAME", "attributeValue": "x"})
        )
        .0,
        400
    );
    e.call("unpairdevice", json!({"userName": "ann", "deviceId": second_id}));
    assert_eq!(e.devices("ann").len(), 1);
    assert_eq!(e.devices("ann")[0].role, "PRIMARY");
    assert_eq!(e.unpair_all_calls(), 0);
    e.add_device("ann", Some("Mine"), "VOICE", "+44 20 7946 0000");
    e.call("unpairdevice", json!({"userName": "ann"}));
    assert!(e.devices("ann").is_empty(), "UnpairDevice without deviceId removes every device");
    assert_eq!(e.unpair_all_calls(), 1);
}

#[test]
fn injected_failures_answer_the_next_requests() {
    let e = PingIdEmulator::start();
    e.fail_next(2, 10551);
    assert_eq!(e.call("adduser", add_body("ann")).1["errorId"], 10551);
    assert_eq!(e.call("adduser", add_body("ann")).1["errorId"], 10551);
    assert_eq!(e.call("adduser", add_body("ann")).1["errorId"], 200);
    let statuses: Vec<u16> = e.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 200]);
    e.fail_next_op("deleteuser", 1, 10553);
    assert_eq!(e.call("getuserdetails", json!({"userName": "ann"})).1["errorId"], 200, "only DeleteUser fails");
    assert_eq!(e.call("deleteuser", json!({"userName": "ann"})).1["errorId"], 10553);
    assert!(e.user("ann").is_some());
}

#[test]
fn timestamps_round_trip() {
    assert_eq!(parse_timestamp("2026-01-01 00:00:00.000"), Some(1_767_225_600_000));
    assert_eq!(parse_timestamp("2000-02-29 23:59:59.999"), Some(951_868_799_999));
    for ms in [0, 951_868_799_999, 1_709_251_199_007, 1_767_225_600_000, 4_102_444_800_123] {
        assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms), "{}", format_timestamp(ms));
    }
}
