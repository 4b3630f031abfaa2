//! The quirk options of [`TargetOptions`], driven through a small test
//! connector over [`ScimTarget`] and recorded HTTP.

use super::*;
use crate::catalogue::scim_user_attributes;
use crate::client::EtagPolicy;
use crate::group::MemberPatchStyle;
use provisio_core::Connector;
use provisio_core::host::LogLevel;
use provisio_core::manifest::{Capability, Manifest};
use provisio_core::ops::{AttributeValue, GroupRecord, Operation, TargetGroup, TargetUser, UserRecord};
use provisio_core::testing::{Harness, RecordedHttp, minimal_manifest};
use serde_json::json;

const USERS: &str = "https://t.example/scim/Users";
const GROUPS: &str = "https://t.example/scim/Groups";
const SPC: &str = "https://t.example/scim/ServiceProviderConfig";

/// A connector whose quirks come from `t_*` settings.
struct Kit {
    target: ScimTarget,
}

impl Connector for Kit {
    fn manifest() -> Manifest {
        let mut m = minimal_manifest("kit");
        m.attributes = scim_user_attributes();
        m.capabilities = Capability::ALL.into_iter().filter(|c| *c != Capability::DiscoverSchema).collect();
        m
    }

    fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> {
        let settings = ScimSettings::from_config(&config)?;
        let mut o = TargetOptions::from_settings(&settings);
        o.send_active = !config.bool("t_no_active")?.unwrap_or(false);
        if config.bool("t_patch_only_members")?.unwrap_or(false) {
            o.members_in_group_body = false;
            o.group_update = GroupUpdate::PatchOnly;
        }
        o.member_patch_style = match config.str("t_style")? {
            Some("list") => MemberPatchStyle::ValueList,
            Some("replace") => MemberPatchStyle::ReplaceAll,
            _ => MemberPatchStyle::ValueFilter,
        };
        if config.bool("t_filter_groups")?.unwrap_or(false) {
            o.group_lookup = GroupLookup::FilterThenList;
        }
        if config.bool("t_no_etag")?.unwrap_or(false) {
            o.client.etag = EtagPolicy::Never;
        }
        o.client.content_type = config.str("t_content_type")?.map(str::to_owned);
        let target = ScimTarget::from_config(&config, host, settings, Self::manifest().attributes, o)?;
        Ok(Kit { target })
    }

    async fn create_user(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        self.target.create_user(user).await
    }
    async fn update_user(&self, id: &str, user: &UserRecord) -> Result<(), ConnectorError> {
        self.target.update_user(id, user).await
    }
    async fn disable_user(&self, id: &str) -> Result<(), ConnectorError> {
        self.target.disable_user(id).await
    }
    async fn find_group(&self, name: &str) -> Result<Option<TargetGroup>, ConnectorError> {
        self.target.find_group(name).await
    }
    async fn create_group(&self, group: &GroupRecord) -> Result<TargetGroup, ConnectorError> {
        self.target.create_group(group).await
    }
    async fn update_group(&self, id: &str, g: &GroupRecord, a: &[String], r: &[String]) -> Result<(), ConnectorError> {
        self.target.update_group(id, g, a, r).await
    }
}

fn open(settings: Value, http: RecordedHttp) -> Harness {
    let mut s = json!({"scim_url": "https://t.example/scim"});
    if let (Some(map), Value::Object(extra)) = (s.as_object_mut(), settings) {
        map.extend(extra);
    }
    Harness::open::<Kit>(s, http).expect("opens")
}

fn sent(h: &Harness, i: usize) -> Value {
    serde_json::from_slice(&h.requests()[i].body).unwrap()
}

fn header(h: &Harness, i: usize, name: &str) -> Option<String> {
    h.requests()[i].headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn user_record(active: bool) -> UserRecord {
    UserRecord {
        source_id: "s".into(),
        unique_id: "jsmith".into(),
        active,
        attributes: [("givenName".to_owned(), AttributeValue::from("John"))].into_iter().collect(),
        clear: vec![],
    }
}

fn group_record(members: &[&str]) -> GroupRecord {
    GroupRecord {
        source_id: "s".into(),
        name: "Team".into(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

#[test]
fn read_only_active_is_never_sent() {
    let h = open(json!({"t_no_active": true}), RecordedHttp::new().on("POST", USERS, 201, r#"{"id":"u1"}"#));
    let created = h.run(Operation::CreateUser { user: user_record(false) }).unwrap();
    assert_eq!(created["id"], "u1");
    assert_eq!(
        sent(&h, 0),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jsmith", "name": {"givenName": "John"}})
    );
    let err = h.run(Operation::DisableUser { target_id: "u1".into() }).unwrap_err();
    assert_eq!(err.kind, provisio_core::ErrorKind::Unsupported);
}

#[test]
fn membership_by_patch_only() {
    let http = RecordedHttp::new()
        .on("POST", GROUPS, 201, r#"{"id":"g1","displayName":"Team"}"#)
        .on("PATCH", &format!("{GROUPS}/g1"), 204, "")
        // PatchOnly: PATCH although the ServiceProviderConfig says it is unsupported.
        .on("GET", SPC, 200, r#"{"patch":{"supported":false},"etag":{"supported":false}}"#)
        .on("GET", &format!("{GROUPS}/g1"), 200, r#"{"id":"g1","displayName":"Team","members":[{"value":"u1"}]}"#)
        .on("PATCH", &format!("{GROUPS}/g1"), 204, "");
    let h = open(json!({"t_patch_only_members": true, "t_style": "list"}), http);
    h.run(Operation::CreateGroup { group: group_record(&["u1"]) }).unwrap();
    assert_eq!(sent(&h, 0), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team"}));
    assert_eq!(sent(&h, 1)["Operations"], json!([{"op": "add", "path": "members", "value": [{"value": "u1"}]}]));
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: group_record(&["u2"]),
        added: vec![],
        removed: vec![],
    })
    .unwrap();
    assert_eq!(
        sent(&h, 4)["Operations"],
        json!([
            {"op": "add", "path": "members", "value": [{"value": "u2"}]},
            {"op": "remove", "path": "members", "value": [{"value": "u1"}]}
        ])
    );
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn replace_all_members_style() {
    let url = format!("{GROUPS}/g1");
    let http = RecordedHttp::new()
        .on("GET", SPC, 404, "")
        .on("GET", &url, 200, r#"{"id":"g1","displayName":"Team","members":[{"value":"u1"}]}"#)
        .on("PATCH", &url, 200, "");
    let h = open(json!({"use_patch_for_group_updates": true, "t_style": "replace"}), http);
    h.run(Operation::UpdateGroup {
        target_id: "g1".into(),
        group: group_record(&["u1", "u2"]),
        added: vec![],
        removed: vec![],
    })
    .unwrap();
    assert_eq!(
        sent(&h, 2)["Operations"],
        json!([{"op": "replace", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}])
    );
}

#[test]
fn group_lookup_by_filter_falls_back_to_listing() {
    let filtered = format!("{GROUPS}?filter=displayName%20eq%20%22Team%22&startIndex=1&count=1000");
    let http = RecordedHttp::new()
        .on("GET", &filtered, 200, r#"{"totalResults":1,"Resources":[{"id":"g1","displayName":"Team"}]}"#)
        .on("GET", &filtered, 400, r#"{"status":"400","scimType":"invalidFilter","detail":"no filter on groups"}"#)
        .on(
            "GET",
            &format!("{GROUPS}?startIndex=1&count=1000"),
            200,
            r#"{"totalResults":1,"Resources":[{"id":"g2","displayName":"Team"}]}"#,
        );
    let h = open(json!({"t_filter_groups": true}), http);
    assert_eq!(h.run(Operation::FindGroup { name: "Team".into() }).unwrap()["id"], "g1");
    assert_eq!(h.run(Operation::FindGroup { name: "Team".into() }).unwrap()["id"], "g2");
    assert!(h.logs().iter().any(|(l, m)| *l == LogLevel::Info && m.contains("listing every group")));
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn content_type_override_and_etags_off() {
    let url = format!("{USERS}/u1");
    let http = RecordedHttp::new()
        .on("GET", &url, 200, r#"{"id":"u1","userName":"jsmith","meta":{"version":"W/\"1\""}}"#)
        .on("PUT", &url, 204, "");
    // EtagPolicy::Never: the ServiceProviderConfig is not even asked.
    let h = open(json!({"t_content_type": "application/json", "t_no_etag": true}), http);
    h.run(Operation::UpdateUser { target_id: "u1".into(), user: user_record(true) }).unwrap();
    assert_eq!(header(&h, 1, "Content-Type").as_deref(), Some("application/json"));
    assert_eq!(header(&h, 1, "If-Match"), None);
    assert_eq!(h.unused_exchanges(), 0);
}

#[test]
fn a_created_id_from_the_location_header_is_percent_decoded() {
    let response = provisio_core::host::HttpResponse {
        status: 201,
        headers: vec![("Location".into(), "https://t.example/v2/Users/ab%20c%2Fd%C3%A9".into())],
        body: Vec::new(),
    };
    assert_eq!(ScimTarget::created_id(&response, None).as_deref(), Some("ab c/dé"));
    let body = json!({"id": "from-the-body"});
    assert_eq!(ScimTarget::created_id(&response, Some(&body)).as_deref(), Some("from-the-body"));
}
