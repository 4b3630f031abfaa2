//! The `provisio` command line: argument definitions (clap) and dispatch.
//!
//! Each subcommand lives in its own module and returns a [`CliError`]; the
//! binary maps it to an exit status. Human tables go to stdout by default,
//! `--json` prints what a machine reads, and diagnostics go to stderr.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub mod channels;
pub mod connectors;
pub mod cycles;
pub mod demo;
pub mod engine;
pub mod exit;
pub mod nodes;
pub mod output;
pub mod state;

use provisio_runtime::dirs;
use provisio_runtime::loader::{self, LoadReport};

/// provisio: outbound user provisioning from a directory to SaaS targets.
///
/// provisio reads identities from a source directory, maps their attributes,
/// works out what changed, and pushes creates, updates, disables and deletes
/// to target services through connectors loaded at run time.
#[derive(Debug, Parser)]
#[command(name = "provisio", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Load connectors from DIR (repeatable; searched before
    /// PROVISIO_CONNECTOR_DIR, the configuration's connector_dirs and the
    /// binary's own directory).
    #[arg(long = "connector-dir", value_name = "DIR", global = true)]
    pub connector_dirs: Vec<PathBuf>,

    /// The configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE", global = true, env = "PROVISIO_CONFIG")]
    pub config: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log lines on stderr as text, or as one JSON object per line (for a
    /// log pipeline; `sync` then logs its summaries as events too).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text", global = true, env = "PROVISIO_LOG_FORMAT")]
    pub log_format: crate::logging::LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the connectors that were loaded: manifests, settings forms,
    /// attribute catalogues.
    #[command(subcommand)]
    Connectors(connectors::ConnectorsCommand),
    /// Validate the configuration.
    #[command(subcommand)]
    Config(engine::ConfigCommand),
    /// The activation check: credentials against each target.
    #[command(subcommand)]
    Connections(engine::ConnectionsCommand),
    /// Run provisioning cycles at the synchronization frequency.
    Sync {
        /// Run one cycle and exit.
        #[arg(long)]
        once: bool,
        /// Only this channel (`channel` or `connection/channel`).
        #[arg(long)]
        channel: Option<String>,
        /// Serve /health/live, /health/ready, /metrics and the status page
        /// on ADDR (e.g. 127.0.0.1:9464) while cycles run; overrides
        /// `[engine.service] listen`. Loopback addresses only, unless the
        /// configuration sets `allow_non_loopback = true`.
        #[arg(long, value_name = "ADDR", conflicts_with = "once")]
        listen: Option<String>,
        /// This node's id with `[engine.cluster] mode = "failover"`
        /// (overrides `[engine.cluster] node_id`).
        #[arg(long, value_name = "ID")]
        node_id: Option<String>,
    },
    /// Dry run: what each user would get and why. Writes nothing to the
    /// target or the state.
    Plan {
        /// Only this channel (`channel` or `connection/channel`).
        #[arg(long)]
        channel: Option<String>,
        /// Print the plan as JSON (one object per channel) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Provision one user now, showing each step: scope, mapping, match,
    /// action, result.
    Provision {
        /// The user's GUID, DN or Unique User Identifier value.
        #[arg(long)]
        user: String,
    },
    /// Channel state: counts, dirty records, resets, retries.
    #[command(subcommand)]
    Channels(channels::ChannelsCommand),
    /// The state store: what it holds (`info`); copy a SQLite store into
    /// PostgreSQL (`migrate --from FILE`).
    #[command(subcommand)]
    State(state::StateCommand),
    /// Failover nodes sharing the PostgreSQL store: `list`, `backup`,
    /// `activate`.
    #[command(subcommand)]
    Nodes(nodes::NodesCommand),
    /// A built-in SCIM 2.0 target on 127.0.0.1, in memory (optionally
    /// persisted to a JSON file), for trying mappings safely.
    Sandbox {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Require this bearer token on every request. Prefer the
        /// environment variable: a flag's value is visible to every user of
        /// the machine in the process list.
        #[arg(long, env = "PROVISIO_SANDBOX_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Load the store from this JSON file at start and save it there.
        #[arg(long, value_name = "FILE")]
        persist: Option<PathBuf>,
        /// Behave as a forgiving target: create a second user with a taken
        /// userName instead of answering 409 (to see what a client does
        /// where the server does not stop it).
        #[arg(long)]
        accept_duplicates: bool,
    },
    /// Run provisio's main job end to end on the embedded example: real
    /// cycles from examples/ into the built-in sandbox target.
    Demo,
    /// Print a shell completion script, e.g. `provisio completions bash >
    /// ~/.local/share/bash-completion/completions/provisio`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `provisio man > provisio.1; man
    /// ./provisio.1`.
    Man,
}

/// A failure of a command, mapped to an exit status by the binary (the
/// table is in [`exit`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command could not do its job (status 1).
    #[error("{0}")]
    User(String),
    /// A usage or configuration error (status 2).
    #[error("{0}")]
    Config(String),
    /// Something named does not exist (status 4).
    #[error("{0}")]
    NotFound(String),
    /// A channel could not run: quarantined, or its cycle failed (status 5).
    #[error("{0}")]
    ChannelNotRun(String),
    /// The cycle ran but operations failed, leaving dirty records (status 6).
    #[error("{0}")]
    OperationsFailed(String),
    /// Writing output failed (status 3; a closed pipe is a quiet 0).
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration file could not be read or parsed (status 2).
    #[error(transparent)]
    ConfigFile(#[from] provisio_config::ConfigError),
    /// The engine could not do its job (status 1; 2 when the configuration
    /// does not say what it needs).
    #[error(transparent)]
    Engine(#[from] provisio_engine::EngineError),
    /// The state store failed (status 1).
    #[error(transparent)]
    State(#[from] provisio_state::StateError),
    /// A channel's source could not be read (status 1).
    #[error(transparent)]
    Source(#[from] provisio_engine::source::ReadError),
}

impl CliError {
    /// The exit status this failure gives.
    pub fn status(&self) -> exit::ExitStatus {
        use exit::ExitStatus;
        match self {
            CliError::User(_) => ExitStatus::Failure,
            CliError::Config(_) => ExitStatus::Usage,
            CliError::NotFound(_) => ExitStatus::NotFound,
            CliError::ChannelNotRun(_) => ExitStatus::ChannelNotRun,
            CliError::OperationsFailed(_) => ExitStatus::OperationsFailed,
            CliError::Io(_) if self.is_closed_pipe() => ExitStatus::Success,
            CliError::Io(_) => ExitStatus::Output,
            CliError::ConfigFile(_) => ExitStatus::Usage,
            CliError::Engine(provisio_engine::EngineError::Config(_)) => ExitStatus::Usage,
            CliError::Engine(_) | CliError::State(_) | CliError::Source(_) => ExitStatus::Failure,
        }
    }

    /// Whether the reader of stdout went away (`provisio ... | head`): the
    /// binary then ends quietly, as `ls | head` does, with status 0.
    pub fn is_closed_pipe(&self) -> bool {
        matches!(self, CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    pub fn exit_code(&self) -> i32 {
        self.status().code()
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Connectors(cmd) => connectors::run(&cli.global, cmd),
        Command::Config(cmd) => engine::config(&cli.global, cmd),
        Command::Connections(cmd) => engine::connections(&cli.global, cmd),
        Command::Sync { once, channel, listen, node_id } => {
            cycles::sync(&cli.global, *once, channel.clone(), listen.as_deref(), node_id.as_deref())
        }
        Command::Nodes(cmd) => nodes::run(&cli.global, cmd),
        Command::Plan { channel, json } => cycles::plan(&cli.global, channel.clone(), *json),
        Command::Provision { user } => cycles::provision(&cli.global, user),
        Command::Channels(cmd) => channels::channels(&cli.global, cmd),
        Command::State(cmd) => state::run(&cli.global, cmd),
        Command::Sandbox { port, token, persist, accept_duplicates } => {
            let modes = provisio_sandbox::Modes { accept_duplicate_user_names: *accept_duplicates };
            demo::sandbox(*port, token.clone(), persist.clone(), modes)
        }
        Command::Demo => demo::demo(&cli.global),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut <Cli as clap::CommandFactory>::command(), "provisio", &mut script);
            output::write_stdout(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
            output::write_stdout(&page)
        }
    }
}

/// The `connector_dirs` a configuration file names. The full configuration
/// is read by the engine; the loader only needs this key.
fn config_connector_dirs(file: &std::path::Path) -> Result<Vec<PathBuf>, CliError> {
    #[derive(serde::Deserialize, Default)]
    struct Engine {
        #[serde(default)]
        connector_dirs: Vec<PathBuf>,
    }
    #[derive(serde::Deserialize, Default)]
    struct Partial {
        #[serde(default)]
        engine: Engine,
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Config(format!("cannot read the configuration {}: {e}", file.display())))?;
    let partial: Partial = toml::from_str(&text)
        .map_err(|e| CliError::Config(format!("{}: {}", file.display(), e.to_string().trim_end())))?;
    Ok(partial.engine.connector_dirs)
}

/// One row of `channels list`.
pub(crate) fn channels_row(s: &provisio_state::ChannelSummary) -> Vec<String> {
    let last = match s.last_cycle.as_ref().and_then(|c| c.summary.as_ref()) {
        Some(sum) => {
            format!(
                "created {}, linked {}, updated {}, disabled {}, deleted {}, failed {}",
                sum.created, sum.linked, sum.updated, sum.disabled, sum.deleted, sum.failed
            )
        }
        None => "never".to_owned(),
    };
    let now = provisio_engine::audit::now_unix();
    let status = match s.quarantined_until {
        Some(until) if until > now => format!("quarantined ({} s left)", until - now),
        _ => "ok".to_owned(),
    };
    vec![
        s.connection.clone(),
        s.channel.clone(),
        status,
        s.users.to_string(),
        // Creates of unknown outcome wait to be settled at the target.
        match s.unsettled_intents {
            0 => s.dirty.to_string(),
            unsettled => format!("{} + {unsettled} unsettled create(s)", s.dirty),
        },
        match s.held_group_deletions {
            0 => s.held_deprovisions.to_string(),
            groups => format!("{} + {groups} group(s)", s.held_deprovisions),
        },
        last,
        s.last_error.clone().unwrap_or_default(),
    ]
}

/// Load connectors from every directory the options, the environment, the
/// configuration and the binary's location name. A named directory that
/// does not exist is an error; refused libraries are reported on stderr and
/// loading goes on.
pub fn load_connectors(global: &GlobalArgs) -> Result<LoadReport, CliError> {
    let config_dirs = match &global.config {
        Some(file) => Some((file.clone(), config_connector_dirs(file)?)),
        None => None,
    };
    let env = std::env::var("PROVISIO_CONNECTOR_DIR").ok();
    let dirs = dirs::connector_dirs(
        &global.connector_dirs,
        env.as_deref(),
        config_dirs.as_ref().map(|(f, d)| (f.as_path(), d.as_slice())),
        dirs::binary_dir(),
    );
    let missing = dirs::missing(&dirs);
    if !missing.is_empty() {
        let lines: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
        return Err(CliError::NotFound(lines.join("\n")));
    }
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path.clone()).collect();
    let report = loader::load_dirs(&paths);
    for rejected in &report.rejected {
        crate::logging::notice_warning(&format!("refused {rejected}"));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option and argument of every command says what it is for in
    /// `--help` (and so in the man page and the completions).
    #[test]
    fn every_option_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "provisio", &mut missing);
        assert!(missing.is_empty(), "options without help text: {missing:?}");
    }
}
