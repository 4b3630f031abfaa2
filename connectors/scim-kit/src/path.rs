//! Target paths of the attribute catalogue, parsed, and the JSON edits they
//! stand for.
//!
//! A catalogue entry's `target` ([`provisio_core::manifest::AttributeSpec`])
//! is one of four shapes, optionally behind a schema URN:
//!
//! | shape | example | in the resource |
//! |---|---|---|
//! | simple | `title`, `urn:…:enterprise:2.0:User:department` | `"title": "v"` (a list of strings when multi-valued) |
//! | complex | `name.givenName`, `urn:…:User:manager.value` | `"name": {"givenName": "v"}` |
//! | typed | `emails[type eq "work"].value` | one entry per type: `"emails": [{"type": "work", "value": "v"}]` |
//! | list | `entitlements[].value` | one entry per value: `"entitlements": [{"value": "a"}, {"value": "b"}]` |
//!
//! A URN prefix (everything before the last `:` outside brackets) puts the
//! attribute in that extension: nested under the URN key, the URN listed in
//! `schemas`. The core schema URNs are accepted as a prefix and mean the core
//! schema. SCIM attribute names and the `type` values of typed entries are
//! matched case-insensitively when reading or merging, and written as the
//! catalogue spells them.

use serde_json::{Map, Value};

/// The shape of a path below its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `attr`
    Simple { attr: String },
    /// `attr.sub`
    Complex { attr: String, sub: String },
    /// `attr[type eq "t"].sub` (sub defaults to `value`)
    Typed { attr: String, type_value: String, sub: String },
    /// `attr[].sub` (sub defaults to `value`)
    List { attr: String, sub: String },
}

/// A parsed target path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPath {
    /// The extension schema URN as written (SCIM 2.0 spelling), `None` for
    /// the core schema.
    pub schema: Option<String>,
    pub shape: Shape,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

/// Index of the last `:` outside brackets and quotes.
fn last_top_level_colon(path: &str) -> Option<usize> {
    let (mut depth, mut in_quotes, mut escaped, mut last) = (0i32, false, false, None);
    for (i, c) in path.char_indices() {
        if in_quotes {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

impl TargetPath {
    /// Parse a catalogue path. `Err` says what is wrong with it.
    pub fn parse(path: &str) -> Result<TargetPath, String> {
        let path = path.trim();
        let (schema, rest) = if path.len() > 4 && path[..4].eq_ignore_ascii_case("urn:") {
            let at = last_top_level_colon(path).ok_or_else(|| format!("'{path}' has no attribute after its URN"))?;
            let urn = &path[..at];
            if urn.matches(':').count() < 2 {
                return Err(format!("'{path}' has no attribute after its URN"));
            }
            let is_core = crate::dialect::ScimVersion::V2_0.is_core_urn(urn);
            ((!is_core).then(|| urn.to_owned()), &path[at + 1..])
        } else {
            (None, path)
        };
        let bad = |why: &str| format!("'{path}' is not a supported SCIM path: {why}");
        let shape = if let Some(open) = rest.find('[') {
            let attr = &rest[..open];
            let close = rest.rfind(']').filter(|c| *c > open).ok_or_else(|| bad("'[' without ']'"))?;
            let inner = rest[open + 1..close].trim();
            let sub = match &rest[close + 1..] {
                "" => "value".to_owned(),
                s => {
                    s.strip_prefix('.').filter(|s| is_name(s)).ok_or_else(|| bad("expected .sub after ']'"))?.to_owned()
                }
            };
            if !is_name(attr) {
                return Err(bad("bad attribute name"));
            }
            if inner.is_empty() {
                Shape::List { attr: attr.to_owned(), sub }
            } else {
                let mut words = inner.splitn(3, char::is_whitespace);
                let (a, op, literal) = (words.next(), words.next(), words.next().map(str::trim));
                let type_value = match (a, op, literal) {
                    (Some(a), Some(op), Some(lit))
                        if a.eq_ignore_ascii_case("type") && op.eq_ignore_ascii_case("eq") =>
                    {
                        serde_json::from_str::<String>(lit).map_err(|_| bad("the type must be a quoted string"))?
                    }
                    _ => return Err(bad("only [type eq \"…\"] and [] are supported")),
                };
                Shape::Typed { attr: attr.to_owned(), type_value, sub }
            }
        } else if let Some((attr, sub)) = rest.split_once('.') {
            if !is_name(attr) || !is_name(sub) {
                return Err(bad("bad attribute name"));
            }
            Shape::Complex { attr: attr.to_owned(), sub: sub.to_owned() }
        } else {
            if !is_name(rest) {
                return Err(bad("bad attribute name"));
            }
            Shape::Simple { attr: rest.to_owned() }
        };
        Ok(TargetPath { schema, shape })
    }

    /// The top-level attribute name (below the schema).
    pub fn attribute(&self) -> &str {
        match &self.shape {
            Shape::Simple { attr }
            | Shape::Complex { attr, .. }
            | Shape::Typed { attr, .. }
            | Shape::List { attr, .. } => attr,
        }
    }
}

/// The actual key of `name` in `map`, matched case-insensitively.
pub fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The member `name` of `map` (case-insensitive).
pub fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    key_ci(map, name).and_then(|k| map.get(&k))
}

/// The member `name` of `map`, made an object if missing or not one.
fn object_member<'a>(map: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
    let key = key_ci(map, name).unwrap_or_else(|| name.to_owned());
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("made an object above")
}

/// The member `name` of `map`, made an array if missing or not one.
fn array_member<'a>(map: &'a mut Map<String, Value>, name: &str) -> &'a mut Vec<Value> {
    let key = key_ci(map, name).unwrap_or_else(|| name.to_owned());
    let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().expect("made an array above")
}

fn type_matches(entry: &Value, type_value: &str) -> bool {
    entry.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(type_value))
}

fn remove_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    key_ci(map, name).and_then(|k| map.remove(&k))
}

/// Write `values` at `shape` into `container` (the resource, or an
/// extension's object). A single-valued path takes the first value.
pub fn write(container: &mut Map<String, Value>, shape: &Shape, values: &[&str], multi_valued: bool) {
    let Some(first) = values.first() else { return };
    match shape {
        Shape::Simple { attr } => {
            let value = if multi_valued {
                Value::Array(values.iter().map(|v| Value::from(*v)).collect())
            } else {
                Value::from(*first)
            };
            let key = key_ci(container, attr).unwrap_or_else(|| attr.clone());
            container.insert(key, value);
        }
        Shape::Complex { attr, sub } => {
            let object = object_member(container, attr);
            let key = key_ci(object, sub).unwrap_or_else(|| sub.clone());
            object.insert(key, Value::from(*first));
        }
        Shape::Typed { attr, type_value, sub } => {
            let entries = array_member(container, attr);
            match entries.iter_mut().find(|e| type_matches(e, type_value)).and_then(Value::as_object_mut) {
                Some(entry) => {
                    let key = key_ci(entry, sub).unwrap_or_else(|| sub.clone());
                    entry.insert(key, Value::from(*first));
                }
                None => {
                    let mut entry = Map::new();
                    entry.insert(sub.clone(), Value::from(*first));
                    entry.insert("type".to_owned(), Value::from(type_value.as_str()));
                    entries.push(Value::Object(entry));
                }
            }
        }
        Shape::List { attr, sub } => {
            let old = remove_ci(container, attr).and_then(|v| v.as_array().cloned()).unwrap_or_default();
            let entries = values
                .iter()
                .map(|v| {
                    // Keep an existing entry (with its display/primary/type) for a value that stays.
                    old.iter()
                        .find(|e| e.get(sub.as_str()).and_then(Value::as_str) == Some(*v))
                        .cloned()
                        .unwrap_or_else(|| {
                            let mut entry = Map::new();
                            entry.insert(sub.clone(), Value::from(*v));
                            Value::Object(entry)
                        })
                })
                .collect();
            container.insert(attr.clone(), Value::Array(entries));
        }
    }
}

/// Remove the value at `shape` from `container`. An emptied complex value,
/// typed entry (nothing left but `type`/`primary`/`display`) or list is
/// removed with it.
pub fn clear(container: &mut Map<String, Value>, shape: &Shape) {
    match shape {
        Shape::Simple { attr } | Shape::List { attr, .. } => {
            remove_ci(container, attr);
        }
        Shape::Complex { attr, sub } => {
            let Some(key) = key_ci(container, attr) else { return };
            if let Some(object) = container.get_mut(&key).and_then(Value::as_object_mut) {
                remove_ci(object, sub);
                if object.is_empty() {
                    container.remove(&key);
                }
            }
        }
        Shape::Typed { attr, type_value, sub } => {
            let Some(key) = key_ci(container, attr) else { return };
            let Some(entries) = container.get_mut(&key).and_then(Value::as_array_mut) else { return };
            for entry in entries.iter_mut().filter(|e| type_matches(e, type_value)) {
                if let Some(object) = entry.as_object_mut() {
                    remove_ci(object, sub);
                }
            }
            entries.retain(|e| {
                !(type_matches(e, type_value)
                    && e.as_object().is_some_and(|o| {
                        o.keys().all(|k| ["type", "primary", "display"].iter().any(|n| k.eq_ignore_ascii_case(n)))
                    }))
            });
            if entries.is_empty() {
                container.remove(&key);
            }
        }
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The values at `shape` in `container`; empty when absent.
pub fn read(container: &Map<String, Value>, shape: &Shape) -> Vec<String> {
    match shape {
        Shape::Simple { attr } => match get_ci(container, attr) {
            Some(Value::Array(items)) => items.iter().filter_map(as_text).collect(),
            Some(v) => as_text(v).into_iter().collect(),
            None => vec![],
        },
        Shape::Complex { attr, sub } => get_ci(container, attr)
            .and_then(Value::as_object)
            .and_then(|o| get_ci(o, sub))
            .and_then(as_text)
            .into_iter()
            .collect(),
        Shape::Typed { attr, type_value, sub } => get_ci(container, attr)
            .and_then(Value::as_array)
            .and_then(|entries| entries.iter().find(|e| type_matches(e, type_value)))
            .and_then(Value::as_object)
            .and_then(|o| get_ci(o, sub))
            .and_then(as_text)
            .into_iter()
            .collect(),
        Shape::List { attr, sub } => get_ci(container, attr)
            .and_then(Value::as_array)
            .map(|entries| {
                entries.iter().filter_map(|e| e.as_object().and_then(|o| get_ci(o, sub)).and_then(as_text)).collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(p: &str) -> TargetPath {
        TargetPath::parse(p).unwrap()
    }

    #[test]
    fn every_catalogue_shape_parses() {
        assert_eq!(parse("userName").shape, Shape::Simple { attr: "userName".into() });
        assert_eq!(parse("name.givenName").shape, Shape::Complex { attr: "name".into(), sub: "givenName".into() });
        assert_eq!(
            parse(r#"emails[type eq "work"].value"#).shape,
            Shape::Typed { attr: "emails".into(), type_value: "work".into(), sub: "value".into() }
        );
        assert_eq!(
            parse(r#"addresses[TYPE EQ "home"].locality"#).shape,
            Shape::Typed { attr: "addresses".into(), type_value: "home".into(), sub: "locality".into() }
        );
        assert_eq!(
            parse("x509Certificates[].value").shape,
            Shape::List { attr: "x509Certificates".into(), sub: "value".into() }
        );
        let dept = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        assert_eq!(dept.schema.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(dept.shape, Shape::Simple { attr: "department".into() });
        let manager = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        assert_eq!(manager.shape, Shape::Complex { attr: "manager".into(), sub: "value".into() });
        let core = parse("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName");
        assert_eq!(core.schema, None);
        let custom = parse(r#"urn:acme:ext:1.0:badges[type eq "a:b"].value"#);
        assert_eq!(custom.schema.as_deref(), Some("urn:acme:ext:1.0"));
        assert_eq!(custom.attribute(), "badges");
    }

    #[test]
    fn bad_paths_are_refused() {
        for p in [
            "",
            "name.",
            "emails[value eq \"x\"].value",
            "emails[type eq work].value",
            "urn:x",
            "a b",
            "emails[type eq \"w\"]value",
        ] {
            assert!(TargetPath::parse(p).is_err(), "{p} should be refused");
        }
    }

    #[test]
    fn typed_writes_merge_into_the_entry_of_their_type() {
        let mut r =
            json!({"emails": [{"type": "Home", "value": "h@x", "primary": true}, {"type": "work", "value": "old@x"}]});
        let map = r.as_object_mut().unwrap();
        write(map, &parse(r#"emails[type eq "work"].value"#).shape, &["new@x"], false);
        write(map, &parse(r#"emails[type eq "other"].value"#).shape, &["o@x"], false);
        write(map, &parse(r#"emails[type eq "home"].display"#).shape, &["Home mail"], false);
        assert_eq!(
            r,
            json!({"emails": [
                {"type": "Home", "value": "h@x", "primary": true, "display": "Home mail"},
                {"type": "work", "value": "new@x"},
                {"value": "o@x", "type": "other"}
            ]})
        );
    }

    #[test]
    fn lists_keep_entries_that_stay() {
        let mut r = json!({"roles": [{"value": "a", "primary": true}, {"value": "gone"}]});
        write(
            r.as_object_mut().unwrap(),
            &Shape::List { attr: "roles".into(), sub: "value".into() },
            &["a", "b"],
            true,
        );
        assert_eq!(r, json!({"roles": [{"value": "a", "primary": true}, {"value": "b"}]}));
    }

    #[test]
    fn clearing_removes_emptied_containers() {
        let mut r = json!({
            "name": {"givenName": "A"},
            "emails": [{"type": "work", "value": "w", "primary": true}, {"type": "home", "value": "h"}],
            "phoneNumbers": [{"type": "work", "value": "1"}],
            "title": "T"
        });
        let map = r.as_object_mut().unwrap();
        clear(map, &parse("name.givenName").shape);
        clear(map, &parse(r#"emails[type eq "work"].value"#).shape);
        clear(map, &parse(r#"phoneNumbers[type eq "work"].value"#).shape);
        clear(map, &parse("title").shape);
        assert_eq!(r, json!({"emails": [{"type": "home", "value": "h"}]}));
    }

    #[test]
    fn reads_are_case_insensitive() {
        let r = json!({"Emails": [{"type": "WORK", "Value": "w@x"}], "name": {"GivenName": "A"}, "roles": [{"value": "r1"}, {"value": "r2"}]});
        let map = r.as_object().unwrap();
        assert_eq!(read(map, &parse(r#"emails[type eq "work"].value"#).shape), ["w@x"]);
        assert_eq!(read(map, &parse("name.givenName").shape), ["A"]);
        assert_eq!(read(map, &parse("roles[].value").shape), ["r1", "r2"]);
        assert!(read(map, &parse("title").shape).is_empty());
    }
}
