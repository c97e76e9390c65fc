//! Output for scripts: the real binary with stdout piped writes no escape code in any output
//! format, and styles nothing when `NO_COLOR` is set either — offline against a cache file in
//! a temporary directory, and online against the lab in process (device-supplied strings,
//! anomalies, doctor's remote checks, the dry-run plans of the mutations). Styling is for a
//! terminal only.

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
                assert_plain(&format!("{full:?} (NO_COLOR {no_color})"), &out);
            }
        }
    }
}

/// The ESC-free checks of one run. Exit codes other than 0 and 2 (usage) are answers too
/// (status 4, doctor 1 offline): what counts is that the command ran and printed something.
fn assert_plain(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
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
    assert!(!out.stderr.contains(&ESC), "{what}: escape code on stderr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_output_against_the_lab_has_no_escape_code() {
    use fleetid_lab::fleet::DeviceKind;
    use fleetid_lab::fleet::scenario::Role;
    use fleetid_lab::{Lab, LabOptions};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let lab = Lab::start(LabOptions {
        devices: 12,
        device_kind: DeviceKind::Scripted,
        state_dir: Some(dir.path().join("lab")),
        ..LabOptions::default()
    })
    .await
    .expect("the lab starts");
    let thing = lab
        .plan
        .iter()
        .find(|d| d.role == Role::Normal)
        .map(|d| d.name.clone())
        .expect("a normal device");
    let url = lab.endpoint_url.clone();
    let home = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let commands: Vec<Vec<&str>> = vec![
            vec!["status"],
            vec!["certs", "list"],
            vec!["ca", "list"],
            vec!["ca", "tree"],
            vec!["anomalies", "--all"],
            vec!["heatmap", "--group", "site-berlin"],
            vec!["doctor"],
            vec!["revoke", "--thing", &thing, "--dry-run"],
            vec!["quarantine", "--thing", &thing, "--dry-run"],
            vec!["restore", "--thing", &thing, "--dry-run"],
        ];
        for args in commands {
            for format in ["table", "json", "csv"] {
                for no_color in [false, true] {
                    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
                    command
                        .args(["--endpoint-url", &url, "--region", "us-east-1"])
                        .args(["--output", format])
                        .args(&args)
                        .env("FLEETID_CACHE", home.join("cache.sqlite3"))
                        .env("HOME", &home)
                        .env("XDG_CONFIG_HOME", home.join("config"))
                        .env("AWS_ACCESS_KEY_ID", fleetid_lab::api::ACCESS_KEY_ID)
                        .env("AWS_SECRET_ACCESS_KEY", fleetid_lab::api::SECRET_ACCESS_KEY)
                        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
                        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
                        .env("AWS_EC2_METADATA_DISABLED", "true")
                        .env_remove("AWS_PROFILE")
                        .env_remove("AWS_SESSION_TOKEN")
                        .env_remove("AWS_ENDPOINT_URL")
                        .env_remove("NO_COLOR");
                    if no_color {
                        command.env("NO_COLOR", "1");
                    }
                    let out = command.output().expect("the binary runs");
                    assert_plain(
                        &format!("{args:?} --output {format} (NO_COLOR {no_color})"),
                        &out,
                    );
                }
            }
        }
    })
    .await
    .expect("the runs finish");
    lab.shutdown().await;
}
