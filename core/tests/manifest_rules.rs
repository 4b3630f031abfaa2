//! The manifest contract, one test per rule: each breaks exactly one rule of
//! `Manifest::validate` on an otherwise valid manifest and checks where the
//! violation is reported (`at`), so a connector author reading the loader's
//! refusal is pointed at the right field.

use provisio_core::manifest::*;
use provisio_core::testing::minimal_manifest;
use serde_json::json;

/// A valid manifest with one setting of each interesting kind.
fn valid() -> Manifest {
    let mut m = minimal_manifest("demo");
    m.settings = vec![
        SettingSpec::new("url", "URL", SettingKind::Url).required(),
        SettingSpec::new("auth", "Authentication", SettingKind::Enum)
            .allowed(&[("basic", "Basic"), ("oauth", "OAuth 2 Bearer Token")])
            .default_value("basic"),
        SettingSpec::new("user", "User", SettingKind::String).required_when("auth", "basic"),
        SettingSpec::new("password", "Password", SettingKind::String).secret(),
        SettingSpec::new("page_size", "Page Size", SettingKind::Integer).default_value(100),
    ];
    m.attributes.push(AttributeSpec::new("workEmail", "emails[type eq \"work\"].value").alias("email"));
    m
}

/// Where each violation of `m` is reported, in order.
fn at(m: &Manifest) -> Vec<String> {
    m.validate().into_iter().map(|v| v.at).collect()
}

fn setting<'a>(m: &'a mut Manifest, name: &str) -> &'a mut SettingSpec {
    m.settings.iter_mut().find(|s| s.name == name).expect("the setting exists")
}

#[test]
fn the_valid_manifests_are_valid() {
    assert_eq!(valid().validate(), vec![]);
    assert_eq!(minimal_manifest("x").validate(), vec![]);
}

#[test]
fn a_violation_reads_as_where_then_what() {
    let mut m = valid();
    m.version = String::new();
    assert_eq!(m.validate()[0].to_string(), "version: must not be empty (use the crate version)");
}

#[test]
fn the_id_must_be_lower_case_ascii_starting_with_a_letter() {
    for id in ["", "Scim", "1scim", "scim kit", "sçim", &"x".repeat(65)] {
        let mut m = valid();
        m.id = id.to_owned();
        assert_eq!(at(&m), ["id"], "id {id:?}");
    }
    for id in ["scim", "scim-2", "my_target", &"x".repeat(64)] {
        assert!(provisio_core::validate::is_valid_id(id), "{id} is valid");
    }
}

#[test]
fn the_display_name_must_not_be_empty() {
    let mut m = valid();
    m.display_name = "  ".into();
    assert_eq!(at(&m), ["display_name"]);
}

#[test]
fn the_version_must_not_be_empty() {
    let mut m = valid();
    m.version = String::new();
    assert_eq!(at(&m), ["version"]);
}

#[test]
fn a_setting_needs_a_name() {
    let mut m = valid();
    m.settings.push(SettingSpec::new("", "Nameless", SettingKind::String));
    assert_eq!(at(&m), ["settings"]);
}

#[test]
fn setting_names_are_unique() {
    let mut m = valid();
    m.settings.push(SettingSpec::new("url", "Another URL", SettingKind::Url));
    assert_eq!(at(&m), ["settings.url"]);
}

#[test]
fn a_setting_needs_a_label() {
    let mut m = valid();
    setting(&mut m, "url").label = String::new();
    assert_eq!(at(&m), ["settings.url"]);
}

#[test]
fn an_enum_setting_needs_allowed_values() {
    let mut m = valid();
    let auth = setting(&mut m, "auth");
    auth.allowed.clear();
    auth.default = None;
    // The condition of `user` refers to a value `auth` no longer allows.
    assert_eq!(at(&m), ["settings.auth", "settings.user.required_when"]);
}

#[test]
fn allowed_values_are_unique() {
    let mut m = valid();
    setting(&mut m, "auth").allowed.push(AllowedValue { value: "basic".into(), label: "Basic again".into() });
    assert_eq!(at(&m), ["settings.auth"]);
}

#[test]
fn only_enum_settings_have_allowed_values() {
    let mut m = valid();
    *setting(&mut m, "url") = SettingSpec::new("url", "URL", SettingKind::Url).allowed(&[("a", "A")]);
    assert_eq!(at(&m), ["settings.url"]);
}

#[test]
fn a_secret_setting_has_no_default() {
    let mut m = valid();
    setting(&mut m, "password").default = Some(json!("changeme"));
    assert_eq!(at(&m), ["settings.password"]);
}

#[test]
fn a_default_fits_its_kind() {
    let cases = [
        ("page_size", json!("100")),
        ("page_size", json!(1.5)),
        ("url", json!(42)),
        ("auth", json!("kerberos")),
        ("auth", json!(true)),
    ];
    for (name, default) in cases {
        let mut m = valid();
        setting(&mut m, name).default = Some(default.clone());
        assert_eq!(at(&m), [format!("settings.{name}")], "default {default} for {name}");
    }
    let mut m = valid();
    m.settings.push(SettingSpec::new("verify", "Verify TLS", SettingKind::Boolean).default_value("yes"));
    assert_eq!(at(&m), ["settings.verify"]);
}

#[test]
fn required_when_refers_to_an_existing_setting() {
    let mut m = valid();
    setting(&mut m, "user").required_when = Some(Condition { setting: "method".into(), equals: json!("basic") });
    assert_eq!(at(&m), ["settings.user.required_when"]);
}

#[test]
fn required_when_on_an_enum_uses_an_allowed_value() {
    let mut m = valid();
    setting(&mut m, "user").required_when = Some(Condition { setting: "auth".into(), equals: json!("kerberos") });
    assert_eq!(at(&m), ["settings.user.required_when"]);
}

#[test]
fn the_attribute_catalogue_is_not_empty() {
    let mut m = valid();
    m.attributes.clear();
    // Empty, and therefore without the required unique user identifier.
    assert_eq!(at(&m), ["attributes", "attributes"]);
}

#[test]
fn attribute_codes_and_aliases_are_not_empty() {
    let mut m = valid();
    m.attributes.push(AttributeSpec::new("", "title"));
    assert_eq!(at(&m), ["attributes"]);
    let mut m = valid();
    m.attributes.push(AttributeSpec::new("title", "title").alias(" "));
    assert_eq!(at(&m), ["attributes"]);
}

#[test]
fn attribute_codes_and_aliases_are_unique() {
    let mut m = valid();
    m.attributes.push(AttributeSpec::new("userName", "login"));
    assert_eq!(at(&m), ["attributes.userName"]);
    let mut m = valid();
    m.attributes.push(AttributeSpec::new("mail", "mail").alias("email"));
    assert_eq!(at(&m), ["attributes.email"]);
}

#[test]
fn an_attribute_has_a_target() {
    let mut m = valid();
    m.attributes.push(AttributeSpec::new("title", ""));
    assert_eq!(at(&m), ["attributes.title"]);
}

#[test]
fn one_attribute_is_required() {
    let mut m = valid();
    m.attributes.iter_mut().for_each(|a| a.required = false);
    assert_eq!(at(&m), ["attributes"]);
}

#[test]
fn at_least_one_remove_user_action_is_supported() {
    let mut m = valid();
    m.remove_user.supported.clear();
    // And so the default is not among them either.
    assert_eq!(at(&m), ["remove_user.supported", "remove_user.default"]);
}

#[test]
fn the_remove_user_default_is_supported() {
    let mut m = valid();
    m.remove_user.supported = vec![RemoveUserAction::Disable];
    m.remove_user.default = RemoveUserAction::Delete;
    assert_eq!(at(&m), ["remove_user.default"]);
    assert!(m.validate()[0].problem.contains("'Delete' is not among the supported actions (Disable)"));
}

#[test]
fn a_fixed_option_defaults_to_its_fixed_value() {
    let mut m = valid();
    m.options.user_update =
        OptionSpec { default: true, constraint: OptionConstraint::Fixed { value: false, reason: "no updates".into() } };
    assert_eq!(at(&m), ["options.user_update"]);
}

#[test]
fn an_option_does_not_require_itself() {
    let mut m = valid();
    m.options.user_disable_delete.constraint =
        OptionConstraint::Requires { option: ProvisioningOption::UserDisableDelete, reason: "loop".into() };
    assert_eq!(at(&m), ["options.user_disable_delete"]);
}

#[test]
fn creates_active_applies_only_to_provision_disabled_users() {
    let mut m = valid();
    m.options.user_create.constraint = OptionConstraint::CreatesActive { reason: "x".into() };
    m.options.user_create.default = false;
    assert_eq!(at(&m), ["options.user_create"]);
}

#[test]
fn creates_active_means_the_option_defaults_to_off() {
    let mut m = valid();
    m.options.provision_disabled_users =
        OptionSpec { default: true, constraint: OptionConstraint::CreatesActive { reason: "x".into() } };
    assert_eq!(at(&m), ["options.provision_disabled_users"]);
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let mut m = valid();
    m.id = "Bad Id".into();
    m.remove_user.supported = vec![RemoveUserAction::Disable];
    m.remove_user.default = RemoveUserAction::Delete;
    setting(&mut m, "password").default = Some(json!("x"));
    assert_eq!(at(&m), ["id", "settings.password", "remove_user.default"]);
}

#[test]
fn a_setting_without_a_kind_does_not_parse() {
    // `kind` is not optional: such a manifest is refused before the rules run.
    let mut value = serde_json::to_value(valid()).unwrap();
    value["settings"][0].as_object_mut().unwrap().remove("kind");
    let err = serde_json::from_value::<Manifest>(value).unwrap_err();
    assert!(err.to_string().contains("missing field `kind`"), "{err}");
}
