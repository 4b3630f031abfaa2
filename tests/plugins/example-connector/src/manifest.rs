//! What the Acme connector declares about itself: the settings form, the
//! attribute catalogue, remove-user semantics, option defaults and the
//! operations it implements. The host reads this before running anything and
//! validates every connection's configuration against it.

use provisio_core::prelude::*;

/// The connector id used in configuration files.
pub const ID: &str = "acme";

/// Setting names.
pub const BASE_URL: &str = "base_url";
pub const API_TOKEN: &str = "api_token";

pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "Acme Directory".to_owned(),
        description: "Example third-party connector: provisions users to the Acme Directory REST API.".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        // Both filled in by the SDK when the manifest crosses the boundary.
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: vec![
            SettingSpec::new(BASE_URL, "Base URL", SettingKind::Url)
                .required()
                .help("The Acme Directory address, e.g. https://acme.example/ (the API lives under /api/v1)."),
            SettingSpec::new(API_TOKEN, "API Token", SettingKind::String)
                .required()
                .secret()
                .help("An Acme API token with the users:read and users:write scopes."),
        ],
        attributes: vec![
            AttributeSpec::new("userName", "login")
                .required()
                .mutability(Mutability::Immutable)
                .notes("Acme logins cannot be renamed; a changed userName is a new account."),
            AttributeSpec::new("email", "email").alias("workEmail"),
            AttributeSpec::new("givenName", "first_name"),
            AttributeSpec::new("familyName", "last_name"),
            AttributeSpec::new("title", "title"),
        ],
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable, RemoveUserAction::Delete],
            default: RemoveUserAction::Disable,
            notes: "Disable suspends the Acme account (it can be re-enabled); Delete removes it for good.".to_owned(),
        },
        // Acme can hold suspended accounts, so every option is free.
        options: ProvisioningOptionsSpec::defaults(true, true, true, false),
        capabilities: [
            Capability::TestConnection,
            Capability::UserFind,
            Capability::UserCreate,
            Capability::UserUpdate,
            Capability::UserDisable,
            Capability::UserEnable,
            Capability::UserDelete,
        ]
        .into_iter()
        .collect(),
        notes: vec!["Groups are not supported: Acme Directory has none.".to_owned()],
    }
}
