//! [`TargetOptions`]: how a [`ScimTarget`](super::ScimTarget) drives its
//! target. [`TargetOptions::from_settings`] gives the SCIM Provisioner's
//! behaviour for a connection's settings; a connector then sets its target's
//! quirks on top.
//!
//! Quirk knobs beyond the SCIM Provisioner's: `member_display` reads each
//! new member's user once (cached) and sends `{display, value}` member
//! references (Contentful); `group_rename` false never changes a group's
//! `displayName` and logs a warning instead (a target with no documented
//! rename).

use crate::client::ClientOptions;
use crate::config::ScimSettings;
use crate::group::MemberPatchStyle;

/// How groups are updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupUpdate {
    /// PUT the whole group.
    Put,
    /// PATCH, falling back to PUT when the target says PATCH is unsupported
    /// or answers 501/405.
    Patch,
    /// PATCH only: the target takes membership by PATCH alone; no fallback.
    PatchOnly,
}

/// How an existing group is found by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupLookup {
    /// List every group and compare `displayName` (the SCIM Provisioner).
    #[default]
    ListAll,
    /// `filter=displayName eq "…"`, then list-and-compare if the target
    /// refuses the filter (400, 403, 501).
    FilterThenList,
}

/// A target's quirks and choices.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Send `active` in user bodies (false where it is read-only, e.g.
    /// Contentful; disable/enable then answer `unsupported`).
    pub send_active: bool,
    /// Send `members` in POST/PUT group bodies. False for targets that
    /// ignore them: membership then goes by PATCH.
    pub members_in_group_body: bool,
    pub group_update: GroupUpdate,
    pub member_patch_style: MemberPatchStyle,
    pub group_lookup: GroupLookup,
    pub client: ClientOptions,
    /// Send `{display, value}` member references, the display being the
    /// member's full name read from its user resource (Contentful).
    pub member_display: bool,
    /// Push a group's new name. False keeps the target's `displayName`
    /// and warns (targets that document no rename).
    pub group_rename: bool,
}

impl TargetOptions {
    /// The SCIM Provisioner's behaviour for these settings.
    pub fn from_settings(settings: &ScimSettings) -> TargetOptions {
        TargetOptions {
            send_active: true,
            members_in_group_body: true,
            group_update: if settings.use_patch_for_group_updates { GroupUpdate::Patch } else { GroupUpdate::Put },
            member_patch_style: MemberPatchStyle::ValueFilter,
            group_lookup: GroupLookup::ListAll,
            client: ClientOptions::default(),
            member_display: false,
            group_rename: true,
        }
    }
}
