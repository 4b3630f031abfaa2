//! SCIM 1.1 versus SCIM 2.0: the facts of each dialect a client needs on the wire.
//!
//! | | SCIM 1.1 | SCIM 2.0 |
//! |---|---|---|
//! | User / Group schema | `urn:scim:schemas:core:1.0` (both) | `urn:ietf:params:scim:schemas:core:2.0:User` / `…:Group` |
//! | Enterprise extension | `urn:scim:schemas:extension:enterprise:1.0` | `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` |
//! | Media type | `application/json` | `application/scim+json` (`application/json` accepted in answers) |
//! | Service provider config | `/ServiceProviderConfigs` | `/ServiceProviderConfig` |
//! | List response | `{schemas:[core 1.0], totalResults, Resources}` | ListResponse message URN |
//! | Error body | `{"Errors":[{"description","code"}]}` | Error message (`status`, `scimType`, `detail`) |
//! | PATCH | a partial resource; multi-valued entries removed with `"operation":"delete"` | PatchOp `Operations[]` |
//!
//! The attribute catalogue is written with SCIM 2.0 paths
//! ([`crate::catalogue`]); [`ScimVersion::translate_urn`] turns the 2.0
//! URNs of a path into the 1.1 ones when the connection speaks 1.1.
//! Inherent methods live here on [`ScimVersion`] (defined in
//! [`crate::config`]), so the dialect is a plain `Copy` value.

pub use crate::config::ScimVersion;

/// SCIM 2.0 URNs (RFC 7643 / RFC 7644).
pub mod urn2 {
    pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
    pub const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
}

/// SCIM 1.1 URNs.
pub mod urn1 {
    /// The core schema of both Users and Groups, also the list response's.
    pub const CORE: &str = "urn:scim:schemas:core:1.0";
    pub const ENTERPRISE_USER: &str = "urn:scim:schemas:extension:enterprise:1.0";
    /// PingFederate's default namespace of custom attributes.
    pub const CUSTOM: &str = "urn:scim:schemas:extension:custom:1.0";
}

/// The media type of SCIM 2.0 bodies.
pub const SCIM_JSON: &str = "application/scim+json";
/// Plain JSON: SCIM 1.1 bodies, and what SCIM 2.0 servers must also accept.
pub const JSON: &str = "application/json";

impl ScimVersion {
    /// `"1.1"` or `"2.0"`, as the SCIM Version setting spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => "1.1",
            ScimVersion::V2_0 => "2.0",
        }
    }

    /// The schema URN of a User resource.
    pub fn user_schema(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => urn1::CORE,
            ScimVersion::V2_0 => urn2::USER,
        }
    }

    /// The schema URN of a Group resource.
    pub fn group_schema(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => urn1::CORE,
            ScimVersion::V2_0 => urn2::GROUP,
        }
    }

    /// The enterprise User extension URN.
    pub fn enterprise_user_schema(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => urn1::ENTERPRISE_USER,
            ScimVersion::V2_0 => urn2::ENTERPRISE_USER,
        }
    }

    /// The `Content-Type` of request bodies.
    pub fn content_type(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => JSON,
            ScimVersion::V2_0 => SCIM_JSON,
        }
    }

    /// The `Accept` header of every request.
    pub fn accept(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => JSON,
            ScimVersion::V2_0 => "application/scim+json, application/json",
        }
    }

    /// The path of the service provider configuration below the SCIM URL.
    pub fn service_provider_config_path(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => "/ServiceProviderConfigs",
            ScimVersion::V2_0 => "/ServiceProviderConfig",
        }
    }

    /// The `schemas` of a list response (for servers and tests).
    pub fn list_response_schema(self) -> &'static str {
        match self {
            ScimVersion::V1_1 => urn1::CORE,
            ScimVersion::V2_0 => urn2::LIST_RESPONSE,
        }
    }

    /// Translate a schema URN written for SCIM 2.0 (as the catalogue is)
    /// into this dialect. The core User/Group URNs become the 1.1 core URN,
    /// the enterprise extension its 1.1 name; any other URN (a custom
    /// extension) is the same in both dialects.
    pub fn translate_urn(self, urn: &str) -> String {
        match self {
            ScimVersion::V2_0 => urn.to_owned(),
            ScimVersion::V1_1 => {
                if urn.eq_ignore_ascii_case(urn2::ENTERPRISE_USER) {
                    urn1::ENTERPRISE_USER.to_owned()
                } else if urn.eq_ignore_ascii_case(urn2::USER) || urn.eq_ignore_ascii_case(urn2::GROUP) {
                    urn1::CORE.to_owned()
                } else {
                    urn.to_owned()
                }
            }
        }
    }

    /// Whether `urn` names this dialect's core User or Group schema (or the
    /// other dialect's: a fully qualified core path is core in both).
    pub fn is_core_urn(self, urn: &str) -> bool {
        [urn1::CORE, urn2::USER, urn2::GROUP].iter().any(|u| u.eq_ignore_ascii_case(urn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_has_its_own_urns_media_types_and_endpoints() {
        let v2 = ScimVersion::V2_0;
        assert_eq!(v2.user_schema(), "urn:ietf:params:scim:schemas:core:2.0:User");
        assert_eq!(v2.group_schema(), "urn:ietf:params:scim:schemas:core:2.0:Group");
        assert_eq!(v2.content_type(), "application/scim+json");
        assert_eq!(v2.service_provider_config_path(), "/ServiceProviderConfig");
        let v1 = ScimVersion::V1_1;
        assert_eq!(v1.user_schema(), "urn:scim:schemas:core:1.0");
        assert_eq!(v1.group_schema(), "urn:scim:schemas:core:1.0");
        assert_eq!(v1.content_type(), "application/json");
        assert_eq!(v1.accept(), "application/json");
        assert_eq!(v1.service_provider_config_path(), "/ServiceProviderConfigs");
    }

    #[test]
    fn catalogue_urns_translate_to_1_1() {
        let v1 = ScimVersion::V1_1;
        assert_eq!(v1.translate_urn(urn2::ENTERPRISE_USER), "urn:scim:schemas:extension:enterprise:1.0");
        assert_eq!(v1.translate_urn(urn2::USER), urn1::CORE);
        assert_eq!(v1.translate_urn("urn:acme:ext:1.0"), "urn:acme:ext:1.0");
        assert_eq!(ScimVersion::V2_0.translate_urn(urn2::ENTERPRISE_USER), urn2::ENTERPRISE_USER);
        assert!(v1.is_core_urn(urn2::USER));
        assert!(!v1.is_core_urn(urn2::ENTERPRISE_USER));
    }
}
