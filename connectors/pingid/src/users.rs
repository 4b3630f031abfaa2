//! The user operations of the PingID connector (spec b.5.6), over [`Api`].
//!
//! | provisio operation | PingID calls |
//! |---|---|
//! | test connection | GetUserDetails of a user that does not exist; "user does not exist" is success |
//! | find user | GetUserDetails (`errorId` 10564 → not found) |
//! | create user | AddUser (`activateUser` false, role `REGULAR`); the managed devices; SuspendUser when the user is disabled (Provision Disabled Users) |
//! | update user | GetUserDetails, then EditUser with the mapped values merged over the current record (EditUser replaces it whole; skipped when nothing changed); the managed devices; SuspendUser or ActivateUser when the status differs |
//! | disable / enable user | SuspendUser / ActivateUser (already so: success) |
//! | delete user | DeleteUser (already gone: success) |
//!
//! The target id is the PingID username, which can never change: an update
//! that carries another `Username` is refused. Devices are paired with
//! OfflinePairing and labelled with UpdateDeviceAttributes `NICKNAME`; the
//! primary device is chosen (`SET_PRIMARY`) only on create.

use provisio_core::prelude::*;
use serde_json::{Map, Value, json};

use crate::api::{ALREADY_ACTIVE, NOT_ACTIVE, Op};
use crate::devices::{self, Action, Device};
use crate::{ManageDevices, PingIdConnector, PrimaryDevice};

pub const USERNAME: &str = "Username";
pub const EMAIL: &str = "Email";
pub const FIRST_NAME: &str = "First Name";
pub const LAST_NAME: &str = "Last Name";

/// The user fields: (field code, AddUser/EditUser key).
const USER_FIELDS: [(&str, &str); 3] = [(EMAIL, "email"), (FIRST_NAME, "fname"), (LAST_NAME, "lname")];

/// The status PingID gives a suspended user.
const SUSPENDED: &str = "SUSPENDED";

fn value<'a>(user: &'a UserRecord, code: &str) -> Option<&'a str> {
    user.attributes.get(code).and_then(|v| v.first()).map(str::trim).filter(|v| !v.is_empty())
}

fn text<'a>(details: &'a Value, key: &str) -> Option<&'a str> {
    details.get(key).and_then(Value::as_str)
}

fn is_suspended(details: &Value) -> bool {
    text(details, "status").is_some_and(|s| s.eq_ignore_ascii_case(SUSPENDED))
}

fn invalid(detail: String) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, detail).retryable(false)
}

/// What provisio learns of a PingID user.
fn target_user(details: &Value, requested: &str) -> TargetUser {
    let id = text(details, "userName").unwrap_or(requested).to_owned();
    let mut attributes = Attributes::new();
    attributes.insert(USERNAME.to_owned(), id.clone().into());
    for (code, key) in USER_FIELDS {
        if let Some(v) = text(details, key).filter(|v| !v.is_empty()) {
            attributes.insert(code.to_owned(), v.into());
        }
    }
    for d in Device::all(details) {
        if let (Some(nickname), Some(v)) = (d.nickname.as_deref(), d.value)
            && let Some((code, ..)) = crate::manifest::DEVICE_FIELDS.iter().find(|(_, _, n, _)| *n == nickname)
        {
            attributes.insert((*code).to_owned(), v.into());
        }
    }
    TargetUser { id: id.clone(), unique_id: Some(id), active: Some(!is_suspended(details)), attributes }
}

impl PingIdConnector {
    /// GetUserDetails' `userDetails`, or `None` when the user does not exist.
    pub(crate) async fn details(&self, username: &str) -> Result<Option<Value>, ConnectorError> {
        let body = json!({"getSameDeviceUsers": false, "userName": username});
        match self.api.call(Op::GetUserDetails, body).await {
            Ok(answer) => answer
                .get("userDetails")
                .filter(|d| d.is_object())
                .cloned()
                .map(Some)
                .ok_or_else(|| ConnectorError::protocol("PingID GetUserDetails answered without userDetails")),
            Err(f) if f.error.kind == ErrorKind::NotFound => Ok(None),
            Err(f) => Err(f.error),
        }
    }

    pub(crate) async fn check_connection(&self) -> Result<ConnectionReport, ConnectorError> {
        let probe = format!("provisio-connection-check-{}", self.host.now_unix_ms());
        let found = self.details(&probe).await.map_err(|e| e.context("connection test"))?;
        let summary = format!(
            "PingID at {} accepted a signed GetUserDetails for organization {}",
            self.api.idp_url(),
            self.api.org_alias()
        );
        let detail =
            if found.is_some() { "the probe user exists" } else { "the probe user does not exist, as expected" };
        Ok(ConnectionReport { summary, details: vec![detail.to_owned()] })
    }

    pub(crate) async fn find(&self, unique_id: &str) -> Result<Option<TargetUser>, ConnectorError> {
        Ok(self.details(unique_id).await?.map(|d| target_user(&d, unique_id)))
    }

    pub(crate) async fn create(&self, user: &UserRecord) -> Result<TargetUser, ConnectorError> {
        let username =
            value(user, USERNAME).or(Some(user.unique_id.trim()).filter(|u| !u.is_empty())).ok_or_else(|| {
                invalid(format!(
                    "source entry {}: the PingID field 'Username' has no value; check the mapping",
                    user.source_id
                ))
            })?;
        let mut body = Map::new();
        body.insert("activateUser".into(), false.into());
        body.insert("username".into(), username.into());
        for (code, key) in USER_FIELDS {
            if let Some(v) = value(user, code) {
                body.insert(key.into(), v.into());
            }
        }
        body.insert("role".into(), "REGULAR".into());
        self.api.call(Op::AddUser, Value::Object(body)).await?;
        let actions = devices::plan(self.settings.manage_devices, &user.attributes, &[], &[]);
        let primary = match self.settings.primary_device_on_create {
            PrimaryDevice::DoNotManage => None,
            PrimaryDevice::Email1 => Some("Email 1"),
            PrimaryDevice::SmsNumber1 => Some("SMS Number 1"),
            PrimaryDevice::VoiceNumber1 => Some("Voice Number 1"),
        };
        let primary = primary.filter(|_| self.settings.manage_devices != ManageDevices::DoNotManage);
        self.apply_devices(username, actions, primary).await?;
        if !user.active {
            // Provision Disabled Users: created, then suspended.
            self.api.call(Op::SuspendUser, json!({"userName": username})).await?;
        }
        Ok(TargetUser {
            id: username.to_owned(),
            unique_id: Some(username.to_owned()),
            active: Some(user.active),
            attributes: Attributes::new(),
        })
    }

    pub(crate) async fn update(&self, target_id: &str, user: &UserRecord) -> Result<(), ConnectorError> {
        if let Some(name) = value(user, USERNAME)
            && name != target_id
        {
            return Err(invalid(format!(
                "PingID usernames cannot change: user '{target_id}' would become '{name}'. Keep the Username mapping \
                 stable, or deprovision the user and provision it again under the new name"
            )));
        }
        let details = self.details(target_id).await?.ok_or_else(|| {
            ConnectorError::new(ErrorKind::NotFound, format!("PingID user '{target_id}' does not exist"))
        })?;
        // EditUser replaces the whole record: start from what PingID holds.
        let mut changed = false;
        let mut body = Map::new();
        body.insert("userName".into(), target_id.into());
        for (code, key) in USER_FIELDS {
            let current = details.get(key).cloned().unwrap_or(Value::Null);
            let wanted = value(user, code).map(Value::from);
            if wanted.is_none() && user.clear.iter().any(|c| c == code) && !current.is_null() {
                self.host.warn(&format!(
                    "PingID user '{target_id}': '{code}' cannot be cleared in PingID; it keeps its value"
                ));
            }
            let new = wanted.unwrap_or_else(|| current.clone());
            changed |= new != current;
            body.insert(key.into(), new);
        }
        body.insert(
            "role".into(),
            details.get("role").filter(|r| !r.is_null()).cloned().unwrap_or_else(|| "REGULAR".into()),
        );
        body.insert("activateUser".into(), false.into());
        if changed {
            self.api.call(Op::EditUser, Value::Object(body)).await?;
        }
        let actions =
            devices::plan(self.settings.manage_devices, &user.attributes, &user.clear, &Device::all(&details));
        self.apply_devices(target_id, actions, None).await?;
        match (user.active, is_suspended(&details)) {
            (true, true) => self.enable(target_id).await?,
            (false, false) => self.disable(target_id).await?,
            _ => {}
        }
        Ok(())
    }

    pub(crate) async fn disable(&self, target_id: &str) -> Result<(), ConnectorError> {
        match self.api.call(Op::SuspendUser, json!({"userName": target_id})).await {
            Ok(_) => Ok(()),
            // "not active": fine if it is already suspended.
            Err(f) if f.error_id == Some(NOT_ACTIVE) => match self.details(target_id).await? {
                Some(d) if is_suspended(&d) => Ok(()),
                _ => Err(f.error),
            },
            Err(f) => Err(f.error),
        }
    }

    pub(crate) async fn enable(&self, target_id: &str) -> Result<(), ConnectorError> {
        match self.api.call(Op::ActivateUser, json!({"userName": target_id})).await {
            Ok(_) => Ok(()),
            Err(f) if f.error_id == Some(ALREADY_ACTIVE) => Ok(()),
            Err(f) => Err(f.error),
        }
    }

    pub(crate) async fn delete(&self, target_id: &str) -> Result<(), ConnectorError> {
        match self.api.call(Op::DeleteUser, json!({"userName": target_id})).await {
            Ok(_) => Ok(()),
            Err(f) if f.error.kind == ErrorKind::NotFound => Ok(()),
            Err(f) => Err(f.error),
        }
    }

    /// Carry out device actions for `username`; make `primary` the primary
    /// device if it is among those paired.
    async fn apply_devices(
        &self,
        username: &str,
        actions: Vec<Action>,
        primary: Option<&str>,
    ) -> Result<(), ConnectorError> {
        let mut primary_done = false;
        for action in actions {
            match action {
                Action::Unpair { id, nickname, reason } => {
                    if id.is_null() {
                        // Without a deviceId, UnpairDevice removes every device.
                        return Err(ConnectorError::internal("refusing UnpairDevice without a deviceId"));
                    }
                    self.api.call(Op::UnpairDevice, json!({"deviceId": id, "userName": username})).await?;
                    let name = nickname.as_deref().unwrap_or("(no nickname)");
                    self.host.info(&format!("PingID user '{username}': unpaired device '{name}': {reason}"));
                }
                Action::Pair { kind, value, nickname } => {
                    let answer = self
                        .api
                        .call(Op::OfflinePairing, json!({"pairingData": value, "type": kind, "username": username}))
                        .await?;
                    let id =
                        answer.get("deviceId").filter(|id| !id.is_null()).cloned().ok_or_else(|| {
                            ConnectorError::protocol("PingID OfflinePairing answered without a deviceId")
                        })?;
                    self.set_attribute(username, &id, "NICKNAME", nickname).await?;
                    if primary == Some(nickname) {
                        self.set_attribute(username, &id, "SET_PRIMARY", "true").await?;
                        primary_done = true;
                    }
                    self.host.info(&format!("PingID user '{username}': paired {kind} device '{nickname}'"));
                }
            }
        }
        if let Some(p) = primary
            && !primary_done
        {
            self.host.warn(&format!(
                "PingID user '{username}': Primary Device on Create names '{p}', but the user has no such device; no primary device was set"
            ));
        }
        Ok(())
    }

    async fn set_attribute(&self, username: &str, id: &Value, name: &str, value: &str) -> Result<(), ConnectorError> {
        let body = json!({"attributeName": name, "attributeValue": value, "deviceId": id, "userName": username});
        self.api.call(Op::UpdateDeviceAttributes, body).await.map(|_| ()).map_err(ConnectorError::from)
    }
}
