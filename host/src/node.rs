//! A failover node (`[engine.cluster] mode = "failover"`): its heartbeat
//! thread and the leases of the channels it runs.
//!
//! [`Node::start`] registers the node in the PostgreSQL store (waiting
//! while a live process still uses its id), waits until the list of live
//! nodes holds still for a heartbeat interval (so nodes started together
//! spread the channels from the first cycle), takes its first leases and
//! starts a thread that heartbeats every `heartbeat_interval`. Each
//! heartbeat renews the leases held (by fencing token), releases those the
//! node should no longer hold (another node is assigned the channel, or
//! this node was put in backup) unless a cycle of the channel is running,
//! and takes the channels assigned to it ([`provisio_state::cluster::assign`])
//! that are free or whose holder has been silent for the grace period.
//!
//! The engine runs a channel only under a [`LeaseGuard`] ([`Node::begin`]):
//! while it lives the channel's lease is not released, the host refuses
//! every request to the target (and cancels a running operation) once the
//! lease's **local deadline** has passed ([`provisio_runtime::fence`])
//! (the start of the last successful renewal plus the lease TTL, half the
//! grace period, on this process's monotonic clock), and the state store
//! verifies the fencing token in every write transaction
//! ([`provisio_state::Fence`]). A process paused past its deadline thus
//! sends nothing when it resumes, even before its heartbeat thread runs.

use provisio_config::ClusterSettings;
use provisio_runtime::fence::LeaseGate;
use provisio_state::cluster::{Cluster, HeldLease, assign};
use provisio_state::{Fence, PgConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `(connection, channel)`.
type Key = (String, String);

/// A lease this node holds.
#[derive(Debug, Clone, Copy)]
struct Slot {
    token: i64,
    deadline: Instant,
    busy: bool,
}

/// What the heartbeat thread and the engine share.
#[derive(Debug)]
struct Shared {
    settings: ClusterSettings,
    /// Every channel the configuration runs, in order.
    channels: Vec<Key>,
    leases: Mutex<BTreeMap<Key, Slot>>,
    backup: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    fn leases(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Slot>> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running failover node; [`Node::stop`] (or drop) stops heartbeating
/// and gives its leases back.
pub struct Node {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The lease state of one channel for this node, for metrics and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLease {
    pub connection: String,
    pub channel: String,
    /// `held` (this node runs it) or `standby` (another node does, or none).
    pub state: &'static str,
}

impl Node {
    /// Register, take the first leases, start heartbeating. Waits (logging
    /// why) while a live process still uses the node id, until it stops
    /// heartbeating for the grace period or a stop is requested.
    pub fn start(settings: ClusterSettings, pg: &PgConfig, channels: Vec<Key>) -> Result<Node, String> {
        let cluster = Cluster::connect(pg, &settings.node_id, settings.grace)
            .map_err(|e| format!("node '{}': {e}", settings.node_id))?;
        let host =
            std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
        loop {
            match cluster.register(&host).map_err(|e| format!("node '{}': {e}", settings.node_id))? {
                None => break,
                Some(why) => {
                    tracing::warn!(
                        "{why}; waiting for it to stop heartbeating (grace period {} s)",
                        settings.grace.as_secs()
                    );
                    if sleep_unless_stopped(settings.heartbeat, None, true) {
                        return Err(format!("{why}; stopped while waiting"));
                    }
                }
            }
        }
        tracing::info!(node = %settings.node_id, "failover node registered (heartbeat every {} s, grace period {} s, lease TTL {} s)",
            settings.heartbeat.as_secs(), settings.grace.as_secs(), settings.lease_ttl().as_secs());
        let shared = Arc::new(Shared {
            settings,
            channels,
            leases: Mutex::default(),
            backup: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let mut cluster = cluster;
        settle(&mut cluster, &shared, pg);
        let for_thread = shared.clone();
        let pg = pg.clone();
        let thread = std::thread::Builder::new()
            .name("provisio-heartbeat".into())
            .spawn(move || {
                // Not stopped by the signal itself: a cycle may still be
                // finishing under its lease; `Node::stop` ends the thread.
                while !sleep_unless_stopped(for_thread.settings.heartbeat, Some(&for_thread.stop), false) {
                    beat(&mut cluster, &for_thread, &pg, true);
                }
                // A clean stop: give every lease back and mark the node stopped.
                let held: Vec<(Key, Slot)> = std::mem::take(&mut *for_thread.leases()).into_iter().collect();
                for ((c, ch), slot) in held {
                    if let Err(e) = cluster.release(&(c.clone(), ch.clone(), slot.token)) {
                        tracing::warn!("cannot release the lease of {c}/{ch}: {e}");
                    }
                }
                if let Err(e) = cluster.stop() {
                    tracing::warn!("cannot mark the node stopped: {e}");
                }
            })
            .map_err(|e| format!("cannot start the heartbeat thread: {e}"))?;
        Ok(Node { shared, thread: Some(thread) })
    }

    /// The node's id.
    pub fn id(&self) -> &str {
        &self.shared.settings.node_id
    }

    /// Start running a channel if this node holds its lease and its
    /// deadline has not passed: the guard keeps the lease from being
    /// released until dropped.
    pub fn begin(&self, connection: &str, channel: &str) -> Option<LeaseGuard> {
        let key = (connection.to_owned(), channel.to_owned());
        let mut leases = self.shared.leases();
        let slot = leases.get_mut(&key)?;
        if Instant::now() >= slot.deadline {
            return None;
        }
        slot.busy = true;
        Some(LeaseGuard { shared: self.shared.clone(), token: slot.token, key })
    }

    /// Every configured channel with this node's lease state.
    pub fn lease_states(&self) -> Vec<ChannelLease> {
        lease_states(&self.shared)
    }

    /// A live view of this node for the service (metrics, readiness, page).
    pub fn view(&self) -> NodeView {
        let shared = self.shared.clone();
        Arc::new(move || NodeState {
            node_id: shared.settings.node_id.clone(),
            backup: shared.backup.load(Ordering::SeqCst),
            channels: lease_states(&shared),
        })
    }

    /// Whether the node was put in backup (`provisio nodes backup`).
    pub fn is_backup(&self) -> bool {
        self.shared.backup.load(Ordering::SeqCst)
    }

    /// Stop heartbeating and give the leases back (waits for the thread).
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Every configured channel with the node's lease state.
fn lease_states(shared: &Shared) -> Vec<ChannelLease> {
    let leases = shared.leases();
    let now = Instant::now();
    shared
        .channels
        .iter()
        .map(|k| ChannelLease {
            connection: k.0.clone(),
            channel: k.1.clone(),
            state: if leases.get(k).is_some_and(|s| now < s.deadline) { "held" } else { "standby" },
        })
        .collect()
}

/// What the service shows of a failover node.
#[derive(Debug, Clone)]
pub struct NodeState {
    pub node_id: String,
    /// Put in backup (`provisio nodes backup`).
    pub backup: bool,
    pub channels: Vec<ChannelLease>,
}

/// A live view of the node ([`Node::view`]).
pub type NodeView = Arc<dyn Fn() -> NodeState + Send + Sync>;

/// A channel being run under this node's lease (see [`Node::begin`]).
pub struct LeaseGuard {
    shared: Arc<Shared>,
    key: Key,
    token: i64,
}

impl LeaseGuard {
    /// The lease as the connection sees it: its local deadline (`None` once
    /// the lease was lost at a heartbeat) and its fencing token.
    pub fn gate(&self) -> LeaseGate {
        let (shared, key, token) = (self.shared.clone(), self.key.clone(), self.token);
        let deadline = Arc::new(move || shared.leases().get(&key).filter(|s| s.token == token).map(|s| s.deadline));
        LeaseGate::new(format!("{}/{}", self.key.0, self.key.1), token, deadline)
    }

    /// The state store's fence for this lease.
    pub fn fence(&self) -> Fence {
        Fence {
            connection: self.key.0.clone(),
            channel: self.key.1.clone(),
            node_id: self.shared.settings.node_id.clone(),
            token: self.token,
            grace_ms: self.shared.settings.grace.as_millis() as i64,
            valid: {
                let gate = self.gate();
                Arc::new(move || gate.is_open())
            },
        }
    }
}

impl provisio_engine::Leases for Node {
    fn begin(&self, connection: &str, channel: &str) -> Option<Box<dyn provisio_engine::CycleLease + '_>> {
        Node::begin(self, connection, channel).map(|guard| Box::new(guard) as Box<dyn provisio_engine::CycleLease>)
    }
}

impl provisio_engine::CycleLease for LeaseGuard {
    fn gate(&self) -> LeaseGate {
        LeaseGuard::gate(self)
    }

    fn fence(&self) -> Fence {
        LeaseGuard::fence(self)
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.shared.leases().get_mut(&self.key)
            && slot.token == self.token
        {
            slot.busy = false;
        }
    }
}

/// The first heartbeats of a starting node: nodes started together spread
/// the channels from their first cycle, so the node takes no lease until the
/// list of live nodes has held still over one heartbeat interval (each node
/// registered meanwhile has then been seen), or for at most the grace
/// period; then it takes its share. A stop requested meanwhile ends the
/// wait without taking anything.
fn settle(cluster: &mut Cluster, shared: &Shared, pg: &PgConfig) {
    let give_up = Instant::now() + shared.settings.grace;
    let mut seen = beat(cluster, shared, pg, false);
    loop {
        if sleep_unless_stopped(shared.settings.heartbeat, None, true) {
            return;
        }
        let live = beat(cluster, shared, pg, false);
        if (live.is_some() && live == seen) || Instant::now() >= give_up {
            break;
        }
        tracing::debug!(node = %shared.settings.node_id, "live nodes changed ({seen:?} -> {live:?}); waiting one more heartbeat before taking leases");
        seen = live;
    }
    beat(cluster, shared, pg, true);
}

/// One heartbeat (see the module documentation), taking the assigned
/// channels' leases when `claim`; the live active nodes it saw. Errors are
/// logged: the leases are then not renewed and expire locally at their
/// deadline.
fn beat(cluster: &mut Cluster, shared: &Shared, pg: &PgConfig, claim: bool) -> Option<Vec<String>> {
    let started = Instant::now();
    let ttl = shared.settings.lease_ttl();
    let held: Vec<HeldLease> = shared.leases().iter().map(|((c, ch), s)| (c.clone(), ch.clone(), s.token)).collect();
    let beat = match cluster.heartbeat(&held) {
        Ok(beat) => beat,
        Err(e) => {
            tracing::warn!(node = %shared.settings.node_id, "heartbeat failed (leases not renewed; they expire locally {} s after the last renewal): {e}", ttl.as_secs());
            // The session may be gone (the server ends one left inside a
            // transaction): a new one for the next heartbeat.
            if let Err(e) = cluster.reconnect(pg) {
                tracing::warn!(node = %shared.settings.node_id, "cannot reconnect to the state store: {e}");
            }
            return None;
        }
    };
    if beat.replaced {
        tracing::error!(node = %shared.settings.node_id, "another process registered under this node id: giving every lease up");
    }
    shared.backup.store(beat.backup, Ordering::SeqCst);
    {
        let mut leases = shared.leases();
        for (c, ch, token) in &beat.renewed {
            if let Some(slot) = leases.get_mut(&(c.clone(), ch.clone()))
                && slot.token == *token
            {
                slot.deadline = started + ttl;
            }
        }
        for (c, ch, token) in &beat.lost {
            let key = (c.clone(), ch.clone());
            if leases.get(&key).is_some_and(|s| s.token == *token) {
                leases.remove(&key);
                tracing::warn!(node = %shared.settings.node_id, "lease of {c}/{ch} lost (another node took it over)");
            }
        }
    }
    if beat.replaced {
        shared.leases().clear();
        return Some(beat.live);
    }
    let me = shared.settings.node_id.as_str();
    let assigned = |k: &Key| !beat.backup && assign(&format!("{}/{}", k.0, k.1), &beat.live) == Some(me);
    // Release what is no longer ours, unless a cycle of it is running: the
    // local slot goes first, so nothing writes under it once released.
    let to_release: Vec<(Key, i64)> = {
        let mut leases = shared.leases();
        let keys: Vec<Key> = leases.iter().filter(|(k, s)| !s.busy && !assigned(k)).map(|(k, _)| k.clone()).collect();
        keys.into_iter().filter_map(|k| leases.remove(&k).map(|s| (k, s.token))).collect()
    };
    for ((c, ch), token) in to_release {
        match cluster.release(&(c.clone(), ch.clone(), token)) {
            Ok(()) => tracing::info!(node = %me, "released the lease of {c}/{ch}"),
            Err(e) => {
                tracing::warn!(node = %me, "cannot release the lease of {c}/{ch} (it expires after the grace period): {e}")
            }
        }
    }
    for key in shared.channels.iter().filter(|k| claim && assigned(k)) {
        if shared.leases().contains_key(key) {
            continue;
        }
        let at = Instant::now();
        match cluster.acquire(&key.0, &key.1) {
            Ok(Some(token)) => {
                tracing::info!(node = %me, "took the lease of {}/{} (fencing token {token})", key.0, key.1);
                shared.leases().insert(key.clone(), Slot { token, deadline: at + ttl, busy: false });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(node = %me, "cannot take the lease of {}/{}: {e}", key.0, key.1),
        }
    }
    Some(beat.live)
}

/// Sleep `total` in short steps; `true` as soon as a stop is requested
/// (`flag`, or with `signals` the process's SIGTERM or Ctrl-C).
fn sleep_unless_stopped(total: Duration, flag: Option<&AtomicBool>, signals: bool) -> bool {
    let end = Instant::now() + total;
    loop {
        if (signals && provisio_engine::shutdown::requested()) || flag.is_some_and(|f| f.load(Ordering::SeqCst)) {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(100)));
    }
}
