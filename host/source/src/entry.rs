//! A directory entry: a DN and multi-valued attributes, as read from a file (or, later, LDAP).
//!
//! Attribute names compare case-insensitively: they are stored lower-cased (ASCII), values are
//! kept exactly as given. Attribute options stay part of the name (`cn;lang-fr`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One directory entry: DN plus attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Entry {
    /// The DN as given in the file (trimmed).
    pub dn: String,
    /// Lower-cased attribute name to its values, in file order.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// 1-based line where the entry starts (LDIF, JSON) or its record's line (CSV), for messages.
    pub line: usize,
}

impl Entry {
    /// An entry with no attributes.
    pub fn new(dn: impl Into<String>, line: usize) -> Self {
        Entry { dn: dn.into(), attributes: BTreeMap::new(), line }
    }

    /// Add one value to an attribute (the name is lower-cased).
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.attributes.entry(name.to_ascii_lowercase()).or_default().push(value.into());
    }

    /// Builder form of [`Entry::push`].
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// All values of an attribute (case-insensitive name), `None` when absent.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        let found = match self.attributes.get(name) {
            Some(v) => Some(v),
            None => self.attributes.get(&name.to_ascii_lowercase()),
        };
        found.filter(|v| !v.is_empty()).map(Vec::as_slice)
    }

    /// The first value of an attribute.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// The entry's object classes as given (empty when it has none).
    pub fn object_classes(&self) -> &[String] {
        self.get("objectclass").unwrap_or(&[])
    }

    /// Whether the entry has this object class (case-insensitive).
    pub fn has_object_class(&self, class: &str) -> bool {
        self.object_classes().iter().any(|c| c.trim().eq_ignore_ascii_case(class.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_values_kept() {
        let e = Entry::new("uid=a,dc=x", 3)
            .with("objectClass", "top")
            .with("OBJECTCLASS", "inetOrgPerson")
            .with("cn", "Zoë Ünal");
        assert_eq!(e.get("objectclass").map(<[String]>::len), Some(2));
        assert_eq!(e.object_classes(), ["top", "inetOrgPerson"]);
        assert!(e.has_object_class("INETORGPERSON"));
        assert!(!e.has_object_class("groupOfNames"));
        assert_eq!(e.first("CN"), Some("Zoë Ünal"));
        assert_eq!(e.first("mail"), None);
        assert!(e.attributes.contains_key("objectclass"));
    }

    #[test]
    fn an_empty_value_list_is_absent() {
        let mut e = Entry::new("cn=a", 1);
        e.attributes.insert("mail".into(), vec![]);
        assert_eq!(e.get("mail"), None);
        assert!(Entry::new("cn=a", 1).object_classes().is_empty());
    }
}
