//! The real binary over a store in a temporary directory: `fleetid audit` lists the log and
//! `--verify` exits 7 once a row was changed; `fleetid anomalies` applies the stored triage.

use std::path::PathBuf;
use std::process::{Command, Output};

use fleetid::model::{AnomalyRecord, FleetState, FleetUpdate, Severity, Source, UnixTime};
use fleetid::store::Store;
use fleetid::store::audit::{Decision, NewAuditEntry};
use fleetid::store::triage::TriageState;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("cache.sqlite3")
    }

    fn store(&self) -> Store {
        Store::open(&self.path()).expect("the store opens")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fleetid"))
            .args(args)
            .env("FLEETID_CACHE", self.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .output()
            .expect("the binary runs")
    }
}

fn entry(n: i64, environment: &str, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: UnixTime(1_795_593_600 + n),
        os_user: "oncall".into(),
        principal: None,
        account: Some("123456789012".into()),
        environment: environment.into(),
        action: "revoke".into(),
        targets: vec![target.into()],
        plan: "revoke 1 certs, 1 things".into(),
        decision: Decision::Cancelled,
        outcome: "nothing was changed".into(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn audit_lists_newest_first_and_verify_fails_with_7_on_a_changed_row() {
    let sandbox = Sandbox::new();
    {
        let mut store = sandbox.store();
        store.append_audit(entry(1, "default", "dev-1")).unwrap();
        store.append_audit(entry(2, "prod", "dev-2")).unwrap();
        store
            .append_audit(entry(3, "default", "x\u{1b}[2Jy"))
            .unwrap();
    }
    let out = sandbox.run(&["audit", "--verify", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!out.stdout.contains(&0x1b), "{}", text(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "audit");
    let sequences: Vec<i64> = json["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        [3, 1],
        "only the default environment, newest first"
    );
    // JSON keeps the exact value, escaped.
    assert_eq!(json["data"]["entries"][0]["targets"][0], "x\u{1b}[2Jy");
    assert_eq!(json["data"]["verification"]["intact"], true);
    assert_eq!(json["data"]["verification"]["entries"], 3);

    let out = sandbox.run(&["audit", "--limit", "1", "--output", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "{}",
        text(&out.stdout)
    );

    // Someone with the file drops the guard and rewrites history.
    let connection = rusqlite::Connection::open(sandbox.path()).unwrap();
    connection
        .execute_batch(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET decision = 'confirmed' WHERE seq = 2;",
        )
        .unwrap();
    drop(connection);
    let out = sandbox.run(&["audit", "--verify"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("chain: BROKEN at entry 2"),
        "{}",
        text(&out.stdout)
    );
    // Listing without --verify still works.
    assert_eq!(sandbox.run(&["audit"]).status.code(), Some(0));
}

fn anomaly(id: &str, thing: &str) -> AnomalyRecord {
    AnomalyRecord {
        id: id.into(),
        source: Source::DefenderDetect,
        kind: "flapping".into(),
        severity: Severity::High,
        thing: Some(thing.into()),
        certificate: None,
        summary: "connects too often".into(),
        at: UnixTime::now(),
        cleared: false,
    }
}

#[test]
fn anomalies_hide_suppressed_ones_and_mark_acknowledged_ones() {
    let sandbox = Sandbox::new();
    let now = UnixTime::now();
    {
        let mut state = FleetState::new();
        state.apply(FleetUpdate::Anomalies(vec![
            anomaly("v-acked", "dev-1"),
            anomaly("v-hidden", "dev-2"),
            anomaly("v-expired", "dev-3"),
            anomaly("v-open", "dev-4"),
        ]));
        let mut store = sandbox.store();
        store.save("default", &state, now).unwrap();
        store
            .set_triage("default", "v-acked", Some(TriageState::Acknowledged), now)
            .unwrap();
        let until = UnixTime(now.0 + 3_600);
        store
            .set_triage(
                "default",
                "v-hidden",
                Some(TriageState::Suppressed { until }),
                now,
            )
            .unwrap();
        let ended = UnixTime(now.0 - 1);
        store
            .set_triage(
                "default",
                "v-expired",
                Some(TriageState::Suppressed { until: ended }),
                UnixTime(now.0 - 100),
            )
            .unwrap();
    }
    let out = sandbox.run(&["--offline", "anomalies", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = json["data"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(!ids.contains(&"v-hidden"), "{ids:?}");
    let acked = items.iter().find(|a| a["id"] == "v-acked").unwrap();
    assert_eq!(acked["triage"], "acknowledged");
    let expired = items.iter().find(|a| a["id"] == "v-expired").unwrap();
    assert!(expired.get("triage").is_none(), "{expired}");

    let out = sandbox.run(&["--offline", "anomalies", "--all"]);
    let table = text(&out.stdout);
    assert!(table.contains("[suppressed until "), "{table}");
    assert!(
        table.contains("[acknowledged] connects too often"),
        "{table}"
    );
}
