//! A connection's effective attribute catalogue: the connector's own
//! catalogue, the custom SCIM attributes declared in the configuration
//! (spec a.4.6), and the fields discovered at the target by
//! `provisio connections refresh-fields` (Aquera's Refresh Fields).
//!
//! `config check`, the mapping and the connector all see the same list, so
//! a field that passes the check is a field the connector can place.

use provisio_core::manifest::{AttributeSpec, Manifest};

use super::ConnectionConfig;

/// Custom attributes declared in a connection's configuration. A simple
/// attribute is one field (`badgeNumber`); a complex one is one field per
/// sub-attribute (`badge.number`, `badge.site`), each mapped on its own as
/// PingFederate does ("pick a sub-attribute, map, repeat").
pub fn custom_attributes(conn: &ConnectionConfig) -> Vec<AttributeSpec> {
    let mut out = Vec::new();
    for c in &conn.custom_attributes {
        let namespace =
            c.namespace.clone().unwrap_or_else(|| "urn:ietf:params:scim:schemas:extension:custom:2.0:User".into());
        if c.sub_attributes.is_empty() {
            let mut spec = AttributeSpec::new(&c.name, &format!("{namespace}:{}", c.name));
            spec.multi_valued = c.multi_valued;
            spec.required = c.required;
            out.push(spec);
            continue;
        }
        for sub in &c.sub_attributes {
            let code = format!("{}.{sub}", c.name);
            let mut spec = AttributeSpec::new(&code, &format!("{namespace}:{code}"));
            spec.required = c.required;
            spec.notes = format!("sub-attribute of the complex custom attribute '{}'", c.name);
            out.push(spec);
        }
    }
    out
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
        // A standard field the target's schema marks required is required
        // here too (Refresh Fields: "map all required fields").
        for a in &mut attributes {
            if discovered.iter().any(|d| d.code == a.code && d.required) {
                a.required = true;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(toml: &str) -> ConnectionConfig {
        toml::from_str(&format!("name = \"c\"\nconnector = \"scim\"\n{toml}")).unwrap()
    }

    #[test]
    fn simple_and_complex_custom_attributes_become_fields() {
        let c = conn(
            r#"
[[custom_attributes]]
name = "badgeNumber"
[[custom_attributes]]
name = "badge"
namespace = "urn:example:params:scim:schemas:extension:acme:2.0:User"
sub_attributes = ["number", "site"]
required = true
"#,
        );
        let attrs = custom_attributes(&c);
        let pairs: Vec<(&str, &str, bool)> =
            attrs.iter().map(|a| (a.code.as_str(), a.target.as_str(), a.required)).collect();
        assert_eq!(
            pairs,
            [
                ("badgeNumber", "urn:ietf:params:scim:schemas:extension:custom:2.0:User:badgeNumber", false),
                ("badge.number", "urn:example:params:scim:schemas:extension:acme:2.0:User:badge.number", true),
                ("badge.site", "urn:example:params:scim:schemas:extension:acme:2.0:User:badge.site", true),
            ]
        );
    }

    #[test]
    fn a_standard_field_the_target_requires_becomes_required() {
        let c = conn("");
        let mut manifest = provisio_core::testing::minimal_manifest("aquera");
        manifest.attributes.push(AttributeSpec::new("title", "title"));
        let discovered = [AttributeSpec::new("title", "title").required()];
        let catalogue = Catalogue::new(&c, &manifest, &discovered);
        assert!(catalogue.find("title").unwrap().required);
        assert_eq!(catalogue.attributes.len(), 2, "no duplicate entry");
    }

    #[test]
    fn a_discovered_field_never_replaces_a_declared_one() {
        let c = conn("[[custom_attributes]]\nname = \"x\"\n");
        let discovered = [AttributeSpec::new("x", "urn:other:x"), AttributeSpec::new("IANUser:y", "urn:aq:y")];
        let extra = extra_attributes(&c, &discovered);
        assert_eq!(extra.len(), 2);
        assert_eq!(extra[0].target, "urn:ietf:params:scim:schemas:extension:custom:2.0:User:x");
    }
}
