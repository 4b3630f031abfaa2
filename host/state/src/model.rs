//! The values the store keeps and returns: keys, user and group state,
//! cycles, summaries and intents.
//!
//! Nothing here holds an attribute value: users and groups carry the
//! *hash* of what was pushed (computed by the engine), the Unique User
//! Identifier's value (needed to re-find the account at the target), the
//! target's id and an error text. See the crate docs for the contract.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A channel's id in the store (stable across resets; shown by the CLI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelKey(pub(crate) i64);

impl ChannelKey {
    /// The numeric id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ChannelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A cycle's id (the audit log's `cycle_id`); never reused within a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CycleId(pub(crate) i64);

impl CycleId {
    /// The numeric id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a user was deprovisioned (the channel's Remove User Action then).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Deprovision {
    /// Disabled at the target (`active=false`); the account still exists
    /// and is re-enabled by an update if the user comes back in scope.
    Disabled,
    /// Deleted at the target; kept as a tombstone until the engine removes
    /// the row. A user who comes back in scope is created again.
    Deleted,
}

/// Where a user stands at the target, as far as the store knows.
///
/// In the database: `pending`, `active`, `disabled`,
/// `deprovisioned_disabled`, `deprovisioned_deleted` (also the serde form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum UserStatus {
    /// Known to the channel but not (yet) at the target: the create failed
    /// or is pending, or was suppressed (User Create off, or a disabled
    /// source user with Provision Disabled Users off). Usually no target id.
    #[default]
    Pending,
    /// At the target and active.
    Active,
    /// At the target and disabled because the source user is disabled
    /// (created disabled under Provision Disabled Users); not a deprovision.
    Disabled,
    /// Deprovisioned by the Remove User Action (left scope, deleted or
    /// disabled in the source).
    Deprovisioned(Deprovision),
}

impl UserStatus {
    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Pending => "pending",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
            UserStatus::Deprovisioned(Deprovision::Disabled) => "deprovisioned_disabled",
            UserStatus::Deprovisioned(Deprovision::Deleted) => "deprovisioned_deleted",
        }
    }

    /// Parse a stored word.
    pub fn parse(word: &str) -> Option<UserStatus> {
        Some(match word {
            "pending" => UserStatus::Pending,
            "active" => UserStatus::Active,
            "disabled" => UserStatus::Disabled,
            "deprovisioned_disabled" => UserStatus::Deprovisioned(Deprovision::Disabled),
            "deprovisioned_deleted" => UserStatus::Deprovisioned(Deprovision::Deleted),
            _ => return None,
        })
    }

    /// Whether an account exists at the target (active or not).
    pub fn exists_at_target(self) -> bool {
        matches!(self, UserStatus::Active | UserStatus::Disabled | UserStatus::Deprovisioned(Deprovision::Disabled))
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<UserStatus> for String {
    fn from(status: UserStatus) -> String {
        status.as_str().to_string()
    }
}

impl TryFrom<String> for UserStatus {
    type Error = String;
    fn try_from(word: String) -> Result<Self, String> {
        UserStatus::parse(&word).ok_or_else(|| format!("unknown user status '{word}'"))
    }
}

/// One source user as a channel knows it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserState {
    /// The source entry's GUID (the key within the channel).
    pub guid: String,
    /// The target's id for the account, once known.
    pub target_id: Option<String>,
    /// The Unique User Identifier's value (e.g. the userName) last pushed.
    pub unique_id: String,
    /// Hash of the mapped attributes last pushed successfully; empty if
    /// nothing was ever pushed. Never the attributes themselves.
    pub hash: String,
    /// Where the user stands at the target.
    pub status: UserStatus,
    /// The last push failed or is pending: retry next cycle.
    pub dirty: bool,
    /// Why the last push failed (no secret or masked values in it).
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub attempts: u32,
    /// When the row last changed (Unix seconds, as the engine passes them).
    pub updated_at: i64,
    /// When the row was first written; kept on later upserts.
    pub created_at: i64,
}

/// One source group as a channel knows it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupState {
    /// The source group's GUID.
    pub guid: String,
    /// The target's id for the group, once known.
    pub target_id: Option<String>,
    /// The group's name as pushed (CN or DN per Group Name Source).
    pub name: String,
    /// Hash of the membership pushed last.
    pub members_hash: String,
    /// The members' target ids pushed last.
    pub members: Vec<String>,
    /// The last push failed or is pending.
    pub dirty: bool,
    /// Why the last push failed.
    pub last_error: Option<String>,
}

/// What one cycle of one channel did. Stored as JSON; missing fields read
/// as zero, so fields can be added later.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CycleSummary {
    pub created: u64,
    pub linked: u64,
    pub updated: u64,
    pub disabled: u64,
    pub enabled: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Of `failed`: users for whom the target holds several accounts that
    /// provisio cannot prove it made (reported with every id; they never
    /// count toward quarantining the channel).
    pub ambiguous: u64,
    /// Duplicate accounts of provisio's own retried creates that the cycle
    /// removed (deleted, or disabled where the target cannot delete).
    pub deduplicated: u64,
    pub groups_created: u64,
    pub groups_updated: u64,
    pub groups_deleted: u64,
    pub duration_ms: u64,
    /// Why the cycle as a whole failed (e.g. the source was unreachable).
    pub error: Option<String>,
}

/// A cycle as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleRecord {
    pub id: CycleId,
    pub started_at: i64,
    /// `None` while running, or if the run died before finishing it.
    pub finished_at: Option<i64>,
    pub summary: Option<CycleSummary>,
}

/// One channel's line in `channels list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub key: ChannelKey,
    pub connection: String,
    pub channel: String,
    /// Users the channel knows (every row, tombstones included).
    pub users: u64,
    /// Users whose last push failed or is pending.
    pub dirty: u64,
    pub groups: u64,
    pub dirty_groups: u64,
    /// Create intents not settled (a run died between intent and settle).
    pub unsettled_intents: u64,
    /// Deprovisions held by the deletion guard, waiting for approval.
    pub held_deprovisions: u64,
    /// Group deletions held by the deletion guard, waiting for approval.
    #[serde(default)]
    pub held_group_deletions: u64,
    /// Quarantined until this Unix time, if the channel is.
    pub quarantined_until: Option<i64>,
    /// The latest cycle, finished or not.
    pub last_cycle: Option<CycleRecord>,
    /// The latest cycle's error if it had one, else the error of the most
    /// recently updated dirty user or group.
    pub last_error: Option<String>,
}

/// What an intent announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    /// A create at the target.
    Create,
}

impl IntentKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IntentKind::Create => "create",
        }
    }

    pub(crate) fn parse(word: &str) -> Option<IntentKind> {
        match word {
            "create" => Some(IntentKind::Create),
            _ => None,
        }
    }
}

/// Work recorded before it was done at the target and not yet settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub guid: String,
    pub kind: IntentKind,
    /// The Unique User Identifier's value the create was going to use: the
    /// key to look the account up at the target.
    pub unique_id: String,
    pub created_at: i64,
    /// How many creates provisio may have sent for this user without
    /// learning their outcome: one per cycle that recorded the intent, plus
    /// each create sent again within a cycle after an unknown outcome. It
    /// bounds how many accounts at the target provisio can claim as its own
    /// (see the engine's `dedupe`).
    pub attempts: u32,
    /// Since when no create of the intent is known to be on its way: when
    /// the last one sent was given up on (a timeout, a lost answer), or when
    /// a lookup first found no account after a run died. `None` while a
    /// create may be in flight. A lookup that still finds no account a
    /// settling time after it clears the intent.
    pub checked_at: Option<i64>,
}

/// Which change-detection mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HighWater {
    /// The users' mark (USN or timestamp of the last processed change).
    Users,
    /// The groups' mark (`provmgr --reset-group-timestamp` clears it).
    Groups,
}

impl HighWater {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HighWater::Users => "users",
            HighWater::Groups => "groups",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_round_trip() {
        for s in [
            UserStatus::Pending,
            UserStatus::Active,
            UserStatus::Disabled,
            UserStatus::Deprovisioned(Deprovision::Disabled),
            UserStatus::Deprovisioned(Deprovision::Deleted),
        ] {
            assert_eq!(UserStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<UserStatus>(&json).unwrap(), s);
        }
        assert_eq!(UserStatus::parse("gone"), None);
    }

    #[test]
    fn summary_reads_missing_fields_as_zero() {
        let s: CycleSummary = serde_json::from_str(r#"{"created":2}"#).unwrap();
        assert_eq!(s.created, 2);
        assert_eq!(s.failed, 0);
        assert_eq!(s.error, None);
    }
}
