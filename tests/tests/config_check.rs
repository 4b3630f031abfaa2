//! `provisio config check` through the real binary and the real connector
//! libraries: every problem is listed at once, each with its location and a
//! message that says how to fix it. No target is needed: the check reads
//! only the configuration, the manifests, the sources and the state.

use provisio_e2e::{profile_dir, provisio_command, stderr, stdout};
use std::path::Path;

const LDIF: &str = "dn: uid=alice,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: alice\nsn: A\nentryUUID: 1\n\n\
dn: cn=admins,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: admins\nmember: uid=alice,ou=people,dc=example,dc=org\nentryUUID: g1\n";

fn check(dir: &Path, config: &str) -> (bool, String) {
    std::fs::write(dir.join("people.ldif"), LDIF).unwrap();
    std::fs::write(dir.join("provisio.toml"), config).unwrap();
    let out = run(dir, &["config", "check"]);
    (out.status.success(), stdout(&out) + &stderr(&out))
}

/// `provisio ARGS` with the configuration `dir/provisio.toml` and the built connectors.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let profile = profile_dir();
    let file = dir.join("provisio.toml");
    let mut all = vec!["--connector-dir", profile.to_str().unwrap(), "--config", file.to_str().unwrap()];
    all.extend_from_slice(args);
    provisio_command(&all).env("PROVISIO_TEST_TOKEN", "t0k3n-value").output().expect("run provisio")
}

fn assert_has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

#[test]
fn a_good_configuration_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "hr"
connector = "scim"
settings = { scim_url = "https://scim.example.com/v2", authentication_method = "oauth2_bearer_token", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "people.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]
"#,
    );
    assert!(ok, "{text}");
    assert_has(&text, &["the configuration is valid"]);
}

#[test]
fn every_problem_is_listed_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "hr"
connector = "scim"
remove_user_action = "Archive"
settings = { scim_ur = "x", scim_version = "3.0", authentication_method = "basic", access_token = "inline-secret-value", results_per_page = "many" }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "people.ldif", user_filter = "(uid=alice" }
mapping = [ { field = "mail", attributes = ["mail"] }, { field = "displayName", expression = "upper(${cn}" } ]
"#,
    );
    assert!(!ok);
    assert_has(
        &text,
        &[
            // unknown setting, with a suggestion
            "connection 'hr' › settings.scim_ur: connector 'scim' has no setting 'scim_ur'; did you mean 'scim_url'?",
            // missing required setting
            "connection 'hr' › settings.scim_url: 'SCIM URL' is required",
            // value outside the allowed ones
            "connection 'hr' › settings.scim_version",
            "\"2.0\"",
            // required when another setting has a value
            "settings.basic_username",
            "required when authentication_method is",
            // an inline secret
            "warning: connection 'hr' › settings.access_token",
            "give it by reference",
            // wrong kind
            "settings.results_per_page",
            "a whole number",
            // remove-user action
            "connection 'hr' › remove_user_action: 'Archive' is not a remove-user action",
            // unknown mapped attribute, with a suggestion
            "connection 'hr' › channel 'people' › mapping[0] 'mail': connector 'scim' has no attribute 'mail'; did you mean",
            // required attribute not mapped
            "required attribute 'userName' is not mapped",
            // expression error with the field and the column
            "mapping for 'displayName': expression column",
            // bad filter
            "user_filter",
        ],
    );
    assert!(!text.contains("inline-secret-value"), "the secret was printed:\n{text}");
}

#[test]
fn connector_constraints_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "cf"
connector = "contentful"
remove_user_action = "Disable"
options = { user_update = true, provision_disabled_users = true }
settings = { scim_url = "https://api.contentful.com/scim/v2/organizations/o1", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "people.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "givenName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]

[[connection]]
name = "c42"
connector = "code42"
options = { user_update = false, provision_disabled_users = true }
settings = { scim_url = "https://console.example.code42.com/api/v1/scim", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "people.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] } ]
"#,
    );
    assert!(!ok);
    assert_has(
        &text,
        &[
            "connection 'cf' › remove_user_action: connector 'contentful' cannot Disable users; it supports only Delete",
            "connection 'cf' › options.user_update: User Update must be cleared for connector 'contentful'",
            "connection 'cf' › options.provision_disabled_users",
            "connection 'c42' › options.user_disable_delete: User Disable / Delete needs User Update with connector 'code42'",
            "connection 'c42' › options.provision_disabled_users: Provision Disabled Users is not supported by connector 'code42'",
            "created active",
        ],
    );
}

#[test]
fn two_channels_provisioning_the_same_group_name_get_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "hr"
connector = "scim"
settings = { scim_url = "https://scim.example.com/v2" }
[[connection.channel]]
name = "forest-a"
groups = true
source = { kind = "file", path = "people.ldif", group_filter = "(objectClass=groupOfNames)" }
mapping = [ { field = "userName", attributes = ["uid"] } ]
[[connection.channel]]
name = "forest-b"
groups = true
source = { kind = "file", path = "people.ldif", group_filter = "(objectClass=groupOfNames)" }
mapping = [ { field = "userName", attributes = ["uid"] } ]
"#,
    );
    assert!(ok, "a collision is a warning, not an error: {text}");
    assert_has(&text, &["warning: connection 'hr'", "'forest-a' and 'forest-b'", "'admins'", "overwrites"]);
}

#[test]
fn an_unknown_connector_and_a_missing_source_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "x"
connector = "nosuch"
[[connection]]
name = "y"
connector = "scim"
settings = { scim_url = "https://scim.example.com/v2" }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "missing.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] } ]
"#,
    );
    assert!(!ok);
    assert_has(&text, &["connection 'x' › connector: no connector 'nosuch' is loaded", "missing.ldif does not exist"]);
}

#[test]
fn a_malformed_configuration_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(dir.path(), "[[connection]]\nname = \"x\"\nconnector = scim\n");
    assert!(!ok);
    assert_has(&text, &["provisio.toml", "line 3"]);
}

#[test]
fn ldap_source_settings_are_checked_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: the check must not need the server.
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "hr"
connector = "scim"
settings = { scim_url = "https://scim.example.com/v2", authentication_method = "oauth2_bearer_token", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
source = { kind = "ldap", url = "ldaps://127.0.0.1:1", start_tls = true, bind_dn = "cn=reader,dc=example,dc=org", bind_password = { env = "PROVISIO_TEST_SURELY_UNSET_LDAP_PW" }, user_filter = "(uid=a", ca_file = "no-such-ca.pem", change_detection = { algorithm = "usn" } }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]
[[connection.channel]]
name = "insecure"
source = { kind = "ldap", url = "ldap://127.0.0.1:1", base_dn = "dc=example,dc=org", verify_certificates = false, bind_dn = "cn=reader,dc=example,dc=org", bind_password = "inline-secret" }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]
"#,
    );
    assert!(!ok, "{text}");
    assert_has(
        &text,
        &[
            "channel 'people' › source: start_tls: is set with an ldaps:// URL",
            "channel 'people' › source: base_dn: is required for an LDAP source",
            "channel 'people' › source: user_filter: column",
            "channel 'people' › source.ca_file:",
            "does not exist or is not a file",
            "channel 'people' › source.bind_password: environment variable PROVISIO_TEST_SURELY_UNSET_LDAP_PW is not set",
            "channel 'insecure' › source.verify_certificates: is false",
            "channel 'insecure' › source.bind_password: the bind password is written inline",
        ],
    );
    assert!(!text.contains("inline-secret"), "the inline password was shown: {text}");
}

/// A rate limit too small to be a request interval (it once panicked in
/// `Duration::from_secs_f64`) is refused by `config check`, naming the key,
/// and `connections test` on it ends with an error, not a panic.
#[test]
fn a_tiny_rate_limit_is_refused_naming_the_key_and_panics_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
[[connection]]
name = "hr"
connector = "scim"
rate_limit = 1e-30
settings = { scim_url = "http://127.0.0.1:9/v2", authentication_method = "oauth2_bearer_token", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
source = { kind = "file", path = "people.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]
"#;
    let (ok, text) = check(dir.path(), config);
    assert!(!ok, "{text}");
    assert_has(&text, &["connection 'hr' › rate_limit", "below the smallest rate", "0.001"]);
    let out = run(dir.path(), &["connections", "test"]);
    let text = stdout(&out) + &stderr(&out);
    assert_ne!(out.status.code(), Some(101), "connections test panicked:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.status.success(), "{text}");
}

/// A channel that manages groups but whose source selects none used to
/// provision no group without a word: it is a `config check` error naming
/// the key and both ways to fix it.
#[test]
fn groups_without_a_group_selection_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check(
        dir.path(),
        r#"
[[connection]]
name = "hr"
connector = "scim"
settings = { scim_url = "https://scim.example.com/v2", authentication_method = "oauth2_bearer_token", access_token = { env = "PROVISIO_TEST_TOKEN" } }
[[connection.channel]]
name = "people"
groups = true
source = { kind = "file", path = "people.ldif" }
mapping = [ { field = "userName", attributes = ["uid"] }, { field = "familyName", attributes = ["sn"] } ]
"#,
    );
    assert!(!ok, "{text}");
    assert_has(&text, &["channel 'people' › groups", "selects no group", "group_filter", "group_dn"]);
}
