//! The command line: global flags and subcommands (clap derive).

use clap::Parser;

/// fleetid — see and act on the device identity of an AWS IoT fleet.
#[derive(Debug, Parser)]
#[command(name = "fleetid", version, about, long_about = None)]
pub struct Cli {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn version_flag_reports_the_package_version() {
        let err = Cli::try_parse_from(["fleetid", "--version"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
        assert!(err.to_string().contains(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn unknown_subcommands_are_refused() {
        assert!(Cli::try_parse_from(["fleetid", "frobnicate"]).is_err());
    }
}
