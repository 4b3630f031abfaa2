//! The Code42 connector's manifest (spec b.0, b.3.2, b.3.3).
//!
//! Code42 is configured as a SCIM Connector with SCIM 2.0 and Unique User
//! Identifier `userName` fixed, so the form has the SCIM URL (Code42's Base
//! URL) and the credentials of the two methods Code42 offers. The catalogue
//! is Code42's documented attribute list, taken from `provisio-scim-kit`'s
//! catalogue under Code42's names. The decisions taken on the specification's
//! open questions are in [`NOTES`] and in `docs/connectors/code42.md`.

use provisio_core::manifest::*;
use provisio_scim_kit::form::AuthMethod;
use provisio_scim_kit::{catalogue, form};
use std::collections::BTreeSet;

/// The connector id used in configuration files.
pub const ID: &str = "code42";

/// Decisions on the specification's open questions, and target quirks.
pub const NOTES: &[&str] = &[
    "SCIM 2.0 only: there is no SCIM Version setting. Unique User Identifier is always userName.",
    "SCIM URL takes the Base URL Code42 shows when the SCIM provider is created, as it is; no URL format is assumed (open question e.8).",
    "Both OAuth 2 Bearer Token and Basic Authentication are offered (open question e.8); OAuth 2 Bearer Token is the default because Code42's console creates an OAuth token.",
    "Groups are not provisioned to Code42 (open question e.8): the form has no group settings.",
    "workStreet is the field code, as in Code42's guide; the SCIM catalogue's name workStreetAddress is accepted as an alias (open question e.8).",
    "userType is in the catalogue although Code42's attribute list omits it, because Ping's recommended mapping uses it (userType <- employeeType); Code42 may ignore it (open question e.8).",
    "manager must be the manager's Code42 user id, not a DN: pre-populate a source attribute with it. It is sent as the enterprise extension's manager.value.",
    "Users are replaced with PUT over their current state (never PATCHed), deactivated and re-activated through active=false/true, and never deleted. A disabled source user is created active, with a warning; a user already provisioned who is disabled in the source stays active (Code42 cannot hold a user the source says is disabled but in scope); leaving the scope deactivates it.",
    "The activation check reads the ServiceProviderConfig (capabilities), then lists one user with the credentials (GET /Users?startIndex=1&count=1).",
];

/// The manifest of the Code42 connector.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "Code42".to_owned(),
        description: "Creates, updates and deactivates Code42 users through Code42's SCIM 2.0 API. \
                      Code42 cannot delete users or create them disabled."
            .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: settings(),
        attributes: attributes(),
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable],
            default: RemoveUserAction::Disable,
            notes: "Disable deactivates the Code42 user (active=false). Code42 does not support deleting users."
                .to_owned(),
        },
        options: options(),
        capabilities: capabilities(),
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// Find, create, update, deactivate and re-activate users. No delete (Code42
/// has none), no groups (not documented), no schema discovery.
pub fn capabilities() -> BTreeSet<Capability> {
    BTreeSet::from([
        Capability::TestConnection,
        Capability::UserFind,
        Capability::UserFindAll,
        Capability::UserCreate,
        Capability::UserUpdate,
        Capability::UserDisable,
        Capability::UserEnable,
    ])
}

fn settings() -> Vec<SettingSpec> {
    let mut s = vec![form::scim_url().help(
        "The Base URL shown in Code42's SCIM Provider Created dialog (Integrations > Identity Management > Provisioning).",
    )];
    s.extend(form::authentication(&[AuthMethod::OAuth2BearerToken, AuthMethod::Basic], AuthMethod::OAuth2BearerToken));
    for setting in &mut s {
        if setting.name == form::names::ACCESS_TOKEN {
            setting.help = "The Token shown in Code42's SCIM Provider Created dialog.".into();
        }
    }
    s
}

/// Code42's documented fields in its guide's order, then `userType`.
fn attributes() -> Vec<AttributeSpec> {
    let mut fields = catalogue::pick(&[
        "userName",
        "givenName",
        "familyName",
        "workEmail",
        "title",
        "externalId",
        "workCity",
        "workState",
        "workCountry",
        "workStreetAddress",
        "workPostalCode",
        "division",
        "department",
        "manager",
        "userType",
    ]);
    for field in &mut fields {
        match field.code.as_str() {
            "userName" => {
                field.notes = "Required; the user's unique id at Code42, typically the e-mail address.".into()
            }
            "workStreetAddress" => {
                field.code = "workStreet".into();
                field.aliases.push("workStreetAddress".into());
                field.notes =
                    "Code42's name for the SCIM catalogue's workStreetAddress, which is accepted as an alias.".into();
            }
            "manager" => {
                field.notes = "The manager's Code42 user id (the target id, e.g. 123098456876789543), not a DN.".into();
            }
            "userType" => {
                field.notes = "Not in Code42's attribute list but in Ping's recommended mapping (userType <- employeeType); Code42 may ignore it.".into();
            }
            _ => {}
        }
    }
    fields
}

fn options() -> ProvisioningOptionsSpec {
    let mut o = ProvisioningOptionsSpec::defaults(true, true, true, false);
    o.user_disable_delete.constraint = OptionConstraint::Requires {
        option: ProvisioningOption::UserUpdate,
        reason: "Code42 deactivates a user with an update (active=false), so User Disable / Delete acts only when User Update is also selected.".into(),
    };
    o.provision_disabled_users.constraint = OptionConstraint::CreatesActive {
        reason:
            "Code42 cannot create a disabled user: a disabled source user in scope is created active, with a warning."
                .into(),
    };
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code42Connector;
    use provisio_core::prelude::Connector;
    use provisio_core::testing::{Harness, RecordedHttp, default_config};
    use serde_json::json;

    const URL: &str = "https://console.us.code42.com/api/v3/scim-user-provisioning/abc/v2";

    #[test]
    fn the_manifest_passes_the_contract() {
        let problems = Code42Connector::manifest().validate();
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn no_delete_and_no_groups() {
        let caps = manifest().capabilities;
        assert!(caps.contains(&Capability::UserDisable) && caps.contains(&Capability::UserEnable));
        for c in [Capability::UserDelete, Capability::GroupCreate, Capability::GroupFind, Capability::DiscoverSchema] {
            assert!(!caps.contains(&c), "{c}");
        }
    }

    #[test]
    fn the_catalogue_is_the_documented_list_plus_user_type() {
        let m = manifest();
        assert_eq!(m.attributes.len(), 15);
        let street = m.attribute("workStreetAddress").unwrap();
        assert_eq!(street.code, "workStreet");
        assert_eq!(street.target, r#"addresses[type eq "work"].streetAddress"#);
        assert!(m.attribute("manager").unwrap().notes.contains("Code42 user id"));
    }

    #[test]
    fn disable_only_and_disabled_users_are_created_active() {
        let m = manifest();
        assert_eq!(m.remove_user.supported, [RemoveUserAction::Disable]);
        assert!(matches!(m.options.provision_disabled_users.constraint, OptionConstraint::CreatesActive { .. }));
        assert!(matches!(
            m.options.user_disable_delete.constraint,
            OptionConstraint::Requires { option: ProvisioningOption::UserUpdate, .. }
        ));
    }

    #[test]
    fn open_takes_a_token_or_basic_credentials() {
        let token = default_config(&manifest(), json!({"scim_url": URL, "access_token": "t"})).unwrap();
        assert!(crate::settings(&token).is_ok());
        let basic = default_config(
            &manifest(),
            json!({"scim_url": URL, "authentication_method": "basic", "basic_username": "u", "basic_password": "p"}),
        )
        .unwrap();
        assert!(crate::settings(&basic).is_ok());
        let none = default_config(&manifest(), json!({"scim_url": URL, "authentication_method": "none"})).unwrap();
        assert!(crate::settings(&none).unwrap_err().detail.contains("authentication_method"));
        let missing = Harness::open::<Code42Connector>(json!({"scim_url": URL}), RecordedHttp::new()).err().unwrap();
        assert!(missing.detail.contains("access_token"), "{}", missing.detail);
    }
}
