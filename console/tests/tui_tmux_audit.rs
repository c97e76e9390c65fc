//! The audit log and anomaly triage end to end, with the real binary in tmux over a cached
//! fleet (`--offline`, no AWS): acknowledge an anomaly and cancel a revoke in the console,
//! find both in `fleetid audit --verify` and the triage in `fleetid anomalies`, and see the
//! acknowledgement again after a restart.
//!
//! Needs tmux; `scripts/test` provides it. Fails without it.

mod tmux_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use fleetid::model::{
    AnomalyRecord, FleetState, FleetUpdate, Severity, Source, UnixTime, synthetic,
};
use fleetid::store::Store;
use tmux_support::{TmuxSession, require_tmux, wait_for_exit};

const THING: &str = "dev-tmux-audit";

/// A private HOME, config and cache for the binary.
fn environment(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("HOME", dir.to_owned()),
        ("XDG_CONFIG_HOME", dir.join("config")),
        ("XDG_DATA_HOME", dir.join("data")),
        ("FLEETID_CACHE", dir.join("cache.sqlite3")),
    ]
}

/// The shell command tmux runs: the console over the cache, then its exit status.
fn write_launcher(dir: &Path, status: &Path) -> PathBuf {
    let script = dir.join("run.sh");
    let exports: Vec<String> = environment(dir)
        .into_iter()
        .map(|(name, value)| format!("{name}='{}'", value.display()))
        .collect();
    let text = format!(
        "export {} USER=oncall\nunset NO_COLOR AWS_PROFILE\n'{bin}' --offline\necho $? > '{status}'\n",
        exports.join(" "),
        bin = env!("CARGO_BIN_EXE_fleetid"),
        status = status.display(),
    );
    std::fs::write(&script, text).expect("the launcher script is written");
    script
}

fn fleetid(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .args(args)
        .envs(environment(dir))
        .output()
        .expect("the binary runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

fn cached_fleet(dir: &Path) {
    let now = UnixTime::now();
    let mut state = FleetState::new();
    state.apply_all(synthetic::fleet_updates(20, now, 10));
    state.apply(FleetUpdate::Anomalies(vec![AnomalyRecord {
        id: "violation-tmux".into(),
        source: Source::DefenderDetect,
        kind: "flapping".into(),
        severity: Severity::Critical,
        thing: Some(THING.into()),
        certificate: None,
        summary: "reconnects every second".into(),
        at: UnixTime(now.0 + 60),
        cleared: false,
    }]));
    let mut store = Store::open(&dir.join("cache.sqlite3")).expect("the cache opens");
    store
        .save("default", &state, now)
        .expect("the snapshot saves");
}

fn start(dir: &Path, run: &str) -> (TmuxSession, PathBuf) {
    let status = dir.join(format!("status-{run}"));
    let script = write_launcher(dir, &status);
    let tmux = TmuxSession::start(
        &dir.join(format!("tmux-{run}.sock")),
        &format!("sh '{}'", script.display()),
    );
    tmux.wait_for("the dashboard", |p| p.contains("Connected, last hour"));
    (tmux, status)
}

#[test]
fn triage_and_a_cancelled_revoke_are_recorded_kept_and_verified() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    cached_fleet(dir.path());

    let (tmux, status) = start(dir.path(), "first");
    tmux.send("4", false);
    tmux.wait_for("the anomaly feed", |p| p.contains(THING));
    tmux.send("a", false);
    tmux.wait_for("the acknowledgement", |p| {
        p.lines().any(|l| l.contains(THING) && l.contains("ack"))
    });
    tmux.send("5", false);
    tmux.wait_for("the devices", |p| p.contains("Devices:"));
    tmux.send("r", false);
    tmux.wait_for("the confirmation", |p| p.contains("Confirm revoke"));
    tmux.send("Escape", false);
    tmux.wait_for("the cancellation", |p| {
        !p.contains("Confirm revoke") && p.contains("cancelled revoke")
    });
    tmux.send("6", false);
    tmux.wait_for("both entries in the Audit view", |p| {
        p.contains("Audit log: 2 entries")
    });
    tmux.send("q", false);
    assert_eq!(wait_for_exit(&tmux, &status), "0");
    drop(tmux);

    let (code, json) = fleetid(dir.path(), &["audit", "--verify", "--output", "json"]);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["data"]["verification"]["intact"], true, "{json}");
    let entries = json["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{json}");
    assert_eq!(entries[0]["action"], "revoke");
    assert_eq!(entries[0]["decision"], "cancelled");
    assert_eq!(entries[0]["os_user"], "oncall");
    assert!(
        entries[0]["plan"].as_str().unwrap().contains("1 thing,"),
        "{json}"
    );
    assert_eq!(entries[1]["action"], "acknowledge");
    assert_eq!(entries[1]["targets"][0], "violation-tmux");

    let (code, json) = fleetid(dir.path(), &["--offline", "anomalies", "--output", "json"]);
    assert_eq!(code, Some(0), "{json}");
    let ours = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "violation-tmux")
        .expect("the anomaly is listed");
    assert_eq!(ours["triage"], "acknowledged");

    // The next start shows the acknowledgement from the store.
    let (tmux, status) = start(dir.path(), "second");
    tmux.send("4", false);
    tmux.wait_for("the stored acknowledgement", |p| {
        p.lines().any(|l| l.contains(THING) && l.contains("ack"))
    });
    tmux.send("q", false);
    assert_eq!(wait_for_exit(&tmux, &status), "0");
}
