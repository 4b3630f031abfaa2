//! SCIM User resources from [`UserRecord`]s, and back.
//!
//! A [`UserSchema`] is a connection's attribute catalogue (the manifest's
//! plus the connection's `extra_attributes`) with every target path parsed
//! once, in one dialect. It builds:
//!
//! - [`UserSchema::create`]: the POST body. `schemas` holds the dialect's
//!   User URN plus every extension written to; `active` is a JSON boolean;
//!   each mapped, non-empty value is written at its path ([`crate::path`]);
//!   read-only fields are never sent.
//! - [`UserSchema::overlay`]: the PUT body. It starts from the target's
//!   current resource, so attributes provisio does not map survive the full
//!   replace; drops what the server maintains (`meta`, `groups`, the
//!   enterprise `manager.displayName`; `id` stays); writes every mapped
//!   value (typed entries merge into the entry of their type, other types
//!   untouched); removes the fields listed in `record.clear`; sets `active`.
//!   Immutable fields keep the target's value.
//!
//! Values are strings; a field's value list becomes one string (single
//! valued), a list of strings (a multi-valued simple attribute) or one
//! entry per value (`attr[].sub`). An empty value is "no value", never a
//! clear (spec a.6: attributes are cleared only through `record.clear`).

use provisio_core::ConnectorError;
use provisio_core::manifest::{AttributeSpec, Mutability};
use provisio_core::ops::{AttributeValue, Attributes, UserRecord};
use serde_json::{Map, Value};

use crate::dialect::ScimVersion;
use crate::paging::resource_id;
use crate::path::{self, TargetPath, get_ci, key_ci};

/// One catalogue field with its parsed path.
#[derive(Debug, Clone)]
pub struct Field {
    pub spec: AttributeSpec,
    pub path: TargetPath,
}

/// A connection's user attributes in one dialect.
#[derive(Debug, Clone)]
pub struct UserSchema {
    version: ScimVersion,
    fields: Vec<Field>,
}

/// The identity of a user resource read back from the target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSummary {
    pub id: Option<String>,
    pub user_name: Option<String>,
    pub active: Option<bool>,
}

/// `active` as the target sent it: a boolean, or the strings "true"/"false".
pub fn read_active(resource: &Value) -> Option<bool> {
    match resource.as_object().and_then(|o| get_ci(o, "active"))? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `id`, `userName` and `active` of a user resource.
pub fn summarize(resource: &Value) -> UserSummary {
    UserSummary {
        id: resource_id(resource),
        user_name: resource.as_object().and_then(|o| get_ci(o, "userName")).and_then(Value::as_str).map(str::to_owned),
        active: read_active(resource),
    }
}

/// Set `active` on a resource object.
pub fn set_active(resource: &mut Value, active: bool) {
    if let Some(map) = resource.as_object_mut() {
        let key = key_ci(map, "active").unwrap_or_else(|| "active".to_owned());
        map.insert(key, Value::Bool(active));
    }
}

/// Add `urn` to the resource's `schemas` unless it is listed.
pub fn add_schema(resource: &mut Map<String, Value>, urn: &str) {
    let key = key_ci(resource, "schemas").unwrap_or_else(|| "schemas".to_owned());
    let slot = resource.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    let list = slot.as_array_mut().expect("made an array above");
    if !list.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn))) {
        list.push(Value::from(urn));
    }
}

fn remove_schema(resource: &mut Map<String, Value>, urn: &str) {
    if let Some(list) = key_ci(resource, "schemas").and_then(|k| resource.get_mut(&k)).and_then(Value::as_array_mut) {
        list.retain(|u| !u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)));
    }
}

/// What the server maintains and a client must not send back on PUT.
const SERVER_MANAGED: [&str; 2] = ["meta", "groups"];

impl UserSchema {
    /// Parse every field's target path; a path that cannot be parsed is a
    /// `Config` error naming the field (custom attributes come from
    /// configuration).
    pub fn new(version: ScimVersion, specs: &[AttributeSpec]) -> Result<UserSchema, ConnectorError> {
        let fields = specs
            .iter()
            .map(|spec| {
                TargetPath::parse(&spec.target)
                    .map(|path| Field { spec: spec.clone(), path })
                    .map_err(|why| ConnectorError::config(format!("attribute '{}': {why}", spec.code)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UserSchema { version, fields })
    }

    pub fn version(&self) -> ScimVersion {
        self.version
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The field whose code or alias is `code`.
    pub fn field(&self, code: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.spec.code == code)
            .or_else(|| self.fields.iter().find(|f| f.spec.aliases.iter().any(|a| a == code)))
    }

    fn field_or_error(&self, code: &str) -> Result<&Field, ConnectorError> {
        self.field(code).ok_or_else(|| {
            ConnectorError::config(format!(
                "the mapping sends field '{code}', which is neither in the connector's attribute catalogue nor a \
                 declared custom attribute"
            ))
        })
    }

    /// The object a path writes into: the resource itself, or its
    /// extension's object (created, and its URN added to `schemas`).
    fn container_mut<'a>(&self, resource: &'a mut Map<String, Value>, path: &TargetPath) -> &'a mut Map<String, Value> {
        match &path.schema {
            None => resource,
            Some(urn) => {
                let urn = self.version.translate_urn(urn);
                add_schema(resource, &urn);
                let key = key_ci(resource, &urn).unwrap_or_else(|| urn.clone());
                let slot = resource.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                slot.as_object_mut().expect("made an object above")
            }
        }
    }

    fn write_field(&self, resource: &mut Map<String, Value>, field: &Field, value: &AttributeValue) {
        let values: Vec<&str> = value.values().into_iter().filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return;
        }
        let multi = field.spec.multi_valued;
        path::write(self.container_mut(resource, &field.path), &field.path.shape, &values, multi);
    }

    fn clear_field(&self, resource: &mut Map<String, Value>, field: &Field) {
        match &field.path.schema {
            None => path::clear(resource, &field.path.shape),
            Some(urn) => {
                let urn = self.version.translate_urn(urn);
                let Some(key) = key_ci(resource, &urn) else { return };
                let emptied = match resource.get_mut(&key).and_then(Value::as_object_mut) {
                    Some(ext) => {
                        path::clear(ext, &field.path.shape);
                        ext.is_empty()
                    }
                    None => false,
                };
                if emptied {
                    resource.remove(&key);
                    remove_schema(resource, &urn);
                }
            }
        }
    }

    /// The POST body for `record`. `send_active` false leaves `active` out
    /// (targets where it is read-only).
    pub fn create(&self, record: &UserRecord, send_active: bool) -> Result<Value, ConnectorError> {
        let mut resource = Map::new();
        resource.insert("schemas".to_owned(), Value::Array(vec![Value::from(self.version.user_schema())]));
        for (code, value) in &record.attributes {
            let field = self.field_or_error(code)?;
            if field.spec.mutability == Mutability::ReadOnly {
                continue;
            }
            self.write_field(&mut resource, field, value);
        }
        if send_active {
            resource.insert("active".to_owned(), Value::Bool(record.active));
        }
        Ok(Value::Object(resource))
    }

    /// The PUT body: `record` overlaid on the target's `current` resource.
    pub fn overlay(&self, current: &Value, record: &UserRecord, send_active: bool) -> Result<Value, ConnectorError> {
        let mut resource = self.strip_server_managed(current)?;
        for (code, value) in &record.attributes {
            let field = self.field_or_error(code)?;
            if matches!(field.spec.mutability, Mutability::ReadOnly | Mutability::Immutable) {
                continue;
            }
            self.write_field(&mut resource, field, value);
        }
        for code in &record.clear {
            let field = self.field_or_error(code)?;
            if matches!(field.spec.mutability, Mutability::ReadOnly | Mutability::Immutable) {
                continue;
            }
            self.clear_field(&mut resource, field);
        }
        if send_active {
            let mut value = Value::Object(resource);
            set_active(&mut value, record.active);
            return Ok(value);
        }
        Ok(Value::Object(resource))
    }

    /// The current resource without what the server maintains, with the
    /// dialect's User URN in `schemas`: the base of every PUT.
    pub fn strip_server_managed(&self, current: &Value) -> Result<Map<String, Value>, ConnectorError> {
        let mut resource = current
            .as_object()
            .cloned()
            .ok_or_else(|| ConnectorError::protocol("the target's user resource is not a JSON object"))?;
        for name in SERVER_MANAGED {
            if let Some(k) = key_ci(&resource, name) {
                resource.remove(&k);
            }
        }
        // RFC 7643 §4.3: manager.displayName is read-only.
        let enterprise = self.version.enterprise_user_schema();
        if let Some(manager) = key_ci(&resource, enterprise)
            .and_then(|k| resource.get_mut(&k))
            .and_then(Value::as_object_mut)
            .and_then(|ext| key_ci(ext, "manager").and_then(|k| ext.get_mut(&k)))
            .and_then(Value::as_object_mut)
            && let Some(k) = key_ci(manager, "displayName")
        {
            manager.remove(&k);
        }
        add_schema(&mut resource, self.version.user_schema());
        Ok(resource)
    }

    /// The values of every readable field present in `resource`, by field
    /// code (write-only fields such as `password` are never read).
    pub fn read(&self, resource: &Value) -> Attributes {
        let mut out = Attributes::new();
        let Some(map) = resource.as_object() else { return out };
        for field in &self.fields {
            if field.spec.mutability == Mutability::WriteOnly {
                continue;
            }
            let container = match &field.path.schema {
                None => Some(map),
                Some(urn) => get_ci(map, &self.version.translate_urn(urn)).and_then(Value::as_object),
            };
            let Some(container) = container else { continue };
            let mut values = path::read(container, &field.path.shape);
            match values.len() {
                0 => {}
                1 if !field.spec.multi_valued => {
                    out.insert(field.spec.code.clone(), AttributeValue::Single(values.remove(0)));
                }
                _ => {
                    out.insert(field.spec.code.clone(), AttributeValue::Multi(values));
                }
            }
        }
        out
    }

    /// The values of field `code` in `resource` (empty when absent or unknown).
    pub fn read_field(&self, resource: &Value, code: &str) -> Vec<String> {
        let (Some(field), Some(map)) = (self.field(code), resource.as_object()) else { return vec![] };
        let container = match &field.path.schema {
            None => Some(map),
            Some(urn) => get_ci(map, &self.version.translate_urn(urn)).and_then(Value::as_object),
        };
        container.map(|c| path::read(c, &field.path.shape)).unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
