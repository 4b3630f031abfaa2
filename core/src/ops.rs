//! The operation set: what the host asks a connector to do, and the answers.
//!
//! Every operation is one JSON request (`{"op": "create_user", ...}`) and one
//! JSON answer (`{"ok": ...}` or `{"err": ConnectorError}`). New abilities
//! arrive as new operations, never as new ABI fields: an older connector
//! answers an operation it does not know with `unsupported`.
//!
//! Attribute values are keyed by the field codes of the connector's
//! attribute catalogue; the connector turns them into its wire format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::manifest::{AttributeSpec, Capability};

/// A value of one mapped attribute: a single string, or a list for a
/// multi-valued field (roles, entitlements).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Single(String),
    Multi(Vec<String>),
}

impl AttributeValue {
    /// The value as one string: a single value, or the first of a list.
    pub fn first(&self) -> Option<&str> {
        match self {
            AttributeValue::Single(s) => Some(s),
            AttributeValue::Multi(v) => v.first().map(String::as_str),
        }
    }

    /// The values as a list.
    pub fn values(&self) -> Vec<&str> {
        match self {
            AttributeValue::Single(s) => vec![s.as_str()],
            AttributeValue::Multi(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl From<&str> for AttributeValue {
    fn from(s: &str) -> Self {
        AttributeValue::Single(s.to_owned())
    }
}

impl From<String> for AttributeValue {
    fn from(s: String) -> Self {
        AttributeValue::Single(s)
    }
}

/// Mapped attributes, keyed by field code.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// A user as the source says it should be at the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserRecord {
    /// The source entry's GUID (for logs and correlation; never an address).
    pub source_id: String,
    /// The value of the Unique User Identifier (normally `userName`).
    pub unique_id: String,
    /// Whether the account should be active.
    pub active: bool,
    /// Mapped attribute values by field code. Create-only fields are present
    /// only on create.
    pub attributes: Attributes,
    /// Field codes whose value should be removed at the target (mappings
    /// with `clear_when_empty` whose source value disappeared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear: Vec<String>,
}

/// A user as the target holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TargetUser {
    /// The target's own identifier.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Attribute values the connector could read back, by field code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// One page of the target's users ([`Operation::ListUsers`]).
///
/// Each listed user carries in `unique_id` a value [`Operation::FindUser`]
/// would find it by; a user findable by several values (e.g. several email
/// addresses) is listed once per value, and a user findable by none is left
/// out. `attributes` may be left empty: the engine links by `id` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserPage {
    pub users: Vec<TargetUser>,
    /// How many users the target holds in all, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The cursor of the next page; `None` on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A group as the source says it should be at the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GroupRecord {
    pub source_id: String,
    /// The target group name (CN or DN, per the connection's Group Name Source).
    pub name: String,
    /// Target ids of the members. Source membership is authoritative.
    pub members: Vec<String>,
}

/// A group as the target holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TargetGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// What the credential check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionReport {
    /// One line: what was tried and what the target answered.
    pub summary: String,
    /// Further facts learned (e.g. the target's advertised capabilities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// The target's schema as discovered ("Refresh Fields").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DiscoveredSchema {
    pub attributes: Vec<AttributeSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One request to a connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// The activation check: credentials against the target.
    TestConnection,
    /// Fetch the target's schema ("Refresh Fields").
    DiscoverSchema,
    /// Find a user by the value of the Unique User Identifier.
    FindUser {
        unique_id: String,
    },
    /// Every account the value of the Unique User Identifier matches, in
    /// the order the target lists them (oldest first where it can tell):
    /// empty, one, or several. [`Operation::FindUser`] answers an error for
    /// several; this answers them all, so the engine can tell the duplicates
    /// its own retries made from an ambiguity it must not touch.
    FindUsers {
        unique_id: String,
    },
    /// One page of every user the target holds ([`UserPage`]), so that a
    /// cycle with many users to provision links the existing ones from one
    /// listing instead of one lookup each. `cursor` is `None` for the first
    /// page, then the previous page's `next`; `count` is the page size
    /// asked for (a connector may return fewer).
    ListUsers {
        #[serde(default)]
        cursor: Option<String>,
        count: u32,
    },
    CreateUser {
        user: UserRecord,
    },
    /// Push the record onto the existing user `target_id`.
    UpdateUser {
        target_id: String,
        user: UserRecord,
    },
    DisableUser {
        target_id: String,
    },
    EnableUser {
        target_id: String,
    },
    DeleteUser {
        target_id: String,
    },
    FindGroup {
        name: String,
    },
    CreateGroup {
        group: GroupRecord,
    },
    /// Rename and/or set membership. `added` and `removed` are the changes
    /// since the last push, for connectors that PATCH.
    UpdateGroup {
        target_id: String,
        group: GroupRecord,
        #[serde(default)]
        added: Vec<String>,
        #[serde(default)]
        removed: Vec<String>,
    },
    DeleteGroup {
        target_id: String,
    },
}

impl Operation {
    /// The operation's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::TestConnection => "test_connection",
            Operation::DiscoverSchema => "discover_schema",
            Operation::FindUser { .. } => "find_user",
            Operation::FindUsers { .. } => "find_users",
            Operation::ListUsers { .. } => "list_users",
            Operation::CreateUser { .. } => "create_user",
            Operation::UpdateUser { .. } => "update_user",
            Operation::DisableUser { .. } => "disable_user",
            Operation::EnableUser { .. } => "enable_user",
            Operation::DeleteUser { .. } => "delete_user",
            Operation::FindGroup { .. } => "find_group",
            Operation::CreateGroup { .. } => "create_group",
            Operation::UpdateGroup { .. } => "update_group",
            Operation::DeleteGroup { .. } => "delete_group",
        }
    }

    /// The capability a connector must declare to answer this operation.
    pub fn capability(&self) -> Capability {
        match self {
            Operation::TestConnection => Capability::TestConnection,
            Operation::DiscoverSchema => Capability::DiscoverSchema,
            Operation::FindUser { .. } => Capability::UserFind,
            Operation::FindUsers { .. } => Capability::UserFindAll,
            Operation::ListUsers { .. } => Capability::UserList,
            Operation::CreateUser { .. } => Capability::UserCreate,
            Operation::UpdateUser { .. } => Capability::UserUpdate,
            Operation::DisableUser { .. } => Capability::UserDisable,
            Operation::EnableUser { .. } => Capability::UserEnable,
            Operation::DeleteUser { .. } => Capability::UserDelete,
            Operation::FindGroup { .. } => Capability::GroupFind,
            Operation::CreateGroup { .. } => Capability::GroupCreate,
            Operation::UpdateGroup { .. } => Capability::GroupUpdate,
            Operation::DeleteGroup { .. } => Capability::GroupDelete,
        }
    }
}

/// The answer to one operation, as it crosses the boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ok(serde_json::Value),
    Err(crate::error::ConnectorError),
}
