//! Payload building for every kind of catalogue path, in both dialects.

use super::*;
use crate::catalogue::scim_user_attributes;
use provisio_core::manifest::AttributeSpec;
use serde_json::json;

const CUSTOM_URN: &str = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";

fn record(attributes: &[(&str, AttributeValue)], active: bool) -> UserRecord {
    UserRecord {
        source_id: "guid-1".into(),
        unique_id: "jsmith".into(),
        active,
        attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        clear: vec![],
    }
}

fn single(v: &str) -> AttributeValue {
    AttributeValue::Single(v.into())
}

fn multi(v: &[&str]) -> AttributeValue {
    AttributeValue::Multi(v.iter().map(|s| (*s).to_owned()).collect())
}

fn schema(version: ScimVersion) -> UserSchema {
    let mut specs = scim_user_attributes();
    specs.push(AttributeSpec::new("badge", &format!("{CUSTOM_URN}:badge")));
    specs.push(AttributeSpec::new("tags", &format!("{CUSTOM_URN}:tags")).multi_valued());
    specs.push(AttributeSpec::new("immutableThing", "nickName").mutability(Mutability::Immutable).alias("nick"));
    UserSchema::new(version, &specs).unwrap()
}

#[test]
fn create_writes_every_path_kind() {
    let s = schema(ScimVersion::V2_0);
    let r = record(
        &[
            ("userName", single("jsmith")),
            ("givenName", single("John")),
            ("familyName", single("Smith")),
            ("workEmail", single("j@work.example")),
            ("homeEmail", single("j@home.example")),
            ("mobilePhone", single("+1 555")),
            ("workCity", single("Paris")),
            ("workCountry", single("FR")),
            ("skypeIm", single("jsk")),
            ("profilePhotoUrl", single("https://p/x.png")),
            ("entitlements", multi(&["e1", "e2"])),
            ("certificates", multi(&["MIIB"])),
            ("department", single("R&D")),
            ("manager", single("mgr-id")),
            ("badge", single("B-7")),
            ("tags", multi(&["a", "b"])),
            ("title", single("")),
        ],
        true,
    );
    assert_eq!(
        s.create(&r, true).unwrap(),
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                CUSTOM_URN,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "userName": "jsmith",
            "name": {"givenName": "John", "familyName": "Smith"},
            "emails": [{"type": "home", "value": "j@home.example"}, {"type": "work", "value": "j@work.example"}],
            "phoneNumbers": [{"type": "mobile", "value": "+1 555"}],
            "addresses": [{"type": "work", "locality": "Paris", "country": "FR"}],
            "ims": [{"type": "skype", "value": "jsk"}],
            "photos": [{"type": "photo", "value": "https://p/x.png"}],
            "entitlements": [{"value": "e1"}, {"value": "e2"}],
            "x509Certificates": [{"value": "MIIB"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "manager": {"value": "mgr-id"}},
            CUSTOM_URN: {"badge": "B-7", "tags": ["a", "b"]},
            "active": true
        })
    );
}

#[test]
fn active_is_a_json_boolean_and_can_be_left_out() {
    let s = schema(ScimVersion::V2_0);
    let r = record(&[("userName", single("jsmith"))], false);
    assert_eq!(s.create(&r, true).unwrap()["active"], json!(false));
    assert!(s.create(&r, false).unwrap().get("active").is_none());
}

#[test]
fn scim_1_1_uses_1_1_urns() {
    let s = schema(ScimVersion::V1_1);
    let r = record(&[("userName", single("jsmith")), ("department", single("Ops")), ("badge", single("B"))], true);
    assert_eq!(
        s.create(&r, true).unwrap(),
        json!({
            "schemas": ["urn:scim:schemas:core:1.0", CUSTOM_URN, "urn:scim:schemas:extension:enterprise:1.0"],
            "userName": "jsmith",
            "urn:scim:schemas:extension:enterprise:1.0": {"department": "Ops"},
            CUSTOM_URN: {"badge": "B"},
            "active": true
        })
    );
}

#[test]
fn unknown_fields_are_named() {
    let s = schema(ScimVersion::V2_0);
    let err = s.create(&record(&[("shoeSize", single("42"))], true), true).unwrap_err();
    assert!(err.detail.contains("'shoeSize'"), "{}", err.detail);
    let bad = UserSchema::new(ScimVersion::V2_0, &[AttributeSpec::new("x", "emails[value eq \"a\"]")]).unwrap_err();
    assert!(bad.detail.contains("attribute 'x'"), "{}", bad.detail);
}

#[test]
fn overlay_keeps_the_rest_of_the_target_resource() {
    let s = schema(ScimVersion::V2_0);
    let current = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223",
        "externalId": "ext-1",
        "userName": "jsmith",
        "name": {"givenName": "Jon", "familyName": "Smith", "formatted": "Jon Smith"},
        "nickName": "Johnny",
        "emails": [{"type": "work", "value": "old@work", "primary": true}, {"type": "home", "value": "j@home"}],
        "phoneNumbers": [{"type": "work", "value": "1"}],
        "groups": [{"value": "g1", "display": "Admins"}],
        "active": false,
        "title": "Engineer",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": "Ops",
            "manager": {"value": "m1", "displayName": "Boss"}
        },
        "meta": {"resourceType": "User", "version": "W/\"3\""}
    });
    let mut r = record(
        &[
            ("givenName", single("John")),
            ("workEmail", single("new@work")),
            ("otherEmail", single("o@x")),
            ("nick", single("changed")),
            ("badge", single("B")),
            ("department", single("")),
        ],
        true,
    );
    r.clear = vec!["workPhone".into(), "title".into()];
    assert_eq!(
        s.overlay(&current, &r, true).unwrap(),
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                CUSTOM_URN
            ],
            "id": "2819c223",
            "externalId": "ext-1",
            "userName": "jsmith",
            "name": {"givenName": "John", "familyName": "Smith", "formatted": "Jon Smith"},
            "nickName": "Johnny",
            "emails": [
                {"type": "work", "value": "new@work", "primary": true},
                {"type": "home", "value": "j@home"},
                {"type": "other", "value": "o@x"}
            ],
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops", "manager": {"value": "m1"}},
            CUSTOM_URN: {"badge": "B"}
        })
    );
}

#[test]
fn clearing_an_extension_field_drops_the_empty_extension() {
    let s = schema(ScimVersion::V2_0);
    let current = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", CUSTOM_URN],
        "userName": "jsmith",
        CUSTOM_URN: {"badge": "B"}
    });
    let mut r = record(&[], true);
    r.clear = vec!["badge".into()];
    assert_eq!(
        s.overlay(&current, &r, true).unwrap(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jsmith", "active": true})
    );
}

#[test]
fn read_back_by_field_code() {
    let s = schema(ScimVersion::V2_0);
    let resource = json!({
        "id": 17,
        "userName": "jsmith",
        "active": "False",
        "name": {"givenName": "John"},
        "emails": [{"type": "Work", "value": "j@w"}],
        "roles": [{"value": "r"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}},
        "password": "never"
    });
    let a = s.read(&resource);
    assert_eq!(a.get("givenName"), Some(&single("John")));
    assert_eq!(a.get("workEmail"), Some(&single("j@w")));
    assert_eq!(a.get("roles"), Some(&multi(&["r"])));
    assert_eq!(a.get("manager"), Some(&single("m1")));
    assert!(!a.contains_key("password"));
    assert_eq!(
        summarize(&resource),
        UserSummary { id: Some("17".into()), user_name: Some("jsmith".into()), active: Some(false) }
    );
}
