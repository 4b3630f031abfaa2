//! The service provider configuration (RFC 7644 §5; SCIM 1.1
//! `/ServiceProviderConfigs`): what the target says it supports.
//!
//! Every capability is an `Option<bool>`: `None` means the target did not
//! say (no endpoint, an error, a field missing). Callers treat unknown as
//! "try it and handle the answer": PATCH is used unless the target *says*
//! it is unsupported (a 501 still falls back to PUT), `If-Match` is sent
//! only when the target *says* ETags are supported. A missing or broken
//! endpoint is never a failure ([`Discovery::Unknown`]).

use serde_json::Value;

use crate::error::lenient_u64;

/// The capabilities a SCIM client cares about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceProviderConfig {
    pub patch: Option<bool>,
    pub etag: Option<bool>,
    pub bulk: Option<bool>,
    pub bulk_max_operations: Option<u64>,
    pub filter: Option<bool>,
    /// `filter.maxResults`: the largest page the target returns.
    pub filter_max_results: Option<u64>,
    pub sort: Option<bool>,
    pub change_password: Option<bool>,
    /// `authenticationSchemes[].type` (or `.name`).
    pub authentication_schemes: Vec<String>,
}

/// What discovery found: a configuration, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    Known(ServiceProviderConfig),
    /// No usable configuration; the text says why (for reports and logs).
    Unknown(String),
}

impl Discovery {
    /// The configuration, if known.
    pub fn config(&self) -> Option<&ServiceProviderConfig> {
        match self {
            Discovery::Known(c) => Some(c),
            Discovery::Unknown(_) => None,
        }
    }

    /// Whether the target says PATCH is unsupported (unknown is not "no").
    pub fn patch_unsupported(&self) -> bool {
        self.config().and_then(|c| c.patch) == Some(false)
    }

    /// Whether the target says it supports ETags.
    pub fn etag_supported(&self) -> bool {
        self.config().and_then(|c| c.etag) == Some(true)
    }
}

/// A boolean given as JSON `true`/`false` or the strings "true"/"false".
fn lenient_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A member of `object` by case-insensitive name (SCIM attribute names are
/// case-insensitive).
pub fn get_ci<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let map = object.as_object()?;
    map.get(name).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

impl ServiceProviderConfig {
    /// Read a configuration. `None` when the body is not a JSON object with
    /// at least one of the known capability members.
    pub fn parse(body: &Value) -> Option<ServiceProviderConfig> {
        body.as_object()?;
        let supported = |name: &str| get_ci(body, name).and_then(|v| lenient_bool(get_ci(v, "supported")));
        let known = ["patch", "etag", "bulk", "filter", "sort", "changePassword", "authenticationSchemes"];
        if !known.iter().any(|k| get_ci(body, k).is_some()) {
            return None;
        }
        let schemes = get_ci(body, "authenticationSchemes")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| get_ci(s, "type").or_else(|| get_ci(s, "name")))
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(ServiceProviderConfig {
            patch: supported("patch"),
            etag: supported("etag"),
            bulk: supported("bulk"),
            bulk_max_operations: get_ci(body, "bulk").and_then(|b| get_ci(b, "maxOperations")).and_then(lenient_u64),
            filter: supported("filter"),
            filter_max_results: get_ci(body, "filter").and_then(|f| get_ci(f, "maxResults")).and_then(lenient_u64),
            sort: supported("sort"),
            change_password: supported("changePassword"),
            authentication_schemes: schemes,
        })
    }

    /// One line per capability, for a connection report:
    /// `patch supported`, `etag not supported`, `filter supported (maxResults 200)`, …
    pub fn describe(&self) -> Vec<String> {
        let word = |v: Option<bool>| match v {
            Some(true) => "supported",
            Some(false) => "not supported",
            None => "not stated",
        };
        let mut out = vec![
            format!("patch {}", word(self.patch)),
            format!("etag {}", word(self.etag)),
            match self.filter_max_results {
                Some(n) => format!("filter {} (maxResults {n})", word(self.filter)),
                None => format!("filter {}", word(self.filter)),
            },
            format!("bulk {}", word(self.bulk)),
        ];
        if !self.authentication_schemes.is_empty() {
            out.push(format!("authentication schemes: {}", self.authentication_schemes.join(", ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_rfc_shape_leniently() {
        let spc = ServiceProviderConfig::parse(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": "1000"},
            "filter": {"supported": true, "maxResults": 200},
            "changePassword": {"supported": false},
            "sort": {"supported": "false"},
            "ETag": {"supported": true},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token"}]
        }))
        .unwrap();
        assert_eq!(spc.patch, Some(true));
        assert_eq!(spc.etag, Some(true), "names are case-insensitive");
        assert_eq!(spc.sort, Some(false));
        assert_eq!(spc.bulk_max_operations, Some(1000));
        assert_eq!(spc.filter_max_results, Some(200));
        assert_eq!(spc.authentication_schemes, ["oauthbearertoken"]);
        assert_eq!(spc.describe()[..3], ["patch supported", "etag supported", "filter supported (maxResults 200)"]);
    }

    #[test]
    fn missing_means_unknown_not_unsupported() {
        let spc = ServiceProviderConfig::parse(&json!({"patch": {}})).unwrap();
        assert_eq!(spc.patch, None);
        let d = Discovery::Known(spc);
        assert!(!d.patch_unsupported());
        assert!(!d.etag_supported());
        assert!(ServiceProviderConfig::parse(&json!({"Resources": []})).is_none());
        assert!(!Discovery::Unknown("404".into()).patch_unsupported());
    }
}
