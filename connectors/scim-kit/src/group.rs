//! SCIM Group bodies: the resource for POST/PUT and the PATCH of a
//! membership change, in both dialects.
//!
//! Group payloads hold only `schemas`, `displayName` and `members`
//! (`[{"value": id}]`), as PingFederate sends them (spec a.7): no `id`, no
//! `externalId`.
//!
//! A PATCH (RFC 7644 §3.5.2) renames with `replace displayName` and changes
//! membership in one of three styles ([`MemberPatchStyle`]), because targets
//! disagree on removal:
//! - `ValueFilter` (RFC): `add` `members` `[{value}]`, `remove` with path
//!   `members[value eq "id"]`, one operation per removed member;
//! - `ValueList`: `remove` with path `members` and the values to remove
//!   (Azure-style targets, and Contentful where the path must be `members`);
//! - `ReplaceAll`: one `replace` of `members` with the whole list.
//!
//! Targets that want a display name with each member reference (Contentful
//! takes `{display, value}`) use the `_with_display` variants, which add
//! `display` to added, replaced and created members; [`user_display_name`]
//! derives it from the member's user resource.
//!
//! SCIM 1.1 has no PatchOp: the body is a partial resource whose removed
//! members carry `"operation": "delete"`; a full replacement lists
//! `members` in `meta.attributes` first.

use provisio_core::ops::TargetGroup;
use serde_json::{Value, json};

use crate::dialect::{ScimVersion, urn2};
use crate::filter::quote;
use crate::paging::resource_id;
use crate::path::get_ci;

/// How a PATCH changes membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemberPatchStyle {
    #[default]
    ValueFilter,
    ValueList,
    ReplaceAll,
}

/// One group change, as PATCH operations will express it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupPatch {
    /// The new `displayName`, when it changes.
    pub rename: Option<String>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
    /// The whole membership ([`MemberPatchStyle::ReplaceAll`]).
    pub replace_members: Option<Vec<String>>,
}

impl GroupPatch {
    pub fn is_empty(&self) -> bool {
        self.rename.is_none() && self.add.is_empty() && self.remove.is_empty() && self.replace_members.is_none()
    }
}

/// The display name of a member, for targets that want one with each
/// member reference (`None`: send the `value` alone).
pub type MemberDisplay<'a> = &'a dyn Fn(&str) -> Option<String>;

fn no_display(_: &str) -> Option<String> {
    None
}

fn members(ids: &[String]) -> Value {
    members_with(ids, &no_display)
}

/// `[{"value": id}]`, with `"display"` where `display` knows the member.
fn members_with(ids: &[String], display: MemberDisplay<'_>) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| match display(id) {
                Some(name) => json!({ "value": id, "display": name }),
                None => json!({ "value": id }),
            })
            .collect(),
    )
}

/// The POST/PUT body of a group. `with_members` false leaves `members` out
/// (targets that take membership by PATCH only).
pub fn group_resource(version: ScimVersion, name: &str, member_ids: &[String], with_members: bool) -> Value {
    group_resource_with_display(version, name, member_ids, with_members, &no_display)
}

/// [`group_resource`] with a `display` for each member `display` knows
/// (Contentful wants `{display, value}` member references).
pub fn group_resource_with_display(
    version: ScimVersion,
    name: &str,
    member_ids: &[String],
    with_members: bool,
    display: MemberDisplay<'_>,
) -> Value {
    let mut body = json!({ "schemas": [version.group_schema()], "displayName": name });
    if with_members {
        body["members"] = members_with(member_ids, display);
    }
    body
}

/// The PATCH body of `patch` (`None` when there is nothing to send).
pub fn patch_body(version: ScimVersion, patch: &GroupPatch, style: MemberPatchStyle) -> Option<Value> {
    patch_body_with_display(version, patch, style, &no_display)
}

/// [`patch_body`] with a `display` for each added or replaced member that
/// `display` knows (SCIM 2.0 only; removals carry the `value` alone).
pub fn patch_body_with_display(
    version: ScimVersion,
    patch: &GroupPatch,
    style: MemberPatchStyle,
    display: MemberDisplay<'_>,
) -> Option<Value> {
    if patch.is_empty() {
        return None;
    }
    Some(match version {
        ScimVersion::V2_0 => {
            let mut ops = Vec::new();
            if let Some(name) = &patch.rename {
                ops.push(json!({ "op": "replace", "path": "displayName", "value": name }));
            }
            if let Some(all) = &patch.replace_members {
                ops.push(json!({ "op": "replace", "path": "members", "value": members_with(all, display) }));
            }
            if !patch.add.is_empty() {
                ops.push(json!({ "op": "add", "path": "members", "value": members_with(&patch.add, display) }));
            }
            if !patch.remove.is_empty() {
                match style {
                    MemberPatchStyle::ValueList => {
                        ops.push(json!({ "op": "remove", "path": "members", "value": members(&patch.remove) }))
                    }
                    MemberPatchStyle::ValueFilter | MemberPatchStyle::ReplaceAll => {
                        for id in &patch.remove {
                            ops.push(json!({ "op": "remove", "path": format!("members[value eq {}]", quote(id)) }));
                        }
                    }
                }
            }
            json!({ "schemas": [urn2::PATCH_OP], "Operations": ops })
        }
        ScimVersion::V1_1 => {
            let mut body = json!({ "schemas": [version.group_schema()] });
            if let Some(name) = &patch.rename {
                body["displayName"] = json!(name);
            }
            let mut entries = Vec::new();
            if let Some(all) = &patch.replace_members {
                body["meta"] = json!({ "attributes": ["members"] });
                entries.extend(all.iter().map(|id| json!({ "value": id })));
            }
            entries.extend(patch.add.iter().map(|id| json!({ "value": id })));
            entries.extend(patch.remove.iter().map(|id| json!({ "value": id, "operation": "delete" })));
            if !entries.is_empty() || patch.replace_members.is_some() {
                body["members"] = Value::Array(entries);
            }
            body
        }
    })
}

/// The display name of a user resource as a member reference: the full
/// name (`name.givenName name.familyName`), else `name.formatted`, else
/// `displayName`, else `userName`.
pub fn user_display_name(user: &Value) -> Option<String> {
    let map = user.as_object()?;
    let text =
        |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let name = get_ci(map, "name").and_then(Value::as_object);
    let given = name.and_then(|n| text(get_ci(n, "givenName")));
    let family = name.and_then(|n| text(get_ci(n, "familyName")));
    let full = match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (g, f) => g.or(f),
    };
    full.or_else(|| name.and_then(|n| text(get_ci(n, "formatted"))))
        .or_else(|| text(get_ci(map, "displayName")))
        .or_else(|| text(get_ci(map, "userName")))
}

/// The `displayName` of a group resource.
pub fn display_name(resource: &Value) -> Option<String> {
    resource.as_object().and_then(|o| get_ci(o, "displayName")).and_then(Value::as_str).map(str::to_owned)
}

/// The member ids of a group resource; `None` when it has no `members`
/// attribute (not returned, or no member: the two cannot be told apart).
pub fn member_ids(resource: &Value) -> Option<Vec<String>> {
    let list = resource.as_object().and_then(|o| get_ci(o, "members"))?.as_array()?;
    Some(
        list.iter()
            .filter_map(|m| match m.as_object().and_then(|o| get_ci(o, "value")) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
    )
}

/// A group resource as a [`TargetGroup`] (`None` without an `id`).
pub fn target_group(resource: &Value) -> Option<TargetGroup> {
    Some(TargetGroup {
        id: resource_id(resource)?,
        name: display_name(resource).unwrap_or_default(),
        members: member_ids(resource).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn resources_hold_only_display_name_and_members() {
        assert_eq!(
            group_resource(ScimVersion::V2_0, "Admins", &ids(&["u1"]), true),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins", "members": [{"value": "u1"}]})
        );
        assert_eq!(
            group_resource(ScimVersion::V1_1, "Admins", &[], false),
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "displayName": "Admins"})
        );
    }

    #[test]
    fn patch_2_0_in_each_style() {
        let p = GroupPatch {
            rename: Some("New".into()),
            add: ids(&["a"]),
            remove: ids(&["r\"1", "r2"]),
            replace_members: None,
        };
        assert_eq!(
            patch_body(ScimVersion::V2_0, &p, MemberPatchStyle::ValueFilter).unwrap(),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                {"op": "replace", "path": "displayName", "value": "New"},
                {"op": "add", "path": "members", "value": [{"value": "a"}]},
                {"op": "remove", "path": "members[value eq \"r\\\"1\"]"},
                {"op": "remove", "path": "members[value eq \"r2\"]"}
            ]})
        );
        let ops = &patch_body(ScimVersion::V2_0, &p, MemberPatchStyle::ValueList).unwrap()["Operations"];
        assert_eq!(ops[2], json!({"op": "remove", "path": "members", "value": [{"value": "r\"1"}, {"value": "r2"}]}));
        let all = GroupPatch { replace_members: Some(ids(&["x"])), ..Default::default() };
        assert_eq!(
            patch_body(ScimVersion::V2_0, &all, MemberPatchStyle::ReplaceAll).unwrap()["Operations"],
            json!([{"op": "replace", "path": "members", "value": [{"value": "x"}]}])
        );
        assert_eq!(patch_body(ScimVersion::V2_0, &GroupPatch::default(), MemberPatchStyle::ValueFilter), None);
    }

    #[test]
    fn patch_1_1_is_a_partial_resource() {
        let p = GroupPatch { rename: None, add: ids(&["a"]), remove: ids(&["r"]), replace_members: None };
        assert_eq!(
            patch_body(ScimVersion::V1_1, &p, MemberPatchStyle::ValueFilter).unwrap(),
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "members": [{"value": "a"}, {"value": "r", "operation": "delete"}]})
        );
    }

    #[test]
    fn members_carry_a_display_where_one_is_known() {
        let display = |id: &str| (id == "a").then(|| "Ada Lovelace".to_owned());
        let p = GroupPatch { add: ids(&["a", "b"]), remove: ids(&["c"]), ..Default::default() };
        assert_eq!(
            patch_body_with_display(ScimVersion::V2_0, &p, MemberPatchStyle::ValueList, &display).unwrap()["Operations"],
            json!([
                {"op": "add", "path": "members", "value": [{"value": "a", "display": "Ada Lovelace"}, {"value": "b"}]},
                {"op": "remove", "path": "members", "value": [{"value": "c"}]}
            ])
        );
        let body = group_resource_with_display(ScimVersion::V2_0, "T", &ids(&["a"]), true, &display);
        assert_eq!(body["members"], json!([{"value": "a", "display": "Ada Lovelace"}]));
    }

    #[test]
    fn a_user_is_displayed_by_full_name_first() {
        let u = json!({"userName": "ada@x", "displayName": "Countess", "name": {"givenName": "Ada", "familyName": "Lovelace"}});
        assert_eq!(user_display_name(&u).as_deref(), Some("Ada Lovelace"));
        assert_eq!(
            user_display_name(&json!({"userName": "ada@x", "displayName": "Countess"})).as_deref(),
            Some("Countess")
        );
        assert_eq!(user_display_name(&json!({"userName": "ada@x"})).as_deref(), Some("ada@x"));
        assert_eq!(user_display_name(&json!({"id": "1"})), None);
    }

    #[test]
    fn groups_read_back() {
        let g = target_group(&json!({"id": "g1", "displayName": "Ops", "members": [{"value": "u1"}, {"value": 7}]}))
            .unwrap();
        assert_eq!((g.id.as_str(), g.name.as_str(), g.members.clone()), ("g1", "Ops", ids(&["u1", "7"])));
        assert_eq!(member_ids(&json!({"id": "g"})), None);
        assert!(target_group(&json!({"displayName": "x"})).is_none());
    }
}
