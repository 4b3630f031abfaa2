//! The generic SCIM connector's manifest (spec b.0, b.1.2, b.1.3).
//!
//! The settings form is every field of PingFederate's SCIM Provisioner target
//! settings, in the form's order; the attribute catalogue is the whole SCIM
//! Provisioner catalogue. Both come from `provisio-scim-kit`, which the
//! SCIM-based targets share. The decisions taken on the specification's open
//! questions are in [`NOTES`] and in `docs/connectors/scim.md`.

use provisio_core::manifest::*;
use provisio_scim_kit::{catalogue, form};
use std::collections::BTreeSet;

/// The connector id used in configuration files.
pub const ID: &str = "scim";

/// Decisions on the specification's open questions, and notable behaviour.
pub const NOTES: &[&str] = &[
    "Authorization Header Type (open question e.1): the scheme word sent before the token with OAuth 2 Bearer Token and OAuth 2 Client Credentials; blank (the default) sends `Bearer`, `oauth2` sends `Authorization: oauth2 <token>`. Basic Authentication always sends `Basic`; with None no Authorization header is sent.",
    "entitlements, roles and certificates (open question e.10): each value of the mapped source attribute becomes one list entry.",
    "Users are replaced with PUT, never PATCHed; Disable sends active=false, Delete sends HTTP DELETE, re-enabling sends active=true and needs User Update.",
    "Unique User Identifier cannot be changed once a connection exists: delete the connection and create it again.",
    "Custom SCIM attributes are declared per connection (Custom Attribute Schema URNs, SCIM 2.0 only); they are not part of this catalogue.",
    "Groups are matched by exact, case-sensitive displayName after listing every group (Results Per Page; -1 sends no count).",
    "With Use PATCH for Group Updates the group is read first and the PATCH brings it to the source membership (add the missing members, remove the extra ones, replace displayName on rename); when the ServiceProviderConfig says PATCH is unsupported, or the target answers 501, groups are replaced with PUT instead.",
    "If-Match is sent on PUT and PATCH only when the ServiceProviderConfig advertises ETags; a 412 re-reads the resource and retries once.",
];

/// The manifest of the generic SCIM connector.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "SCIM Provisioner".to_owned(),
        description: "Provisions users and groups to any service that speaks SCIM 1.1 or 2.0, \
                      with Basic, OAuth 2 bearer-token or OAuth 2 client-credentials authentication."
            .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: settings(),
        attributes: catalogue::scim_user_attributes(),
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable, RemoveUserAction::Delete],
            default: RemoveUserAction::Disable,
            notes: "Disable sets active=false on the target user; Delete removes it with HTTP DELETE. \
                    Some targets cannot hard-delete: choose Disable for those."
                .to_owned(),
        },
        // User Create, User Update, User Disable / Delete selected; Provision
        // Disabled Users cleared; no constraint (b.0, b.1.2).
        options: ProvisioningOptionsSpec::defaults(true, true, true, false),
        capabilities: BTreeSet::from([
            Capability::TestConnection,
            Capability::UserFind,
            Capability::UserFindAll,
            Capability::UserList,
            Capability::UserCreate,
            Capability::UserUpdate,
            Capability::UserDisable,
            Capability::UserEnable,
            Capability::UserDelete,
            Capability::GroupFind,
            Capability::GroupCreate,
            Capability::GroupUpdate,
            Capability::GroupDelete,
        ]),
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// The target settings form of b.1.2, in the form's order.
fn settings() -> Vec<SettingSpec> {
    let mut s = vec![form::scim_url(), form::scim_version()];
    s.extend(form::authentication(&form::AuthMethod::ALL, form::AuthMethod::None));
    s.extend([
        form::unique_user_identifier(),
        form::filter_expression(),
        form::authorization_header_type(),
        form::users_api_path(),
        form::groups_api_path(),
        form::results_per_page(),
        form::group_name_source(),
        form::use_patch_for_group_updates(),
        form::custom_attribute_schema_urns(),
    ]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimConnector;
    use provisio_core::prelude::{Connector, ErrorKind, Operation};
    use provisio_core::testing::{Harness, RecordedHttp};
    use serde_json::json;

    #[test]
    fn the_manifest_passes_the_contract() {
        let problems = ScimConnector::manifest().validate();
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn every_user_and_group_operation_is_declared() {
        let caps = manifest().capabilities;
        assert_eq!(caps.len(), 13);
        assert!(caps.contains(&Capability::UserList), "a first cycle links from one listing");
        assert!(caps.contains(&Capability::UserFindAll), "duplicates can be seen and repaired");
        assert!(!caps.contains(&Capability::DiscoverSchema));
        assert!(!caps.contains(&Capability::DeviceManagement));
    }

    #[test]
    fn the_form_has_every_setting_of_the_spec_once() {
        let names: Vec<_> = manifest().settings.iter().map(|s| s.name.clone()).collect();
        assert_eq!(
            names,
            [
                "scim_url",
                "scim_version",
                "authentication_method",
                "basic_username",
                "basic_password",
                "access_token",
                "token_endpoint",
                "client_id",
                "client_secret",
                "scope",
                "unique_user_identifier",
                "filter_expression",
                "authorization_header_type",
                "users_api_path",
                "groups_api_path",
                "results_per_page",
                "group_name_source",
                "use_patch_for_group_updates",
                "custom_attribute_schema_urns",
            ]
        );
    }

    #[test]
    fn open_checks_the_settings() {
        assert!(
            Harness::open::<ScimConnector>(json!({"scim_url": "https://scim.example/v2"}), RecordedHttp::new()).is_ok()
        );
        let err = Harness::open::<ScimConnector>(
            json!({"scim_url": "https://scim.example/v2", "authentication_method": "oauth2_bearer_token"}),
            RecordedHttp::new(),
        )
        .err()
        .expect("a bearer token is needed");
        assert!(err.detail.contains("access_token"), "{}", err.detail);
    }

    #[test]
    fn schema_discovery_answers_unsupported() {
        let h = Harness::open::<ScimConnector>(json!({"scim_url": "https://scim.example/v2"}), RecordedHttp::new())
            .unwrap();
        let err = h.run(Operation::DiscoverSchema).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
    }
}
