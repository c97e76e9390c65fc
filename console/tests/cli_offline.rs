//! The real binary against a cache file in a temporary directory (`--offline`): exit codes,
//! JSON output, config errors, completions and the man page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fleetid::model::{FleetState, FleetUpdate, UnixTime, synthetic};
use fleetid::store::Store;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(state: &FleetState, env: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut store = Store::open(&dir.path().join("cache.sqlite3")).expect("the cache opens");
        store
            .save(env, state, UnixTime::now())
            .expect("the snapshot saves");
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fleetid"))
            .args(args)
            .env("FLEETID_CACHE", self.dir.path().join("cache.sqlite3"))
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env_remove("NO_COLOR")
            .output()
            .expect("the binary runs")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("the file is written");
        path
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn synthetic_fleet(devices: usize) -> FleetState {
    let mut state = FleetState::new();
    state.apply_all(synthetic::fleet_updates(devices, UnixTime::now(), 50));
    state
}

fn healthy_fleet() -> FleetState {
    let now = UnixTime::now();
    let mut state = FleetState::new();
    state.apply(FleetUpdate::Cas(synthetic::cas(now)));
    let certs = (0..200)
        .filter(|&i| synthetic::issuer_of(i) == 1 && !synthetic::unreadable(i))
        .filter(|&i| synthetic::not_after_of(i, now).0 > now.0 + 8 * 86_400)
        .map(|i| synthetic::certificate(i, now))
        .collect();
    state.apply(FleetUpdate::Certificates(certs));
    state
}

#[test]
fn status_exits_4_on_an_inactive_ca_with_active_certs_and_0_when_healthy() {
    let sick = Sandbox::new(&synthetic_fleet(120), "default");
    let out = sick.run(&["--offline", "status"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("INACTIVE CA with active certs"),
        "{}",
        stdout(&out)
    );

    let well = Sandbox::new(&healthy_fleet(), "default");
    let out = well.run(&["--offline", "status", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["data"]["verdict"], "healthy");
    assert_eq!(json["schema"], 1);
}

#[test]
fn certs_list_filters_and_prints_stable_json() {
    let now = UnixTime::now();
    let sandbox = Sandbox::new(&synthetic_fleet(300), "default");
    let out = sandbox.run(&[
        "--offline",
        "certs",
        "list",
        "--expiring-within",
        "30d",
        "--status",
        "active",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = json["data"].as_array().unwrap();
    let expected = (0..300)
        .filter(|&i| {
            synthetic::status_of(i) == fleetid::model::CertStatus::Active
                && !synthetic::unreadable(i)
                && synthetic::not_after_of(i, now).0 <= now.0 + 30 * 86_400
        })
        .count();
    assert_eq!(items.len(), expected);
    assert!(items.iter().all(|c| c["status"] == "ACTIVE"));
    assert!(items.iter().all(|c| c["days_left"].as_i64().unwrap() <= 30));
}

#[test]
fn certs_show_of_an_unknown_id_exits_5() {
    let sandbox = Sandbox::new(&synthetic_fleet(10), "default");
    let out = sandbox.run(&["--offline", "certs", "show", "deadbeefdeadbeef"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("no certificate with id"),
        "{}",
        stderr(&out)
    );
    let id = synthetic::cert_id(3).to_string();
    let out = sandbox.run(&["--offline", "certs", "show", &id[..12], "--output", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id));
}

#[test]
fn a_config_typo_exits_3_naming_file_line_and_key() {
    let sandbox = Sandbox::new(&synthetic_fleet(10), "prod");
    let path = sandbox.write(
        "fleetid.toml",
        "[environments.prod]\nprofile = \"ops\"\nread_onyl = true\n",
    );
    let out = sandbox.run(&[
        "--config",
        path.to_str().unwrap(),
        "--env",
        "prod",
        "--offline",
        "status",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:3:1", path.display())), "{err}");
    assert!(err.contains("environments.prod.read_onyl"), "{err}");
}

#[test]
fn environments_come_from_the_config_and_unknown_ones_are_refused() {
    let sandbox = Sandbox::new(&synthetic_fleet(10), "prod");
    let path = sandbox.write(
        "fleetid.toml",
        "default_environment = \"prod\"\n[environments.prod]\nregion = \"eu-west-1\"\n",
    );
    let config = path.to_str().unwrap();
    let out = sandbox.run(&["--config", config, "--offline", "ca", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Acme Root CA"));
    let out = sandbox.run(&[
        "--config",
        config,
        "--env",
        "staging",
        "--offline",
        "ca",
        "list",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("\"staging\" is not defined"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn completions_and_man_page_are_generated() {
    let sandbox = Sandbox::new(&FleetState::new(), "default");
    let out = sandbox.run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("fleetid"));
    assert!(stdout(&out).contains("--expiring-within"));
    let out = sandbox.run(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with(".ie") || stdout(&out).contains(".TH"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_a_cache_offline_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .args(["--offline", "status"])
        .env("FLEETID_CACHE", dir.path().join("empty.sqlite3"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run once without --offline"),
        "{}",
        stderr(&out)
    );
    assert!(Path::new(&dir.path().join("empty.sqlite3")).exists());
}

#[test]
fn rotate_plan_splits_the_target_into_reproducible_stages_and_names_a_bad_key() {
    let sandbox = Sandbox::new(&synthetic_fleet(400), "default");
    let file = sandbox.write(
        "campaign.toml",
        "id = \"r1\"\ntarget = { query = \"status=ACTIVE\" }\nstages = [10, 50, 100]\n",
    );
    let file = file.to_str().unwrap();
    let out = sandbox.run(&["--offline", "rotate", "plan", file, "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages = plan["plan"]["stages"].as_array().unwrap();
    let sizes: Vec<usize> = stages
        .iter()
        .map(|s| s["things"].as_array().unwrap().len())
        .collect();
    let eligible = plan["plan"]["targeted"].as_u64().unwrap() as usize
        - plan["plan"]["excluded"].as_u64().unwrap() as usize;
    assert!(eligible > 0, "{plan}");
    assert_eq!(sizes.iter().sum::<usize>(), eligible, "{sizes:?}");
    assert_eq!(sizes[0], eligible.div_ceil(10), "{sizes:?}");
    assert_eq!(stages[1]["job"], "fleetid-rotate-r1-s2");
    // The same campaign on the same fleet: the same devices in the same stages.
    let again = sandbox.run(&["--offline", "rotate", "plan", file, "--output", "json"]);
    assert_eq!(again.stdout, out.stdout);

    let bad = sandbox.write(
        "bad.toml",
        "id = \"r1\"\ntarget = { query = \"status=ACTIVE\" }\nstagez = [10, 100]\n",
    );
    let out = sandbox.run(&["--offline", "rotate", "plan", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad.toml:3:1: key `stagez`"),
        "{}",
        stderr(&out)
    );
}
