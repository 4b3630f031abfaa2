//! The Contentful connector's manifest (spec b.0, b.2.2, b.2.3, b.2.4).
//!
//! Contentful is configured as a SCIM Connector with fixed answers: SCIM 2.0,
//! OAuth 2 Bearer Token (a personal access token), Unique User Identifier
//! `userName`. Those answers are not offered as settings; the form keeps the
//! SCIM URL, the token and the group fields that still make a difference.
//! The catalogue is the four fields Contentful reads, with Contentful's
//! required flags and mutability. The decisions taken on the specification's
//! open questions are in [`NOTES`] and in `docs/connectors/contentful.md`.

use provisio_core::manifest::*;
use provisio_scim_kit::{catalogue, form};
use std::collections::BTreeSet;

/// The connector id used in configuration files.
pub const ID: &str = "contentful";

/// Decisions on the specification's open questions, and target quirks.
pub const NOTES: &[&str] = &[
    "SCIM 2.0 only: there is no SCIM Version setting.",
    "OAuth 2 Bearer Token only: there is no Authentication Methods setting; Access Token takes a Contentful personal access token of an organization owner or admin.",
    "Unique User Identifier is always userName (the member's e-mail address): there is no setting for it.",
    "workEmail is read-only at Contentful (its e-mail is the userName): the field is accepted in mappings so Ping's recommended mapping validates, but its value is never sent.",
    "Ping's guide names the fields email, firstName and lastName: those names are accepted as aliases of workEmail, givenName and familyName.",
    "Groups are Contentful Teams and are always updated with PATCH on `members`: Contentful documents PATCH for teams, not PUT, so there is no Use PATCH for Group Updates setting. A team is created with its name alone and its members are then added by PATCH, each as {display, value} with the member's full name (open question e.9).",
    "A group rename is not pushed (Contentful documents no way to change a team's displayName; open question e.9); a warning is logged instead and the team keeps its name.",
    "No ServiceProviderConfig is requested and no If-Match is sent: Contentful documents neither. The activation check lists one user (GET /Users?startIndex=1&count=1) with the token.",
    "Attributes outside the catalogue are ignored by Contentful, so custom attributes are not offered.",
];

/// The manifest of the Contentful connector.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "Contentful".to_owned(),
        description: "Adds and removes members of a Contentful organization, and manages its teams, \
                      through Contentful's SCIM 2.0 API. Members cannot be updated or disabled."
            .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: settings(),
        attributes: attributes(),
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Delete],
            default: RemoveUserAction::Delete,
            notes: "Delete removes the organization membership, with every team and space membership; \
                    the Contentful account survives. Contentful has no disable: `active` is read-only."
                .to_owned(),
        },
        options: options(),
        capabilities: capabilities(),
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// Create, find and delete members; every team operation. No update,
/// disable or enable: Contentful members are immutable and never disabled.
pub fn capabilities() -> BTreeSet<Capability> {
    BTreeSet::from([
        Capability::TestConnection,
        Capability::UserFind,
        Capability::UserFindAll,
        Capability::UserCreate,
        Capability::UserDelete,
        Capability::GroupFind,
        Capability::GroupCreate,
        Capability::GroupUpdate,
        Capability::GroupDelete,
    ])
}

fn settings() -> Vec<SettingSpec> {
    vec![
        form::scim_url().help(
            "The SCIM URL shown when the personal access token is generated: \
             https://api.contentful.com/scim/v2/organizations/<organization id>.",
        ),
        form::access_token()
            .required()
            .help("A Contentful personal access token (Organization settings > User provisioning). It carries the rights of the account that created it, which must stay an organization owner or admin."),
        form::group_name_source().help("What becomes the Contentful team name, and how existing teams are matched."),
        form::results_per_page(),
    ]
}

fn attributes() -> Vec<AttributeSpec> {
    let mut fields = catalogue::pick(&["userName", "givenName", "familyName", "workEmail"]);
    for field in &mut fields {
        match field.code.as_str() {
            "userName" => {
                field.mutability = Mutability::Immutable;
                field.notes =
                    "The member's e-mail address (Contentful's email). Required; set on create, never changed.".into();
            }
            "givenName" => {
                field.required = true;
                field.mutability = Mutability::Immutable;
                field.aliases.push("firstName".into());
                field.notes = "Contentful's firstName. Required; set on create, never changed.".into();
            }
            "familyName" => {
                field.required = true;
                field.mutability = Mutability::Immutable;
                field.aliases.push("lastName".into());
                field.notes = "Contentful's lastName. Required; set on create, never changed.".into();
            }
            "workEmail" => {
                field.mutability = Mutability::ReadOnly;
                field.aliases.push("email".into());
                field.notes =
                    "Read-only at Contentful, which takes the e-mail from userName: accepted in mappings, never sent."
                        .into();
            }
            _ => unreachable!("picked above"),
        }
    }
    fields
}

fn options() -> ProvisioningOptionsSpec {
    let mut o = ProvisioningOptionsSpec::defaults(true, false, true, false);
    o.user_create.constraint = OptionConstraint::Fixed {
        value: true,
        reason: "Contentful's setup requires User Create: provisioning adds organization members and removes them."
            .into(),
    };
    o.user_update.constraint = OptionConstraint::Fixed {
        value: false,
        reason: "Contentful user attributes are immutable (userName, givenName and familyName are set on create \
                 only); its user PUT and PATCH exist only for identity-provider compatibility."
            .into(),
    };
    o.provision_disabled_users.constraint = OptionConstraint::Fixed {
        value: false,
        reason: "Contentful has no disabled members (`active` is read-only), so disabled source users are not created."
            .into(),
    };
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ContentfulConnector;
    use provisio_core::prelude::Connector;
    use provisio_core::testing::{Harness, RecordedHttp};
    use serde_json::json;

    const URL: &str = "https://api.contentful.com/scim/v2/organizations/0rg";

    #[test]
    fn the_manifest_passes_the_contract() {
        let problems = ContentfulConnector::manifest().validate();
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn create_and_delete_capabilities_only() {
        let caps = manifest().capabilities;
        assert!(caps.contains(&Capability::UserCreate) && caps.contains(&Capability::UserDelete));
        for c in [Capability::UserUpdate, Capability::UserDisable, Capability::UserEnable, Capability::DiscoverSchema] {
            assert!(!caps.contains(&c), "{c}");
        }
    }

    #[test]
    fn create_and_delete_only() {
        let m = manifest();
        assert_eq!(m.remove_user.supported, [RemoveUserAction::Delete]);
        assert!(matches!(m.options.user_update.constraint, OptionConstraint::Fixed { value: false, .. }));
        assert!(!m.options.user_update.default);
        assert!(
            m.attributes
                .iter()
                .filter(|a| a.mutability != Mutability::ReadOnly)
                .all(|a| a.mutability == Mutability::Immutable)
        );
    }

    #[test]
    fn guide_names_are_aliases() {
        let m = manifest();
        assert_eq!(m.attribute("email").unwrap().code, "workEmail");
        assert_eq!(m.attribute("firstName").unwrap().code, "givenName");
        assert_eq!(m.attribute("lastName").unwrap().code, "familyName");
    }

    #[test]
    fn open_needs_the_token_and_patches_groups() {
        let h = Harness::open::<ContentfulConnector>(
            json!({"scim_url": URL, "access_token": "CFPAT-x"}),
            RecordedHttp::new(),
        );
        assert!(h.is_ok());
        let err = Harness::open::<ContentfulConnector>(json!({"scim_url": URL}), RecordedHttp::new()).err().unwrap();
        assert!(err.detail.contains("access_token"), "{}", err.detail);
        let config =
            provisio_core::testing::default_config(&manifest(), json!({"scim_url": URL, "access_token": "t"})).unwrap();
        let settings = crate::settings(&config).unwrap();
        assert!(settings.use_patch_for_group_updates);
        assert_eq!(settings.results_per_page, Some(1000));
    }
}
