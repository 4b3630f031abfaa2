//! Vendor emulators for the Contentful, Code42 and Aquera connectors, on
//! 127.0.0.1.
//!
//! None of these vendors can be reached from here, so each emulator is a
//! rule-enforcing [`front::Front`] in front of a real scim2-server tenant
//! (which keeps the data and validates it against the RFC schemas). The
//! front enforces what the vendor documents (spec b.2.3, b.3, b.4) and
//! refuses everything else in the vendor's error shape; what passes is
//! forwarded, translated where the vendor's wire differs from RFC 7644.
//!
//! | emulator | URL | refuses |
//! |---|---|---|
//! | [`contentful`] | `/scim/v2/organizations/<org>` | a wrong token; PUT/PATCH on users; `active` or any attribute but `userName`, `name.givenName`, `name.familyName` on create; a userName that is not an e-mail; filters other than `userName eq`; PUT on teams; PATCH on teams outside path `members`, or members without `display` and `value`; discovery endpoints |
//! | [`code42`] | `/api/v3/scim-user-provisioning/<id>/v2` | wrong credentials (bearer or Basic, as configured); DELETE and PATCH on users; creating an inactive user; attributes outside Code42's list; a `manager` that is not a Code42 user id; a country that is not ISO 3166-1 alpha-2; groups |
//! | [`aquera`] | `/scim/<app>/v2` | wrong credentials (token and/or Basic, as configured); PATCH on users; on request, group creation; anything the IANUser schema does not allow (scim2-server validates it) |
//!
//! Each emulator records every request with its status and whether its
//! rules refused it, so an end-to-end test asserts that the connector sent
//! nothing the vendor would refuse.

pub mod aquera;
pub mod code42;
pub mod contentful;
pub mod front;

use base64::Engine as _;
use serde_json::Value;

use front::{Request, Response};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The credentials an emulator accepts.
#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(String),
    Basic(String, String),
    /// Either a bearer token or Basic credentials.
    Both(String, String, String),
}

impl Auth {
    /// `Ok` when the request carries accepted credentials; a 401 otherwise.
    pub fn check(&self, req: &Request) -> Result<(), Response> {
        let header = req.header("Authorization").unwrap_or("");
        let bearer = |t: &str| header == format!("Bearer {t}");
        let basic = |u: &str, p: &str| {
            header == format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
        };
        let ok = match self {
            Auth::Bearer(t) => bearer(t),
            Auth::Basic(u, p) => basic(u, p),
            Auth::Both(t, u, p) => bearer(t) || basic(u, p),
        };
        if ok {
            return Ok(());
        }
        let mut r = Response::scim_error(401, None, "Authentication failed: missing or invalid credentials");
        let scheme = match self {
            Auth::Basic(..) => "Basic realm=\"SCIM\"",
            _ => "Bearer realm=\"SCIM\"",
        };
        r.headers.push(("WWW-Authenticate".into(), scheme.into()));
        Err(r)
    }
}

/// A 400 in SCIM's shape.
pub fn bad(scim_type: &str, detail: impl AsRef<str>) -> Response {
    Response::scim_error(400, Some(scim_type), detail.as_ref())
}

/// The string value of `name` in an object (case-sensitive: vendors
/// document exact names).
pub fn text<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    o.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// Whether `schemas` is a list holding exactly `expected` (in any order).
pub fn schemas_are(body: &Value, expected: &[&str]) -> bool {
    let Some(list) = body.get("schemas").and_then(Value::as_array) else { return false };
    list.len() == expected.len() && expected.iter().all(|e| list.iter().any(|s| s.as_str() == Some(e)))
}

/// Parse `attr eq "value"` (the only filter shape these vendors document).
pub fn eq_filter(filter: &str) -> Option<(String, String)> {
    let mut words = filter.splitn(3, ' ');
    let (attr, op, value) = (words.next()?, words.next()?, words.next()?);
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value: String = serde_json::from_str(value).ok()?;
    Some((attr.to_owned(), value))
}

/// Only these query parameters, each at most once.
pub fn only_params(req: &Request, allowed: &[&str]) -> Result<(), Response> {
    for (k, _) in req.query() {
        if !allowed.contains(&k.as_str()) {
            return Err(bad("invalidSyntax", format!("query parameter '{k}' is not supported")));
        }
    }
    Ok(())
}
