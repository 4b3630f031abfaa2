//! The Prometheus metrics of a long-running `provisio sync`, served at
//! `GET /metrics` by [`super`] in the OpenMetrics text format (which
//! Prometheus scrapes natively), built with the `prometheus-client` crate.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `provisio_cycles_total` | counter | `connection`, `channel`, `result` | channel cycles run since the start; `result` is `success`, `failure` (the cycle could not run, or most of its operations failed: what counts towards quarantine) or `quarantined` (sat out) |
//! | `provisio_operations_total` | counter | `connection`, `channel`, `kind`, `outcome` | user operations: `kind` `create`, `link`, `update`, `disable`, `enable`, `delete`, `skip` (and `group_create`, `group_update`, `group_delete`, `group` for groups), `outcome` `success` or `failure` |
//! | `provisio_cycle_duration_seconds` | histogram | `connection`, `channel` | how long each channel cycle took |
//! | `provisio_operation_duration_seconds` | histogram | `connection`, `operation`, `outcome` | each connector call (`create_user`, `find_user`, `test_connection`, ...), measured around `Connection::call`, retries within a call included |
//! | `provisio_users` | gauge | `connection`, `channel` | users the channel's state knows |
//! | `provisio_dirty_records` | gauge | `connection`, `channel` | users whose last push failed, waiting for a retry |
//! | `provisio_held_deprovisions` | gauge | `connection`, `channel` | deprovisions the deletion guard holds for approval |
//! | `provisio_held_group_deletions` | gauge | `connection`, `channel` | group deletions the deletion guard holds for approval |
//! | `provisio_channel_quarantined` | gauge | `connection`, `channel` | 1 while the channel is quarantined |
//! | `provisio_quarantined_channels` | gauge | | how many channels are quarantined |
//! | `provisio_lease_state` | gauge | `state`; with failover also `connection`, `channel` | 1 for the node's lease state: `standalone` (one node, no shared lease); with failover one series per channel, `held` (this node runs it), `standby` (another node does, or nobody yet) or `backup` (this node is in backup) |
//! | `provisio_ready` | gauge | | 1 when `/health/ready` answers 200 |
//!
//! Counters and histograms are fed by the cycle loop ([`Metrics::record_cycle`])
//! and by [`observe_call`], which the engine's observer
//! ([`crate::observe::Console`]) calls for every connector operation while a
//! service runs (a no-op otherwise). Gauges are
//! read from the state store at each scrape, so they agree with
//! `provisio channels list` even when another command changed the store.
//! Labels carry connection and channel names only: never a setting, a user
//! or an error text.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use provisio_engine::ChannelReport;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::view::StoreView;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    connection: String,
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CycleLabels {
    connection: String,
    channel: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    connection: String,
    channel: String,
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    connection: String,
    operation: &'static str,
    outcome: &'static str,
}

/// `state` alone (standalone), or `connection`, `channel` and `state`
/// (failover).
type LeaseLabels = Vec<(&'static str, String)>;

/// Histogram buckets: `start`, doubling, `count` of them.
#[derive(Clone)]
struct Buckets {
    start: f64,
    count: u16,
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(self.start, 2.0, self.count))
    }
}

/// The user-operation kinds, as `provisio_operations_total` labels them.
pub const KINDS: [&str; 7] = ["create", "link", "update", "disable", "enable", "delete", "skip"];

/// Every metric of the service.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    cycles: Family<CycleLabels, Counter>,
    operations: Family<OperationLabels, Counter>,
    cycle_duration: Family<ChannelLabels, Histogram, Buckets>,
    call_duration: Family<CallLabels, Histogram, Buckets>,
    users: Family<ChannelLabels, Gauge>,
    dirty: Family<ChannelLabels, Gauge>,
    held: Family<ChannelLabels, Gauge>,
    held_groups: Family<ChannelLabels, Gauge>,
    quarantined: Family<ChannelLabels, Gauge>,
    quarantined_total: Gauge,
    lease: Family<LeaseLabels, Gauge>,
    ready: Gauge,
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buckets({} ×2^{})", self.start, self.count)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("provisio"),
            cycles: Family::default(),
            operations: Family::default(),
            // 50 ms to about 14 minutes.
            cycle_duration: Family::new_with_constructor(Buckets { start: 0.05, count: 15 }),
            // 5 ms to about 41 s.
            call_duration: Family::new_with_constructor(Buckets { start: 0.005, count: 14 }),
            users: Family::default(),
            dirty: Family::default(),
            held: Family::default(),
            held_groups: Family::default(),
            quarantined: Family::default(),
            quarantined_total: Gauge::default(),
            lease: Family::default(),
            ready: Gauge::default(),
        };
        let mut m = m;
        let r = &mut m.registry;
        r.register("cycles", "Channel cycles run, by result (success, failure, quarantined)", m.cycles.clone());
        r.register("operations", "User and group operations, by kind and outcome", m.operations.clone());
        r.register_with_unit(
            "cycle_duration",
            "Duration of each channel cycle",
            Unit::Seconds,
            m.cycle_duration.clone(),
        );
        r.register_with_unit(
            "operation_duration",
            "Duration of each connector call (retries within the call included)",
            Unit::Seconds,
            m.call_duration.clone(),
        );
        r.register("users", "Users the channel's state knows", m.users.clone());
        r.register("dirty_records", "Users whose last push failed, waiting for a retry", m.dirty.clone());
        r.register("held_deprovisions", "Deprovisions held by the deletion guard until approved", m.held.clone());
        r.register(
            "held_group_deletions",
            "Group deletions held by the deletion guard until approved",
            m.held_groups.clone(),
        );
        r.register("channel_quarantined", "1 while the channel is quarantined", m.quarantined.clone());
        r.register("quarantined_channels", "Channels in quarantine", m.quarantined_total.clone());
        r.register(
            "lease_state",
            "1 for this node's lease state (standalone; with failover per channel: held, standby, backup)",
            m.lease.clone(),
        );
        r.register("ready", "1 when /health/ready answers 200", m.ready.clone());
        m.lease.get_or_create(&vec![("state", "standalone".to_owned())]).set(1);
        m
    }

    /// Count what one cycle did.
    pub fn record_cycle(&self, reports: &[ChannelReport]) {
        for r in reports {
            let (connection, channel) = (r.connection.clone(), r.channel.clone());
            let result = if r.quarantined.is_some() {
                "quarantined"
            } else if provisio_engine::quarantine::failing(&r.summary).is_some() {
                "failure"
            } else {
                "success"
            };
            for res in ["success", "failure", "quarantined"] {
                let c = self.cycles.get_or_create(&CycleLabels {
                    connection: connection.clone(),
                    channel: channel.clone(),
                    result: res,
                });
                if res == result {
                    c.inc();
                }
            }
            if r.quarantined.is_some() {
                continue;
            }
            self.cycle_duration
                .get_or_create(&ChannelLabels { connection: connection.clone(), channel: channel.clone() })
                .observe(r.summary.duration_ms as f64 / 1000.0);
            let s = &r.summary;
            let successes = [s.created, s.linked, s.updated, s.disabled, s.enabled, s.deleted, s.skipped];
            let mut user_failures = 0;
            for (kind, done) in KINDS.iter().zip(successes) {
                let failed = r.failed_by_kind.get(kind).copied().unwrap_or(0);
                user_failures += failed;
                self.add(&connection, &channel, kind, "success", done);
                self.add(&connection, &channel, kind, "failure", failed);
            }
            self.add(&connection, &channel, "group_create", "success", s.groups_created);
            self.add(&connection, &channel, "group_update", "success", s.groups_updated);
            self.add(&connection, &channel, "group_delete", "success", s.groups_deleted);
            // Failures the cycle did not attribute to a user kind are groups'.
            let group_failures = s.failed.saturating_sub(user_failures);
            if group_failures > 0 || s.groups_created + s.groups_updated + s.groups_deleted > 0 {
                self.add(&connection, &channel, "group", "failure", group_failures);
            }
        }
    }

    fn add(&self, connection: &str, channel: &str, kind: &'static str, outcome: &'static str, n: u64) {
        let labels = OperationLabels { connection: connection.to_owned(), channel: channel.to_owned(), kind, outcome };
        self.operations.get_or_create(&labels).inc_by(n);
    }

    /// One connector call's duration.
    pub fn observe_call(&self, connection: &str, operation: &'static str, elapsed: Duration, ok: bool) {
        let labels = CallLabels {
            connection: connection.to_owned(),
            operation,
            outcome: if ok { "success" } else { "failure" },
        };
        self.call_duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The text of a scrape: the gauges set from `view`, then everything.
    pub fn encode(
        &self,
        view: &StoreView,
        ready: bool,
        node: Option<&crate::node::NodeState>,
    ) -> Result<String, std::fmt::Error> {
        if let Some(node) = node {
            self.lease.clear();
            for c in &node.channels {
                let state = if node.backup && c.state != "held" { "backup" } else { c.state };
                let labels = vec![
                    ("connection", c.connection.clone()),
                    ("channel", c.channel.clone()),
                    ("state", state.to_owned()),
                ];
                self.lease.get_or_create(&labels).set(1);
            }
        }
        for family in [&self.users, &self.dirty, &self.held, &self.held_groups, &self.quarantined] {
            family.clear();
        }
        let now = provisio_engine::audit::now_unix();
        let mut quarantined = 0;
        for ch in &view.channels {
            let labels = ChannelLabels { connection: ch.connection.clone(), channel: ch.channel.clone() };
            let s = ch.summary.as_ref();
            let q = s.and_then(|s| s.quarantined_until).is_some_and(|until| until > now);
            quarantined += i64::from(q);
            self.users.get_or_create(&labels).set(s.map_or(0, |s| s.users as i64));
            self.dirty.get_or_create(&labels).set(s.map_or(0, |s| s.dirty as i64));
            self.held.get_or_create(&labels).set(s.map_or(0, |s| s.held_deprovisions as i64));
            self.held_groups.get_or_create(&labels).set(s.map_or(0, |s| s.held_group_deletions as i64));
            self.quarantined.get_or_create(&labels).set(i64::from(q));
        }
        self.quarantined_total.set(quarantined);
        self.ready.set(i64::from(ready));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The metrics of the running service, for [`observe_call`].
static INSTALLED: RwLock<Option<Arc<Metrics>>> = RwLock::new(None);

/// Make `metrics` the target of [`observe_call`] (the service does, at start).
pub fn install(metrics: Arc<Metrics>) {
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = Some(metrics);
}

/// Stop observing calls (the service does, when it stops).
pub fn uninstall() {
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Record one connector call, if a service runs; nothing otherwise.
pub fn observe_call(connection: &str, operation: &'static str, elapsed: Duration, ok: bool) {
    if let Some(m) = INSTALLED.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        m.observe_call(connection, operation, elapsed, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_state::CycleSummary;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
    }

    #[test]
    fn a_cycle_is_counted_by_result_kind_and_outcome() {
        let m = Metrics::new();
        let mut r = ChannelReport {
            connection: "hr".into(),
            channel: "people".into(),
            summary: CycleSummary { created: 3, updated: 1, failed: 2, duration_ms: 1500, ..Default::default() },
            ..Default::default()
        };
        r.failed_by_kind.insert("update", 2);
        m.record_cycle(&[r]);
        m.observe_call("hr", "create_user", Duration::from_millis(20), true);
        let text = m.encode(&StoreView::default(), true, None).unwrap();
        let ops = |kind: &str, outcome: &str| {
            value(
                &text,
                &format!(
                    "provisio_operations_total{{connection=\"hr\",channel=\"people\",kind=\"{kind}\",outcome=\"{outcome}\"}}"
                ),
            )
        };
        assert_eq!(ops("create", "success"), Some(3.0), "{text}");
        assert_eq!(ops("update", "failure"), Some(2.0), "{text}");
        assert_eq!(ops("delete", "success"), Some(0.0), "{text}");
        assert_eq!(
            value(&text, "provisio_cycles_total{connection=\"hr\",channel=\"people\",result=\"success\"}"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(&text, "provisio_cycle_duration_seconds_count{connection=\"hr\",channel=\"people\"}"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(value(&text, "provisio_lease_state{state=\"standalone\"}"), Some(1.0), "{text}");
        assert_eq!(value(&text, "provisio_ready"), Some(1.0), "{text}");
        assert_eq!(
            value(
                &text,
                "provisio_operation_duration_seconds_count{connection=\"hr\",operation=\"create_user\",outcome=\"success\"}"
            ),
            Some(1.0),
            "{text}"
        );
    }
}
