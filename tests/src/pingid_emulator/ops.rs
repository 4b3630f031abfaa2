//! The emulator's PingID operations over the organization's users and devices.
//!
//! Field names are checked exactly as each operation's documentation spells
//! them (spec b.5.6: `username` for AddUser and OfflinePairing, `userName`
//! elsewhere); an unknown field is refused, so a connector that guesses the
//! case wrong fails here. EditUser replaces the whole record (an omitted
//! field becomes null) and refuses any attempt to change the username.
//! UnpairDevice without a `deviceId` removes every device of the user, as
//! PingID does, and is counted so tests can prove it never happens.
//!
//! Simplifications: AddUser makes the user ACTIVE whatever `activateUser`
//! says (no activation codes); the first paired device is PRIMARY; a paired
//! device has no nickname until UpdateDeviceAttributes gives it one.

use serde_json::{Map, Value, json};

use super::Org;

/// The operations (path segments) the emulator implements.
pub const OPERATIONS: [&str; 9] = [
    "getuserdetails",
    "adduser",
    "edituser",
    "suspenduser",
    "activateuser",
    "deleteuser",
    "offlinepairing",
    "unpairdevice",
    "updatedeviceattr",
];

/// A PingID user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmuUser {
    pub user_name: String,
    pub email: Option<String>,
    pub fname: Option<String>,
    pub lname: Option<String>,
    /// `ACTIVE` or `SUSPENDED`.
    pub status: String,
    pub role: Option<String>,
}

/// A paired device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmuDevice {
    pub device_id: i64,
    pub nickname: Option<String>,
    /// `EMAIL`, `SMS`, `VOICE`.
    pub kind: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    /// `PRIMARY` or `SECONDARY`.
    pub role: String,
}

impl EmuDevice {
    /// The paired address or number.
    pub fn value(&self) -> Option<&str> {
        self.email.as_deref().or(self.phone_number.as_deref())
    }
}

type Failure = (i64, String);
type OpResult = Result<Map<String, Value>, Failure>;

const USER_NOT_FOUND: i64 = 10564;
const USER_EXISTS: i64 = 10556;
const NOT_ACTIVE: i64 = 10561;
const ALREADY_ACTIVE: i64 = 10562;

fn invalid(msg: impl Into<String>) -> Failure {
    (400, format!("Invalid input. {}", msg.into()))
}

/// A request body checked against the operation's fields.
struct Body<'a>(&'a Map<String, Value>);

impl Body<'_> {
    fn only(&self, allowed: &[&str]) -> Result<(), Failure> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(invalid(format!("Unknown field '{k}'; this operation takes {allowed:?}"))),
            None => Ok(()),
        }
    }

    fn opt(&self, name: &str) -> Result<Option<String>, Failure> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(format!("'{name}' must be a string, not {other}"))),
        }
    }

    fn req(&self, name: &str) -> Result<String, Failure> {
        self.opt(name)?.filter(|s| !s.is_empty()).ok_or_else(|| invalid(format!("'{name}' is required")))
    }
}

fn device_json(d: &EmuDevice, order: usize) -> Value {
    json!({
        "deviceId": d.device_id, "deviceUuid": format!("emul-{:x}", d.device_id), "nickname": d.nickname,
        "type": d.kind, "email": d.email, "phoneNumber": d.phone_number, "countryCode": null,
        "deviceRole": d.role, "order": order, "pushEnabled": false
    })
}

fn user_json(u: &EmuUser, devices: &[EmuDevice]) -> Value {
    let primary = devices.iter().enumerate().find(|(_, d)| d.role == "PRIMARY").map(|(i, d)| device_json(d, i));
    json!({
        "userName": u.user_name, "email": u.email, "fname": u.fname, "lname": u.lname, "status": u.status,
        "userEnabled": u.status == "ACTIVE", "role": u.role, "lastLogin": null, "spList": [],
        "deviceDetails": primary, "devicesDetails": devices.iter().enumerate().map(|(i, d)| device_json(d, i)).collect::<Vec<_>>()
    })
}

fn user<'a>(org: &'a mut Org, name: &str) -> Result<&'a mut (EmuUser, Vec<EmuDevice>), Failure> {
    org.users.get_mut(name).ok_or_else(|| (USER_NOT_FOUND, "User does not exist.".to_owned()))
}

/// Pair a device of `kind` with `value` for `name`; its `deviceId`.
pub(crate) fn pair(org: &mut Org, name: &str, kind: &str, value: &str, nickname: Option<&str>) -> Result<i64, Failure> {
    let ok = match kind {
        "EMAIL" => value.contains('@') && !value.contains(char::is_whitespace),
        "SMS" | "VOICE" => {
            let allowed = |c: char| c.is_ascii_digit() || " +-()".contains(c) || (kind == "VOICE" && c == ',');
            value.chars().all(allowed) && value.chars().filter(char::is_ascii_digit).count() >= 7
        }
        other => return Err(invalid(format!("type '{other}' is not supported for offline pairing by the emulator"))),
    };
    if !ok {
        return Err(invalid(format!("pairingData is not a valid {kind} address or number")));
    }
    let id = org.next_device;
    org.next_device += 1;
    let (_, devices) = user(org, name)?;
    let email = (kind == "EMAIL").then(|| value.to_owned());
    let phone_number = (kind != "EMAIL").then(|| value.to_owned());
    let role = if devices.is_empty() { "PRIMARY" } else { "SECONDARY" }.to_owned();
    devices.push(EmuDevice {
        device_id: id,
        nickname: nickname.map(str::to_owned),
        kind: kind.to_owned(),
        email,
        phone_number,
        role,
    });
    Ok(id)
}

fn device_id(v: Option<&Value>) -> Result<Option<i64>, Failure> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid("deviceId must be a whole number")),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| invalid("deviceId must be a whole number")),
        Some(other) => Err(invalid(format!("deviceId must be a number, not {other}"))),
    }
}

/// Carry out `op` on `org`: the `responseBody` fields of a success, or `(errorId, errorMsg)`.
pub(crate) fn run(org: &mut Org, op: &str, body: &Value) -> OpResult {
    let map = body.as_object().ok_or_else(|| invalid("reqBody must be an object"))?;
    let b = Body(map);
    let mut out = Map::new();
    match op {
        "getuserdetails" => {
            b.only(&["userName", "getSameDeviceUsers", "clientData"])?;
            let (u, devices) = user(org, &b.req("userName")?)?;
            out.insert("userDetails".into(), user_json(u, devices));
            out.insert("sameDeviceUsersDetails".into(), json!([]));
        }
        "adduser" => {
            b.only(&["activateUser", "username", "fname", "lname", "email", "role", "deviceType", "clientData"])?;
            let name = b.req("username")?;
            if name.chars().count() > 250 {
                return Err(invalid("username is longer than 250 characters"));
            }
            let role = b.opt("role")?.unwrap_or_else(|| "REGULAR".into());
            if role != "REGULAR" && role != "ADMIN" {
                return Err(invalid("role must be REGULAR or ADMIN"));
            }
            if org.users.contains_key(&name) {
                return Err((
                    USER_EXISTS,
                    "User already exists. Username should be unique within the organization.".into(),
                ));
            }
            let u = EmuUser {
                user_name: name.clone(),
                email: b.opt("email")?,
                fname: b.opt("fname")?,
                lname: b.opt("lname")?,
                status: "ACTIVE".into(),
                role: Some(role),
            };
            out.insert("userDetails".into(), user_json(&u, &[]));
            org.users.insert(name, (u, Vec::new()));
        }
        "edituser" => {
            let name = b.req("userName")?;
            for renaming in ["username", "newUserName", "newUsername"] {
                if b.opt(renaming).ok().flatten().is_some_and(|n| n != name) {
                    return Err(invalid("The username cannot be changed"));
                }
            }
            b.only(&["userName", "fname", "lname", "email", "role", "activateUser", "clientData"])?;
            let (email, fname, lname, role) = (b.opt("email")?, b.opt("fname")?, b.opt("lname")?, b.opt("role")?);
            let (u, _) = user(org, &name)?;
            // The whole record is replaced: omitted fields become null.
            (u.email, u.fname, u.lname, u.role) = (email, fname, lname, role);
        }
        "suspenduser" => {
            b.only(&["userName", "clientData"])?;
            let (u, _) = user(org, &b.req("userName")?)?;
            if u.status != "ACTIVE" {
                return Err((
                    NOT_ACTIVE,
                    "User suspension failed. The user is not active and cannot be suspended.".into(),
                ));
            }
            u.status = "SUSPENDED".into();
        }
        "activateuser" => {
            b.only(&["userName", "deviceType", "clientData"])?;
            let (u, _) = user(org, &b.req("userName")?)?;
            if u.status == "ACTIVE" {
                return Err((ALREADY_ACTIVE, "Activation failed. Active user can not be activated again.".into()));
            }
            u.status = "ACTIVE".into();
        }
        "deleteuser" => {
            b.only(&["userName", "clientData"])?;
            let name = b.req("userName")?;
            user(org, &name)?;
            org.users.remove(&name);
        }
        "offlinepairing" => {
            b.only(&["username", "type", "pairingData", "validateUniqueDevice", "clientData"])?;
            let (name, kind, data) = (b.req("username")?, b.req("type")?, b.req("pairingData")?);
            let id = pair(org, &name, &kind, &data, None)?;
            out.insert("deviceId".into(), id.into());
            out.insert("deviceUuid".into(), format!("emul-{id:x}").into());
        }
        "unpairdevice" => {
            b.only(&["userName", "deviceId", "clientData"])?;
            let name = b.req("userName")?;
            let id = device_id(map.get("deviceId"))?;
            let (_, devices) = user(org, &name)?;
            match id {
                None => {
                    devices.clear();
                    org.unpair_all += 1;
                }
                Some(id) => {
                    let i = devices.iter().position(|d| d.device_id == id).ok_or_else(|| invalid("No such device"))?;
                    let removed = devices.remove(i);
                    if removed.role == "PRIMARY"
                        && let Some(first) = devices.first_mut()
                    {
                        first.role = "PRIMARY".into();
                    }
                }
            }
        }
        "updatedeviceattr" => {
            b.only(&["userName", "deviceId", "attributeName", "attributeValue", "clientData"])?;
            let (name, attr, value) = (b.req("userName")?, b.req("attributeName")?, b.req("attributeValue")?);
            let id = device_id(map.get("deviceId"))?.ok_or_else(|| invalid("'deviceId' is required"))?;
            let (_, devices) = user(org, &name)?;
            let i = devices.iter().position(|d| d.device_id == id).ok_or_else(|| invalid("No such device"))?;
            match attr.as_str() {
                "NICKNAME" if value.chars().count() <= 100 => devices[i].nickname = Some(value),
                "SET_PRIMARY" if value == "true" => {
                    for (j, d) in devices.iter_mut().enumerate() {
                        d.role = if i == j { "PRIMARY" } else { "SECONDARY" }.into();
                    }
                }
                "ORDER" if value.parse::<u32>().is_ok() => {}
                _ => return Err(invalid(format!("attributeName {attr} with value '{value}' is not valid"))),
            }
        }
        other => return Err((404, format!("Unknown operation {other}"))),
    }
    Ok(out)
}
