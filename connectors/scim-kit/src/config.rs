//! Reading and checking the SCIM target settings of one connection.
//!
//! [`ScimSettings::from_config`] turns a connection's resolved settings (the
//! form built from [`crate::form`]) into typed values, applying the spec's
//! defaults for fields a connector's form does not offer, and answers a
//! `Config` error naming the setting when a value is unusable. SCIM-based
//! connectors call it from `Connector::open`, then apply their target's fixed
//! choices (Contentful always PATCHes groups, for instance).
//!
//! Credentials hold secrets: their `Debug` output shows only which method is
//! used.

use provisio_core::{ConnectorConfig, ConnectorError};
use std::fmt;

use crate::form::{AuthMethod, names::*};

/// The SCIM protocol dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimVersion {
    V1_1,
    V2_0,
}

/// How provisio authenticates to the target.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic { username: String, password: String },
    Bearer { token: String },
    ClientCredentials { token_endpoint: String, client_id: String, client_secret: String, scopes: Vec<String> },
}

impl Credentials {
    pub fn method(&self) -> AuthMethod {
        match self {
            Credentials::None => AuthMethod::None,
            Credentials::Basic { .. } => AuthMethod::Basic,
            Credentials::Bearer { .. } => AuthMethod::OAuth2BearerToken,
            Credentials::ClientCredentials { .. } => AuthMethod::OAuth2ClientCredentials,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a secret.
        write!(f, "Credentials({})", self.method().label())
    }
}

/// The attribute used to find an existing target user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueUserIdentifier {
    /// Filter `userName eq "<value>"`.
    UserName,
    /// Filter `emails eq "<value>"`.
    WorkEmail,
}

/// What becomes a target group's `displayName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupNameSource {
    CommonName,
    DistinguishedName,
}

/// The typed SCIM target settings of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimSettings {
    /// The SCIM URL without a trailing slash.
    pub base_url: String,
    pub version: ScimVersion,
    pub credentials: Credentials,
    /// The scheme word sent before a token, `Bearer` unless overridden.
    pub authorization_header_type: String,
    pub unique_user_identifier: UniqueUserIdentifier,
    /// A filter template with one `%s`, replacing the identifier's filter.
    pub filter_expression: Option<String>,
    /// Path of the users endpoint, starting with `/`.
    pub users_path: String,
    /// Path of the groups endpoint, starting with `/`.
    pub groups_path: String,
    /// Page size for listing groups; `None` asks for the largest page.
    pub results_per_page: Option<u32>,
    pub group_name_source: GroupNameSource,
    pub use_patch_for_group_updates: bool,
    pub custom_attribute_schema_urns: Vec<String>,
}

fn config_error(config: &ConnectorConfig, setting: &str, problem: impl fmt::Display) -> ConnectorError {
    ConnectorError::config(format!("connection '{}': setting '{setting}' {problem}", config.connection))
}

impl ScimSettings {
    /// Read the settings a connector's form offers; the ones it does not
    /// offer take the SCIM Provisioner's defaults.
    pub fn from_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let base_url = check_url(config, SCIM_URL, config.require_str(SCIM_URL)?)?.trim_end_matches('/').to_owned();
        let version = match config.str(SCIM_VERSION)?.unwrap_or("2.0") {
            "2.0" => ScimVersion::V2_0,
            "1.1" => ScimVersion::V1_1,
            other => return Err(config_error(config, SCIM_VERSION, format_args!("is '{other}'; use 2.0 or 1.1"))),
        };
        let credentials = read_credentials(config)?;
        let authorization_header_type = match config.str(AUTHORIZATION_HEADER_TYPE)? {
            None => "Bearer".to_owned(),
            Some(word) if word.trim().is_empty() => "Bearer".to_owned(),
            Some(word) if word.trim().chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(config_error(
                    config,
                    AUTHORIZATION_HEADER_TYPE,
                    "must be a single word such as Bearer or oauth2",
                ));
            }
            Some(word) => word.trim().to_owned(),
        };
        let unique_user_identifier = match config.str(UNIQUE_USER_IDENTIFIER)?.unwrap_or("userName") {
            "userName" => UniqueUserIdentifier::UserName,
            "workEmail" => UniqueUserIdentifier::WorkEmail,
            other => {
                return Err(config_error(
                    config,
                    UNIQUE_USER_IDENTIFIER,
                    format_args!("is '{other}'; use userName or workEmail"),
                ));
            }
        };
        let filter_expression = config.str(FILTER_EXPRESSION)?.map(str::trim).filter(|f| !f.is_empty());
        if let Some(filter) = filter_expression
            && filter.matches("%s").count() != 1
        {
            return Err(config_error(
                config,
                FILTER_EXPRESSION,
                "must contain the placeholder %s exactly once, e.g. userName eq \"%s\"",
            ));
        }
        let results_per_page = match config.integer(RESULTS_PER_PAGE)?.unwrap_or(1000) {
            -1 => None,
            n if (1..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
            n => {
                return Err(config_error(
                    config,
                    RESULTS_PER_PAGE,
                    format_args!("is {n}; use a positive page size or -1"),
                ));
            }
        };
        let group_name_source = match config.str(GROUP_NAME_SOURCE)?.unwrap_or("cn") {
            "cn" => GroupNameSource::CommonName,
            "dn" => GroupNameSource::DistinguishedName,
            other => return Err(config_error(config, GROUP_NAME_SOURCE, format_args!("is '{other}'; use cn or dn"))),
        };
        Ok(ScimSettings {
            base_url,
            version,
            credentials,
            authorization_header_type,
            unique_user_identifier,
            filter_expression: filter_expression.map(str::to_owned),
            users_path: endpoint_path(config.str(USERS_API_PATH)?, "/Users"),
            groups_path: endpoint_path(config.str(GROUPS_API_PATH)?, "/Groups"),
            results_per_page,
            group_name_source,
            use_patch_for_group_updates: config.bool(USE_PATCH_FOR_GROUP_UPDATES)?.unwrap_or(false),
            custom_attribute_schema_urns: config.list(CUSTOM_ATTRIBUTE_SCHEMA_URNS)?,
        })
    }
}

/// An absolute `http`/`https` URL with a host.
pub fn check_url<'a>(config: &ConnectorConfig, setting: &str, url: &'a str) -> Result<&'a str, ConnectorError> {
    let url = url.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) => Ok(url),
        _ => Err(config_error(config, setting, format_args!("is '{url}', which is not an absolute http or https URL"))),
    }
}

fn endpoint_path(value: Option<&str>, default: &str) -> String {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => default.to_owned(),
        Some(v) if v.starts_with('/') => v.trim_end_matches('/').to_owned(),
        Some(v) => format!("/{}", v.trim_end_matches('/')),
    }
}

/// The credentials of the selected method. Without an Authentication Methods
/// selector in the form, the method is implied by the fields that are filled:
/// an Access Token wins over Basic credentials (Aquera's documented rule).
pub fn read_credentials(config: &ConnectorConfig) -> Result<Credentials, ConnectorError> {
    let method = match config.str(AUTHENTICATION_METHOD)? {
        Some(value) => AuthMethod::from_value(value).ok_or_else(|| {
            config_error(
                config,
                AUTHENTICATION_METHOD,
                format_args!("is '{value}'; use none, basic, oauth2_bearer_token or oauth2_client_credentials"),
            )
        })?,
        None if config.str(ACCESS_TOKEN)?.is_some() => AuthMethod::OAuth2BearerToken,
        None if config.str(BASIC_USERNAME)?.is_some() || config.str(BASIC_PASSWORD)?.is_some() => AuthMethod::Basic,
        None => AuthMethod::None,
    };
    Ok(match method {
        AuthMethod::None => Credentials::None,
        AuthMethod::Basic => Credentials::Basic {
            username: config.require_str(BASIC_USERNAME)?.to_owned(),
            password: config.require_str(BASIC_PASSWORD)?.to_owned(),
        },
        AuthMethod::OAuth2BearerToken => Credentials::Bearer { token: config.require_str(ACCESS_TOKEN)?.to_owned() },
        AuthMethod::OAuth2ClientCredentials => Credentials::ClientCredentials {
            token_endpoint: check_url(config, TOKEN_ENDPOINT, config.require_str(TOKEN_ENDPOINT)?)?.to_owned(),
            client_id: config.require_str(CLIENT_ID)?.to_owned(),
            client_secret: config.require_str(CLIENT_SECRET)?.to_owned(),
            scopes: config.list(SCOPE)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_core::manifest::{ProvisioningOptions, RemoveUserAction};
    use serde_json::json;

    fn config(settings: serde_json::Value) -> ConnectorConfig {
        ConnectorConfig {
            connection: "test".into(),
            settings: serde_json::from_value(settings).unwrap(),
            options: ProvisioningOptions {
                user_create: true,
                user_update: true,
                user_disable_delete: true,
                provision_disabled_users: false,
            },
            remove_user_action: RemoveUserAction::Disable,
            extra_attributes: vec![],
        }
    }

    #[test]
    fn defaults_fill_what_the_form_does_not_offer() {
        let s = ScimSettings::from_config(&config(json!({"scim_url": "https://t.example/scim/v2/"}))).unwrap();
        assert_eq!(s.base_url, "https://t.example/scim/v2");
        assert_eq!(s.version, ScimVersion::V2_0);
        assert_eq!(s.credentials, Credentials::None);
        assert_eq!(s.authorization_header_type, "Bearer");
        assert_eq!(s.users_path, "/Users");
        assert_eq!(s.groups_path, "/Groups");
        assert_eq!(s.results_per_page, Some(1000));
        assert_eq!(s.group_name_source, GroupNameSource::CommonName);
        assert!(!s.use_patch_for_group_updates);
    }

    #[test]
    fn a_token_wins_over_basic_credentials_without_a_selector() {
        let c = config(
            json!({"scim_url": "https://t.example", "access_token": "t", "basic_username": "u", "basic_password": "p"}),
        );
        assert_eq!(read_credentials(&c).unwrap(), Credentials::Bearer { token: "t".into() });
        let c = config(json!({"scim_url": "https://t.example", "basic_username": "u", "basic_password": "p"}));
        assert_eq!(read_credentials(&c).unwrap().method(), AuthMethod::Basic);
    }

    #[test]
    fn the_selected_method_needs_its_fields() {
        let c =
            config(json!({"scim_url": "https://t.example", "authentication_method": "basic", "basic_username": "u"}));
        let err = read_credentials(&c).unwrap_err();
        assert!(err.detail.contains("basic_password"), "{}", err.detail);
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (settings, setting) in [
            (json!({"scim_url": "scim.example"}), "scim_url"),
            (json!({"scim_url": "https://t.example", "results_per_page": 0}), "results_per_page"),
            (json!({"scim_url": "https://t.example", "filter_expression": "userName eq x"}), "filter_expression"),
            (json!({"scim_url": "https://t.example", "authorization_header_type": "a b"}), "authorization_header_type"),
        ] {
            let err = ScimSettings::from_config(&config(settings)).unwrap_err();
            assert!(err.detail.contains(setting), "{}", err.detail);
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Credentials::Basic { username: "admin".into(), password: "hunter2".into() };
        assert_eq!(format!("{c:?}"), "Credentials(Basic Authentication)");
    }
}
