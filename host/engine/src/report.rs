//! What a cycle tells its caller: one [`ChannelReport`] per channel it
//! ran (or could not run), the rows of a dry run's plan, and [`total`], the
//! sum the summary table ends with. The engine fills them in; the binary
//! prints them, serves them (status page, metrics) and derives the exit
//! status from them; the state store keeps each one's [`CycleSummary`].

use provisio_state::CycleSummary;

/// What one channel's cycle did, for the summary table and `plan`.
#[derive(Debug, Clone, Default)]
pub struct ChannelReport {
    pub connection: String,
    pub channel: String,
    pub summary: CycleSummary,
    /// Users that failed, with the reason (redacted).
    pub failures: Vec<(String, String)>,
    /// Warnings (suppressed actions, mapping fallbacks).
    pub warnings: Vec<String>,
    /// In a dry run: per user what would happen and why.
    pub plan: Vec<PlanRow>,
    /// Set when the channel sat this cycle out in quarantine.
    pub quarantined: Option<String>,
    /// Failed user operations by kind (`create`, `update`, `enable`,
    /// `disable`, `delete`), for the service's metrics.
    pub failed_by_kind: std::collections::BTreeMap<&'static str, u64>,
}

/// One row of `provisio plan`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanRow {
    pub user: String,
    pub source_id: String,
    pub action: String,
    pub why: String,
}

/// Sum of several channel summaries.
pub fn total(reports: &[ChannelReport]) -> CycleSummary {
    let mut t = CycleSummary::default();
    for r in reports {
        let s = &r.summary;
        t.created += s.created;
        t.linked += s.linked;
        t.updated += s.updated;
        t.disabled += s.disabled;
        t.enabled += s.enabled;
        t.deleted += s.deleted;
        t.skipped += s.skipped;
        t.failed += s.failed;
        t.duration_ms = t.duration_ms.max(s.duration_ms);
    }
    t
}
