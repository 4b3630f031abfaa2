//! What `provisio plan` shows of a channel: per user the action a cycle
//! would take and why, with users to provision looked up (read-only) at the
//! target to tell a link from a create. Nothing is written or sent but
//! those lookups.

use std::time::Duration;

use crate::cycle::ChannelRun;
use crate::decide::{Decision, Policy};
use crate::plan::Work;
use crate::report::PlanRow;

impl ChannelRun<'_> {
    /// What each user would get, looking users up (read-only) to tell a
    /// link from a create.
    pub(super) async fn dry_run_rows(&self, work: &[Work], policy: &Policy) -> Vec<PlanRow> {
        let timeout = Duration::from_secs(self.channel.timeout);
        let mut rows = Vec::with_capacity(work.len());
        for w in work {
            let (action, why) = match &w.decision {
                Decision::Nothing if w.state.as_ref().is_some_and(|s| s.dirty) => (
                    "wait".to_owned(),
                    "the last push failed; retried on schedule (`provisio channels retry` retries now)".to_owned(),
                ),
                Decision::Nothing => ("none".to_owned(), "in step with the target".to_owned()),
                Decision::Held(a) => {
                    ("held".to_owned(), format!("{a} held by the deletion guard until `provisio channels approve`"))
                }
                Decision::Skip { reason } => ("skip".to_owned(), (*reason).to_owned()),
                Decision::Suppressed { action, option } => {
                    ("skip".to_owned(), format!("{action} needed, but {option} is cleared"))
                }
                Decision::Update => (
                    "update".to_owned(),
                    if w.state.as_ref().is_some_and(|s| s.dirty) {
                        "the last push failed; retry".to_owned()
                    } else {
                        "mapped attributes changed".to_owned()
                    },
                ),
                Decision::Enable => ("re-enable".to_owned(), "enabled and in scope again".to_owned()),
                Decision::Deprovision(a) => (
                    a.to_string().to_lowercase(),
                    if w.record.is_none() {
                        format!("left the scope or was deleted; Remove User Action is {a}")
                    } else {
                        format!("disabled in the source; Remove User Action is {a}")
                    },
                ),
                Decision::Provision { active } => {
                    let state = if *active { "active" } else { "disabled" };
                    match self
                        .conn
                        .call::<Option<provisio_core::ops::TargetUser>>(
                            provisio_core::ops::Operation::FindUser { unique_id: w.unique_id.clone() },
                            timeout,
                        )
                        .await
                    {
                        Ok(Some(t)) => (
                            "link".to_owned(),
                            format!("an account with this identifier exists at the target (id {})", t.id),
                        ),
                        Ok(None) if policy.options.user_create => {
                            ("create".to_owned(), format!("new in scope; created {state}"))
                        }
                        Ok(None) => ("skip".to_owned(), "create needed, but User Create is cleared".to_owned()),
                        Err(e) => {
                            ("unknown".to_owned(), format!("lookup failed: {}", self.redactor.redact(&e.to_string())))
                        }
                    }
                }
            };
            rows.push(PlanRow { user: w.unique_id.clone(), source_id: w.guid.clone(), action, why });
        }
        rows
    }
}
