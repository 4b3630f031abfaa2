//! The discovery documents (RFC 7644 §4, RFC 7643 §5–7): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, built once per server.
//!
//! The configuration advertises: PATCH supported, filter supported with maxResults 1000,
//! ETags supported, bulk, sort and changePassword not supported, and the
//! `oauthbearertoken` authentication scheme when a bearer token is configured (no scheme
//! otherwise). The schemas are compact but valid: core User (with the attributes of RFC
//! 7643 §4.1), the enterprise extension and Group.

use serde_json::{Value, json};

use crate::resource::{ENTERPRISE_URN, GROUP_URN, USER_URN};

/// The ListResponse message URN.
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The prebuilt discovery documents.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `GET /ServiceProviderConfig`.
    pub service_provider_config: Value,
    /// The ResourceType resources, by id.
    pub resource_types: Vec<(String, Value)>,
    /// The Schema resources, by id (URN).
    pub schemas: Vec<(String, Value)>,
}

impl Discovery {
    /// Builds the documents for a server at `base_url`.
    pub fn new(base_url: &str, bearer: bool) -> Self {
        let schemes = if bearer {
            json!([{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A static bearer token in the Authorization header (RFC 6750).",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true
            }])
        } else {
            json!([])
        };
        let service_provider_config = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://www.rfc-editor.org/info/rfc7644",
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": crate::routes::MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": schemes,
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base_url}/ServiceProviderConfig"),
            }
        });
        let resource_type = |id: &str, endpoint: &str, schema: &str, extensions: Value| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": id,
                "name": id,
                "endpoint": endpoint,
                "description": format!("{id} resources of the provisio sandbox"),
                "schema": schema,
                "schemaExtensions": extensions,
                "meta": {"resourceType": "ResourceType", "location": format!("{base_url}/ResourceTypes/{id}")}
            })
        };
        let resource_types = vec![
            (
                "User".to_owned(),
                resource_type("User", "/Users", USER_URN, json!([{"schema": ENTERPRISE_URN, "required": false}])),
            ),
            ("Group".to_owned(), resource_type("Group", "/Groups", GROUP_URN, json!([]))),
        ];
        let schema = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
            (
                id.to_owned(),
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                    "id": id,
                    "name": name,
                    "description": description,
                    "attributes": attributes,
                    "meta": {"resourceType": "Schema", "location": format!("{base_url}/Schemas/{id}")}
                }),
            )
        };
        let schemas = vec![
            schema(USER_URN, "User", "User Account", user_attributes()),
            schema(ENTERPRISE_URN, "EnterpriseUser", "Enterprise User", enterprise_attributes()),
            schema(GROUP_URN, "Group", "Group", group_attributes()),
        ];
        Discovery { service_provider_config, resource_types, schemas }
    }
}

/// One attribute definition. `flags`: `m` multiValued, `r` required, `c` caseExact,
/// `R` readOnly, `I` immutable, `W` writeOnly (returned never), `u` uniqueness server,
/// `a` returned always.
fn attr(name: &str, ty: &str, flags: &str, subs: Vec<Value>) -> Value {
    let has = |f: char| flags.contains(f);
    let mutability = if has('R') {
        "readOnly"
    } else if has('I') {
        "immutable"
    } else if has('W') {
        "writeOnly"
    } else {
        "readWrite"
    };
    let returned = if has('W') {
        "never"
    } else if has('a') {
        "always"
    } else {
        "default"
    };
    let mut a = json!({
        "name": name,
        "type": ty,
        "multiValued": has('m'),
        "description": name,
        "required": has('r'),
        "caseExact": has('c'),
        "mutability": mutability,
        "returned": returned,
        "uniqueness": if has('u') { "server" } else { "none" },
    });
    if ty == "complex" {
        a["subAttributes"] = Value::from(subs);
        a.as_object_mut().expect("object").remove("caseExact");
    } else if ty == "reference" {
        a["referenceTypes"] = json!(["external"]);
    }
    a
}

fn reference(name: &str, flags: &str, types: &[&str]) -> Value {
    let mut a = attr(name, "reference", flags, vec![]);
    a["referenceTypes"] = json!(types);
    a
}

fn s(name: &str) -> Value {
    attr(name, "string", "", vec![])
}

/// `value`, `display`, `type`, `primary`: the usual multi-valued sub-attributes.
fn multi(name: &str, value_type: &str) -> Value {
    attr(
        name,
        "complex",
        "m",
        vec![attr("value", value_type, "", vec![]), s("display"), s("type"), attr("primary", "boolean", "", vec![])],
    )
}

fn user_attributes() -> Vec<Value> {
    vec![
        attr("userName", "string", "rua", vec![]),
        attr(
            "name",
            "complex",
            "",
            ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"]
                .iter()
                .map(|n| s(n))
                .collect(),
        ),
        s("displayName"),
        s("nickName"),
        reference("profileUrl", "", &["external"]),
        s("title"),
        s("userType"),
        s("preferredLanguage"),
        s("locale"),
        s("timezone"),
        attr("active", "boolean", "", vec![]),
        attr("password", "string", "W", vec![]),
        multi("emails", "string"),
        multi("phoneNumbers", "string"),
        multi("ims", "string"),
        multi("photos", "reference"),
        attr(
            "addresses",
            "complex",
            "m",
            ["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"]
                .iter()
                .map(|n| s(n))
                .chain([attr("primary", "boolean", "", vec![])])
                .collect(),
        ),
        attr(
            "groups",
            "complex",
            "mR",
            vec![
                attr("value", "string", "R", vec![]),
                reference("$ref", "R", &["User", "Group"]),
                attr("display", "string", "R", vec![]),
                attr("type", "string", "R", vec![]),
            ],
        ),
        multi("entitlements", "string"),
        multi("roles", "string"),
        multi("x509Certificates", "binary"),
    ]
}

fn enterprise_attributes() -> Vec<Value> {
    vec![
        s("employeeNumber"),
        s("costCenter"),
        s("organization"),
        s("division"),
        s("department"),
        attr(
            "manager",
            "complex",
            "",
            vec![s("value"), reference("$ref", "", &["User"]), attr("displayName", "string", "R", vec![])],
        ),
    ]
}

fn group_attributes() -> Vec<Value> {
    vec![
        attr("displayName", "string", "r", vec![]),
        attr(
            "members",
            "complex",
            "m",
            vec![
                attr("value", "string", "Ic", vec![]),
                reference("$ref", "I", &["User", "Group"]),
                attr("display", "string", "", vec![]),
                attr("type", "string", "I", vec![]),
            ],
        ),
    ]
}
