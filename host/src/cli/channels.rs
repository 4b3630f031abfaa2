//! The channel commands: `channels list`, `reset`, `approve` and `retry`:
//! what the state store holds per channel, and the operator's hands on it.

use clap::Subcommand;
use provisio_config::Config;

use super::cycles::sync;
use super::engine::load_config;
use super::output::{out, print_json, table};
use super::{CliError, GlobalArgs};

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// Per channel: users, dirty records, last cycle and last error.
    List {
        /// Print the channels as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Forget a channel's state; the next cycle behaves as the first
    /// (existing target accounts are linked, not duplicated).
    Reset {
        /// `channel` or `connection/channel`.
        #[arg(long)]
        channel: String,
    },
    /// Release the deprovisions and group deletions the deletion guard
    /// held: the next cycle executes the ones that still apply.
    Approve {
        /// `channel` or `connection/channel`.
        #[arg(long)]
        channel: String,
    },
    /// Retry the dirty records now (runs one cycle of the channel, or of
    /// every channel).
    Retry {
        /// Only this channel (`channel` or `connection/channel`); every channel without it.
        #[arg(long)]
        channel: Option<String>,
    },
}

pub fn channels(global: &GlobalArgs, cmd: &ChannelsCommand) -> Result<(), CliError> {
    match cmd {
        ChannelsCommand::List { json } => {
            let config = load_config(global)?;
            let store = config.open_store_read_only()?;
            let summaries = store.channel_summaries()?;
            if *json {
                print_json(&serde_json::to_value(&summaries).unwrap_or_default())?;
                return Ok(());
            }
            let mut t =
                table(["CONNECTION", "CHANNEL", "STATUS", "USERS", "DIRTY", "HELD", "LAST CYCLE", "LAST ERROR"]);
            for s in &summaries {
                t.add_row(super::channels_row(s));
            }
            out!("{t}")?;
            Ok(())
        }
        ChannelsCommand::Reset { channel } => {
            let config = load_config(global)?;
            let store = config.open_store()?;
            let (conn, ch) = resolve_channel(&config, channel)?;
            let existed = store.reset_channel(&conn, &ch)?;
            if existed {
                out!(
                    "{conn}/{ch}: state forgotten; the next cycle behaves as the first (existing accounts are linked)"
                )?;
            } else {
                out!("{conn}/{ch}: had no state")?;
            }
            Ok(())
        }
        ChannelsCommand::Approve { channel } => {
            let config = load_config(global)?;
            let store = config.open_store()?;
            let (conn, ch) = resolve_channel(&config, channel)?;
            let key = store
                .find_channel(&conn, &ch)
                .map_err(|e| CliError::User(e.to_string()))?
                .ok_or_else(|| CliError::User(format!("{conn}/{ch} has no state yet; nothing is held")))?;
            let held = store.held(key)?;
            let held_groups = store.held_groups(key)?;
            if held.is_empty() && held_groups.is_empty() {
                out!("{conn}/{ch}: no deprovision or group deletion is held")?;
                return Ok(());
            }
            store.approve_held(key, provisio_engine::audit::now_unix())?;
            let some = |names: Vec<&str>, total: usize| {
                let more = if total > names.len() { ", ..." } else { "" };
                format!("{}{more}", names.join(", "))
            };
            let mut approved = Vec::new();
            if !held.is_empty() {
                let names = held.iter().take(10).map(|h| h.unique_id.as_str()).collect();
                approved.push(format!("{} held deprovision(s) approved ({})", held.len(), some(names, held.len())));
            }
            if !held_groups.is_empty() {
                let names = held_groups.iter().take(10).map(|g| g.name.as_str()).collect();
                approved.push(format!(
                    "{} held group deletion(s) approved ({})",
                    held_groups.len(),
                    some(names, held_groups.len())
                ));
            }
            out!("{conn}/{ch}: {}; the next cycle executes those that still apply", approved.join("; "))?;
            Ok(())
        }
        ChannelsCommand::Retry { channel } => {
            // Reset the retry schedule of the dirty records, then run a cycle.
            let config = load_config(global)?;
            {
                let store = config.open_store()?;
                let selected: Vec<(String, String)> = match channel {
                    Some(sel) => vec![resolve_channel(&config, sel)?],
                    None => config
                        .connections
                        .iter()
                        .flat_map(|c| c.channels.iter().map(move |ch| (c.name.clone(), ch.name.clone())))
                        .collect(),
                };
                for (conn, ch) in selected {
                    if let Some(key) = store.find_channel(&conn, &ch)? {
                        let n = store.reset_attempts(key)?;
                        out!("{conn}/{ch}: {n} dirty record(s) to retry now")?;
                    }
                }
            }
            if config.is_failover() {
                out!("failover: the node holding each channel retries these at its next cycle")?;
                return Ok(());
            }
            sync(global, true, channel.clone(), None, None)
        }
    }
}

fn resolve_channel(config: &Config, sel: &str) -> Result<(String, String), CliError> {
    let matches: Vec<(String, String)> = config
        .connections
        .iter()
        .flat_map(|c| c.channels.iter().map(move |ch| (c.name.clone(), ch.name.clone())))
        .filter(|(c, ch)| sel == ch || *sel == format!("{c}/{ch}"))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError::NotFound(format!("no channel '{sel}' in {}", config.file.display()))),
        _ => Err(CliError::Config(format!("'{sel}' names several channels; use connection/channel"))),
    }
}
