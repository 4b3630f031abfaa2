//! The Aquera connector's manifest (spec b.0, b.4.2, b.4.4, b.4.5).
//!
//! The form is the Aquera Provisioner's: the SCIM URL, an Access Token and
//! Basic credentials (no SCIM Version or Authentication Methods selector),
//! plus the custom-attribute tag the spec asks to make configurable. The
//! catalogue is the SCIM Provisioner's minus `homeEmail`, `otherEmail` and
//! `manager`; "Refresh Fields" adds the target's own fields per connection.
//! The decisions taken on the specification's open questions are in [`NOTES`]
//! and in `docs/connectors/aquera.md`.

use provisio_core::manifest::*;
use provisio_scim_kit::{catalogue, form};

/// The connector id used in configuration files.
pub const ID: &str = "aquera";

/// Name of the custom-attribute tag setting.
pub const CUSTOM_ATTRIBUTE_TAG: &str = "custom_attribute_tag";

/// The tag Aquera puts on custom attributes.
pub const DEFAULT_TAG: &str = "IANUser";

/// Decisions on the specification's open questions, and target quirks.
pub const NOTES: &[&str] = &[
    "SCIM 2.0 only: there is no SCIM Version setting. Unique User Identifier is always userName.",
    "There is no Authentication Methods setting: the credentials given decide. When both an Access Token and Basic credentials are set, the Access Token is used.",
    "Custom Attribute Tag (open question e.7) defaults to IANUser: Refresh Fields treats attributes of a schema whose id contains the tag as custom and offers them as <tag>:<attribute>, e.g. IANUser:officeLocation.",
    "Refresh Fields (open question e.7) reads the target's schema with RFC 7643 discovery (GET /Schemas and /ResourceTypes under the SCIM URL, with the connection's credentials): custom fields are the attributes of the User resource type's extensions whose id contains the tag (IANUser:<attribute>, required as the schema says; complex attributes give one field per sub-attribute, read-only ones are left out), merged after the standard fields the target's schema defines. An unreadable or invalid schema is an error that says what is wrong, and the previously recorded fields stay.",
    "The SCIM URL is used exactly as Aquera's Copy this URL field gives it; no Aquera API host (api.aquera.com or api.aquera.io) is assumed (open question e.7).",
    "Groups are named by their CN (or DN) and updated with PATCH (PUT when the target does not take PATCH); groups are looked up with a server-side filter, falling back to listing when the target does not filter. Some Aquera apps cannot create or delete groups: such a refusal fails that group only, with a message to create or delete it by hand.",
    "Support for each option and attribute varies with the SaaS application behind Aquera.",
];

/// The manifest of the Aquera connector.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "Aquera Provisioner".to_owned(),
        description: "Provisions users and groups to the SaaS application behind an Aquera SCIM 2.0 endpoint, \
                      with the application's own fields discovered by Refresh Fields."
            .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: settings(),
        attributes: attributes(),
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable, RemoveUserAction::Delete],
            default: RemoveUserAction::Disable,
            notes: "Disable sets active=false; Delete removes the user with HTTP DELETE. Some Aquera applications \
                    cannot hard-delete and disable instead; some delete on deactivation (the application's \
                    deleteOnDeactivation setting in the Aquera console)."
                .to_owned(),
        },
        // User Create, User Update, User Disable / Delete selected; Provision
        // Disabled Users cleared (b.0, b.4.2).
        options: ProvisioningOptionsSpec::defaults(true, true, true, false),
        // Everything the generic SCIM connector does, and Refresh Fields.
        capabilities: Capability::ALL.into_iter().filter(|c| *c != Capability::DeviceManagement).collect(),
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

fn settings() -> Vec<SettingSpec> {
    vec![
        form::scim_url().help("The URL of the Aquera application's Copy this URL field (Configure Application window)."),
        form::access_token()
            .group("Bearer Token Authentication")
            .help("The bearer token Aquera shows for the application. Used instead of the Basic credentials when both are set."),
        form::basic_username().help("Use when Aquera shows a username and password for the application."),
        form::basic_password(),
        SettingSpec::new(CUSTOM_ATTRIBUTE_TAG, "Custom Attribute Tag", SettingKind::String)
            .required()
            .default_value(DEFAULT_TAG)
            .group("Schema Discovery")
            .help(
                "The tag that marks custom attributes in the schema Aquera returns. Refresh Fields offers them as \
                 <tag>:<attribute>, e.g. IANUser:officeLocation.",
            ),
    ]
}

/// The SCIM Provisioner catalogue minus the fields Aquera does not list.
fn attributes() -> Vec<AttributeSpec> {
    catalogue::without(&["homeEmail", "otherEmail", "manager"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AqueraConnector;
    use provisio_core::prelude::Connector;
    use provisio_core::testing::{Harness, RecordedHttp, default_config};
    use provisio_scim_kit::config::Credentials;
    use serde_json::json;

    const URL: &str = "https://api.aquera.io/scim/t1/app1";

    #[test]
    fn the_manifest_passes_the_contract() {
        let problems = AqueraConnector::manifest().validate();
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn every_scim_capability_and_refresh_fields() {
        let caps = manifest().capabilities;
        assert!(caps.contains(&Capability::DiscoverSchema));
        assert!(caps.contains(&Capability::UserDelete) && caps.contains(&Capability::GroupCreate));
        assert!(!caps.contains(&Capability::DeviceManagement));
    }

    #[test]
    fn the_catalogue_lacks_exactly_three_scim_fields() {
        let m = manifest();
        assert_eq!(m.attributes.len(), catalogue::scim_user_attributes().len() - 3);
        for code in ["homeEmail", "otherEmail", "manager"] {
            assert!(m.attribute(code).is_none(), "{code}");
        }
    }

    #[test]
    fn the_token_wins_and_the_tag_defaults_to_ianuser() {
        let both = json!({"scim_url": URL, "access_token": "t", "basic_username": "u", "basic_password": "p"});
        let s = crate::settings(&default_config(&manifest(), both).unwrap()).unwrap();
        assert_eq!(s.scim.credentials, Credentials::Bearer { token: "t".into() });
        assert_eq!(s.custom_attribute_tag, "IANUser");
    }

    #[test]
    fn open_needs_some_credentials_and_a_usable_tag() {
        let err = Harness::open::<AqueraConnector>(json!({"scim_url": URL}), RecordedHttp::new()).err().unwrap();
        assert!(err.detail.contains("access_token"), "{}", err.detail);
        let err =
            Harness::open::<AqueraConnector>(json!({"scim_url": URL, "basic_username": "u"}), RecordedHttp::new())
                .err()
                .unwrap();
        assert!(err.detail.contains("basic_password"), "{}", err.detail);
        let err = Harness::open::<AqueraConnector>(
            json!({"scim_url": URL, "access_token": "t", "custom_attribute_tag": "IAN User"}),
            RecordedHttp::new(),
        )
        .err()
        .unwrap();
        assert!(err.detail.contains("custom_attribute_tag"), "{}", err.detail);
    }
}
