//! The configuration of one field mapping, as read from a `[[...mapping]]`
//! table of the TOML configuration (PingFederate's `saasFieldInfo`).

use serde::{Deserialize, Serialize};

/// Character case applied after trimming ("Upper Case / Lower Case / None").
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    #[default]
    #[serde(alias = "NONE")]
    None,
    #[serde(alias = "UPPER")]
    Upper,
    #[serde(alias = "LOWER")]
    Lower,
}

/// The "Parsing" option. The upper-case admin-API spellings are accepted
/// as aliases.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ParserKind {
    #[default]
    #[serde(alias = "NONE")]
    None,
    #[serde(alias = "EXTRACT_CN_FROM_DN")]
    ExtractCnFromDn,
    #[serde(alias = "EXTRACT_USERNAME_FROM_EMAIL")]
    ExtractUsernameFromEmail,
}

impl ParserKind {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ParserKind::None => "none",
            ParserKind::ExtractCnFromDn => "extract_cn_from_dn",
            ParserKind::ExtractUsernameFromEmail => "extract_username_from_email",
        }
    }
}

/// One field mapping: how the value of one target field is made from a
/// source entry. See the crate documentation for the processing order.
///
/// `Debug` shows `default` as `******` when the field is `masked`.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// Target field code (from the connector's catalogue).
    pub field: String,
    /// Source attributes: for a single-valued target the first non-empty
    /// value (after processing) wins; for a multi-valued target every value
    /// of every attribute, in order, de-duplicated. Must be empty when
    /// `expression` is set.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Used, as written, when the attributes or expression yield no value,
    /// and when the expression fails at run time.
    #[serde(default)]
    pub default: Option<String>,
    /// An expression (see `docs/mapping-expressions.md`).
    #[serde(default)]
    pub expression: Option<String>,
    /// Send on create only, never on update (e.g. `password`).
    #[serde(default)]
    pub create_only: bool,
    /// Strip leading and trailing white space.
    #[serde(default)]
    pub trim: bool,
    #[serde(default)]
    pub case: Case,
    #[serde(default)]
    pub parser: ParserKind,
    /// Never logged: redacted in logs and plans, digested in the state hash.
    #[serde(default)]
    pub masked: bool,
    /// When the field produces no value, remove it at the target instead
    /// of leaving the target value alone.
    #[serde(default)]
    pub clear_when_empty: bool,
}

impl FieldMapping {
    /// A mapping of `field` from `attributes`, every option off.
    pub fn new(field: impl Into<String>, attributes: &[&str]) -> Self {
        FieldMapping {
            field: field.into(),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            default: None,
            expression: None,
            create_only: false,
            trim: false,
            case: Case::None,
            parser: ParserKind::None,
            masked: false,
            clear_when_empty: false,
        }
    }
}

impl std::fmt::Debug for FieldMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let default = match (&self.default, self.masked) {
            (Some(_), true) => Some("******"),
            (d, _) => d.as_deref(),
        };
        let expression = match (&self.expression, self.masked) {
            (Some(_), true) => Some("******"),
            (e, _) => e.as_deref(),
        };
        f.debug_struct("FieldMapping")
            .field("field", &self.field)
            .field("attributes", &self.attributes)
            .field("default", &default)
            .field("expression", &expression)
            .field("create_only", &self.create_only)
            .field("trim", &self.trim)
            .field("case", &self.case)
            .field("parser", &self.parser)
            .field("masked", &self.masked)
            .field("clear_when_empty", &self.clear_when_empty)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        mapping: Vec<FieldMapping>,
    }

    #[test]
    fn reads_toml_tables() {
        let doc: Doc = toml::from_str(
            r#"
            [[mapping]]
            field = "userName"
            attributes = ["mail"]
            parser = "extract_username_from_email"
            case = "lower"
            trim = true

            [[mapping]]
            field = "displayName"
            expression = "${givenName} + ' ' + ${sn}"
            default = "unknown"

            [[mapping]]
            field = "password"
            attributes = ["userPassword"]
            create_only = true
            masked = true
            parser = "EXTRACT_CN_FROM_DN"
            case = "UPPER"
            clear_when_empty = false
            "#,
        )
        .unwrap();
        let m = &doc.mapping;
        assert_eq!(m[0].parser, ParserKind::ExtractUsernameFromEmail);
        assert_eq!(m[0].case, Case::Lower);
        assert!(m[0].trim && !m[0].masked && m[0].default.is_none());
        assert_eq!(m[1].expression.as_deref(), Some("${givenName} + ' ' + ${sn}"));
        assert!(m[1].attributes.is_empty());
        assert_eq!(m[1].case, Case::None);
        assert_eq!(m[2].parser, ParserKind::ExtractCnFromDn);
        assert_eq!(m[2].case, Case::Upper);
        assert!(m[2].create_only && m[2].masked);
    }

    #[test]
    fn rejects_unknown_keys_and_values() {
        let e = toml::from_str::<Doc>("[[mapping]]\nfield = \"a\"\nattribute = [\"x\"]\n").err().unwrap();
        assert!(e.to_string().contains("unknown field"), "{e}");
        assert!(toml::from_str::<Doc>("[[mapping]]\nfield = \"a\"\ncase = \"title\"\n").is_err());
        assert!(toml::from_str::<Doc>("[[mapping]]\nfield = \"a\"\nparser = \"cn\"\n").is_err());
    }

    #[test]
    fn debug_hides_masked_default_and_expression() {
        let mut m = FieldMapping::new("password", &[]);
        m.default = Some("S3cret!".into());
        m.expression = Some("'S3cret!'".into());
        m.masked = true;
        let d = format!("{m:?}");
        assert!(!d.contains("S3cret"), "{d}");
        m.masked = false;
        assert!(format!("{m:?}").contains("S3cret"));
    }
}
