//! "Refresh Fields" (spec b.4.4, c.6): the target's schema, read with RFC
//! 7643 discovery and turned into field codes.
//!
//! [`discover`] reads `GET {SCIM URL}/Schemas` and `GET {SCIM URL}/ResourceTypes`
//! with the connection's credentials. The User resource type names its core
//! schema and its extensions; every extension whose id contains the
//! Custom Attribute Tag (default `IANUser`, compared case-insensitively) holds
//! custom attributes. Without `/ResourceTypes` (404/501), every schema whose
//! id contains the tag is taken, with a note.
//!
//! Each custom attribute becomes one field (the tag is the code's prefix,
//! the extension URN the target path's):
//!
//! | schema attribute | field code | target |
//! |---|---|---|
//! | simple, single- or multi-valued | `IANUser:officeLocation` | `<URN>:officeLocation` |
//! | complex, single-valued | `IANUser:badge.number` (one per sub-attribute) | `<URN>:badge.number` |
//! | complex, multi-valued with a `value` sub-attribute | `IANUser:skills` (a list) | `<URN>:skills[].value` |
//!
//! `required`, `multiValued` and `mutability` come from the schema;
//! read-only attributes (and other complex lists) are left out with a note.
//!
//! The answer merges these with the standard fields: the catalogue's
//! fields whose attribute the target's core (or enterprise) schema defines,
//! first; the catalogue fields the target does not define are named in a
//! note. A schema that cannot be read is the request's error; one that is
//! not a valid RFC 7643 schema (no list, no `id`, an attribute without a
//! valid `name` or with an unknown `type`, a name given twice, a resource
//! type naming an extension `/Schemas` lacks) is an `invalid` error saying
//! what is wrong, so the previous fields stay.

use provisio_core::manifest::{AttributeSpec, Mutability};
use provisio_core::ops::DiscoveredSchema;
use provisio_core::{ConnectorError, ErrorKind};
use provisio_scim_kit::client::ScimClient;
use provisio_scim_kit::paging::parse_list_response;
use provisio_scim_kit::path::{Shape, TargetPath};
use serde_json::{Map, Value};

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const TYPES: [&str; 8] = ["string", "boolean", "decimal", "integer", "datetime", "reference", "complex", "binary"];

fn invalid(problems: &[String]) -> ConnectorError {
    let shown: Vec<&str> = problems.iter().take(8).map(String::as_str).collect();
    let more = if problems.len() > shown.len() {
        format!(" (and {} more)", problems.len() - shown.len())
    } else {
        String::new()
    };
    ConnectorError::new(ErrorKind::Invalid, format!("the target's schema is invalid: {}{more}", shown.join("; ")))
        .retryable(false)
}

fn get<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    provisio_scim_kit::path::get_ci(o, name)
}

/// A boolean member: absent is `default`; `true`/`false` or their strings.
fn flag(o: &Map<String, Value>, name: &str, default: bool, at: &str, problems: &mut Vec<String>) -> bool {
    match get(o, name) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            problems.push(format!("{at}: '{name}' is {other}, not true or false"));
            default
        }
    }
}

/// RFC 7643 ATTRNAME: a letter, then letters, digits, `_`, `-` or `$`.
fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

/// One attribute definition, checked.
#[derive(Debug, Clone)]
pub struct AttrDef {
    pub name: String,
    pub kind: String,
    pub multi_valued: bool,
    pub required: bool,
    pub mutability: Mutability,
    pub description: String,
    pub sub_attributes: Vec<AttrDef>,
}

fn parse_attributes(list: Option<&Value>, at: &str, problems: &mut Vec<String>) -> Vec<AttrDef> {
    let Some(items) = list.and_then(Value::as_array) else {
        problems.push(format!("{at} has no 'attributes' list"));
        return Vec::new();
    };
    let mut out: Vec<AttrDef> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(o) = item.as_object() else {
            problems.push(format!("{at}: attribute #{} is not an object", i + 1));
            continue;
        };
        let name = match get(o, "name").and_then(Value::as_str) {
            Some(n) if is_attr_name(n) => n.to_owned(),
            Some(n) => {
                problems.push(format!("{at}: '{n}' is not a valid attribute name"));
                continue;
            }
            None => {
                problems.push(format!("{at}: attribute #{} has no name", i + 1));
                continue;
            }
        };
        let here = format!("{at} attribute '{name}'");
        if out.iter().any(|a| a.name.eq_ignore_ascii_case(&name)) {
            problems.push(format!("{at}: attribute '{name}' is defined twice"));
            continue;
        }
        let kind = match get(o, "type").and_then(Value::as_str) {
            Some(t) if TYPES.contains(&t.to_ascii_lowercase().as_str()) => t.to_ascii_lowercase(),
            Some(t) => {
                problems.push(format!("{here}: type '{t}' is not an RFC 7643 type"));
                continue;
            }
            None => {
                problems.push(format!("{here} has no type"));
                continue;
            }
        };
        let mutability = match get(o, "mutability").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            None | Some("readwrite") => Mutability::ReadWrite,
            Some("immutable") => Mutability::Immutable,
            Some("writeonly") => Mutability::WriteOnly,
            Some("readonly") => Mutability::ReadOnly,
            Some(other) => {
                problems.push(format!("{here}: mutability '{other}' is not an RFC 7643 value"));
                Mutability::ReadWrite
            }
        };
        let sub_attributes =
            if kind == "complex" { parse_attributes(get(o, "subAttributes"), &here, problems) } else { Vec::new() };
        out.push(AttrDef {
            multi_valued: flag(o, "multiValued", false, &here, problems),
            required: flag(o, "required", false, &here, problems),
            description: get(o, "description").and_then(Value::as_str).unwrap_or("").trim().to_owned(),
            name,
            kind,
            mutability,
            sub_attributes,
        });
    }
    out
}

/// One schema of `/Schemas`, checked.
#[derive(Debug, Clone)]
pub struct SchemaDef {
    pub id: String,
    pub attributes: Vec<AttrDef>,
}

/// The resources of a list response (or a bare JSON array).
fn resources(body: &Value, what: &str) -> Result<Vec<Value>, ConnectorError> {
    if let Some(items) = body.as_array() {
        return Ok(items.clone());
    }
    parse_list_response(body).map(|p| p.resources).map_err(|why| invalid(&[format!("{what} is not a list: {why}")]))
}

/// The problems found in each schema, by schema id.
pub type SchemaProblems = Vec<(String, Vec<String>)>;

/// Every schema of a `/Schemas` answer, with the problems of each (the
/// caller decides which schemas' problems are fatal). A body that is not a
/// list, or an entry without an `id`, is an error.
pub fn parse_schemas(body: &Value) -> Result<(Vec<SchemaDef>, SchemaProblems), ConnectorError> {
    let mut out = Vec::new();
    let mut problems_by_schema = Vec::new();
    for (i, item) in resources(body, "/Schemas")?.iter().enumerate() {
        let Some(o) = item.as_object() else {
            return Err(invalid(&[format!("/Schemas entry #{} is not an object", i + 1)]));
        };
        let Some(id) = get(o, "id").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
            return Err(invalid(&[format!("/Schemas entry #{} has no id", i + 1)]));
        };
        let mut problems = Vec::new();
        let attributes = parse_attributes(get(o, "attributes"), &format!("schema {id}"), &mut problems);
        problems_by_schema.push((id.to_owned(), problems));
        out.push(SchemaDef { id: id.to_owned(), attributes });
    }
    Ok((out, problems_by_schema))
}

/// The User resource type: its core schema and its extensions with their
/// `required` flag.
#[derive(Debug, Clone, Default)]
pub struct UserType {
    pub schema: String,
    pub extensions: Vec<(String, bool)>,
}

pub fn parse_user_type(body: &Value) -> Result<Option<UserType>, ConnectorError> {
    for item in resources(body, "/ResourceTypes")? {
        let Some(o) = item.as_object() else { continue };
        let is_user = ["id", "name"].iter().any(|k| get(o, k).and_then(Value::as_str) == Some("User"))
            || get(o, "endpoint")
                .and_then(Value::as_str)
                .is_some_and(|e| e.trim_matches('/').eq_ignore_ascii_case("Users"));
        if !is_user {
            continue;
        }
        let schema = get(o, "schema").and_then(Value::as_str).unwrap_or(CORE_USER).to_owned();
        let mut extensions = Vec::new();
        for (i, ext) in get(o, "schemaExtensions").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let urn = ext.as_object().and_then(|e| get(e, "schema")).and_then(Value::as_str);
            let Some(urn) = urn else {
                return Err(invalid(&[format!("resource type User: schema extension #{} has no schema", i + 1)]));
            };
            let mut p = Vec::new();
            let required =
                ext.as_object().map(|e| flag(e, "required", false, "resource type User", &mut p)).unwrap_or(false);
            if !p.is_empty() {
                return Err(invalid(&p));
            }
            extensions.push((urn.to_owned(), required));
        }
        return Ok(Some(UserType { schema, extensions }));
    }
    Ok(None)
}

fn tagged(urn: &str, tag: &str) -> bool {
    urn.to_ascii_lowercase().contains(&tag.to_ascii_lowercase())
}

/// The custom fields of one tagged extension.
fn custom_fields(schema: &SchemaDef, tag: &str, notes: &mut Vec<String>) -> Vec<AttributeSpec> {
    let mut out = Vec::new();
    let spec = |code: String, target: String, a: &AttrDef, required: bool, multi: bool| {
        let mut s = AttributeSpec::new(&code, &target);
        s.required = required;
        s.multi_valued = multi;
        s.mutability = a.mutability;
        s.notes = a.description.clone();
        s
    };
    for a in &schema.attributes {
        if a.mutability == Mutability::ReadOnly {
            notes.push(format!("{tag}:{} is read-only at the target and is not offered", a.name));
            continue;
        }
        let (code, target) = (format!("{tag}:{}", a.name), format!("{}:{}", schema.id, a.name));
        if a.kind != "complex" {
            out.push(spec(code, target, a, a.required, a.multi_valued));
        } else if !a.multi_valued {
            for sub in a.sub_attributes.iter().filter(|s| s.mutability != Mutability::ReadOnly) {
                let (code, target) = (format!("{code}.{}", sub.name), format!("{target}.{}", sub.name));
                let mut s = spec(code, target, sub, a.required && sub.required, false);
                if s.notes.is_empty() {
                    s.notes = a.description.clone();
                }
                out.push(s);
            }
        } else if a.sub_attributes.iter().any(|s| s.name.eq_ignore_ascii_case("value")) {
            out.push(spec(code, format!("{target}[].value"), a, a.required, true));
        } else {
            notes.push(format!("{code} is a list of complex values without 'value' and is not offered"));
        }
    }
    out
}

/// Whether the target's schemas define the attribute a catalogue field writes.
fn defines(schemas: &[SchemaDef], core: &str, field: &AttributeSpec) -> Option<bool> {
    let path = TargetPath::parse(&field.target).ok()?;
    let urn = path.schema.clone().unwrap_or_else(|| core.to_owned());
    let schema = schemas.iter().find(|s| s.id.eq_ignore_ascii_case(&urn))?;
    let Some(attr) = schema.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(path.attribute())) else {
        return Some(false);
    };
    let sub = match &path.shape {
        Shape::Simple { .. } => return Some(true),
        Shape::Complex { sub, .. } | Shape::Typed { sub, .. } | Shape::List { sub, .. } => sub,
    };
    Some(attr.sub_attributes.is_empty() || attr.sub_attributes.iter().any(|s| s.name.eq_ignore_ascii_case(sub)))
}

/// Refresh Fields against the target behind `client`.
pub async fn discover(
    client: &ScimClient,
    tag: &str,
    catalogue: &[AttributeSpec],
) -> Result<DiscoveredSchema, ConnectorError> {
    let schemas_url = client.url("/Schemas");
    let body = client.get(&schemas_url).await.map_err(|e| e.context("Refresh Fields cannot read the schema"))?.body;
    let (schemas, problems) = parse_schemas(&body)?;
    let mut notes = Vec::new();
    let types_url = client.url("/ResourceTypes");
    let user_type = match client.get(&types_url).await {
        Ok(r) => parse_user_type(&r.body)?,
        Err(e) if matches!(e.status, Some(404 | 501)) => {
            notes.push(format!(
                "GET {types_url} answered {}: custom schemas are found by their id alone",
                e.status.unwrap_or(0)
            ));
            None
        }
        Err(e) => return Err(e.context("Refresh Fields cannot read the resource types")),
    };
    let core = user_type.as_ref().map(|t| t.schema.clone()).unwrap_or_else(|| CORE_USER.to_owned());
    let custom_urns: Vec<String> = match &user_type {
        Some(t) => {
            let mut urns = Vec::new();
            for (urn, _) in t.extensions.iter().filter(|(u, _)| tagged(u, tag)) {
                if !schemas.iter().any(|s| s.id.eq_ignore_ascii_case(urn)) {
                    return Err(invalid(&[format!(
                        "resource type User names extension {urn}, which /Schemas does not define"
                    )]));
                }
                urns.push(urn.clone());
            }
            for s in
                schemas.iter().filter(|s| tagged(&s.id, tag) && !urns.iter().any(|u| u.eq_ignore_ascii_case(&s.id)))
            {
                notes.push(format!("schema {} is not an extension of the User resource type and is not offered", s.id));
            }
            urns
        }
        None => schemas.iter().filter(|s| tagged(&s.id, tag)).map(|s| s.id.clone()).collect(),
    };
    let strict: Vec<String> = problems
        .iter()
        .filter(|(id, _)| custom_urns.iter().any(|u| u.eq_ignore_ascii_case(id)))
        .flat_map(|(_, p)| p.iter().cloned())
        .collect();
    if !strict.is_empty() {
        return Err(invalid(&strict));
    }
    for (id, p) in problems.iter().filter(|(_, p)| !p.is_empty()) {
        notes.push(format!(
            "schema {id} has problems ({}); its standard fields are offered as the catalogue has them",
            p.join("; ")
        ));
    }

    let mut attributes = Vec::new();
    let mut missing = Vec::new();
    for field in catalogue {
        match defines(&schemas, &core, field) {
            Some(false) => missing.push(field.code.clone()),
            _ => attributes.push(field.clone()),
        }
    }
    if !missing.is_empty() {
        notes.push(format!("the target's schema does not define these standard fields: {}", missing.join(", ")));
    }
    if custom_urns.is_empty() {
        notes.push(format!("no schema tagged {tag}: the target offers no custom attributes"));
    }
    let mut custom = Vec::new();
    for urn in &custom_urns {
        let schema = schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn)).expect("checked above");
        for f in custom_fields(schema, tag, &mut notes) {
            if custom.iter().any(|c: &AttributeSpec| c.code.eq_ignore_ascii_case(&f.code)) {
                return Err(invalid(&[format!("custom attribute {} is defined by two {tag} schemas", f.code)]));
            }
            custom.push(f);
        }
    }
    notes.insert(
        0,
        format!("{} standard and {} custom ({tag}) field(s) from {schemas_url}", attributes.len(), custom.len()),
    );
    attributes.extend(custom);
    Ok(DiscoveredSchema { attributes, notes })
}
