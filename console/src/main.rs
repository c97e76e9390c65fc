//! The `fleetid` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use fleetid::cli::Cli;

/// mimalloc (without transparent huge pages) rather than the system allocator: at a million
/// devices the cached fleet loads in less time and memory (docs/benchmarks.md, "The allocator,
/// and the blocks placed straight into the model").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(fleetid::app::run(&cli))
}
