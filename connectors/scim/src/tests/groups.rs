//! Groups: find by listing, create, update by PUT or PATCH, delete.

use super::*;

fn group(id: &str, name: &str, members: &[&str]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": id,
        "displayName": name,
        "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>(),
        "meta": {"resourceType": "Group", "version": "W/\"1\""}
    })
}

fn record(name: &str, members: &[&str]) -> GroupRecord {
    GroupRecord {
        source_id: format!("guid-{name}"),
        name: name.into(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn page_url(start: u32, count: u32) -> String {
    format!("{GROUPS}?startIndex={start}&count={count}")
}

#[test]
fn find_group_pages_through_every_group() {
    // Results Per Page 2; the target caps pages at 2, says itemsPerPage 1000
    // and gives numbers as strings: 5 groups over 3 pages.
    let http = RecordedHttp::new()
        .on("GET", &page_url(1, 2), 200, &list(5, json!([group("g1", "Admins", &[]), group("g2", "admins", &[])])))
        .on("GET", &page_url(3, 2), 200, &list(5, json!([group("g3", "Ops", &[]), group("g4", "Sales", &[])])))
        .on("GET", &page_url(5, 2), 200, &list(5, json!([group("g5", "Accounting", &["u1", "u2"])])));
    let h = open(json!({"results_per_page": 2}), http);
    let found = h.run(Operation::FindGroup { name: "Accounting".into() }).unwrap();
    assert_eq!(found, json!({"id": "g5", "name": "Accounting", "members": ["u1", "u2"]}));
    done(&h);
}

#[test]
fn find_group_is_case_sensitive_and_reports_duplicates() {
    let all = list(3, json!([group("g1", "Admins", &[]), group("g2", "admins", &[]), group("g3", "Admins", &[])]));
    let http = RecordedHttp::new()
        .on("GET", &format!("{GROUPS}?startIndex=1"), 200, &all)
        .on("GET", &format!("{GROUPS}?startIndex=1"), 200, &all)
        .on("GET", &format!("{GROUPS}?startIndex=1"), 200, &all);
    // -1: the largest page the target allows, so no count is sent.
    let h = open(json!({"results_per_page": -1}), http);
    assert_eq!(h.run(Operation::FindGroup { name: "admins".into() }).unwrap()["id"], "g2");
    assert_eq!(h.run(Operation::FindGroup { name: "ADMINS".into() }).unwrap(), Value::Null);
    let err = h.run(Operation::FindGroup { name: "Admins".into() }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(err.detail.contains("g1, g3"), "{}", err.detail);
    done(&h);
}

#[test]
fn create_group_sends_display_name_and_members_only() {
    let h = open(json!({}), RecordedHttp::new().on("POST", GROUPS, 201, &group("g9", "Ops", &["u1"]).to_string()));
    let out = h.run(Operation::CreateGroup { group: record("Ops", &["u1", "u2"]) }).unwrap();
    assert_eq!(out, json!({"id": "g9", "name": "Ops", "members": ["u1", "u2"]}));
    assert_eq!(
        body(&h.requests()[0]),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops", "members": [{"value": "u1"}, {"value": "u2"}]})
    );
}

#[test]
fn update_group_puts_by_default() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, false)).on(
        "PUT",
        &url,
        200,
        &group("g1", "Ops", &["u2"]).to_string(),
    );
    let h = open(json!({}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u2"]),
        added: vec!["u2".into()],
        removed: vec!["u1".into()],
    })
    .unwrap();
    let put = &h.requests()[1];
    assert_eq!(
        body(put),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops", "members": [{"value": "u2"}]})
    );
    assert_eq!(header(put, "If-Match"), None);
    done(&h);
}

#[test]
fn update_group_with_patch_renames_adds_and_removes() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(true, true))
        .on_response(
            "GET",
            &url,
            response(200, &[("ETag", "W/\"7\"")], &group("g1", "Old name", &["u1", "u2"]).to_string()),
        )
        .on("PATCH", &url, 204, "");
    let h = open(json!({"use_patch_for_group_updates": true}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("New name", &["u2", "u3"]),
        added: vec!["u3".into()],
        removed: vec!["u1".into()],
    })
    .unwrap();
    let patch = &h.requests()[2];
    assert_eq!(header(patch, "If-Match"), Some("W/\"7\""), "ETags advertised");
    assert_eq!(header(patch, "Content-Type"), Some("application/scim+json"));
    assert_eq!(
        body(patch),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "displayName", "value": "New name"},
            {"op": "add", "path": "members", "value": [{"value": "u3"}]},
            {"op": "remove", "path": "members[value eq \"u1\"]"}
        ]})
    );
    done(&h);
}

#[test]
fn patch_200_with_a_body_and_a_target_that_hides_members() {
    let url = format!("{GROUPS}/g1");
    let mut hidden = group("g1", "Ops", &[]);
    hidden.as_object_mut().unwrap().remove("members");
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, false)).on("GET", &url, 200, &hidden.to_string()).on(
        "PATCH",
        &url,
        200,
        &group("g1", "Ops", &["u2"]).to_string(),
    );
    let h = open(json!({"use_patch_for_group_updates": true}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u2"]),
        added: vec![],
        removed: vec!["u1".into()],
    })
    .unwrap();
    assert_eq!(
        body(&h.requests()[2])["Operations"],
        json!([
            {"op": "add", "path": "members", "value": [{"value": "u2"}]},
            {"op": "remove", "path": "members[value eq \"u1\"]"}
        ])
    );
    assert_eq!(header(&h.requests()[2], "If-Match"), None, "ETags not advertised");
    done(&h);
}

#[test]
fn nothing_to_patch_sends_nothing() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(true, false)).on(
        "GET",
        &url,
        200,
        &group("g1", "Ops", &["u1"]).to_string(),
    );
    let h = open(json!({"use_patch_for_group_updates": true}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u1"]),
        added: vec![],
        removed: vec![],
    })
    .unwrap();
    done(&h);
}

#[test]
fn patch_501_falls_back_to_put_for_good() {
    let url = format!("{GROUPS}/g1");
    let put_body = group("g1", "Ops", &["u2"]).to_string();
    let http = RecordedHttp::new()
        .on("GET", SPC, 404, "")
        .on("GET", &url, 200, &group("g1", "Ops", &["u1"]).to_string())
        .on("PATCH", &url, 501, r#"{"status":"501","detail":"PATCH is not supported"}"#)
        .on("PUT", &url, 200, &put_body)
        // The next update goes straight to PUT.
        .on("PUT", &url, 204, "");
    let h = open(json!({"use_patch_for_group_updates": true}), http);
    let op = || Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u2"]),
        added: vec![],
        removed: vec![],
    };
    h.run(op()).unwrap();
    h.run(op()).unwrap();
    assert_eq!(body(&h.requests()[3])["members"], json!([{"value": "u2"}]));
    assert!(h.logs().iter().any(|(l, m)| *l == LogLevel::Warn && m.contains("PATCH")));
    done(&h);
}

#[test]
fn patch_unsupported_in_the_service_provider_config_means_put() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new().on("GET", SPC, 200, &spc(false, false)).on("PUT", &url, 204, "");
    let h = open(json!({"use_patch_for_group_updates": true}), http);
    h.run(Operation::UpdateGroup { target_id: "g1".into(), group: record("Ops", &[]), added: vec![], removed: vec![] })
        .unwrap();
    assert_eq!(body(&h.requests()[1])["members"], json!([]));
    done(&h);
}

#[test]
fn put_with_etags_reads_the_version_first() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 200, &spc(false, true))
        .on("GET", &url, 200, &group("g1", "Ops", &[]).to_string())
        .on("PUT", &url, 200, "");
    let h = open(json!({}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u1"]),
        added: vec![],
        removed: vec![],
    })
    .unwrap();
    assert_eq!(header(&h.requests()[2], "If-Match"), Some("W/\"1\""));
    done(&h);
}

#[test]
fn scim_1_1_group_patch() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new()
        .on("GET", "https://scim.example/v2/ServiceProviderConfigs", 404, "")
        .on(
            "GET",
            &url,
            200,
            r#"{"schemas":["urn:scim:schemas:core:1.0"],"id":"g1","displayName":"Ops","members":[{"value":"u1"}]}"#,
        )
        .on("PATCH", &url, 200, "");
    let h = open(json!({"scim_version": "1.1", "use_patch_for_group_updates": true}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: record("Ops", &["u2"]),
        added: vec![],
        removed: vec![],
    })
    .unwrap();
    assert_eq!(
        body(&h.requests()[2]),
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "members": [{"value": "u2"}, {"value": "u1", "operation": "delete"}]})
    );
    assert_eq!(header(&h.requests()[2], "Content-Type"), Some("application/json"));
    done(&h);
}

#[test]
fn delete_group_treats_404_as_already_gone() {
    let url = format!("{GROUPS}/g1");
    let h = open(json!({}), RecordedHttp::new().on("DELETE", &url, 204, "").on("DELETE", &url, 404, ""));
    h.run(Operation::DeleteGroup { target_id: "g1".into() }).unwrap();
    h.run(Operation::DeleteGroup { target_id: "g1".into() }).unwrap();
    done(&h);
}
