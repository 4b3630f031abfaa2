//! Settings-form fragments of PingFederate's SCIM Provisioner (spec b.1.2).
//!
//! Each function returns one [`SettingSpec`] with the machine name, the exact
//! UI label, the kind, the spec's default and the help text. The generic
//! `scim` connector uses all of them; Contentful, Code42 and Aquera take the
//! fields their target documents and adjust them with the builder methods
//! (`.required()`, `.group(..)`, `.help(..)`), so a label or a default is
//! written once. The setting names are also exported as constants for the
//! code that reads a [`ConnectorConfig`](provisio_core::ConnectorConfig)
//! (see [`crate::config`]).

use provisio_core::manifest::{SettingKind, SettingSpec};

/// Setting names (configuration keys) shared by the SCIM-based connectors.
pub mod names {
    pub const SCIM_URL: &str = "scim_url";
    pub const SCIM_VERSION: &str = "scim_version";
    pub const AUTHENTICATION_METHOD: &str = "authentication_method";
    pub const BASIC_USERNAME: &str = "basic_username";
    pub const BASIC_PASSWORD: &str = "basic_password";
    pub const ACCESS_TOKEN: &str = "access_token";
    pub const TOKEN_ENDPOINT: &str = "token_endpoint";
    pub const CLIENT_ID: &str = "client_id";
    pub const CLIENT_SECRET: &str = "client_secret";
    pub const SCOPE: &str = "scope";
    pub const UNIQUE_USER_IDENTIFIER: &str = "unique_user_identifier";
    pub const FILTER_EXPRESSION: &str = "filter_expression";
    pub const AUTHORIZATION_HEADER_TYPE: &str = "authorization_header_type";
    pub const USERS_API_PATH: &str = "users_api_path";
    pub const GROUPS_API_PATH: &str = "groups_api_path";
    pub const RESULTS_PER_PAGE: &str = "results_per_page";
    pub const GROUP_NAME_SOURCE: &str = "group_name_source";
    pub const USE_PATCH_FOR_GROUP_UPDATES: &str = "use_patch_for_group_updates";
    pub const CUSTOM_ATTRIBUTE_SCHEMA_URNS: &str = "custom_attribute_schema_urns";
}

use names::*;

/// Form sections.
pub mod groups {
    pub const BASIC_AUTHENTICATION: &str = "Basic Authentication";
    pub const OAUTH2_BEARER_TOKEN: &str = "OAuth 2 Bearer Token";
    pub const OAUTH2_CLIENT_CREDENTIALS: &str = "OAuth 2 Client Credentials";
    pub const SCIM_OVERRIDES: &str = "SCIM Overrides";
    pub const GROUPS: &str = "Group Provisioning";
    pub const CUSTOM_ATTRIBUTES: &str = "Custom Attributes";
}

/// The authentication methods of the SCIM Provisioner's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    None,
    Basic,
    OAuth2BearerToken,
    OAuth2ClientCredentials,
}

impl AuthMethod {
    /// Every method, in the form's order.
    pub const ALL: [AuthMethod; 4] =
        [AuthMethod::None, AuthMethod::Basic, AuthMethod::OAuth2BearerToken, AuthMethod::OAuth2ClientCredentials];

    /// The configuration value.
    pub fn value(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Basic => "basic",
            AuthMethod::OAuth2BearerToken => "oauth2_bearer_token",
            AuthMethod::OAuth2ClientCredentials => "oauth2_client_credentials",
        }
    }

    /// The form's label.
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::None => "None",
            AuthMethod::Basic => "Basic Authentication",
            AuthMethod::OAuth2BearerToken => "OAuth 2 Bearer Token",
            AuthMethod::OAuth2ClientCredentials => "OAuth 2 Client Credentials",
        }
    }

    pub fn from_value(value: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.value() == value)
    }
}

/// **SCIM URL**: the base URL of the SCIM service. Required.
pub fn scim_url() -> SettingSpec {
    SettingSpec::new(SCIM_URL, "SCIM URL", SettingKind::Url)
        .required()
        .help("Base URL of the SCIM service, e.g. https://scim-example.com/v2/. A trailing slash is optional.")
}

/// **SCIM Version**: `2.0` (default) or `1.1`.
pub fn scim_version() -> SettingSpec {
    SettingSpec::new(SCIM_VERSION, "SCIM Version", SettingKind::Enum)
        .required()
        .allowed(&[("2.0", "2.0"), ("1.1", "1.1")])
        .default_value("2.0")
        .help("The SCIM protocol version the target speaks.")
}

/// **Authentication Methods**: the selector, offering `methods` (in the form's
/// order) with `default` selected.
pub fn authentication_method(methods: &[AuthMethod], default: AuthMethod) -> SettingSpec {
    assert!(methods.contains(&default), "the default authentication method must be offered");
    let allowed: Vec<(&str, &str)> =
        AuthMethod::ALL.into_iter().filter(|m| methods.contains(m)).map(|m| (m.value(), m.label())).collect();
    SettingSpec::new(AUTHENTICATION_METHOD, "Authentication Methods", SettingKind::Enum)
        .required()
        .allowed(&allowed)
        .default_value(default.value())
        .help("How provisio authenticates to the target. Only the fields of the selected method are used.")
}

/// **Basic Authentication Username**.
pub fn basic_username() -> SettingSpec {
    SettingSpec::new(BASIC_USERNAME, "Basic Authentication Username", SettingKind::String)
        .group(groups::BASIC_AUTHENTICATION)
        .help("The target's administrative account.")
}

/// **Basic Authentication Password** (secret).
pub fn basic_password() -> SettingSpec {
    SettingSpec::new(BASIC_PASSWORD, "Basic Authentication Password", SettingKind::String)
        .secret()
        .group(groups::BASIC_AUTHENTICATION)
        .help("Password of the Basic Authentication Username.")
}

/// **Access Token** (secret): a static OAuth 2 bearer token.
pub fn access_token() -> SettingSpec {
    SettingSpec::new(ACCESS_TOKEN, "Access Token", SettingKind::String)
        .secret()
        .group(groups::OAUTH2_BEARER_TOKEN)
        .help("A static bearer token, sent as `Authorization: Bearer <token>`.")
}

/// **Token Request Endpoint** of the OAuth 2 client-credentials grant.
pub fn token_endpoint() -> SettingSpec {
    SettingSpec::new(TOKEN_ENDPOINT, "Token Request Endpoint", SettingKind::Url)
        .group(groups::OAUTH2_CLIENT_CREDENTIALS)
        .help("The authorization server's token endpoint, e.g. https://scim-example.com/as/token.oauth2 (older label: OAuth 2 Token Request Endpoint).")
}

/// **Client ID** of the client-credentials grant.
pub fn client_id() -> SettingSpec {
    SettingSpec::new(CLIENT_ID, "Client ID", SettingKind::String)
        .group(groups::OAUTH2_CLIENT_CREDENTIALS)
        .help("The OAuth client id (older label: OAuth 2 Client ID).")
}

/// **Client Secret** (secret) of the client-credentials grant.
pub fn client_secret() -> SettingSpec {
    SettingSpec::new(CLIENT_SECRET, "Client Secret", SettingKind::String)
        .secret()
        .group(groups::OAUTH2_CLIENT_CREDENTIALS)
        .help("The OAuth client secret (older label: OAuth 2 Client Secret).")
}

/// **Scope**: optional comma-separated scopes of the client-credentials grant.
pub fn scope() -> SettingSpec {
    SettingSpec::new(SCOPE, "Scope", SettingKind::List)
        .group(groups::OAUTH2_CLIENT_CREDENTIALS)
        .help("Optional comma-separated OAuth scopes requested with the client credentials.")
}

/// The selector and the credential fields of `methods`, each credential
/// field required when its method is selected.
pub fn authentication(methods: &[AuthMethod], default: AuthMethod) -> Vec<SettingSpec> {
    let mut out = vec![authentication_method(methods, default)];
    for method in AuthMethod::ALL.into_iter().filter(|m| methods.contains(m)) {
        let fields = match method {
            AuthMethod::None => vec![],
            AuthMethod::Basic => vec![basic_username(), basic_password()],
            AuthMethod::OAuth2BearerToken => vec![access_token()],
            AuthMethod::OAuth2ClientCredentials => vec![token_endpoint(), client_id(), client_secret(), scope()],
        };
        for field in fields {
            // Scope is optional even with client credentials.
            if field.name == SCOPE {
                out.push(field);
            } else {
                out.push(field.required_when(AUTHENTICATION_METHOD, method.value()));
            }
        }
    }
    out
}

/// **Unique User Identifier**: `userName` (default) or `workEmail`.
pub fn unique_user_identifier() -> SettingSpec {
    SettingSpec::new(UNIQUE_USER_IDENTIFIER, "Unique User Identifier", SettingKind::Enum)
        .required()
        .allowed(&[("userName", "userName"), ("workEmail", "workEmail")])
        .default_value("userName")
        .group(groups::SCIM_OVERRIDES)
        .help(
            "The attribute used to find an existing target user: userName (filter `userName eq \"<value>\"`) or \
             workEmail (filter `emails eq \"<value>\"`). It cannot be changed once the connection exists: \
             delete the connection and create it again.",
        )
}

/// **Filter Expression**: overrides the filter derived from the identifier.
pub fn filter_expression() -> SettingSpec {
    SettingSpec::new(FILTER_EXPRESSION, "Filter Expression", SettingKind::String)
        .group(groups::SCIM_OVERRIDES)
        .help(
            "Optional SCIM filter used instead of the one derived from Unique User Identifier; `%s` is replaced \
             by the identifier's value, e.g. `userName eq \"%s\"` or `emails co \"%s\"`. Check that the target supports it.",
        )
}

/// **Authorization Header Type**: the scheme word of the `Authorization` header.
pub fn authorization_header_type() -> SettingSpec {
    SettingSpec::new(AUTHORIZATION_HEADER_TYPE, "Authorization Header Type", SettingKind::String)
        .group(groups::SCIM_OVERRIDES)
        .help(
            "Optional scheme word placed before the token in the Authorization header for OAuth 2 Bearer Token and \
             OAuth 2 Client Credentials, e.g. `oauth2` sends `Authorization: oauth2 <token>`. Blank sends `Bearer`. \
             Basic Authentication always sends `Basic`.",
        )
}

/// **Users API Path**: blank means `/Users`.
pub fn users_api_path() -> SettingSpec {
    SettingSpec::new(USERS_API_PATH, "Users API Path", SettingKind::String)
        .group(groups::SCIM_OVERRIDES)
        .help("Path of the users endpoint below the SCIM URL when it is not the standard one. Blank means /Users.")
}

/// **Groups Path API** (the UI's label, sic): blank means `/Groups`.
pub fn groups_api_path() -> SettingSpec {
    SettingSpec::new(GROUPS_API_PATH, "Groups Path API", SettingKind::String)
        .group(groups::SCIM_OVERRIDES)
        .help("Path of the groups endpoint below the SCIM URL when it is not the standard one. Blank means /Groups.")
}

/// **Results Per Page**: 1000 by default; `-1` asks for the largest page.
pub fn results_per_page() -> SettingSpec {
    SettingSpec::new(RESULTS_PER_PAGE, "Results Per Page", SettingKind::Integer)
        .required()
        .default_value(1000)
        .group(groups::SCIM_OVERRIDES)
        .help("Page size used when listing groups to find a match. -1 asks for the largest page the target allows.")
}

/// **Group Name Source**: Common Name (default) or Distinguished Name.
pub fn group_name_source() -> SettingSpec {
    SettingSpec::new(GROUP_NAME_SOURCE, "Group Name Source", SettingKind::Enum)
        .required()
        .allowed(&[("cn", "Common Name (CN)"), ("dn", "Distinguished Name (DN)")])
        .default_value("cn")
        .group(groups::GROUPS)
        .help("What becomes the target group's displayName, and how existing target groups are matched.")
}

/// **Use PATCH for Group Updates**: cleared (PUT) by default.
pub fn use_patch_for_group_updates() -> SettingSpec {
    SettingSpec::new(USE_PATCH_FOR_GROUP_UPDATES, "Use PATCH for Group Updates", SettingKind::Boolean)
        .default_value(false)
        .group(groups::GROUPS)
        .help("Update groups with PATCH (only the changed members) instead of replacing them with PUT. Select it when the target supports PATCH.")
}

/// **Custom Attribute Schema URNs**: optional comma-separated URNs.
pub fn custom_attribute_schema_urns() -> SettingSpec {
    SettingSpec::new(CUSTOM_ATTRIBUTE_SCHEMA_URNS, "Custom Attribute Schema URNs", SettingKind::List)
        .group(groups::CUSTOM_ATTRIBUTES)
        .help(
            "Optional comma-separated schema URNs of custom attributes, needed only when the target's extensions \
             do not follow urn:ietf:params:scim:schemas:extension:<Org>:2.0:User naming. SCIM 2.0 only.",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_fields_are_required_with_their_method_and_secrets_are_secret() {
        let form = authentication(&AuthMethod::ALL, AuthMethod::None);
        let get = |n: &str| form.iter().find(|s| s.name == n).unwrap();
        assert_eq!(get(AUTHENTICATION_METHOD).default, Some("none".into()));
        assert_eq!(get(BASIC_PASSWORD).required_when.as_ref().unwrap().equals, "basic");
        assert_eq!(get(ACCESS_TOKEN).required_when.as_ref().unwrap().equals, "oauth2_bearer_token");
        assert_eq!(get(CLIENT_ID).required_when.as_ref().unwrap().equals, "oauth2_client_credentials");
        assert!(get(SCOPE).required_when.is_none());
        for s in &form {
            let should_be_secret = [BASIC_PASSWORD, ACCESS_TOKEN, CLIENT_SECRET].contains(&s.name.as_str());
            assert_eq!(s.secret, should_be_secret, "{}", s.name);
            assert!(!(s.secret && s.default.is_some()), "{} is a secret with a default", s.name);
        }
    }

    #[test]
    fn a_subset_of_methods_keeps_the_form_order() {
        let m =
            authentication_method(&[AuthMethod::OAuth2BearerToken, AuthMethod::Basic], AuthMethod::OAuth2BearerToken);
        let labels: Vec<_> = m.allowed.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["Basic Authentication", "OAuth 2 Bearer Token"]);
    }

    #[test]
    fn auth_method_values_round_trip() {
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::from_value(m.value()), Some(m));
        }
        assert_eq!(AuthMethod::from_value("bearer"), None);
    }
}
