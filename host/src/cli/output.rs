//! Output helpers shared by the subcommands: tables for people, JSON for
//! machines, and [`out!`], the `println!` of command output that fails with
//! an error instead of panicking when stdout is gone (`provisio ... | head`;
//! the binary then ends quietly, see [`super::exit`]).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::io::{IsTerminal, Write};

/// `println!` for command output: one line to stdout, answering
/// `Result<(), CliError>`; a closed pipe becomes [`CliError::Io`] (which the
/// binary turns into a quiet exit) instead of a panic.
///
/// [`CliError::Io`]: super::CliError::Io
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::CliError::Io)
    }};
}
pub(crate) use out;

/// A table with provisio's house style, fitted to the terminal's width when
/// there is one; written to a pipe or a file, its cells are never wrapped
/// (a script reads each row on one line).
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    let arrangement =
        if std::io::stdout().is_terminal() { ContentArrangement::Dynamic } else { ContentArrangement::Disabled };
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(arrangement);
    t.set_header(header);
    t
}

/// Write `bytes` to stdout as they are (a completion script, a man page).
pub fn write_stdout(bytes: &[u8]) -> Result<(), super::CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    Ok(out.flush()?)
}

/// Print `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

/// "yes" or "" for a table cell.
pub fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "" }
}
