//! The connector manifest: what a connector declares about itself.
//!
//! A manifest is the static description the host reads before it runs
//! anything: the target settings form (PingFederate's "Target" tab), the
//! supported-attributes catalogue (the "Field Name" list of the attribute
//! mapping), the remove-user semantics, the provisioning-option defaults and
//! constraints, and the capabilities the connector implements today.
//!
//! It crosses the plugin boundary as JSON (serde), so it can grow new
//! optional fields without touching the ABI. The rules every manifest must
//! follow are checked by [`Manifest::validate`](crate::validate).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Everything a connector declares about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Stable identifier used in configuration files (`scim`, `pingid`, ...).
    /// Lower-case ASCII letters, digits, `-` and `_`.
    pub id: String,
    /// Human name, e.g. "SCIM Provisioner".
    pub display_name: String,
    /// One or two sentences for `provisio connectors show`.
    #[serde(default)]
    pub description: String,
    /// The connector's own version (its crate version).
    pub version: String,
    /// The version of `provisio-core` the connector was built against. Filled
    /// in by the SDK when the manifest crosses the boundary.
    #[serde(default)]
    pub sdk_version: String,
    /// The operation-protocol version the connector speaks. Filled in by the SDK.
    #[serde(default)]
    pub protocol: ProtocolVersion,
    /// The target settings form.
    pub settings: Vec<SettingSpec>,
    /// The supported-attributes catalogue.
    pub attributes: Vec<AttributeSpec>,
    /// Which remove-user actions the target supports, and the default.
    pub remove_user: RemoveUserSemantics,
    /// Defaults and constraints of the four provisioning options.
    pub options: ProvisioningOptionsSpec,
    /// What the connector implements today. An operation outside this set
    /// answers an `unsupported` error.
    pub capabilities: BTreeSet<Capability>,
    /// Documented choices and target quirks (for example the decisions taken
    /// where the specification leaves a fact open).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Version of the JSON operation protocol spoken across the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ProtocolVersion {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One field of the target settings form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    /// Key used in configuration files, e.g. `scim_url`.
    pub name: String,
    /// The exact UI label of the vendor's form, e.g. "SCIM URL".
    pub label: String,
    /// What kind of value it takes.
    pub kind: SettingKind,
    /// Whether a value must be given (after defaults are applied).
    #[serde(default)]
    pub required: bool,
    /// Required only when another setting has a given value (for example the
    /// Basic Authentication fields when the authentication method is Basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<Condition>,
    /// Default value, typed as the kind says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The allowed values of an `enum` setting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<AllowedValue>,
    /// A secret never appears in logs, output, audit records or state, and is
    /// given by reference (environment variable or file) in configuration.
    #[serde(default)]
    pub secret: bool,
    /// Section of the form this setting belongs to ("SCIM Overrides", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Help text.
    #[serde(default)]
    pub help: String,
}

/// `setting` must equal `equals` for the condition to hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub setting: String,
    pub equals: serde_json::Value,
}

/// The kinds of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// Free text.
    String,
    /// An absolute `http` or `https` URL.
    Url,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of the `allowed` values.
    Enum,
    /// A file the host reads and hands to the connector as text (for example
    /// PingID's `pingid.properties`). Connectors never touch the file system.
    File,
    /// A comma-separated list of strings.
    List,
}

impl SettingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingKind::String => "string",
            SettingKind::Url => "url",
            SettingKind::Integer => "integer",
            SettingKind::Boolean => "boolean",
            SettingKind::Enum => "enum",
            SettingKind::File => "file",
            SettingKind::List => "list",
        }
    }
}

/// One allowed value of an enum setting: the value used in configuration and
/// the label the vendor's form shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedValue {
    pub value: String,
    pub label: String,
}

/// One entry of the supported-attributes catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// Field code used in attribute mappings, e.g. `workEmail`.
    pub code: String,
    /// Where the value goes at the target: a SCIM path such as
    /// `emails[type eq "work"].value`, or the target API's field name.
    pub target: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub mutability: Mutability,
    /// Other codes accepted for this field in mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// RFC 7643 attribute mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    #[default]
    ReadWrite,
    /// Set on create, never changed afterwards.
    Immutable,
    /// Sent, never returned (passwords).
    WriteOnly,
    /// Never sent.
    ReadOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
            Mutability::ReadOnly => "readOnly",
        }
    }
}

/// What deprovisioning does at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RemoveUserAction {
    Disable,
    Delete,
}

impl fmt::Display for RemoveUserAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RemoveUserAction::Disable => "Disable",
            RemoveUserAction::Delete => "Delete",
        })
    }
}

/// `Disable` or `Delete`, case-insensitively (a configuration's
/// `remove_user_action`); the error names the value and the two choices.
impl std::str::FromStr for RemoveUserAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "disable" => Ok(RemoveUserAction::Disable),
            "delete" => Ok(RemoveUserAction::Delete),
            _ => Err(format!("'{s}' is not Disable or Delete")),
        }
    }
}

/// The remove-user actions a target supports and the default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveUserSemantics {
    pub supported: Vec<RemoveUserAction>,
    pub default: RemoveUserAction,
    /// What the actions mean at this target (e.g. "Delete removes the
    /// organization membership; the Contentful account survives").
    #[serde(default)]
    pub notes: String,
}

/// The four boolean provisioning options of PingFederate's Target tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisioningOption {
    UserCreate,
    UserUpdate,
    UserDisableDelete,
    ProvisionDisabledUsers,
}

impl ProvisioningOption {
    pub const ALL: [ProvisioningOption; 4] = [
        ProvisioningOption::UserCreate,
        ProvisioningOption::UserUpdate,
        ProvisioningOption::UserDisableDelete,
        ProvisioningOption::ProvisionDisabledUsers,
    ];

    /// The configuration key (`user_create`, ...).
    pub fn key(self) -> &'static str {
        match self {
            ProvisioningOption::UserCreate => "user_create",
            ProvisioningOption::UserUpdate => "user_update",
            ProvisioningOption::UserDisableDelete => "user_disable_delete",
            ProvisioningOption::ProvisionDisabledUsers => "provision_disabled_users",
        }
    }

    /// The label of the vendor's form.
    pub fn label(self) -> &'static str {
        match self {
            ProvisioningOption::UserCreate => "User Create",
            ProvisioningOption::UserUpdate => "User Update",
            ProvisioningOption::UserDisableDelete => "User Disable / Delete",
            ProvisioningOption::ProvisionDisabledUsers => "Provision Disabled Users",
        }
    }
}

/// Default and constraint of each provisioning option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningOptionsSpec {
    pub user_create: OptionSpec,
    pub user_update: OptionSpec,
    pub user_disable_delete: OptionSpec,
    pub provision_disabled_users: OptionSpec,
}

impl ProvisioningOptionsSpec {
    /// All four options with their defaults and no constraint.
    pub fn defaults(create: bool, update: bool, disable_delete: bool, provision_disabled: bool) -> Self {
        ProvisioningOptionsSpec {
            user_create: OptionSpec::free(create),
            user_update: OptionSpec::free(update),
            user_disable_delete: OptionSpec::free(disable_delete),
            provision_disabled_users: OptionSpec::free(provision_disabled),
        }
    }

    pub fn get(&self, option: ProvisioningOption) -> &OptionSpec {
        match option {
            ProvisioningOption::UserCreate => &self.user_create,
            ProvisioningOption::UserUpdate => &self.user_update,
            ProvisioningOption::UserDisableDelete => &self.user_disable_delete,
            ProvisioningOption::ProvisionDisabledUsers => &self.provision_disabled_users,
        }
    }

    pub fn get_mut(&mut self, option: ProvisioningOption) -> &mut OptionSpec {
        match option {
            ProvisioningOption::UserCreate => &mut self.user_create,
            ProvisioningOption::UserUpdate => &mut self.user_update,
            ProvisioningOption::UserDisableDelete => &mut self.user_disable_delete,
            ProvisioningOption::ProvisionDisabledUsers => &mut self.provision_disabled_users,
        }
    }

    /// The options as the defaults say.
    pub fn default_values(&self) -> ProvisioningOptions {
        ProvisioningOptions {
            user_create: self.user_create.default,
            user_update: self.user_update.default,
            user_disable_delete: self.user_disable_delete.default,
            provision_disabled_users: self.provision_disabled_users.default,
        }
    }
}

/// One provisioning option's default and constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub default: bool,
    #[serde(default)]
    pub constraint: OptionConstraint,
}

impl OptionSpec {
    pub fn free(default: bool) -> Self {
        OptionSpec { default, constraint: OptionConstraint::Free }
    }
}

/// What a configuration may do with a provisioning option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptionConstraint {
    /// Any value.
    #[default]
    Free,
    /// Must keep this value (Contentful: User Update must be off).
    Fixed { value: bool, reason: String },
    /// Takes effect only when `option` is also selected (Code42: User
    /// Disable / Delete needs User Update).
    Requires { option: ProvisioningOption, reason: String },
    /// Only for Provision Disabled Users: the target cannot hold disabled
    /// users, so a disabled in-scope source user is created *active*, with a
    /// warning, and the option cannot be selected (Code42).
    CreatesActive { reason: String },
}

/// The effective values of the four options for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningOptions {
    pub user_create: bool,
    pub user_update: bool,
    pub user_disable_delete: bool,
    pub provision_disabled_users: bool,
}

impl ProvisioningOptions {
    pub fn get(&self, option: ProvisioningOption) -> bool {
        match option {
            ProvisioningOption::UserCreate => self.user_create,
            ProvisioningOption::UserUpdate => self.user_update,
            ProvisioningOption::UserDisableDelete => self.user_disable_delete,
            ProvisioningOption::ProvisionDisabledUsers => self.provision_disabled_users,
        }
    }
}

/// One thing a connector implements. An operation whose capability is not
/// declared answers an `unsupported` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    TestConnection,
    DiscoverSchema,
    UserFind,
    /// Answers every account a Unique User Identifier value matches
    /// ([`crate::ops::Operation::FindUsers`]): what lets the engine see, and
    /// repair, duplicates its own retries made.
    UserFindAll,
    /// Lists the target's users page by page ([`crate::ops::Operation::ListUsers`]).
    UserList,
    UserCreate,
    UserUpdate,
    UserDisable,
    UserEnable,
    UserDelete,
    GroupFind,
    GroupCreate,
    GroupUpdate,
    GroupDelete,
    DeviceManagement,
}

impl Capability {
    pub const ALL: [Capability; 15] = [
        Capability::TestConnection,
        Capability::DiscoverSchema,
        Capability::UserFind,
        Capability::UserFindAll,
        Capability::UserList,
        Capability::UserCreate,
        Capability::UserUpdate,
        Capability::UserDisable,
        Capability::UserEnable,
        Capability::UserDelete,
        Capability::GroupFind,
        Capability::GroupCreate,
        Capability::GroupUpdate,
        Capability::GroupDelete,
        Capability::DeviceManagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::TestConnection => "test_connection",
            Capability::DiscoverSchema => "discover_schema",
            Capability::UserFind => "user_find",
            Capability::UserFindAll => "user_find_all",
            Capability::UserList => "user_list",
            Capability::UserCreate => "user_create",
            Capability::UserUpdate => "user_update",
            Capability::UserDisable => "user_disable",
            Capability::UserEnable => "user_enable",
            Capability::UserDelete => "user_delete",
            Capability::GroupFind => "group_find",
            Capability::GroupCreate => "group_create",
            Capability::GroupUpdate => "group_update",
            Capability::GroupDelete => "group_delete",
            Capability::DeviceManagement => "device_management",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Manifest {
    /// The setting called `name`, if the form has one.
    pub fn setting(&self, name: &str) -> Option<&SettingSpec> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The catalogue entry whose code or alias is `code`.
    pub fn attribute(&self, code: &str) -> Option<&AttributeSpec> {
        self.attributes.iter().find(|a| a.code == code || a.aliases.iter().any(|alias| alias == code))
    }

    pub fn supports(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }
}

/// Small constructors that keep manifest definitions readable.
impl SettingSpec {
    pub fn new(name: &str, label: &str, kind: SettingKind) -> Self {
        SettingSpec {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            required: false,
            required_when: None,
            default: None,
            allowed: Vec::new(),
            secret: false,
            group: None,
            help: String::new(),
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn required_when(mut self, setting: &str, equals: impl Into<serde_json::Value>) -> Self {
        self.required_when = Some(Condition { setting: setting.to_owned(), equals: equals.into() });
        self
    }
    pub fn default_value(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.default = Some(value.into());
        self
    }
    /// Allowed values as `(value, label)` pairs.
    pub fn allowed(mut self, values: &[(&str, &str)]) -> Self {
        self.allowed = values
            .iter()
            .map(|(value, label)| AllowedValue { value: (*value).to_owned(), label: (*label).to_owned() })
            .collect();
        self
    }
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }
    pub fn help(mut self, help: &str) -> Self {
        self.help = help.to_owned();
        self
    }
}

impl AttributeSpec {
    pub fn new(code: &str, target: &str) -> Self {
        AttributeSpec {
            code: code.to_owned(),
            target: target.to_owned(),
            required: false,
            multi_valued: false,
            mutability: Mutability::ReadWrite,
            aliases: Vec::new(),
            notes: String::new(),
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_owned());
        self
    }
    pub fn notes(mut self, notes: &str) -> Self {
        self.notes = notes.to_owned();
        self
    }
}
