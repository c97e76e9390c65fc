//! The recorder against a real SQLite store: decisions and triage are appended to the
//! chain, triage is kept per environment and comes back on the next start.

use super::*;
use crate::config::EnvironmentConfig;
use crate::model::{AnomalyRecord, FleetUpdate, Severity, Source};
use crate::tui::data::{BlastRadius, OpKind};

fn environment(name: &str) -> Environment {
    Environment {
        name: name.to_owned(),
        settings: EnvironmentConfig::default(),
    }
}

fn fleet() -> FleetState {
    let mut state = FleetState::new();
    state.apply(FleetUpdate::Anomalies(vec![AnomalyRecord {
        id: "violation-1".into(),
        source: Source::DefenderDetect,
        kind: "flapping".into(),
        severity: Severity::High,
        thing: Some("dev-0042".into()),
        certificate: None,
        summary: "connects 40 times a minute".into(),
        at: UnixTime::now(),
        cleared: false,
    }]));
    state
}

fn request() -> MutationRequest {
    MutationRequest {
        kind: OpKind::Revoke,
        things: vec!["dev-0042".into()],
        radius: BlastRadius {
            certs: 1,
            things: 1,
            groups: 1,
            fleet_percent: 0.1,
            online: 1,
        },
    }
}

#[test]
fn decisions_and_triage_are_recorded_kept_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleetid.sqlite3");
    let state = fleet();
    let id = anomaly_number("violation-1");
    {
        let mut recorder = Recorder::open(
            &path,
            &environment("prod"),
            Some("123456789012".into()),
            UnixTime::now(),
        )
        .unwrap();
        let cancelled = recorder
            .mutation(&request(), Decision::Cancelled, "nothing was changed")
            .unwrap();
        assert_eq!(cancelled.sequence, 1);
        assert_eq!(cancelled.action.raw(), "revoke");
        assert_eq!(cancelled.result.raw(), "cancelled: nothing was changed");
        assert!(
            cancelled.plan.raw().contains("1 thing,"),
            "{}",
            cancelled.plan.raw()
        );
        assert!(
            cancelled.actor.raw().ends_with("(123456789012)"),
            "{:?}",
            cancelled.actor
        );
        let acked = recorder
            .triage(
                &TriageChange {
                    anomaly: id,
                    thing: "dev-0042".into(),
                    kind: "flapping".into(),
                    triage: Triage::Acknowledged,
                },
                &state,
            )
            .unwrap();
        assert_eq!(acked.action.raw(), "acknowledge");
        assert!(
            acked.target.raw().starts_with("violation-1 dev-0042"),
            "{:?}",
            acked.target
        );
        assert_eq!(acked.result.raw(), "confirmed: kept in the store");
        recorder
            .mutation(&request(), Decision::Confirmed, NOT_APPLIED)
            .unwrap();
    }
    // The next start: the triage is back on the anomaly, the log on the Audit view.
    let recorder = Recorder::open(&path, &environment("prod"), None, UnixTime::now()).unwrap();
    let mut snapshot = crate::tui::feed::snapshot(&state, UnixTime::now());
    assert_eq!(snapshot.anomalies[0].triage, Triage::Open);
    recorder.dress(&mut snapshot, true).unwrap();
    assert_eq!(snapshot.anomalies[0].id, id);
    assert_eq!(snapshot.anomalies[0].triage, Triage::Acknowledged);
    let sequences: Vec<i64> = snapshot.audit.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, [3, 2, 1]);
    assert!(
        snapshot.audit[0]
            .result
            .raw()
            .starts_with("confirmed: not applied")
    );
    // Another environment sees neither.
    let lab = Recorder::open(&path, &environment("lab"), None, UnixTime::now()).unwrap();
    let mut snapshot = crate::tui::feed::snapshot(&state, UnixTime::now());
    lab.dress(&mut snapshot, true).unwrap();
    assert_eq!(snapshot.anomalies[0].triage, Triage::Open);
    assert!(snapshot.audit.is_empty());
    assert_eq!(Store::open(&path).unwrap().verify_audit().unwrap(), 3);
}

#[test]
fn pages_go_back_to_the_first_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleetid.sqlite3");
    let mut recorder = Recorder::open(&path, &environment("prod"), None, UnixTime::now()).unwrap();
    let total = AUDIT_PAGE + 5;
    for _ in 0..total {
        recorder
            .mutation(&request(), Decision::RefusedReadOnly, "nothing was changed")
            .unwrap();
    }
    let (first, more) = recorder.page(None).unwrap();
    assert_eq!(first.len(), AUDIT_PAGE);
    assert!(more);
    let oldest = first.last().unwrap().sequence;
    let (second, more) = recorder.page(Some(oldest)).unwrap();
    assert_eq!(second.len(), 5);
    assert!(!more);
    assert_eq!(second.last().unwrap().sequence, 1);
}

#[test]
fn triage_of_an_anomaly_that_is_gone_is_recorded_but_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleetid.sqlite3");
    let mut recorder = Recorder::open(&path, &environment("prod"), None, UnixTime::now()).unwrap();
    let row = recorder
        .triage(
            &TriageChange {
                anomaly: 7,
                thing: "dev-1".into(),
                kind: "gone".into(),
                triage: Triage::Suppressed(UnixTime::now().0 + 60),
            },
            &FleetState::new(),
        )
        .unwrap();
    assert_eq!(row.action.raw(), "suppress");
    assert!(
        row.result.raw().contains("not kept"),
        "{}",
        row.result.raw()
    );
    let store = Store::open(&path).unwrap();
    assert!(store.triage("prod", UnixTime::now()).unwrap().is_empty());
}
