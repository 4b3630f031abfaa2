//! Which MFA devices to pair and unpair (spec b.5.4), as a pure decision.
//!
//! Only nine device nicknames are ever managed (`Email 1`..`3`, `SMS Number
//! 1`..`3`, `Voice Number 1`..`3`), each fed by its `MFA …` field
//! ([`crate::manifest::DEVICE_FIELDS`]). [`plan`] compares what the source
//! says with the devices PingID reports (`devicesDetails`) and answers the
//! actions, unpairings first:
//!
//! - **Do not manage devices**: nothing.
//! - **Merge devices**: a managed nickname whose value (or type) differs is
//!   unpaired and paired again with the new value; a managed nickname found
//!   twice keeps one device; other devices are left alone. A field that is
//!   not mapped, or empty, leaves its device alone, unless the mapping asks
//!   for it to be cleared (`clear_when_empty`), which unpairs it.
//! - **Overwrite devices**: as Merge, and every device whose nickname is not
//!   one of the nine (or that has none) is unpaired.
//!
//! Values compare as PingID may normalise them: e-mail addresses without
//! regard to case, phone numbers by their digits only. Every unpairing names
//! a `deviceId`: UnpairDevice without one would remove all the user's devices.

use provisio_core::ops::Attributes;
use serde_json::Value;

use crate::ManageDevices;
use crate::manifest::DEVICE_FIELDS;

/// A device as GetUserDetails reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// `deviceId`, kept as PingID sent it (a large number).
    pub id: Value,
    pub nickname: Option<String>,
    /// `type`: `EMAIL`, `SMS`, `VOICE`, `iPhone`, ...
    pub kind: String,
    /// `email` for an e-mail device, else `phoneNumber`.
    pub value: Option<String>,
    /// `deviceRole` is `PRIMARY`.
    pub primary: bool,
}

impl Device {
    /// One entry of `devicesDetails`; `None` when it has no `deviceId`.
    pub fn from_details(v: &Value) -> Option<Device> {
        let id = v.get("deviceId").filter(|id| !id.is_null())?.clone();
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty());
        let kind = text("type").unwrap_or_default();
        let value = if kind.eq_ignore_ascii_case("EMAIL") { text("email") } else { text("phoneNumber") }
            .or_else(|| text("email"))
            .or_else(|| text("phoneNumber"));
        Some(Device {
            id,
            nickname: text("nickname"),
            kind,
            value,
            primary: text("deviceRole").is_some_and(|r| r.eq_ignore_ascii_case("PRIMARY")),
        })
    }

    /// Every device of a `userDetails` object.
    pub fn all(user_details: &Value) -> Vec<Device> {
        user_details
            .get("devicesDetails")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Device::from_details).collect())
            .unwrap_or_default()
    }
}

/// One thing to do to the user's devices.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// UnpairDevice with this `deviceId`.
    Unpair { id: Value, nickname: Option<String>, reason: &'static str },
    /// OfflinePairing of `kind` with `value`, then nickname it.
    Pair { kind: &'static str, value: String, nickname: &'static str },
}

/// Whether `nickname` is one of the nine managed ones.
pub fn is_managed(nickname: &str) -> bool {
    DEVICE_FIELDS.iter().any(|(_, _, n, _)| *n == nickname)
}

/// The nickname fed by field `code` (`MFA SMS Number 1` → `SMS Number 1`).
pub fn nickname_of(code: &str) -> Option<&'static str> {
    DEVICE_FIELDS.iter().find(|(c, ..)| *c == code).map(|(_, _, n, _)| *n)
}

/// Whether a device's value is the wanted one, as PingID may normalise it.
pub fn same_value(kind: &str, have: &str, want: &str) -> bool {
    if kind.eq_ignore_ascii_case("EMAIL") {
        have.trim().eq_ignore_ascii_case(want.trim())
    } else {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        digits(have) == digits(want) && !digits(want).is_empty()
    }
}

/// What to do to the user's devices, unpairings first.
pub fn plan(mode: ManageDevices, attributes: &Attributes, clear: &[String], existing: &[Device]) -> Vec<Action> {
    if mode == ManageDevices::DoNotManage {
        return Vec::new();
    }
    let mut unpair = Vec::new();
    let mut pair = Vec::new();
    for (code, kind, nickname, _) in DEVICE_FIELDS {
        let have: Vec<&Device> = existing.iter().filter(|d| d.nickname.as_deref() == Some(nickname)).collect();
        let want = attributes.get(code).and_then(|v| v.first()).map(str::trim).filter(|v| !v.is_empty());
        match want {
            Some(want) => {
                let keep = have.iter().position(|d| {
                    d.kind.eq_ignore_ascii_case(kind) && d.value.as_deref().is_some_and(|v| same_value(kind, v, want))
                });
                for (i, d) in have.iter().enumerate() {
                    if Some(i) != keep {
                        let reason = if keep.is_some() {
                            "a second device with a managed nickname"
                        } else {
                            "its value changed in the source"
                        };
                        unpair.push(Action::Unpair { id: d.id.clone(), nickname: d.nickname.clone(), reason });
                    }
                }
                if keep.is_none() {
                    pair.push(Action::Pair { kind, value: want.to_owned(), nickname });
                }
            }
            None if clear.iter().any(|c| c == code) => {
                for d in have {
                    unpair.push(Action::Unpair {
                        id: d.id.clone(),
                        nickname: d.nickname.clone(),
                        reason: "its field was cleared in the source",
                    });
                }
            }
            None => {}
        }
    }
    if mode == ManageDevices::Overwrite {
        for d in existing.iter().filter(|d| !d.nickname.as_deref().is_some_and(is_managed)) {
            unpair.push(Action::Unpair {
                id: d.id.clone(),
                nickname: d.nickname.clone(),
                reason: "its nickname is not managed (Overwrite devices)",
            });
        }
    }
    unpair.extend(pair);
    unpair
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(id: u64, nickname: Option<&str>, kind: &str, value: &str) -> Device {
        Device {
            id: json!(id),
            nickname: nickname.map(str::to_owned),
            kind: kind.into(),
            value: Some(value.into()),
            primary: false,
        }
    }

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect()
    }

    fn unpaired(actions: &[Action]) -> Vec<u64> {
        actions.iter().filter_map(|a| if let Action::Unpair { id, .. } = a { id.as_u64() } else { None }).collect()
    }

    fn paired(actions: &[Action]) -> Vec<(&'static str, String)> {
        actions
            .iter()
            .filter_map(|a| {
                if let Action::Pair { nickname, value, .. } = a { Some((*nickname, value.clone())) } else { None }
            })
            .collect()
    }

    #[test]
    fn do_not_manage_does_nothing() {
        let a = attrs(&[("MFA Email 1", "a@example.org")]);
        assert!(plan(ManageDevices::DoNotManage, &a, &[], &[device(1, Some("Other"), "SMS", "+1 555")]).is_empty());
    }

    #[test]
    fn create_pairs_every_managed_field_in_catalogue_order() {
        let a =
            attrs(&[("MFA SMS Number 1", "+1 555 0100"), ("MFA Email 1", "a@example.org"), ("Email", "x@example.org")]);
        let actions = plan(ManageDevices::Merge, &a, &[], &[]);
        assert_eq!(
            paired(&actions),
            [("Email 1", "a@example.org".to_owned()), ("SMS Number 1", "+1 555 0100".to_owned())]
        );
        assert!(matches!(actions[1], Action::Pair { kind: "SMS", .. }));
    }

    #[test]
    fn merge_replaces_a_changed_managed_device_and_keeps_the_rest() {
        let existing = [
            device(1, Some("Email 1"), "EMAIL", "A@Example.org"),
            device(2, Some("SMS Number 1"), "SMS", "+1 (555) 0100"),
            device(3, Some("My iPhone"), "iPhone", ""),
            device(4, Some("Voice Number 1"), "VOICE", "+1 555 0199"),
        ];
        let a = attrs(&[
            ("MFA Email 1", "a@example.org"),
            ("MFA SMS Number 1", "+15550100"),
            ("MFA Voice Number 1", "+1 555 0200"),
        ]);
        let actions = plan(ManageDevices::Merge, &a, &[], &existing);
        assert_eq!(unpaired(&actions), [4], "{actions:?}");
        assert_eq!(paired(&actions), [("Voice Number 1", "+1 555 0200".to_owned())]);
        assert!(matches!(actions[0], Action::Unpair { .. }), "unpairing comes first");
    }

    #[test]
    fn a_type_mismatch_or_a_duplicate_is_replaced_or_removed() {
        let existing = [
            device(1, Some("SMS Number 2"), "VOICE", "+1 555 0100"),
            device(2, Some("Email 2"), "EMAIL", "b@example.org"),
            device(3, Some("Email 2"), "EMAIL", "old@example.org"),
        ];
        let a = attrs(&[("MFA SMS Number 2", "+1 555 0100"), ("MFA Email 2", "b@example.org")]);
        let actions = plan(ManageDevices::Merge, &a, &[], &existing);
        assert_eq!(unpaired(&actions), [3, 1], "catalogue order: Email 2 before SMS Number 2");
        assert_eq!(paired(&actions), [("SMS Number 2", "+1 555 0100".to_owned())]);
    }

    #[test]
    fn an_absent_field_leaves_its_device_and_a_cleared_one_removes_it() {
        let existing =
            [device(1, Some("Email 3"), "EMAIL", "c@example.org"), device(2, Some("SMS Number 3"), "SMS", "+1 555")];
        let actions = plan(ManageDevices::Merge, &Attributes::new(), &["MFA SMS Number 3".to_owned()], &existing);
        assert_eq!(unpaired(&actions), [2]);
        assert!(paired(&actions).is_empty());
    }

    #[test]
    fn overwrite_also_removes_unmanaged_and_unnamed_devices() {
        let mut unnamed = device(5, None, "SMS", "+1 555 0111");
        unnamed.nickname = None;
        let existing =
            [device(1, Some("Email 1"), "EMAIL", "a@example.org"), device(3, Some("My iPhone"), "iPhone", ""), unnamed];
        let a = attrs(&[("MFA Email 1", "a@example.org")]);
        assert_eq!(unpaired(&plan(ManageDevices::Overwrite, &a, &[], &existing)), [3, 5]);
        assert!(plan(ManageDevices::Merge, &a, &[], &existing).is_empty());
    }

    #[test]
    fn devices_are_read_from_user_details() {
        let details = json!({"devicesDetails": [
            {"deviceId": 128814249360301141u64, "nickname": "Email 1", "type": "EMAIL", "email": "a@example.org", "phoneNumber": null, "deviceRole": "PRIMARY"},
            {"deviceId": 2, "nickname": "SMS Number 1", "type": "SMS", "email": null, "phoneNumber": "15550100", "deviceRole": "SECONDARY"},
            {"nickname": "no id"}
        ]});
        let all = Device::all(&details);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, json!(128814249360301141u64));
        assert!(all[0].primary && !all[1].primary);
        assert_eq!(all[1].value.as_deref(), Some("15550100"));
        assert_eq!(nickname_of("MFA Voice Number 3"), Some("Voice Number 3"));
        assert!(is_managed("SMS Number 2") && !is_managed("sms number 2"));
    }
}
