//! Code42's SCIM 2.0 provisioning API (spec b.3), emulated in front of a
//! scim2-server tenant.
//!
//! The Base URL is `http://127.0.0.1:PORT/api/v3/scim-user-provisioning/<id>/v2`;
//! the credential is the provider's OAuth token (`Bearer`) or, when the
//! emulator is started with [`Code42Emulator::start_basic`], a username and
//! password (`Basic`). Accepted:
//! - discovery (`/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`);
//! - `GET /Users` (`filter=userName eq "…"`, `startIndex`, `count`),
//!   `GET /Users/{id}`;
//! - `POST /Users` and `PUT /Users/{id}` carrying only Code42's documented
//!   attributes: `userName`, `name.givenName`, `name.familyName`, the work
//!   e-mail, `title`, `externalId`, the work address (`streetAddress`,
//!   `locality`, `region`, `postalCode`, `country`: ISO 3166-1 alpha-2),
//!   the enterprise `division`, `department` and `manager.value` (the
//!   Code42 user id of an existing user), and `active`; `userType` (in
//!   Ping's mapping example, not in Code42's list) is accepted and dropped.
//!
//! Refused: wrong credentials (401); `DELETE /Users/{id}` (405: Code42 does
//! not delete users, it deactivates them); `PATCH /Users/{id}` (405: users
//! are replaced with PUT); a `POST /Users` with `active: false` (400: Code42
//! cannot create a deactivated user); any other attribute (400
//! `invalidSyntax`); a `manager` that is not a user id (400
//! `invalidValue`); any `/Groups` request (404: no group provisioning).

use serde_json::{Map, Value};

use super::front::{Front, Request, Response, Rules, Upstream};
use super::{Auth, ENTERPRISE, USER_SCHEMA, bad, eq_filter, only_params};
use crate::scim_peer::{ScimPeer, Tenant, random_token};

/// A running Code42 emulator.
pub struct Code42Emulator {
    pub front: Front,
    pub tenant: Tenant,
    pub auth: Auth,
}

impl Code42Emulator {
    /// A provider taking a random OAuth token.
    pub fn start() -> Code42Emulator {
        Self::start_with(Auth::Bearer(format!("c42-{}", random_token())))
    }

    /// A provider taking Basic credentials.
    pub fn start_basic(user: &str, password: &str) -> Code42Emulator {
        Self::start_with(Auth::Basic(user.to_owned(), password.to_owned()))
    }

    fn start_with(auth: Auth) -> Code42Emulator {
        let tenant = ScimPeer::shared().unique_tenant("code42");
        let provider = &random_token()[..12];
        let prefix = format!("/api/v3/scim-user-provisioning/{provider}/v2");
        let front = Front::start(&prefix, Code42Rules { auth: auth.clone() }, &tenant.base_url, &tenant.token);
        Code42Emulator { front, tenant, auth }
    }

    /// The Base URL Code42 shows.
    pub fn base_url(&self) -> String {
        self.front.url()
    }

    /// The bearer token (panics for a Basic emulator).
    pub fn token(&self) -> &str {
        match &self.auth {
            Auth::Bearer(t) => t,
            _ => panic!("this emulator takes Basic credentials"),
        }
    }
}

struct Code42Rules {
    auth: Auth,
}

fn only(o: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), Response> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad("invalidSyntax", format!("'{at}{k}' is not an attribute Code42 supports"))),
        None => Ok(()),
    }
}

/// Check a user body against Code42's documented attributes; answers the
/// body to store (`userType` dropped).
fn check_user(body: &Value, up: &Upstream, creating: bool) -> Result<Value, Response> {
    let mut body = body.clone();
    let o = body.as_object_mut().ok_or_else(|| bad("invalidSyntax", "the body is not a JSON object"))?;
    o.remove("userType");
    let top = ["schemas", "id", "userName", "name", "emails", "title", "externalId", "addresses", "active", ENTERPRISE];
    only(o, &top, "")?;
    if creating && o.contains_key("id") {
        return Err(bad("invalidSyntax", "a new user has no id"));
    }
    let schemas: Vec<&str> =
        o.get("schemas").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    if !schemas.contains(&USER_SCHEMA) || schemas.iter().any(|s| *s != USER_SCHEMA && *s != ENTERPRISE) {
        return Err(bad(
            "invalidValue",
            "schemas must be the core User URN and, with its attributes, the enterprise URN",
        ));
    }
    if o.get("userName").and_then(Value::as_str).is_none_or(|u| u.trim().is_empty()) {
        return Err(bad("invalidValue", "userName is required"));
    }
    if let Some(name) = o.get("name") {
        only(
            name.as_object().ok_or_else(|| bad("invalidSyntax", "name is not an object"))?,
            &["givenName", "familyName"],
            "name.",
        )?;
    }
    for e in o.get("emails").and_then(Value::as_array).into_iter().flatten() {
        let e = e.as_object().ok_or_else(|| bad("invalidSyntax", "an e-mail is not an object"))?;
        only(e, &["value", "type", "primary"], "emails.")?;
        if e.get("type").and_then(Value::as_str).is_some_and(|t| t != "work") {
            return Err(bad("invalidValue", "Code42 takes the work e-mail only"));
        }
    }
    for a in o.get("addresses").and_then(Value::as_array).into_iter().flatten() {
        let a = a.as_object().ok_or_else(|| bad("invalidSyntax", "an address is not an object"))?;
        only(a, &["type", "streetAddress", "locality", "region", "postalCode", "country", "primary"], "addresses.")?;
        if a.get("type").and_then(Value::as_str).is_some_and(|t| t != "work") {
            return Err(bad("invalidValue", "Code42 takes the work address only"));
        }
        if let Some(c) = a.get("country").and_then(Value::as_str)
            && !(c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        {
            return Err(bad("invalidValue", format!("country '{c}' is not an ISO 3166-1 alpha-2 code")));
        }
    }
    if let Some(ext) = o.get(ENTERPRISE) {
        let ext = ext.as_object().ok_or_else(|| bad("invalidSyntax", "the enterprise extension is not an object"))?;
        only(ext, &["division", "department", "manager"], "enterprise.")?;
        if let Some(m) = ext.get("manager") {
            let m = m.as_object().ok_or_else(|| bad("invalidSyntax", "manager is not an object"))?;
            only(m, &["value"], "manager.")?;
            let id = m.get("value").and_then(Value::as_str).unwrap_or("");
            if id.is_empty() || id.contains(['=', ',', ' ']) || up.get_json(&format!("/Users/{id}")).is_none() {
                return Err(bad(
                    "invalidValue",
                    format!("manager '{id}' is not the Code42 user id of an existing user"),
                ));
            }
        }
    }
    if creating && o.get("active") == Some(&Value::Bool(false)) {
        return Err(bad("invalidValue", "Code42 cannot create a deactivated user"));
    }
    if o.get("active").is_some_and(|a| !a.is_boolean()) {
        return Err(bad("invalidValue", "active must be true or false"));
    }
    Ok(body)
}

impl Rules for Code42Rules {
    fn handle(&self, req: &Request, up: &Upstream) -> Result<Response, Response> {
        self.auth.check(req)?;
        let segments = req.segments();
        match (req.method.as_str(), segments.as_slice()) {
            ("GET", ["ServiceProviderConfig" | "Schemas" | "ResourceTypes", ..]) => Ok(up.forward(req)),
            ("GET", ["Users"]) => {
                only_params(req, &["filter", "startIndex", "count"])?;
                for (k, v) in req.query() {
                    if k == "filter" && eq_filter(&v).is_none_or(|(a, _)| a != "userName") {
                        return Err(bad("invalidFilter", "users are filtered by userName eq \"…\""));
                    }
                }
                Ok(up.forward(req))
            }
            ("GET", ["Users", _]) => Ok(up.forward(req)),
            ("POST", ["Users"]) => {
                let body = req.json().ok_or_else(|| bad("invalidSyntax", "the body is not JSON"))?;
                let body = check_user(&body, up, true)?;
                Ok(up.forward_with(req, &body))
            }
            ("PUT", ["Users", _]) => {
                let body = req.json().ok_or_else(|| bad("invalidSyntax", "the body is not JSON"))?;
                let body = check_user(&body, up, false)?;
                Ok(up.forward_with(req, &body))
            }
            ("DELETE", ["Users", _]) => Err(Response::scim_error(
                405,
                None,
                "Code42 does not support deleting users; deactivate them (active=false)",
            )),
            ("PATCH", ["Users", _]) => {
                Err(Response::scim_error(405, None, "Code42 users are replaced with PUT; PATCH is not supported"))
            }
            (_, ["Groups", ..]) => Err(Response::scim_error(404, None, "Code42 provisioning has no groups")),
            _ => Err(Response::scim_error(
                404,
                None,
                &format!("{} {} is not a Code42 SCIM endpoint", req.method, req.path_only()),
            )),
        }
    }
}
