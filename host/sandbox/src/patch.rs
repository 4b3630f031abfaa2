//! SCIM PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying it to a resource.
//!
//! Supported: `op` `add` / `replace` / `remove` (case-insensitive); paths `attr`,
//! `attr.sub` (e.g. `name.givenName`), `attr[sub eq "v"]` and `attr[sub eq "v"].sub`
//! (e.g. `members[value eq "id"]`, `emails[type eq "work"].value`), each optionally
//! prefixed by the core schema URN, and enterprise extension attributes as
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
//! `add`/`replace` without a path take an object whose keys are paths. `add` appends to
//! multi-valued attributes (skipping values already present), merges into complex ones;
//! `replace` merges sub-attributes of complex attributes and replaces anything else;
//! `remove` with a value list on a multi-valued attribute removes those values.
//! The caller applies the operations to a copy, so a failing request changes nothing.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::resource::ENTERPRISE_URN;
use crate::store::Kind;

/// The PatchOp message URN.
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
struct Op {
    op: OpKind,
    path: Option<String>,
    value: Option<Value>,
}

/// A parsed PatchOp request.
#[derive(Debug, Clone)]
pub struct PatchRequest {
    ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    ext: bool,
    attr: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

const CANONICAL: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
    "externalId",
    "members",
    "givenName",
    "familyName",
    "middleName",
    "formatted",
    "honorificPrefix",
    "honorificSuffix",
    "value",
    "display",
    "type",
    "primary",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
    "$ref",
];

fn canonical(name: &str) -> String {
    CANONICAL.iter().find(|c| c.eq_ignore_ascii_case(name)).map_or_else(|| name.to_owned(), |c| (*c).to_owned())
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

impl PatchRequest {
    /// Parses a PatchOp body.
    pub fn parse(body: Value) -> Result<Self, ScimError> {
        let Value::Object(mut map) = body else {
            return Err(ScimError::invalid_syntax("a PATCH body must be a JSON object"));
        };
        let listed = map
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_URN))));
        if !listed {
            return Err(ScimError::invalid_syntax(format!("a PATCH body must list {PATCH_URN} in schemas")));
        }
        let key = find_key(&map, "Operations").unwrap_or_default();
        let Some(Value::Array(list)) = map.remove(&key) else {
            return Err(ScimError::invalid_syntax("a PATCH body needs an Operations array"));
        };
        if list.is_empty() {
            return Err(ScimError::invalid_syntax("Operations is empty"));
        }
        let mut ops = Vec::with_capacity(list.len());
        for item in list {
            let Value::Object(mut item) = item else {
                return Err(ScimError::invalid_syntax("each operation must be an object"));
            };
            let op = match item.get("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => OpKind::Add,
                Some("replace") => OpKind::Replace,
                Some("remove") => OpKind::Remove,
                other => {
                    return Err(ScimError::invalid_syntax(format!("op must be add, replace or remove, not {other:?}")));
                }
            };
            let path = match item.remove("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if !p.trim().is_empty() => Some(p.trim().to_owned()),
                Some(_) => return Err(ScimError::invalid_path("path must be a non-empty string")),
            };
            let value = item.remove("value");
            match (op, &path, &value) {
                (OpKind::Remove, None, _) => return Err(ScimError::no_target("remove needs a path")),
                (OpKind::Add, _, None | Some(Value::Null)) => {
                    return Err(ScimError::invalid_value("add needs a value"));
                }
                (OpKind::Replace, None, None | Some(Value::Null)) => {
                    return Err(ScimError::invalid_value("replace without a path needs a value"));
                }
                _ => {}
            }
            ops.push(Op { op, path, value });
        }
        Ok(PatchRequest { ops })
    }

    /// Applies the operations in order to `resource` (a stored resource, as JSON).
    pub fn apply(&self, kind: Kind, resource: &mut Value) -> Result<(), ScimError> {
        let root = resource.as_object_mut().expect("resources are objects");
        for op in &self.ops {
            match (&op.path, op.op, &op.value) {
                (Some(p), OpKind::Replace, None | Some(Value::Null)) => {
                    let path = parse_path(p, kind)?;
                    apply_path(OpKind::Remove, &path, None, root)?;
                }
                (Some(p), _, value) => {
                    let path = parse_path(p, kind)?;
                    apply_path(op.op, &path, value.as_ref(), root)?;
                }
                (None, _, Some(Value::Object(values))) => {
                    for (k, v) in values {
                        if ["id", "meta", "schemas"].iter().any(|r| r.eq_ignore_ascii_case(k)) {
                            continue;
                        }
                        if kind == Kind::User && k.eq_ignore_ascii_case(ENTERPRISE_URN) && v.is_object() {
                            for (ek, ev) in v.as_object().into_iter().flatten() {
                                let path = Path { ext: true, attr: canonical(ek), filter: None, sub: None };
                                apply_path(op.op, &path, Some(ev), root)?;
                            }
                            continue;
                        }
                        let path = parse_path(k, kind)?;
                        apply_path(op.op, &path, Some(v), root)?;
                    }
                }
                (None, _, _) => {
                    return Err(ScimError::invalid_value("without a path, value must be an object"));
                }
            }
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

fn parse_path(text: &str, kind: Kind) -> Result<Path, ScimError> {
    let bad = |why: &str| ScimError::invalid_path(format!("unsupported path {text:?}: {why}"));
    let lower = text.to_ascii_lowercase();
    let core = format!("{}:", kind.schema().to_ascii_lowercase());
    let ext_prefix = format!("{}:", ENTERPRISE_URN.to_ascii_lowercase());
    let (ext, rest) = if lower.starts_with(&core) {
        (false, &text[core.len()..])
    } else if kind == Kind::User && lower == ENTERPRISE_URN.to_ascii_lowercase() {
        return Ok(Path { ext: false, attr: ENTERPRISE_URN.to_owned(), filter: None, sub: None });
    } else if kind == Kind::User && lower.starts_with(&ext_prefix) {
        (true, &text[ext_prefix.len()..])
    } else if lower.starts_with("urn:") {
        return Err(bad("unknown schema"));
    } else {
        (false, text)
    };
    let end = rest.find(['[', '.']).unwrap_or(rest.len());
    let attr = &rest[..end];
    if !is_name(attr) {
        return Err(bad("expected an attribute name"));
    }
    let mut tail = &rest[end..];
    let mut filter = None;
    if let Some(inner) = tail.strip_prefix('[') {
        let close = inner.find(']').ok_or_else(|| bad("missing ]"))?;
        let (sub, value) = crate::filter::simple_eq(&inner[..close])
            .ok_or_else(|| bad("only [sub eq \"value\"] value filters are supported"))?;
        if !is_name(&sub) {
            return Err(bad("expected a sub-attribute name in the filter"));
        }
        filter = Some((canonical(&sub), value));
        tail = &inner[close + 1..];
    }
    let sub = match tail {
        "" => None,
        t => match t.strip_prefix('.') {
            Some(s) if is_name(s) => Some(canonical(s)),
            _ => return Err(bad("expected .subAttribute")),
        },
    };
    let attr = canonical(attr);
    let read_only = ["id", "meta", "schemas"].iter().any(|r| r.eq_ignore_ascii_case(&attr))
        || (kind == Kind::User && attr.eq_ignore_ascii_case("groups"));
    if read_only && !ext {
        return Err(ScimError::mutability(format!("{attr} is read-only")));
    }
    Ok(Path { ext, attr, filter, sub })
}

fn apply_path(op: OpKind, path: &Path, value: Option<&Value>, root: &mut Map<String, Value>) -> Result<(), ScimError> {
    let container = if path.ext {
        let key = find_key(root, ENTERPRISE_URN).unwrap_or_else(|| ENTERPRISE_URN.to_owned());
        if op == OpKind::Remove && !root.contains_key(&key) {
            return Ok(());
        }
        let slot = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
        slot.as_object_mut().ok_or_else(|| ScimError::invalid_value("the extension must be an object"))?
    } else {
        root
    };
    let key = find_key(container, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) => apply_attr(op, &path.attr, key, value, container),
        (None, Some(sub)) => {
            let Some(key) = key else {
                if op != OpKind::Remove {
                    let mut obj = Map::new();
                    obj.insert(sub.clone(), value.cloned().unwrap_or(Value::Null));
                    container.insert(path.attr.clone(), Value::Object(obj));
                }
                return Ok(());
            };
            let Value::Object(obj) = container.get_mut(&key).expect("found") else {
                return Err(ScimError::invalid_path(format!(
                    "{key} is not a complex single-valued attribute; use {key}[sub eq \"…\"].{sub}"
                )));
            };
            let sub_key = find_key(obj, sub).unwrap_or_else(|| sub.clone());
            match value {
                Some(v) if op != OpKind::Remove => {
                    obj.insert(sub_key, v.clone());
                }
                _ => {
                    obj.remove(&sub_key);
                    if obj.is_empty() {
                        container.remove(&key);
                    }
                }
            }
            Ok(())
        }
        (Some((fsub, fval)), sub) => {
            let Some(key) = key else {
                return match op {
                    OpKind::Remove => Ok(()),
                    _ => Err(ScimError::no_target(format!("{} has no values", path.attr))),
                };
            };
            let Value::Array(items) = container.get_mut(&key).expect("found") else {
                return Err(ScimError::invalid_path(format!("{key} is not multi-valued")));
            };
            let hit = |item: &Value| {
                let Some(obj) = item.as_object() else { return false };
                let Some(found) = find_key(obj, fsub).and_then(|k| obj.get(&k)).and_then(Value::as_str) else {
                    return false;
                };
                if fsub == "value" { found == fval } else { found.eq_ignore_ascii_case(fval) }
            };
            if op == OpKind::Remove {
                match sub {
                    None => items.retain(|i| !hit(i)),
                    Some(sub) => items.iter_mut().filter(|i| hit(i)).for_each(|i| {
                        if let Some(o) = i.as_object_mut()
                            && let Some(k) = find_key(o, sub)
                        {
                            o.remove(&k);
                        }
                    }),
                }
                if items.is_empty() {
                    container.remove(&key);
                }
                return Ok(());
            }
            let value = value.expect("checked at parse");
            let mut matched = false;
            for item in items.iter_mut().filter(|i| hit(i)) {
                matched = true;
                let obj = item.as_object_mut().expect("hit checks objects");
                match (sub, value) {
                    (Some(sub), v) => {
                        let k = find_key(obj, sub).unwrap_or_else(|| sub.clone());
                        obj.insert(k, v.clone());
                    }
                    (None, Value::Object(v)) => merge(obj, v),
                    (None, _) => {
                        return Err(ScimError::invalid_value("a value-path target needs an object value"));
                    }
                }
            }
            if matched { Ok(()) } else { Err(ScimError::no_target(format!("no value of {key} matches"))) }
        }
    }
}

fn apply_attr(
    op: OpKind,
    attr: &str,
    key: Option<String>,
    value: Option<&Value>,
    container: &mut Map<String, Value>,
) -> Result<(), ScimError> {
    if op == OpKind::Remove {
        let Some(key) = key else { return Ok(()) };
        match (container.get_mut(&key), value) {
            (Some(Value::Array(items)), Some(v)) => {
                let targets: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                items.retain(|i| !targets.iter().any(|t| same_value(i, t)));
                if items.is_empty() {
                    container.remove(&key);
                }
            }
            _ => {
                container.remove(&key);
            }
        }
        return Ok(());
    }
    let value = value.expect("checked at parse");
    let Some(key) = key else {
        if !matches!(value, Value::Array(a) if a.is_empty()) {
            container.insert(attr.to_owned(), value.clone());
        }
        return Ok(());
    };
    let existing = container.get_mut(&key).expect("found");
    match (op, existing, value) {
        (OpKind::Add, Value::Array(items), v) => {
            let new: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for n in new {
                if !items.iter().any(|i| same_value(i, n)) {
                    items.push(n.clone());
                }
            }
        }
        (_, Value::Object(obj), Value::Object(v)) => merge(obj, v),
        (_, slot, v) => *slot = v.clone(),
    }
    Ok(())
}

/// Two values of a multi-valued attribute are the same when their `value`s are equal
/// (or, without `value`, when they are equal).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn merge(target: &mut Map<String, Value>, source: &Map<String, Value>) {
    for (k, v) in source {
        let key = find_key(target, k).unwrap_or_else(|| canonical(k));
        target.insert(key, v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(kind: Kind, mut res: Value, ops: Value) -> Result<Value, ScimError> {
        let req = PatchRequest::parse(json!({"schemas":[PATCH_URN],"Operations":ops}))?;
        req.apply(kind, &mut res)?;
        Ok(res)
    }

    #[test]
    fn user_paths() {
        let user = json!({"userName":"a","active":true,"name":{"givenName":"A","familyName":"B"},
            "emails":[{"type":"work","value":"a@x"}]});
        let out = run(
            Kind::User,
            user.clone(),
            json!([
                {"op":"Replace","path":"active","value":false},
                {"op":"replace","path":"name.givenName","value":"Z"},
                {"op":"replace","path":"emails[type eq \"work\"].value","value":"z@x"},
                {"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"D"},
                {"op":"replace","value":{"displayName":"Zed","name":{"familyName":"Y"}}},
                {"op":"remove","path":"userName"}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"active":false,"name":{"givenName":"Z","familyName":"Y"},"displayName":"Zed",
                "emails":[{"type":"work","value":"z@x"}], ENTERPRISE_URN: {"department":"D"}})
        );
        let e = run(
            Kind::User,
            user.clone(),
            json!([{"op":"replace","path":"emails[type eq \"home\"].value","value":"q"}]),
        );
        assert_eq!(e.unwrap_err().scim_type, Some("noTarget"));
        let e = run(Kind::User, user.clone(), json!([{"op":"replace","path":"id","value":"q"}]));
        assert_eq!(e.unwrap_err().scim_type, Some("mutability"));
        let e = run(Kind::User, user, json!([{"op":"remove"}]));
        assert_eq!(e.unwrap_err().scim_type, Some("noTarget"));
    }

    #[test]
    fn members() {
        let g = json!({"displayName":"g","members":[{"value":"1"}]});
        let out = run(
            Kind::Group,
            g,
            json!([
                {"op":"add","path":"members","value":[{"value":"2"},{"value":"1"}]},
                {"op":"remove","path":"members[value eq \"1\"]"},
                {"op":"add","path":"members","value":[{"value":"3"}]},
                {"op":"remove","path":"members","value":[{"value":"3"}]}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"displayName":"g","members":[{"value":"2"}]}));
    }
}
