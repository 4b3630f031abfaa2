//! What the state store says about the configured channels, read at each
//! request of the service (the metrics' gauges and the status page).
//!
//! The store is opened read-only ([`StateStore::open_read_only`]: no run
//! lock, no migration), which works while the cycle loop writes it (WAL).
//! Only the channels of the running configuration are shown; a store that
//! does not exist yet (before the first cycle) reads as no state at all.

use provisio_config::Config;
use provisio_state::{ChannelSummary, CycleRecord, Held, HeldGroup, StateError, StateStore, UserState};

/// Cycles, dirty records and held deprovisions listed per channel on the page.
pub const LIST_LIMIT: usize = 20;
/// Past cycles shown per channel on the page.
pub const CYCLES_SHOWN: u32 = 5;

/// One configured channel and what the store holds for it.
#[derive(Debug, Clone, Default)]
pub struct ChannelView {
    pub connection: String,
    pub channel: String,
    pub active: bool,
    /// None: the channel has no state yet.
    pub summary: Option<ChannelSummary>,
    /// Why its last failing cycle failed, while it is failing (the channel
    /// health's reason: a cycle that could not start records no cycle).
    pub failure: Option<String>,
    /// The latest cycles, newest first (detail only).
    pub cycles: Vec<CycleRecord>,
    /// Up to [`LIST_LIMIT`] dirty users (detail only).
    pub dirty: Vec<UserState>,
    /// Up to [`LIST_LIMIT`] held deprovisions (detail only).
    pub held: Vec<Held>,
    /// Up to [`LIST_LIMIT`] held group deletions (detail only).
    pub held_groups: Vec<HeldGroup>,
}

/// The store as the service shows it.
#[derive(Debug, Clone, Default)]
pub struct StoreView {
    pub channels: Vec<ChannelView>,
    /// Why the store could not be read (it then shows as empty).
    pub error: Option<String>,
}

/// Read the store of `config` for its channels; `detail` adds the cycles,
/// dirty users, held deprovisions and held group deletions the page lists.
pub fn read(config: &Config, detail: bool) -> StoreView {
    let mut view = StoreView::default();
    for conn in &config.connections {
        for ch in &conn.channels {
            view.channels.push(ChannelView {
                connection: conn.name.clone(),
                channel: ch.name.clone(),
                active: conn.active && ch.active,
                ..ChannelView::default()
            });
        }
    }
    let store = match config.open_store_read_only() {
        Ok(store) => store,
        Err(StateError::NotFound { .. }) => return view,
        Err(e) => {
            view.error = Some(e.to_string());
            return view;
        }
    };
    if let Err(e) = fill(&store, &mut view, detail) {
        view.error = Some(e.to_string());
    }
    view
}

fn fill(store: &StateStore, view: &mut StoreView, detail: bool) -> Result<(), StateError> {
    for ch in &mut view.channels {
        let Some(key) = store.find_channel(&ch.connection, &ch.channel)? else { continue };
        ch.summary = store.channel_summary(key)?;
        ch.failure = store.health(key)?.reason;
        if detail {
            ch.cycles = store.cycles(key, CYCLES_SHOWN)?;
            let mut dirty = store.dirty_users(key)?;
            dirty.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.unique_id.cmp(&b.unique_id)));
            dirty.truncate(LIST_LIMIT);
            ch.dirty = dirty;
            let mut held = store.held(key)?;
            held.truncate(LIST_LIMIT);
            ch.held = held;
            let mut held_groups = store.held_groups(key)?;
            held_groups.truncate(LIST_LIMIT);
            ch.held_groups = held_groups;
        }
    }
    Ok(())
}
