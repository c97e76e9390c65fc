//! Output for scripts: the real binary with stdout piped (`--offline`, against a cache file in
//! a temporary directory) writes no escape code in any output format, and styles nothing
//! when `NO_COLOR` is set either. Styling is for a terminal only.

use std::process::{Command, Output};

use fleetid::model::{FleetState, UnixTime, synthetic};
use fleetid::store::Store;

const ESC: u8 = 0x1b;

/// A cache with a synthetic fleet (CAs in several states, expiring certificates, anomalies)
/// and the binary run against it with stdout and stderr piped.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut state = FleetState::new();
        state.apply_all(synthetic::fleet_updates(150, UnixTime::now(), 50));
        let mut store = Store::open(&dir.path().join("cache.sqlite3")).expect("the cache opens");
        store
            .save("default", &state, UnixTime::now())
            .expect("the snapshot saves");
        Self { dir }
    }

    fn run(&self, args: &[&str], no_color: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
        command
            .args(args)
            .env("FLEETID_CACHE", self.dir.path().join("cache.sqlite3"))
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("AWS_REGION", "us-east-1")
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        command.output().expect("the binary runs")
    }
}

/// Every subcommand that prints a report without AWS.
fn subcommands() -> Vec<Vec<String>> {
    let id = synthetic::cert_id(3).to_string();
    [
        vec!["status"],
        vec!["certs", "list"],
        vec!["certs", "list", "--expiring-within", "30d"],
        vec!["certs", "show", &id],
        vec!["ca", "list"],
        vec!["ca", "tree"],
        vec!["anomalies", "--all"],
        vec!["heatmap"],
        vec!["audit"],
        vec!["doctor"],
        vec!["ops", "list"],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

#[test]
fn piped_output_of_every_subcommand_and_format_has_no_escape_code() {
    let sandbox = Sandbox::new();
    for args in subcommands() {
        for format in ["table", "json", "csv"] {
            for no_color in [false, true] {
                let mut full = vec!["--offline", "--output", format];
                full.extend(args.iter().map(String::as_str));
                let out = sandbox.run(&full, no_color);
                let what = format!("{full:?} (NO_COLOR {no_color})");
                let stderr = String::from_utf8_lossy(&out.stderr);
                // Exit codes other than 0 are answers too (status 4, doctor 1 offline): what
                // counts is that the command ran and printed something.
                assert!(
                    out.status.code().is_some_and(|c| c != 2),
                    "{what}: {stderr}"
                );
                assert!(!out.stdout.is_empty(), "{what} printed nothing: {stderr}");
                assert!(
                    !out.stdout.contains(&ESC),
                    "{what} wrote an escape code: {:?}",
                    String::from_utf8_lossy(&out.stdout)
                );
                assert!(
                    !out.stderr.contains(&ESC),
                    "{what} wrote an escape code to stderr: {stderr:?}"
                );
            }
        }
    }
}
