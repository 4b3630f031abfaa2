//! The `provisio` binary: parse the command line, set up logging, run.

use clap::Parser;
use provisio_host::cli::{Cli, run};

/// mimalloc rather than the system allocator: reading and planning a large
/// directory is dominated by small allocations (see BENCHMARKS.md). Only the
/// host uses it; connector libraries keep their own allocator, and nothing
/// allocated on one side of the plugin boundary is freed on the other.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    provisio_host::logging::init(cli.global.verbose, cli.global.log_format);
    if let Err(err) = run(cli) {
        if err.is_closed_pipe() {
            std::process::exit(err.exit_code());
        }
        // Redacted here too: an error may quote a secret the engine knows.
        let message = provisio_redact::Redactor::process().redact(&format!("error: {err}"));
        provisio_host::logging::notice_error(&message);
        std::process::exit(err.exit_code());
    }
}
