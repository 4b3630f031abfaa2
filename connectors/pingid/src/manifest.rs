//! The PingID connector's manifest (spec b.0, b.5.1, b.5.2, b.5.4).
//!
//! The form is the PingID Provisioner's: the `pingid.properties` upload and
//! the two device settings. The catalogue is PingID's fixed field list: four
//! user fields and the nine `MFA ...` device fields, each device field
//! targeting the device with the matching nickname. The decisions taken on
//! the specification's open questions are in [`NOTES`] and in
//! `docs/connectors/pingid.md`.

use provisio_core::manifest::*;
use std::collections::BTreeSet;

/// The connector id used in configuration files.
pub const ID: &str = "pingid";

pub const PINGID_PROPERTIES: &str = "pingid_properties";
pub const MANAGE_DEVICES: &str = "manage_devices";
pub const PRIMARY_DEVICE_ON_CREATE: &str = "primary_device_on_create";

/// Manage Devices when the configuration says nothing (an open question of the spec).
pub const DEFAULT_MANAGE_DEVICES: &str = "do_not_manage";
/// Primary Device on Create when the configuration says nothing (an open question of the spec).
pub const DEFAULT_PRIMARY_DEVICE: &str = "do_not_manage";

/// The managed device fields: (field code, PingID pairing type, device nickname, device field).
pub const DEVICE_FIELDS: [(&str, &str, &str, &str); 9] = [
    ("MFA Email 1", "EMAIL", "Email 1", "email"),
    ("MFA Email 2", "EMAIL", "Email 2", "email"),
    ("MFA Email 3", "EMAIL", "Email 3", "email"),
    ("MFA SMS Number 1", "SMS", "SMS Number 1", "phoneNumber"),
    ("MFA SMS Number 2", "SMS", "SMS Number 2", "phoneNumber"),
    ("MFA SMS Number 3", "SMS", "SMS Number 3", "phoneNumber"),
    ("MFA Voice Number 1", "VOICE", "Voice Number 1", "phoneNumber"),
    ("MFA Voice Number 2", "VOICE", "Voice Number 2", "phoneNumber"),
    ("MFA Voice Number 3", "VOICE", "Voice Number 3", "phoneNumber"),
];

/// Decisions on the specification's open questions, and target quirks.
pub const NOTES: &[&str] = &[
    "Manage Devices defaults to Do not manage devices (open question e.6): PingID stays the source of truth for devices until a connection opts in, and nothing a user enrolled is ever removed by default.",
    "Primary Device on Create defaults to Do not manage (open question e.6): devices are provisioned without choosing a primary one unless asked.",
    "Only the pingid.properties upload is offered (open question e.6): the individual fields of PingFederate versions before 10.2 are not reproduced.",
    "Managed devices are created with OfflinePairing and labelled with their nickname (Email 1, SMS Number 1, ...) through UpdateDeviceAttributes NICKNAME; only those nine nicknames are ever managed (open question e.6).",
    "Provision Disabled Users (selected by default) creates a disabled source user with AddUser and then suspends it with SuspendUser (open question e.6); it has no effect while User Create is cleared.",
    "Every request is signed with HS256 whatever use_signature says (open question e.6); a value other than true is reported as a warning when the connection is opened.",
    "Users only: PingID has no groups. Exclude the account that administers PingOne for Enterprise from the provisioning scope.",
];

/// The manifest of the PingID connector.
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.to_owned(),
        display_name: "PingID Provisioner".to_owned(),
        description: "Provisions users of PingID (PingOne for Enterprise) through the signed PingID API, \
                      with their e-mail, SMS and voice MFA devices."
            .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sdk_version: String::new(),
        protocol: ProtocolVersion::default(),
        settings: settings(),
        attributes: attributes(),
        remove_user: RemoveUserSemantics {
            supported: vec![RemoveUserAction::Disable, RemoveUserAction::Delete],
            default: RemoveUserAction::Disable,
            notes: "Disable suspends the PingID user (SuspendUser); re-enabling (ActivateUser) needs User Update. \
                    Delete removes the user from PingID (DeleteUser)."
                .to_owned(),
        },
        options: options(),
        capabilities: BTreeSet::from([
            Capability::TestConnection,
            Capability::UserFind,
            Capability::UserCreate,
            Capability::UserUpdate,
            Capability::UserDisable,
            Capability::UserEnable,
            Capability::UserDelete,
            Capability::DeviceManagement,
        ]),
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

fn settings() -> Vec<SettingSpec> {
    vec![
        SettingSpec::new(PINGID_PROPERTIES, "PingID Properties", SettingKind::File).required().secret().help(
            "The pingid.properties file of the PingOne for Enterprise organization (PingID dashboard: \
                 Setup > PingID > Client Integration > Integrate with PingFederate > Download). It holds the \
                 HMAC key that signs every request: give the file's path, and protect the file like a password.",
        ),
        SettingSpec::new(MANAGE_DEVICES, "Manage Devices", SettingKind::Enum)
            .required()
            .allowed(&[
                ("do_not_manage", "Do not manage devices"),
                ("merge", "Merge devices"),
                ("overwrite", "Overwrite devices"),
            ])
            .default_value(DEFAULT_MANAGE_DEVICES)
            .group("Device Management")
            .help(
                "Do not manage devices: PingID is the source of truth and users manage their own devices. \
                 Merge devices: provision the nine managed devices (Email 1-3, SMS Number 1-3, Voice Number 1-3) \
                 from the MFA fields; a managed device whose value changed is removed and created again; other \
                 devices are left alone. Overwrite devices: as Merge, and remove every device whose nickname is \
                 not managed.",
            ),
        SettingSpec::new(PRIMARY_DEVICE_ON_CREATE, "Primary Device on Create", SettingKind::Enum)
            .required()
            .allowed(&[
                ("do_not_manage", "Do not manage"),
                ("mfa_email_1", "MFA Email 1"),
                ("mfa_sms_number_1", "MFA SMS Number 1"),
                ("mfa_voice_number_1", "MFA Voice Number 1"),
            ])
            .default_value(DEFAULT_PRIMARY_DEVICE)
            .group("Device Management")
            .help(
                "The device made primary when a user is created (Email 1, SMS Number 1 or Voice Number 1). \
                 The primary device is never set or changed on update.",
            ),
    ]
}

fn attributes() -> Vec<AttributeSpec> {
    let mut fields = vec![
        AttributeSpec::new("Username", "userName")
            .required()
            .mutability(Mutability::Immutable)
            .notes("Unique; cannot be updated. Existing PingID users are matched by it (AddUser calls it username)."),
        AttributeSpec::new("Email", "email").notes("The user's e-mail address (not an MFA device)."),
        AttributeSpec::new("First Name", "fname"),
        AttributeSpec::new("Last Name", "lname"),
    ];
    for (code, pairing_type, nickname, field) in DEVICE_FIELDS {
        let what = match pairing_type {
            "EMAIL" => "An e-mail address paired as an EMAIL device",
            "SMS" => "An international phone number paired as an SMS device",
            _ => "An international phone number paired as a VOICE device",
        };
        fields
            .push(AttributeSpec::new(code, &format!("devicesDetails[nickname eq \"{nickname}\"].{field}")).notes(
                &format!("{what} nicknamed '{nickname}'. Used only when Manage Devices is Merge or Overwrite."),
            ));
    }
    fields
}

fn options() -> ProvisioningOptionsSpec {
    // All four selected by default: PingID creates disabled source users
    // suspended (b.0, b.5.1). Provision Disabled Users has no effect while
    // User Create is cleared; that is true of every connector, and not a
    // configuration error, so it is not declared as a `Requires` constraint.
    ProvisioningOptionsSpec::defaults(true, true, true, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManageDevices, PingIdConnector, PrimaryDevice};
    use provisio_core::prelude::{Connector, ErrorKind, Operation};
    use provisio_core::testing::{Harness, RecordedHttp, default_config};
    use serde_json::json;

    const PROPERTIES: &str = "use_base64_key=QUJD\nuse_signature=true\ntoken=tok\nidp_url=https\\://idpxnyl3m.pingidentity.com/pingid\norg_alias=org-1\n";

    #[test]
    fn the_manifest_passes_the_contract() {
        let problems = PingIdConnector::manifest().validate();
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn the_user_lifecycle_and_devices_are_declared_and_groups_are_not() {
        let c = manifest().capabilities;
        assert_eq!(c.len(), 8);
        assert!(c.contains(&Capability::DeviceManagement) && c.contains(&Capability::UserEnable));
        assert!(!c.contains(&Capability::GroupCreate) && !c.contains(&Capability::DiscoverSchema));
    }

    #[test]
    fn thirteen_single_valued_fields_and_only_username_required() {
        let m = manifest();
        assert_eq!(m.attributes.len(), 13);
        assert!(m.attributes.iter().all(|a| !a.multi_valued));
        let required: Vec<_> = m.attributes.iter().filter(|a| a.required).map(|a| a.code.as_str()).collect();
        assert_eq!(required, ["Username"]);
        assert_eq!(
            m.attribute("MFA Voice Number 2").unwrap().target,
            r#"devicesDetails[nickname eq "Voice Number 2"].phoneNumber"#
        );
        assert!(m.attribute("MFA Voice Number 2").unwrap().notes.contains("VOICE"));
    }

    #[test]
    fn provision_disabled_users_is_selected_by_default() {
        assert!(manifest().options.provision_disabled_users.default);
    }

    #[test]
    fn the_properties_file_is_a_required_secret() {
        let m = manifest();
        let p = m.setting(PINGID_PROPERTIES).unwrap();
        assert!(p.required && p.secret && p.default.is_none());
        assert_eq!(p.kind, SettingKind::File);
    }

    #[test]
    fn open_parses_the_properties_and_device_choices() {
        let config =
            default_config(&manifest(), json!({"pingid_properties": PROPERTIES, "manage_devices": "merge"})).unwrap();
        let s = crate::settings(&config).unwrap();
        assert_eq!(s.properties.idp_url, "https://idpxnyl3m.pingidentity.com/pingid");
        assert_eq!(s.manage_devices, ManageDevices::Merge);
        assert_eq!(s.primary_device_on_create, PrimaryDevice::DoNotManage);
        let err = Harness::open::<PingIdConnector>(json!({"pingid_properties": "token=x\n"}), RecordedHttp::new())
            .err()
            .unwrap();
        assert!(err.detail.contains("pingid_properties") && err.detail.contains("use_base64_key"), "{}", err.detail);
    }

    #[test]
    fn a_use_signature_other_than_true_is_a_warning() {
        let text = PROPERTIES.replace("use_signature=true", "use_signature=false");
        let h = Harness::open::<PingIdConnector>(json!({"pingid_properties": text}), RecordedHttp::new()).unwrap();
        assert!(h.logs().iter().any(|(_, line)| line.contains("use_signature")));
        assert_eq!(h.run(Operation::DiscoverSchema).unwrap_err().kind, ErrorKind::Unsupported);
    }
}
