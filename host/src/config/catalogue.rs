//! A connection's effective attribute catalogue: the connector's own
//! catalogue, the custom SCIM attributes declared in the configuration
//! (spec a.4.6), and the fields discovered at the target by
//! `provisio connections refresh-fields` (Aquera's Refresh Fields).
//!
//! `config check`, the mapping and the connector all see the same list, so
//! a field that passes the check is a field the connector can place.

use provisio_core::manifest::{AttributeSpec, Manifest};

use super::ConnectionConfig;

/// Custom attributes declared in a connection's configuration.
pub fn custom_attributes(conn: &ConnectionConfig) -> Vec<AttributeSpec> {
    conn.custom_attributes
        .iter()
        .map(|c| {
            let namespace =
                c.namespace.clone().unwrap_or_else(|| "urn:ietf:params:scim:schemas:extension:custom:2.0:User".into());
            let mut spec = AttributeSpec::new(&c.name, &format!("{namespace}:{}", c.name));
            spec.multi_valued = c.multi_valued;
            spec.required = c.required;
            if !c.sub_attributes.is_empty() {
                spec.notes = format!("sub-attributes: {}", c.sub_attributes.join(", "));
            }
            spec
        })
        .collect()
}

/// The attributes beyond the manifest's: declared custom ones, then
/// discovered ones (a discovered field does not replace a declared one).
pub fn extra_attributes(conn: &ConnectionConfig, discovered: &[AttributeSpec]) -> Vec<AttributeSpec> {
    let mut extra = custom_attributes(conn);
    for d in discovered {
        if !extra.iter().any(|e| e.code == d.code) {
            extra.push(d.clone());
        }
    }
    extra
}

/// Every attribute a connection's mappings may target.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub attributes: Vec<AttributeSpec>,
}

impl Catalogue {
    pub fn new(conn: &ConnectionConfig, manifest: &Manifest, discovered: &[AttributeSpec]) -> Catalogue {
        let mut attributes = manifest.attributes.clone();
        for extra in extra_attributes(conn, discovered) {
            if !attributes.iter().any(|a| a.code == extra.code) {
                attributes.push(extra);
            }
        }
        Catalogue { attributes }
    }

    /// The entry whose code or alias is `code`.
    pub fn find(&self, code: &str) -> Option<&AttributeSpec> {
        self.attributes.iter().find(|a| a.code == code || a.aliases.iter().any(|alias| alias == code))
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|a| a.code.as_str())
    }

    pub fn multi_valued(&self, code: &str) -> bool {
        self.find(code).is_some_and(|a| a.multi_valued)
    }
}
