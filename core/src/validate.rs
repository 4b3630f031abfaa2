//! The rules every manifest must follow.
//!
//! The host refuses a connector whose manifest breaks any of these rules,
//! naming the library file and every broken rule, so a connector author
//! finds all problems in one run. Connector authors can call
//! [`Manifest::validate`] in their own unit tests.

use crate::manifest::{Manifest, OptionConstraint, ProvisioningOption, SettingKind, SettingSpec};
use std::collections::BTreeSet;
use std::fmt;

/// One broken rule, with where it was broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the manifest: `settings.scim_url`, `remove_user.default`, ...
    pub at: String,
    /// What is wrong, and what would be right.
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

impl Manifest {
    /// Check the manifest against the contract. An empty list means valid.
    ///
    /// ```
    /// use provisio_core::manifest::*;
    /// let mut m = provisio_core::testing::minimal_manifest("demo");
    /// assert!(m.validate().is_empty());
    /// m.remove_user.default = RemoveUserAction::Delete;
    /// m.remove_user.supported = vec![RemoveUserAction::Disable];
    /// assert_eq!(m.validate()[0].at, "remove_user.default");
    /// ```
    pub fn validate(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut bad = |at: &str, problem: String| out.push(Violation { at: at.to_owned(), problem });

        if !is_valid_id(&self.id) {
            bad(
                "id",
                format!(
                    "'{}' is not a valid connector id: use 1 to 64 lower-case ASCII letters, digits, '-' or '_', starting with a letter",
                    self.id
                ),
            );
        }
        if self.display_name.trim().is_empty() {
            bad("display_name", "must not be empty".into());
        }
        if self.version.trim().is_empty() {
            bad("version", "must not be empty (use the crate version)".into());
        }

        let mut names = BTreeSet::new();
        for s in &self.settings {
            let at = format!("settings.{}", s.name);
            if s.name.trim().is_empty() {
                bad("settings", format!("a setting labelled '{}' has no name", s.label));
            }
            if !names.insert(s.name.as_str()) {
                bad(&at, "declared twice; setting names must be unique".into());
            }
            if s.label.trim().is_empty() {
                bad(&at, "has no label".into());
            }
            check_setting(s, &at, &mut bad);
        }
        for s in &self.settings {
            if let Some(cond) = &s.required_when {
                match self.setting(&cond.setting) {
                    None => bad(
                        &format!("settings.{}.required_when", s.name),
                        format!("refers to '{}', which is not a setting of this connector", cond.setting),
                    ),
                    Some(other) if other.kind == SettingKind::Enum => {
                        let value = cond.equals.as_str().unwrap_or_default();
                        if !other.allowed.iter().any(|a| a.value == value) {
                            bad(
                                &format!("settings.{}.required_when", s.name),
                                format!("'{}' is not an allowed value of '{}'", cond.equals, other.name),
                            );
                        }
                    }
                    Some(_) => {}
                }
            }
        }

        if self.attributes.is_empty() {
            bad("attributes", "the attribute catalogue is empty; declare at least the unique user identifier".into());
        }
        let mut codes = BTreeSet::new();
        for a in &self.attributes {
            for code in std::iter::once(&a.code).chain(a.aliases.iter()) {
                if code.trim().is_empty() {
                    bad("attributes", format!("an attribute with target '{}' has an empty code or alias", a.target));
                } else if !codes.insert(code.as_str()) {
                    bad(
                        &format!("attributes.{code}"),
                        "declared twice (as a code or an alias); codes must be unique".into(),
                    );
                }
            }
            if a.target.trim().is_empty() {
                bad(&format!("attributes.{}", a.code), "has no target path".into());
            }
        }
        if !self.attributes.iter().any(|a| a.required) {
            bad("attributes", "no attribute is required; the unique user identifier must be".into());
        }

        if self.remove_user.supported.is_empty() {
            bad("remove_user.supported", "must list at least one of Disable, Delete".into());
        }
        if !self.remove_user.supported.contains(&self.remove_user.default) {
            bad(
                "remove_user.default",
                format!(
                    "the default '{}' is not among the supported actions ({})",
                    self.remove_user.default,
                    self.remove_user.supported.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
                ),
            );
        }

        for option in ProvisioningOption::ALL {
            let spec = self.options.get(option);
            let at = format!("options.{}", option.key());
            match &spec.constraint {
                OptionConstraint::Free => {}
                OptionConstraint::Fixed { value, .. } if *value != spec.default => {
                    bad(&at, format!("fixed to {value} but its default is {}", spec.default))
                }
                OptionConstraint::Fixed { .. } => {}
                OptionConstraint::Requires { option: other, .. } if *other == option => {
                    bad(&at, "requires itself".into())
                }
                OptionConstraint::Requires { .. } => {}
                OptionConstraint::CreatesActive { .. } => {
                    if option != ProvisioningOption::ProvisionDisabledUsers {
                        bad(&at, "creates_active applies only to provision_disabled_users".into());
                    }
                    if spec.default {
                        bad(
                            &at,
                            "creates_active means the option cannot be selected, so its default must be false".into(),
                        );
                    }
                }
            }
        }
        out
    }
}

fn check_setting(s: &SettingSpec, at: &str, bad: &mut impl FnMut(&str, String)) {
    match s.kind {
        SettingKind::Enum => {
            if s.allowed.is_empty() {
                bad(at, "an enum setting needs at least one allowed value".into());
            }
            let mut seen = BTreeSet::new();
            for v in &s.allowed {
                if !seen.insert(v.value.as_str()) {
                    bad(at, format!("allowed value '{}' is listed twice", v.value));
                }
            }
        }
        _ if !s.allowed.is_empty() => {
            bad(at, format!("only enum settings have allowed values, this one is {}", s.kind.as_str()))
        }
        _ => {}
    }
    if s.secret && s.default.is_some() {
        bad(at, "a secret setting must not have a default value".into());
    }
    if let Some(default) = &s.default {
        let fits = match s.kind {
            SettingKind::Integer => default.is_i64(),
            SettingKind::Boolean => default.is_boolean(),
            SettingKind::Enum => default.as_str().is_some_and(|d| s.allowed.iter().any(|a| a.value == d)),
            SettingKind::String | SettingKind::Url | SettingKind::File | SettingKind::List => default.is_string(),
        };
        if !fits {
            bad(
                at,
                format!(
                    "default {default} does not fit its kind ({}{})",
                    s.kind.as_str(),
                    if s.kind == SettingKind::Enum { " with the allowed values" } else { "" }
                ),
            );
        }
    }
}

/// Whether `id` is a valid connector id.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
