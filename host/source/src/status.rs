//! Account status: whether a source user is enabled or disabled (spec a.4.3).
//!
//! PingFederate's `flagComparisonStatus` leaves open whether a matching flag means enabled or
//! disabled; here the rule is explicit: [`AccountStatus::Flag`] names the status a matching
//! value implies (`when_equal`), a present non-matching value implies the other status, and an
//! absent attribute implies `default`.

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::filter::case_ignore;

/// Enabled or disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The account may sign in.
    Enabled,
    /// The account is disabled at the source.
    Disabled,
}

impl Status {
    /// The other status.
    pub fn opposite(self) -> Status {
        match self {
            Status::Enabled => Status::Disabled,
            Status::Disabled => Status::Enabled,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
        })
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enabled" => Ok(Status::Enabled),
            "disabled" => Ok(Status::Disabled),
            other => Err(format!("'{other}' is not a status; write enabled or disabled")),
        }
    }
}

/// How a user's status is read from its entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountStatus {
    /// Every user is enabled.
    #[default]
    AlwaysEnabled,
    /// `ACCOUNT_STATUS_ALGORITHM_FLAG`: compare the attribute's value with `value`
    /// (case-insensitively). Equal: `when_equal`. Present but different: the opposite of
    /// `when_equal`. Absent: `default`. With several values, any equal value counts as equal.
    Flag {
        /// The flag attribute, e.g. `nsAccountLock`.
        attribute: String,
        /// The comparison value, e.g. `true`.
        value: String,
        /// The status a matching value means.
        when_equal: Status,
        /// The status when the attribute is absent.
        default: Status,
    },
    /// `ACCOUNT_STATUS_ALGORITHM_AD`: `userAccountControl` with bit 0x2 (ACCOUNTDISABLE) set
    /// is disabled, clear is enabled; absent: `default`. A value that is not an integer is an
    /// error for the entry.
    ActiveDirectory {
        /// Usually `userAccountControl`.
        attribute: String,
        /// The status when the attribute is absent.
        default: Status,
    },
}

/// The ACCOUNTDISABLE bit of `userAccountControl`.
pub const ACCOUNTDISABLE: i64 = 0x2;

impl AccountStatus {
    /// The AD algorithm on `userAccountControl`, absent meaning enabled.
    pub fn active_directory() -> Self {
        AccountStatus::ActiveDirectory { attribute: "userAccountControl".into(), default: Status::Enabled }
    }

    /// The attribute this algorithm reads, if any.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            AccountStatus::AlwaysEnabled => None,
            AccountStatus::Flag { attribute, .. } | AccountStatus::ActiveDirectory { attribute, .. } => Some(attribute),
        }
    }

    /// The entry's status. The error text follows the entry's DN in a message, e.g.
    /// `has userAccountControl 'abc', which is not an integer`.
    pub fn status_of(&self, entry: &Entry) -> Result<Status, String> {
        match self {
            AccountStatus::AlwaysEnabled => Ok(Status::Enabled),
            AccountStatus::Flag { attribute, value, when_equal, default } => match entry.get(attribute) {
                None => Ok(*default),
                Some(values) => {
                    let want = case_ignore(value);
                    if values.iter().any(|v| case_ignore(v) == want) {
                        Ok(*when_equal)
                    } else {
                        Ok(when_equal.opposite())
                    }
                }
            },
            AccountStatus::ActiveDirectory { attribute, default } => match entry.first(attribute) {
                None => Ok(*default),
                Some(raw) => {
                    let flags = parse_uac(raw).ok_or_else(|| {
                        format!(
                            "has {attribute} '{raw}', which is not an integer; the ACTIVE_DIRECTORY account status algorithm needs the userAccountControl bit mask"
                        )
                    })?;
                    Ok(if flags & ACCOUNTDISABLE != 0 { Status::Disabled } else { Status::Enabled })
                }
            },
        }
    }
}

/// `userAccountControl` as AD writes it: a decimal integer, possibly negative (a signed
/// 32-bit view of the mask); `0x..` hexadecimal is accepted too.
fn parse_uac(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Some(hex) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    raw.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Disabled, Enabled};

    fn flag(when_equal: Status, default: Status) -> AccountStatus {
        AccountStatus::Flag { attribute: "nsAccountLock".into(), value: "true".into(), when_equal, default }
    }

    fn user(lock: Option<&str>) -> Entry {
        let e = Entry::new("uid=a,dc=x", 1);
        match lock {
            Some(v) => e.with("nsaccountlock", v),
            None => e,
        }
    }

    #[test]
    fn flag_truth_table() {
        // (when_equal, default, attribute value) -> status
        let cases = [
            (Disabled, Enabled, Some("true"), Disabled),
            (Disabled, Enabled, Some("TRUE "), Disabled),
            (Disabled, Enabled, Some("false"), Enabled),
            (Disabled, Enabled, None, Enabled),
            (Disabled, Disabled, None, Disabled),
            (Enabled, Disabled, Some("true"), Enabled),
            (Enabled, Disabled, Some("false"), Disabled),
            (Enabled, Disabled, Some("anything"), Disabled),
            (Enabled, Disabled, None, Disabled),
            (Enabled, Enabled, None, Enabled),
        ];
        for (when_equal, default, value, want) in cases {
            let got = flag(when_equal, default).status_of(&user(value)).unwrap();
            assert_eq!(got, want, "when_equal={when_equal} default={default} value={value:?}");
        }
    }

    #[test]
    fn flag_any_of_several_values() {
        let e = user(Some("false")).with("nsAccountLock", "true");
        assert_eq!(flag(Disabled, Enabled).status_of(&e).unwrap(), Disabled);
    }

    #[test]
    fn active_directory_bit() {
        let ad = AccountStatus::active_directory();
        let uac = |v: &str| Entry::new("cn=a", 1).with("userAccountControl", v);
        assert_eq!(ad.status_of(&uac("512")).unwrap(), Enabled); // NORMAL_ACCOUNT
        assert_eq!(ad.status_of(&uac("514")).unwrap(), Disabled); // NORMAL_ACCOUNT | ACCOUNTDISABLE
        assert_eq!(ad.status_of(&uac("66050")).unwrap(), Disabled); // + DONT_EXPIRE_PASSWORD
        assert_eq!(ad.status_of(&uac("66048")).unwrap(), Enabled);
        assert_eq!(ad.status_of(&uac("0x202")).unwrap(), Disabled);
        assert_eq!(ad.status_of(&uac("-2147483646")).unwrap(), Disabled); // 0x80000002 signed
        assert_eq!(ad.status_of(&Entry::new("cn=a", 1)).unwrap(), Enabled);
        let off = AccountStatus::ActiveDirectory { attribute: "userAccountControl".into(), default: Disabled };
        assert_eq!(off.status_of(&Entry::new("cn=a", 1)).unwrap(), Disabled);
        let err = ad.status_of(&uac("lots")).unwrap_err();
        assert!(err.contains("userAccountControl 'lots', which is not an integer"), "{err}");
    }

    #[test]
    fn always_enabled_and_parsing() {
        assert_eq!(AccountStatus::AlwaysEnabled.status_of(&user(Some("true"))).unwrap(), Enabled);
        assert_eq!("Disabled".parse::<Status>().unwrap(), Disabled);
        assert!("off".parse::<Status>().is_err());
        let json = serde_json::json!({"algorithm": "flag", "attribute": "nsAccountLock", "value": "true", "when_equal": "disabled", "default": "enabled"});
        let parsed: AccountStatus = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, flag(Disabled, Enabled));
    }
}
