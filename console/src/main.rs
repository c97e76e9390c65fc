//! The `fleetid` binary: parse the command line and hand over to the library.

use clap::Parser;
use fleetid::cli::Cli;

fn main() {
    let _cli = Cli::parse();
    eprintln!(
        "fleetid {}: the console's views and subcommands are not built yet; see `fleetid --help`.",
        env!("CARGO_PKG_VERSION")
    );
}
