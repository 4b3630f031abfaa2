//! Contentful's SCIM 2.0 API (spec b.2.3), emulated in front of a
//! scim2-server tenant.
//!
//! The SCIM URL is `http://127.0.0.1:PORT/scim/v2/organizations/<org>`, and
//! every request needs `Authorization: Bearer <personal access token>`.
//! Accepted, as Contentful documents them:
//! - `GET /Users` (optionally `filter=userName eq "<e-mail>"`, `startIndex`,
//!   `count`) and `GET /Users/{id}`;
//! - `POST /Users` with exactly `schemas` (the core User URN), `userName`
//!   (an e-mail address), `name.givenName` and `name.familyName`;
//! - `DELETE /Users/{id}`: the organization membership goes, and with it
//!   every team membership (the emulator removes the member from its teams);
//! - `GET /Groups` (`startIndex`, `count`), `GET /Groups/{id}`;
//! - `POST /Groups` with `schemas`, `displayName` and optional `members`;
//! - `PATCH /Groups/{id}`: a PatchOp whose operations are `add`, `remove` or
//!   `replace` with path `members`, and for add/replace `value` a list of
//!   `{display, value}` (value: a member's id; display: the member's full
//!   name, `givenName familyName`); remove takes a list of `{value}`. It is
//!   translated to RFC 7644 operations for the store;
//! - `DELETE /Groups/{id}`.
//!
//! Refused: any other credential (401); `PUT` or `PATCH` on users and
//! `active`/`emails` or any other attribute on create (400 `mutability` /
//! `invalidSyntax`: Contentful user attributes are immutable, `active` and
//! `emails` read-only); other filters (400 `invalidFilter`); `PUT` on groups
//! (405); other PATCH shapes (400); everything else, discovery endpoints
//! included (404). List responses carry `itemsPerPage` as a **string**, as
//! Contentful's do.

use serde_json::{Value, json};

use super::front::{Front, Request, Response, Rules, Upstream};
use super::{Auth, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA, bad, eq_filter, only_params, schemas_are, text};
use crate::scim_peer::{ScimPeer, Tenant, random_token};

/// A running Contentful emulator.
pub struct ContentfulEmulator {
    pub front: Front,
    /// The store behind it, for seeding and for assertions.
    pub tenant: Tenant,
    pub token: String,
}

impl ContentfulEmulator {
    /// An organization with a random personal access token.
    pub fn start() -> ContentfulEmulator {
        let tenant = ScimPeer::shared().unique_tenant("contentful");
        let token = format!("CFPAT-{}", random_token());
        let rules = ContentfulRules { auth: Auth::Bearer(token.clone()) };
        let org = format!("org{}", &random_token()[..8]);
        let front = Front::start(&format!("/scim/v2/organizations/{org}"), rules, &tenant.base_url, &tenant.token);
        ContentfulEmulator { front, tenant, token }
    }

    /// The SCIM URL Contentful shows with the token.
    pub fn scim_url(&self) -> String {
        self.front.url()
    }
}

struct ContentfulRules {
    auth: Auth,
}

fn immutable() -> Response {
    bad(
        "mutability",
        "Contentful user attributes are immutable: PUT and PATCH on users exist only for identity-provider compatibility",
    )
}

/// `itemsPerPage` as a string, as Contentful sends it.
fn contentful_list(mut r: Response) -> Response {
    if r.status == 200
        && let Some(mut body) = r.json_body()
        && body.get("Resources").is_some()
    {
        let n = body.get("itemsPerPage").and_then(Value::as_u64).unwrap_or(0);
        body["itemsPerPage"] = json!(n.to_string());
        r.set_json(&body);
    }
    r
}

/// A member reference `{display, value}`: the value an existing member, the
/// display its full name.
fn check_member(m: &Value, up: &Upstream, need_display: bool) -> Result<(), Response> {
    let Some(o) = m.as_object() else { return Err(bad("invalidValue", "a member must be an object")) };
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "display" | "value")) {
        return Err(bad("invalidSyntax", format!("a member takes only display and value, not '{k}'")));
    }
    let Some(id) = text(o, "value") else { return Err(bad("invalidValue", "a member needs a value (a user id)")) };
    let Some(user) = up.get_json(&format!("/Users/{id}")) else {
        return Err(bad("invalidValue", format!("member {id} is not a user of this organization")));
    };
    if !need_display && o.get("display").is_none() {
        return Ok(());
    }
    let full = format!(
        "{} {}",
        user["name"]["givenName"].as_str().unwrap_or(""),
        user["name"]["familyName"].as_str().unwrap_or("")
    );
    match text(o, "display") {
        Some(d) if d == full => Ok(()),
        Some(d) => Err(bad("invalidValue", format!("member {id} is displayed as '{d}', but is called '{full}'"))),
        None => Err(bad("invalidValue", format!("member {id} needs a display (the member's full name)"))),
    }
}

fn create_user(req: &Request, up: &Upstream) -> Result<Response, Response> {
    let body = req.json().ok_or_else(|| bad("invalidSyntax", "the body is not JSON"))?;
    let o = body.as_object().ok_or_else(|| bad("invalidSyntax", "the body is not an object"))?;
    for key in o.keys() {
        match key.as_str() {
            "schemas" | "userName" | "name" => {}
            "active" | "emails" => return Err(bad("mutability", format!("'{key}' is read-only at Contentful"))),
            other => {
                return Err(bad(
                    "invalidSyntax",
                    format!("'{other}' is not a Contentful user attribute (userName, name.givenName, name.familyName)"),
                ));
            }
        }
    }
    if !schemas_are(&body, &[USER_SCHEMA]) {
        return Err(bad("invalidValue", format!("schemas must be [\"{USER_SCHEMA}\"]")));
    }
    let user_name = text(o, "userName").ok_or_else(|| bad("invalidValue", "userName (the e-mail) is required"))?;
    let email_like = user_name.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
    if !email_like {
        return Err(bad("invalidValue", format!("userName '{user_name}' is not an e-mail address")));
    }
    let name = o.get("name").and_then(Value::as_object).ok_or_else(|| bad("invalidValue", "name is required"))?;
    if let Some(k) = name.keys().find(|k| !matches!(k.as_str(), "givenName" | "familyName")) {
        return Err(bad("invalidSyntax", format!("name.{k} is not a Contentful attribute")));
    }
    if text(name, "givenName").is_none() || text(name, "familyName").is_none() {
        return Err(bad("invalidValue", "name.givenName and name.familyName are required"));
    }
    Ok(up.forward(req))
}

fn create_group(req: &Request, up: &Upstream) -> Result<Response, Response> {
    let body = req.json().ok_or_else(|| bad("invalidSyntax", "the body is not JSON"))?;
    let o = body.as_object().ok_or_else(|| bad("invalidSyntax", "the body is not an object"))?;
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "schemas" | "displayName" | "members")) {
        return Err(bad("invalidSyntax", format!("'{k}' is not a team attribute (displayName, members)")));
    }
    if !schemas_are(&body, &[GROUP_SCHEMA]) || text(o, "displayName").is_none() {
        return Err(bad("invalidValue", "a team needs schemas [Group] and a displayName"));
    }
    for m in o.get("members").and_then(Value::as_array).into_iter().flatten() {
        check_member(m, up, true)?;
    }
    Ok(up.forward(req))
}

fn patch_group(req: &Request, up: &Upstream) -> Result<Response, Response> {
    let body = req.json().ok_or_else(|| bad("invalidSyntax", "the body is not JSON"))?;
    if !schemas_are(&body, &[PATCH_OP]) {
        return Err(bad("invalidSyntax", format!("schemas must be [\"{PATCH_OP}\"]")));
    }
    let ops = body.get("Operations").and_then(Value::as_array).filter(|o| !o.is_empty());
    let ops = ops.ok_or_else(|| bad("invalidSyntax", "Operations must be a non-empty list"))?;
    let mut upstream_ops = Vec::new();
    for op in ops {
        let o = op.as_object().ok_or_else(|| bad("invalidSyntax", "an operation is not an object"))?;
        if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "op" | "path" | "value")) {
            return Err(bad("invalidSyntax", format!("an operation takes op, path and value, not '{k}'")));
        }
        if o.get("path").and_then(Value::as_str) != Some("members") {
            return Err(bad("invalidPath", "the path of a team operation must be 'members'"));
        }
        let values = o.get("value").and_then(Value::as_array);
        let values = values.ok_or_else(|| bad("invalidValue", "value must be a list of members"))?;
        match o.get("op").and_then(Value::as_str) {
            Some(kind @ ("add" | "replace")) => {
                for m in values {
                    check_member(m, up, true)?;
                }
                upstream_ops.push(json!({"op": kind, "path": "members", "value": values}));
            }
            Some("remove") => {
                for m in values {
                    check_member(m, up, false)?;
                    let id = m["value"].as_str().unwrap_or_default();
                    upstream_ops.push(json!({"op": "remove", "path": format!("members[value eq {}]", json!(id))}));
                }
            }
            other => return Err(bad("invalidValue", format!("op {other:?} is not add, remove or replace"))),
        }
    }
    Ok(up.forward_with(req, &json!({"schemas": [PATCH_OP], "Operations": upstream_ops})))
}

/// The member leaves every team with the organization.
fn delete_user(req: &Request, up: &Upstream, id: &str) -> Response {
    let r = up.forward(req);
    if r.status == 204 {
        let groups = up.get_json("/Groups?count=1000").unwrap_or_default();
        for g in groups["Resources"].as_array().into_iter().flatten() {
            let member = g["members"].as_array().into_iter().flatten().any(|m| m["value"] == id);
            if member && let Some(gid) = g["id"].as_str() {
                let op = json!({"op": "remove", "path": format!("members[value eq {}]", json!(id))});
                up.send("PATCH", &format!("/Groups/{gid}"), Some(&json!({"schemas": [PATCH_OP], "Operations": [op]})));
            }
        }
    }
    r
}

impl Rules for ContentfulRules {
    fn handle(&self, req: &Request, up: &Upstream) -> Result<Response, Response> {
        self.auth.check(req)?;
        let segments = req.segments();
        match (req.method.as_str(), segments.as_slice()) {
            ("GET", ["Users"]) => {
                only_params(req, &["filter", "startIndex", "count"])?;
                for (k, v) in req.query() {
                    if k == "filter" && eq_filter(&v).is_none_or(|(a, _)| a != "userName") {
                        return Err(bad("invalidFilter", "Contentful filters users by userName eq \"<e-mail>\" only"));
                    }
                }
                Ok(contentful_list(up.forward(req)))
            }
            ("GET", ["Users", _]) | ("GET", ["Groups", _]) => Ok(up.forward(req)),
            ("POST", ["Users"]) => create_user(req, up),
            ("PUT" | "PATCH", ["Users", _]) => Err(immutable()),
            ("DELETE", ["Users", id]) => Ok(delete_user(req, up, id)),
            ("GET", ["Groups"]) => {
                only_params(req, &["startIndex", "count"])?;
                Ok(contentful_list(up.forward(req)))
            }
            ("POST", ["Groups"]) => create_group(req, up),
            ("PATCH", ["Groups", _]) => patch_group(req, up),
            ("PUT", ["Groups", _]) => {
                Err(Response::scim_error(405, None, "teams are changed with PATCH on members; PUT is not supported"))
            }
            ("DELETE", ["Groups", _]) => Ok(up.forward(req)),
            _ => Err(Response::scim_error(
                404,
                None,
                &format!("{} {} is not a Contentful SCIM endpoint", req.method, req.path_only()),
            )),
        }
    }
}
