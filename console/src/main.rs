//! The `fleetid` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use fleetid::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(fleetid::app::run(&cli))
}
