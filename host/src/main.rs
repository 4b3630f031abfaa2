//! The `provisio` binary: parse the command line, set up logging, run.

use clap::Parser;
use provisio_host::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    provisio_host::logging::init(cli.global.verbose);
    if let Err(err) = run(cli) {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
