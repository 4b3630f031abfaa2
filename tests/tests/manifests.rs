//! The five shipped connectors' manifests against the specification.
//!
//! Each test runs the real `provisio` binary over the real connector
//! libraries of this build (`provisio --connector-dir <target/debug>
//! connectors show <id> --json`) and compares the manifest it prints with
//! `tests/fixtures/spec/<id>.toml`, a hand transcription of the spec's tables
//! (settings by label, attributes by code, remove-user semantics, option
//! defaults and constraints). The comparison is strict both ways: every
//! fixture row must be in the manifest with the same facts, and the manifest
//! must have no setting or attribute the fixture lacks. A failure names the
//! connector, the row and the field.

use provisio_core::manifest::{Manifest, OptionConstraint, ProvisioningOption, SettingKind, SettingSpec};
use provisio_e2e::{library_file_name, profile_dir, provisio, stderr, stdout};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One connector's transcribed spec facts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    connector: String,
    setting: Vec<FixtureSetting>,
    attribute: Vec<FixtureAttribute>,
    remove_user: FixtureRemoveUser,
    /// Option key (`user_create`, ...) to its default.
    options: BTreeMap<String, bool>,
    /// Option key to its constraint, where the fixture states one.
    #[serde(default)]
    constraints: BTreeMap<String, FixtureConstraint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureSetting {
    label: String,
    kind: String,
    required: bool,
    secret: bool,
    /// For an enum, the label of the default value. Absent: no default.
    default: Option<toml::Value>,
    /// For an enum, the labels of the allowed values, in order. Absent: none.
    #[serde(default)]
    allowed: Vec<String>,
    /// Absent: the setting has no condition.
    required_when: Option<FixtureCondition>,
}

/// Required when the setting labelled `setting` has the value labelled `equals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureCondition {
    setting: String,
    equals: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureAttribute {
    code: String,
    required: bool,
    /// Checked when stated.
    multi_valued: Option<bool>,
    /// Checked when stated.
    target: Option<String>,
    /// Absent: readWrite.
    mutability: Option<String>,
    /// Absent: no alias.
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureRemoveUser {
    supported: Vec<String>,
    default: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureConstraint {
    /// `free`, `fixed`, `requires` or `creates_active`.
    kind: String,
    /// For `requires`: the option key it needs.
    option: Option<String>,
}

fn fixture_path(id: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/spec").join(format!("{id}.toml"))
}

fn load_fixture(id: &str) -> Fixture {
    let path = fixture_path(id);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fixture: Fixture =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is not a valid fixture: {e}", path.display()));
    assert_eq!(fixture.connector, id, "{} describes connector '{}'", path.display(), fixture.connector);
    fixture
}

/// The manifest `provisio connectors show <id> --json` prints, loaded from
/// this build's libraries.
fn shown_manifest(id: &str) -> Manifest {
    let dir = profile_dir();
    let dir_arg = dir.to_str().expect("the target directory is valid UTF-8");
    let out = provisio(&["--connector-dir", dir_arg, "connectors", "show", id, "--json"]);
    assert!(
        out.status.success(),
        "connector '{id}': `provisio connectors show {id} --json` failed ({}):\n{}",
        out.status,
        stderr(&out)
    );
    let mut json: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("connector '{id}': the output is not JSON ({e}):\n{}", stdout(&out)));
    let file = json
        .as_object_mut()
        .and_then(|o| o.remove("file"))
        .unwrap_or_else(|| panic!("connector '{id}': the JSON has no \"file\" field"));
    let expected_file = library_file_name(&format!("provisio_{id}"));
    assert!(
        file.as_str().is_some_and(|f| f.ends_with(&expected_file)),
        "connector '{id}': loaded from {file}, expected this build's {expected_file}"
    );
    serde_json::from_value(json).unwrap_or_else(|e| panic!("connector '{id}': the JSON is not a manifest: {e}"))
}

/// The label of an enum setting's value (the value itself if unknown).
fn value_label(setting: &SettingSpec, value: &str) -> String {
    setting.allowed.iter().find(|a| a.value == value).map_or_else(|| value.to_owned(), |a| a.label.clone())
}

fn constraint_kind(c: &OptionConstraint) -> (&'static str, Option<ProvisioningOption>) {
    match c {
        OptionConstraint::Free => ("free", None),
        OptionConstraint::Fixed { .. } => ("fixed", None),
        OptionConstraint::Requires { option, .. } => ("requires", Some(*option)),
        OptionConstraint::CreatesActive { .. } => ("creates_active", None),
    }
}

/// Every difference between the manifest and the fixture, each naming the
/// connector, the row and the field.
fn differences(fixture: &Fixture, m: &Manifest) -> Vec<String> {
    let id = &fixture.connector;
    let mut out = Vec::new();
    let mut diff = |row: String, field: &str, manifest: String, spec: String| {
        out.push(format!("connector '{id}': {row}: {field} is {manifest}, the spec says {spec}"));
    };

    if m.id != *id {
        diff("manifest".into(), "id", m.id.clone(), id.clone());
    }
    for problem in m.validate() {
        diff("manifest".into(), "contract", format!("broken ({problem})"), "valid".into());
    }

    // Settings, by label.
    for f in &fixture.setting {
        let row = format!("setting '{}'", f.label);
        let matches: Vec<_> = m.settings.iter().filter(|s| s.label == f.label).collect();
        let s = match matches.as_slice() {
            [s] => *s,
            [] => {
                diff(row, "presence", "missing".into(), "present".into());
                continue;
            }
            _ => {
                diff(row, "presence", format!("declared {} times", matches.len()), "once".into());
                continue;
            }
        };
        if s.kind.as_str() != f.kind {
            diff(row.clone(), "kind", s.kind.as_str().into(), f.kind.clone());
        }
        if s.required != f.required {
            diff(row.clone(), "required", s.required.to_string(), f.required.to_string());
        }
        if s.secret != f.secret {
            diff(row.clone(), "secret", s.secret.to_string(), f.secret.to_string());
        }
        let shown_default = s.default.as_ref().map(|d| match (s.kind, d.as_str()) {
            (SettingKind::Enum, Some(v)) => format!("{:?}", value_label(s, v)),
            _ => d.to_string(),
        });
        let spec_default =
            f.default.as_ref().map(|d| serde_json::to_value(d).expect("a TOML value is JSON").to_string());
        if shown_default != spec_default {
            diff(
                row.clone(),
                "default",
                shown_default.unwrap_or_else(|| "absent".into()),
                spec_default.unwrap_or_else(|| "absent".into()),
            );
        }
        let allowed: Vec<_> = s.allowed.iter().map(|a| a.label.clone()).collect();
        if allowed != f.allowed {
            diff(row.clone(), "allowed labels", format!("{allowed:?}"), format!("{:?}", f.allowed));
        }
        let shown_condition = s.required_when.as_ref().map(|c| match m.setting(&c.setting) {
            Some(other) => {
                let equals = c.equals.as_str().map_or_else(|| c.equals.to_string(), |v| value_label(other, v));
                format!("{} = {equals}", other.label)
            }
            None => format!("{} (no such setting) = {}", c.setting, c.equals),
        });
        let spec_condition = f.required_when.as_ref().map(|c| format!("{} = {}", c.setting, c.equals));
        if shown_condition != spec_condition {
            diff(
                row,
                "required_when",
                shown_condition.unwrap_or_else(|| "absent".into()),
                spec_condition.unwrap_or_else(|| "absent".into()),
            );
        }
    }
    for s in &m.settings {
        if !fixture.setting.iter().any(|f| f.label == s.label) {
            diff(format!("setting '{}' ({})", s.label, s.name), "presence", "present".into(), "absent".into());
        }
    }

    // Attributes, by code.
    for f in &fixture.attribute {
        let row = format!("attribute '{}'", f.code);
        let Some(a) = m.attributes.iter().find(|a| a.code == f.code) else {
            let as_alias =
                m.attribute(&f.code).map(|a| format!(" (only as an alias of '{}')", a.code)).unwrap_or_default();
            diff(row, "presence", format!("missing{as_alias}"), "present".into());
            continue;
        };
        if a.required != f.required {
            diff(row.clone(), "required", a.required.to_string(), f.required.to_string());
        }
        if let Some(multi) = f.multi_valued
            && a.multi_valued != multi
        {
            diff(row.clone(), "multi_valued", a.multi_valued.to_string(), multi.to_string());
        }
        if let Some(target) = &f.target
            && a.target != *target
        {
            diff(row.clone(), "target", format!("{:?}", a.target), format!("{target:?}"));
        }
        let mutability = f.mutability.as_deref().unwrap_or("readWrite");
        if a.mutability.as_str() != mutability {
            diff(row.clone(), "mutability", a.mutability.as_str().into(), mutability.into());
        }
        if a.aliases != f.aliases {
            diff(row, "aliases", format!("{:?}", a.aliases), format!("{:?}", f.aliases));
        }
    }
    for a in &m.attributes {
        if !fixture.attribute.iter().any(|f| f.code == a.code) {
            diff(format!("attribute '{}'", a.code), "presence", "present".into(), "absent".into());
        }
    }

    // Remove-user semantics.
    let supported: Vec<_> = m.remove_user.supported.iter().map(|a| a.to_string()).collect();
    if supported != fixture.remove_user.supported {
        diff(
            "remove_user".into(),
            "supported",
            format!("{supported:?}"),
            format!("{:?}", fixture.remove_user.supported),
        );
    }
    if m.remove_user.default.to_string() != fixture.remove_user.default {
        diff("remove_user".into(), "default", m.remove_user.default.to_string(), fixture.remove_user.default.clone());
    }

    // Provisioning options: every one's default; constraints where stated.
    for key in fixture.options.keys().chain(fixture.constraints.keys()) {
        if !ProvisioningOption::ALL.iter().any(|o| o.key() == key) {
            diff(format!("option '{key}'"), "name", "unknown".into(), "a provisioning option".into());
        }
    }
    for option in ProvisioningOption::ALL {
        let row = format!("option '{}'", option.key());
        let spec = m.options.get(option);
        match fixture.options.get(option.key()) {
            Some(default) if *default != spec.default => {
                diff(row.clone(), "default", spec.default.to_string(), default.to_string())
            }
            Some(_) => {}
            None => diff(row.clone(), "default", spec.default.to_string(), "not transcribed".into()),
        }
        if let Some(c) = fixture.constraints.get(option.key()) {
            let (kind, requires) = constraint_kind(&spec.constraint);
            if kind != c.kind {
                diff(row.clone(), "constraint", kind.into(), c.kind.clone());
            }
            let requires = requires.map(|o| o.key().to_owned());
            if kind == c.kind && requires != c.option {
                diff(row, "constraint option", format!("{requires:?}"), format!("{:?}", c.option));
            }
        }
    }
    out
}

fn check(id: &str) {
    let fixture = load_fixture(id);
    let manifest = shown_manifest(id);
    let problems = differences(&fixture, &manifest);
    assert!(
        problems.is_empty(),
        "{} difference(s) between the manifest of connector '{id}' and {}:\n  {}",
        problems.len(),
        fixture_path(id).display(),
        problems.join("\n  ")
    );
}

#[test]
fn scim_manifest_matches_the_spec() {
    check("scim");
}

#[test]
fn contentful_manifest_matches_the_spec() {
    check("contentful");
}

#[test]
fn code42_manifest_matches_the_spec() {
    check("code42");
}

#[test]
fn aquera_manifest_matches_the_spec() {
    check("aquera");
}

#[test]
fn pingid_manifest_matches_the_spec() {
    check("pingid");
}

/// The comparison itself: a manifest that differs from its fixture in each
/// way is reported row by row, naming connector, row and field.
#[test]
fn differences_name_the_connector_row_and_field() {
    use provisio_core::manifest::{AttributeSpec, Mutability, RemoveUserAction};
    let fixture: Fixture = toml::from_str(
        r#"
        connector = "demo"
        setting = [
            { label = "Mode", kind = "enum", required = true, secret = false, default = "Fast", allowed = ["Fast", "Slow"] },
            { label = "Token", kind = "string", required = false, secret = true, required_when = { setting = "Mode", equals = "Slow" } },
            { label = "Gone", kind = "url", required = true, secret = false },
        ]
        attribute = [
            { code = "userName", required = true, multi_valued = false },
            { code = "roles", required = false, multi_valued = true },
        ]
        remove_user = { supported = ["Disable", "Delete"], default = "Disable" }
        options = { user_create = true, user_update = true, user_disable_delete = true, provision_disabled_users = false }
        constraints = { user_update = { kind = "fixed" } }
        "#,
    )
    .unwrap();
    let mut m = provisio_core::testing::minimal_manifest("demo");
    m.version = "1.0.0".into();
    m.settings = vec![
        SettingSpec::new("mode", "Mode", SettingKind::Enum)
            .required()
            .allowed(&[("f", "Fast"), ("s", "Slow")])
            .default_value("s"),
        SettingSpec::new("token", "Token", SettingKind::String).secret().required_when("mode", "f"),
        SettingSpec::new("extra", "Extra", SettingKind::Boolean),
    ];
    m.attributes = vec![
        AttributeSpec::new("userName", "userName").required().mutability(Mutability::Immutable),
        AttributeSpec::new("roles", "roles[].value"),
        AttributeSpec::new("title", "title"),
    ];
    m.remove_user.default = RemoveUserAction::Delete;
    let found = differences(&fixture, &m);
    let expect = [
        "connector 'demo': setting 'Mode': default is \"Slow\", the spec says \"Fast\"",
        "connector 'demo': setting 'Token': required_when is Mode = Fast, the spec says Mode = Slow",
        "connector 'demo': setting 'Gone': presence is missing",
        "connector 'demo': setting 'Extra' (extra): presence is present, the spec says absent",
        "connector 'demo': attribute 'userName': mutability is immutable, the spec says readWrite",
        "connector 'demo': attribute 'roles': multi_valued is false, the spec says true",
        "connector 'demo': attribute 'title': presence is present, the spec says absent",
        "connector 'demo': remove_user: default is Delete, the spec says Disable",
        "connector 'demo': option 'user_update': constraint is free, the spec says fixed",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "expected a difference starting with\n  {e}\nfound:\n  {}",
            found.join("\n  ")
        );
    }
    assert_eq!(found.len(), expect.len(), "unexpected differences:\n  {}", found.join("\n  "));
}
