//! The compiled mapping of one channel ([`MappingSet`]) and its errors.
//!
//! [`MappingSet::compile`] checks every field mapping and reports every
//! problem at once; [`MappingSet::apply`] maps one source entry into a
//! [`Mapped`], following the processing order documented on the crate.

use std::collections::{BTreeSet, HashMap};

use provisio_core::ops::AttributeValue;

use crate::config::{Case, FieldMapping, ParserKind};
use crate::expr::Expression;
use crate::mapped::Mapped;
use crate::parsers;

/// A configuration problem of one field mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The target field code.
    pub field: String,
    /// For an expression error, the 1-based character column.
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "mapping for '{}': expression column {c}: {}", self.field, self.message),
            None => write!(f, "mapping for '{}': {}", self.field, self.message),
        }
    }
}

impl std::error::Error for MappingError {}

/// One compiled field.
#[derive(Clone)]
struct Compiled {
    spec: FieldMapping,
    expression: Option<Expression>,
    multi: bool,
}

/// The compiled mappings of a channel. `Debug` shows only field names.
#[derive(Clone)]
pub struct MappingSet {
    fields: Vec<Compiled>,
}

impl std::fmt::Debug for MappingSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappingSet").field("fields", &self.fields().collect::<Vec<_>>()).finish()
    }
}

impl MappingSet {
    /// Compile `fields`; `multi_valued(field)` tells whether a target field
    /// takes a list (roles, entitlements). Every problem is reported:
    /// a bad expression (with its column), a duplicate or empty field code,
    /// an empty attribute name, both `attributes` and `expression` set,
    /// none of `attributes`, `expression`, `default` set, an empty
    /// `default`, and `clear_when_empty` on a `create_only` field.
    pub fn compile(fields: &[FieldMapping], multi_valued: &dyn Fn(&str) -> bool) -> Result<Self, Vec<MappingError>> {
        let mut errors = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let mut err = |column: Option<usize>, message: String| {
                errors.push(MappingError { field: f.field.clone(), column, message });
            };
            if f.field.trim().is_empty() {
                err(None, format!("mapping #{} has an empty field code", i + 1));
            } else if let Some(first) = seen.insert(f.field.as_str(), i) {
                err(None, format!("the field is mapped more than once (mappings #{} and #{})", first + 1, i + 1));
                seen.insert(f.field.as_str(), first);
            }
            if f.attributes.iter().any(|a| a.trim().is_empty()) {
                err(None, "an attribute name is empty".to_owned());
            }
            if f.default.as_deref() == Some("") {
                err(None, "the default is empty; leave it out instead".to_owned());
            }
            if f.create_only && f.clear_when_empty {
                err(None, "clear_when_empty has no effect on a create_only field (it is never updated)".to_owned());
            }
            let expression = match f.expression.as_deref() {
                None => None,
                Some(src) => {
                    if !f.attributes.is_empty() {
                        err(
                            None,
                            "set either `attributes` or `expression`, not both (an expression names its attributes with ${...})"
                                .to_owned(),
                        );
                    }
                    match Expression::parse(src) {
                        Ok(x) => Some(x),
                        Err(e) => {
                            err(Some(e.column), e.message);
                            None
                        }
                    }
                }
            };
            if f.attributes.is_empty() && f.expression.is_none() && f.default.is_none() {
                err(None, "no attributes, expression or default: the field would never have a value".to_owned());
            }
            out.push(Compiled { spec: f.clone(), expression, multi: multi_valued(&f.field) });
        }
        if errors.is_empty() { Ok(MappingSet { fields: out }) } else { Err(errors) }
    }

    /// Map one source entry. `lookup(name)` returns the entry's values of a
    /// source attribute, `None` when it has none.
    pub fn apply(&self, lookup: &dyn Fn(&str) -> Option<Vec<String>>) -> Mapped {
        let mut m = Mapped::default();
        for c in &self.fields {
            let field = c.spec.field.as_str();
            match c.produce(lookup, &mut m.warnings) {
                Some(v) => {
                    m.values.insert(field.to_owned(), v);
                }
                None => {
                    m.empty.push(field.to_owned());
                    if c.spec.clear_when_empty {
                        m.clear.push(field.to_owned());
                    }
                }
            }
        }
        m
    }

    /// The target field codes, in configuration order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|c| c.spec.field.as_str())
    }

    /// The field mappings as configured.
    pub fn mappings(&self) -> impl Iterator<Item = &FieldMapping> {
        self.fields.iter().map(|c| &c.spec)
    }

    /// Fields whose values must never be logged.
    pub fn masked_fields(&self) -> BTreeSet<String> {
        self.fields.iter().filter(|c| c.spec.masked).map(|c| c.spec.field.clone()).collect()
    }

    /// Fields sent on create only.
    pub fn create_only_fields(&self) -> BTreeSet<String> {
        self.fields.iter().filter(|c| c.spec.create_only).map(|c| c.spec.field.clone()).collect()
    }

    /// Source attribute names the mapping reads (listed attributes and
    /// expression references, as written), for LDAP attribute lists.
    pub fn source_attributes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in &self.fields {
            out.extend(c.spec.attributes.iter().cloned());
            if let Some(x) = &c.expression {
                out.extend(x.references());
            }
        }
        out
    }
}

impl Compiled {
    /// The value of this field for one entry, or `None` (no value).
    fn produce(
        &self,
        lookup: &dyn Fn(&str) -> Option<Vec<String>>,
        warnings: &mut Vec<String>,
    ) -> Option<AttributeValue> {
        let field = &self.spec.field;
        // 1. Raw values: from the expression, else from the attributes.
        let raw: Vec<String> = match &self.expression {
            Some(x) => match x.eval(lookup) {
                Ok(v) => v.into_iter().collect(),
                Err(e) => {
                    let then = if self.spec.default.is_some() { "used the default" } else { "no default, no value" };
                    warnings.push(format!("mapping for '{field}': expression failed at run time ({e}); {then}"));
                    Vec::new()
                }
            },
            None => self.spec.attributes.iter().filter_map(|a| lookup(a)).flatten().collect(),
        };
        // 2.-4. Parser, trim, case on every value; drop empty results.
        let mut unparsed = false;
        let mut values = Vec::new();
        for v in raw {
            if v.is_empty() {
                continue;
            }
            let v = self.process(v, &mut unparsed);
            if v.is_empty() {
                continue;
            }
            if !self.multi {
                values.push(v);
                break;
            }
            if !values.contains(&v) {
                values.push(v);
            }
        }
        if unparsed {
            let what = match self.spec.parser {
                ParserKind::ExtractCnFromDn => "not a DN whose first RDN is a CN",
                _ => "not an e-mail address",
            };
            warnings.push(format!(
                "mapping for '{field}': a source value is {what}; {} left it unchanged",
                self.spec.parser.as_str()
            ));
        }
        // 5. Default, as written; else no value.
        if values.is_empty() {
            values.push(self.spec.default.clone()?);
        }
        Some(if self.multi { AttributeValue::Multi(values) } else { AttributeValue::Single(values.swap_remove(0)) })
    }

    /// Parser, then trim, then case.
    fn process(&self, v: String, unparsed: &mut bool) -> String {
        let parsed = match self.spec.parser {
            ParserKind::None => None,
            ParserKind::ExtractCnFromDn => parsers::extract_cn_from_dn(&v),
            ParserKind::ExtractUsernameFromEmail => parsers::extract_username_from_email(&v),
        };
        let mut v = match parsed {
            Some(p) => p,
            None => {
                *unparsed |= self.spec.parser != ParserKind::None;
                v
            }
        };
        if self.spec.trim {
            let t = v.trim();
            if t.len() != v.len() {
                v = t.to_owned();
            }
        }
        match self.spec.case {
            Case::None => v,
            Case::Upper => v.to_uppercase(),
            Case::Lower => v.to_lowercase(),
        }
    }
}
