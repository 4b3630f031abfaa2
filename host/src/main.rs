//! The `provisio` binary: parse the command line, set up logging, run.

use clap::Parser;
use provisio_host::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    provisio_host::logging::init(cli.global.verbose, cli.global.log_format);
    if let Err(err) = run(cli) {
        provisio_host::logging::notice_error(&format!("error: {err}"));
        std::process::exit(err.exit_code());
    }
}
