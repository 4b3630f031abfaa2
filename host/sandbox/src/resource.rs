//! Shaping of User and Group resources: what a request body must hold, what the server
//! strips or adds, `meta`, weak ETags (`W/"n"`) and RFC 3339 timestamps.
//!
//! Rules (the sandbox is a little stricter than many targets, to catch mapping mistakes):
//! - `schemas` is required and must list the core URN of the resource type; the enterprise
//!   extension URN is added or removed to match the presence of the extension object.
//! - Users need a non-empty string `userName`; Groups a non-empty string `displayName`
//!   (else 400 `invalidValue`). `active` must be a JSON boolean, `emails`/`members` arrays of
//!   objects with a string `value`, `externalId`/`displayName` strings.
//! - Read-only `id`, `meta` and (Users) `groups` in a request are ignored; a `password` is
//!   accepted and dropped (never stored, never returned). Other attributes are stored as sent.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::store::Kind;

/// Core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension URN.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The indexed values of one resource.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keys {
    /// `userName`, lowercased (Users).
    pub user_name: Option<String>,
    /// `externalId`, as is.
    pub external_id: Option<String>,
    /// `displayName`, lowercased.
    pub display_name: Option<String>,
    /// `emails[].value`, lowercased (Users).
    pub emails: Vec<String>,
    /// `members[].value`, as is (Groups).
    pub members: Vec<String>,
}

impl Keys {
    /// Extracts the keys of a resource already validated by [`prepare`].
    pub fn of(kind: Kind, resource: &Map<String, Value>) -> Keys {
        let text = |k: &str| resource.get(k).and_then(Value::as_str);
        let values = |k: &str| -> Vec<String> {
            resource
                .get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|e| e.get("value").and_then(Value::as_str).map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let mut keys = Keys {
            user_name: None,
            external_id: text("externalId").map(str::to_owned),
            display_name: text("displayName").map(str::to_lowercase),
            emails: Vec::new(),
            members: Vec::new(),
        };
        match kind {
            Kind::User => {
                keys.user_name = text("userName").map(str::to_lowercase);
                keys.emails = values("emails").into_iter().map(|e| e.to_lowercase()).collect();
                keys.emails.sort();
                keys.emails.dedup();
            }
            Kind::Group => keys.members = values("members"),
        }
        keys
    }
}

/// Validates and normalises a request body into a stored resource without `id` and `meta`.
pub fn prepare(kind: Kind, body: Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(mut map) = body else {
        return Err(ScimError::invalid_syntax("the request body must be a JSON object"));
    };
    map.remove("id");
    map.remove("meta");
    if kind == Kind::User {
        map.remove("groups");
        map.remove("password");
    }
    normalise_schemas(kind, &mut map)?;
    let required = match kind {
        Kind::User => "userName",
        Kind::Group => "displayName",
    };
    match map.get(required) {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => {
            return Err(ScimError::invalid_value(format!("{required} must not be empty")));
        }
        Some(_) => return Err(ScimError::invalid_value(format!("{required} must be a string"))),
        None => return Err(ScimError::invalid_value(format!("{required} is required"))),
    }
    for attr in ["externalId", "displayName", "userName"] {
        if let Some(v) = map.get(attr)
            && !v.is_string()
        {
            return Err(ScimError::invalid_value(format!("{attr} must be a string")));
        }
    }
    if let Some(v) = map.get("active")
        && !v.is_boolean()
    {
        return Err(ScimError::invalid_value(format!("active must be a JSON boolean, not {v}")));
    }
    if let Some(v) = map.get("name")
        && !v.is_object()
    {
        return Err(ScimError::invalid_value("name must be an object"));
    }
    let multi = match kind {
        Kind::User => "emails",
        Kind::Group => "members",
    };
    if let Some(v) = map.get_mut(multi) {
        let Value::Array(items) = v else {
            return Err(ScimError::invalid_value(format!("{multi} must be an array")));
        };
        for item in items.iter() {
            if !item.get("value").is_some_and(Value::is_string) {
                return Err(ScimError::invalid_value(format!(
                    "every element of {multi} must be an object with a string value, not {item}"
                )));
            }
        }
        if kind == Kind::Group {
            let mut seen = std::collections::HashSet::new();
            items.retain(|m| seen.insert(m["value"].as_str().unwrap_or_default().to_owned()));
        }
        if items.is_empty() {
            map.remove(multi);
        }
    }
    Ok(map)
}

fn normalise_schemas(kind: Kind, map: &mut Map<String, Value>) -> Result<(), ScimError> {
    let core = kind.schema();
    let mut schemas: Vec<String> = match map.get("schemas") {
        None => return Err(ScimError::invalid_syntax(format!("schemas is required and must list {core}"))),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| ScimError::invalid_syntax("schemas must be an array of strings"))?,
        Some(_) => return Err(ScimError::invalid_syntax("schemas must be an array of strings")),
    };
    if !schemas.iter().any(|s| s.eq_ignore_ascii_case(core)) {
        return Err(ScimError::invalid_syntax(format!("schemas must list {core}")));
    }
    if kind == Kind::User {
        let has_ext = match map.get(ENTERPRISE_URN) {
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => return Err(ScimError::invalid_value(format!("{ENTERPRISE_URN} must be an object"))),
            None => false,
        };
        if !has_ext {
            map.remove(ENTERPRISE_URN);
        }
        let listed = schemas.iter().any(|s| s.eq_ignore_ascii_case(ENTERPRISE_URN));
        if has_ext && !listed {
            schemas.push(ENTERPRISE_URN.to_owned());
        } else if !has_ext && listed {
            schemas.retain(|s| !s.eq_ignore_ascii_case(ENTERPRISE_URN));
        }
    }
    map.insert("schemas".into(), Value::from(schemas));
    Ok(())
}

/// `meta` values of a stored resource.
pub struct Meta<'a> {
    /// The resource id.
    pub id: &'a str,
    /// RFC 3339 creation time.
    pub created: &'a str,
    /// RFC 3339 time of the last change.
    pub last_modified: &'a str,
    /// Version counter, from 1.
    pub version: u64,
    /// The server's base URL (without trailing slash).
    pub base_url: &'a str,
}

/// Puts `id` first and `meta` last into a prepared resource, and serialises it.
pub fn finish(kind: Kind, body: Map<String, Value>, meta: &Meta<'_>) -> String {
    let mut out = Map::with_capacity(body.len() + 2);
    out.insert("id".into(), Value::from(meta.id));
    out.extend(body);
    out.insert(
        "meta".into(),
        serde_json::json!({
            "resourceType": kind.name(),
            "created": meta.created,
            "lastModified": meta.last_modified,
            "location": format!("{}/{}/{}", meta.base_url, kind.endpoint(), meta.id),
            "version": etag(meta.version),
        }),
    );
    Value::Object(out).to_string()
}

/// The weak ETag of a version: `W/"n"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match` / `If-None-Match` header value names `version` (or is `*`).
pub fn etag_matches(header: &str, version: u64) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let tag = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(tag);
        tag.parse::<u64>() == Ok(version)
    })
}

/// The current time as RFC 3339 UTC with milliseconds, e.g. `2026-03-01T12:00:00.123Z`.
pub fn now_rfc3339() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(since.as_secs() as i64, since.subsec_millis())
}

fn rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_format() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400 + 86_399, 7), "2000-02-29T23:59:59.007Z");
        assert_eq!(rfc3339(1_767_225_600, 0), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn etags() {
        assert!(etag_matches("W/\"3\"", 3));
        assert!(etag_matches("\"3\"", 3));
        assert!(etag_matches("*", 9));
        assert!(etag_matches("W/\"1\", W/\"3\"", 3));
        assert!(!etag_matches("W/\"2\"", 3));
    }

    #[test]
    fn prepare_rules() {
        let u = prepare(
            Kind::User,
            json!({"schemas":[USER_URN],"id":"x","userName":"a","password":"p",
                   ENTERPRISE_URN: {"employeeNumber":"1"}}),
        )
        .unwrap();
        assert!(!u.contains_key("id") && !u.contains_key("password"));
        assert_eq!(u["schemas"], json!([USER_URN, ENTERPRISE_URN]));
        let err = |v| prepare(Kind::User, v).unwrap_err().scim_type;
        assert_eq!(err(json!({"schemas":[USER_URN]})), Some("invalidValue"));
        assert_eq!(err(json!({"schemas":[USER_URN],"userName":"a","active":"False"})), Some("invalidValue"));
        assert_eq!(err(json!({"userName":"a"})), Some("invalidSyntax"));
        let g = prepare(
            Kind::Group,
            json!({"schemas":[GROUP_URN],"displayName":"g","members":[{"value":"1"},{"value":"1"}]}),
        )
        .unwrap();
        assert_eq!(g["members"], json!([{"value":"1"}]));
        assert_eq!(Keys::of(Kind::Group, &g).members, vec!["1".to_owned()]);
    }
}
