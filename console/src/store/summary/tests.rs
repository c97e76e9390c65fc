//! The stored summary is exact for its snapshot: it equals the aggregates of the model loaded
//! from the same snapshot, after a whole save and after saves of changes.

use super::super::Store;
use crate::model::{
    AnomalyRecord, CertStatus, Cohort, FleetState, FleetSummary, FleetUpdate, HealthPolicy,
    SECONDS_PER_DAY, Severity, Source, SourceState, UnixTime, synthetic,
};

const NOW: UnixTime = UnixTime(1_795_593_600);
const ENV: &str = "prod";

fn fleet() -> FleetState {
    let mut state = FleetState::new();
    state.apply_all(synthetic::fleet_updates(2_000, NOW, 250));
    state.apply(FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Fresh,
        at: UnixTime(NOW.0 - 60),
    });
    state.apply(FleetUpdate::Anomalies(vec![
        anomaly("a1", Severity::Critical, false),
        anomaly("a2", Severity::Low, false),
        anomaly("a3", Severity::Critical, true),
    ]));
    state
}

fn anomaly(id: &str, severity: Severity, cleared: bool) -> AnomalyRecord {
    AnomalyRecord {
        id: id.into(),
        source: Source::DefenderDetect,
        kind: "debug-topic".into(),
        severity,
        thing: Some("dev-0000007".into()),
        certificate: None,
        summary: "published to a debug topic".into(),
        at: NOW,
        cleared,
    }
}

/// The instants and windows the verdict is checked at: now, a second either side of device
/// expiries (the verdict counts to the second), and windows that are empty or reversed.
fn verdict_points() -> Vec<(UnixTime, HealthPolicy)> {
    let expiry = synthetic::not_after_of(21, NOW);
    let mut out = Vec::new();
    for now in [NOW, expiry, UnixTime(expiry.0 - 1), UnixTime(expiry.0 + 1)] {
        for (critical_days, warning_days) in [(7, 30), (0, 0), (30, 7), (-3, 400), (1, 2)] {
            out.push((
                now,
                HealthPolicy {
                    critical_days,
                    warning_days,
                },
            ));
        }
    }
    out.push((
        UnixTime(synthetic::not_after_of(22, NOW).0 - 7 * SECONDS_PER_DAY),
        HealthPolicy::default(),
    ));
    out
}

/// The histogram with cohorts named rather than numbered.
fn named_histogram(
    histogram: &crate::model::ExpiryHistogram,
    name: impl Fn(u32) -> String,
) -> Vec<(String, i32, u64)> {
    let mut out = Vec::new();
    for cohort in histogram.cohorts() {
        let label = match cohort {
            Cohort::All => "all".to_owned(),
            Cohort::Ca(id) => format!("ca {id}"),
            Cohort::Group(n) => format!("group {}", name(n)),
            Cohort::Firmware(n) => format!("firmware {}", name(n)),
        };
        out.extend(
            histogram
                .all_days(cohort)
                .map(|(day, n)| (label.clone(), day.0, n)),
        );
    }
    out.sort();
    out
}

/// The stored summary against the model's own aggregates, each computed its own way.
fn assert_matches_model(stored: &FleetSummary, state: &FleetState) {
    assert_eq!(stored, &state.summary());
    assert_eq!(stored.status_counts(), state.status_counts());
    assert_eq!(stored.thing_count(), state.thing_count() as u64);
    let online = state.things().filter(|t| t.connected == Some(true)).count();
    assert_eq!(stored.things_online(), Some(online as u64));
    assert_eq!(stored.ca_tree(), state.ca_tree());
    assert_eq!(
        named_histogram(stored.expiry_histogram(), |n| stored
            .name_text(n)
            .to_owned()),
        named_histogram(state.expiry_histogram(), |n| state.name_text(n).to_owned()),
    );
    for (now, policy) in verdict_points() {
        assert_eq!(
            stored.health(now, policy),
            state.health(now, policy),
            "at {now:?} with {policy:?}"
        );
    }
    for status in CertStatus::ALL {
        for (ca, per_status) in stored.per_ca() {
            let counted = state
                .certificates_of_ca(*ca)
                .filter(|c| c.record.status == status)
                .count();
            assert_eq!(
                per_status[status.index()],
                counted as u64,
                "{ca:?} {status:?}"
            );
        }
    }
}

fn stored(store: &Store) -> FleetSummary {
    store.load_summary(ENV).unwrap().expect("a summary").summary
}

fn loaded(store: &Store) -> FleetState {
    store.load(ENV).unwrap().expect("a snapshot").state
}

fn change_rows(store: &Store) -> i64 {
    store
        .connection
        .query_row("SELECT count(*) FROM snapshot_changes", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_summary_of_a_whole_save_is_the_loaded_models() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    let state = fleet();
    store.save(ENV, &state, NOW).unwrap();
    let summary = stored(&store);
    assert_matches_model(&summary, &loaded(&store));
    assert_matches_model(&summary, &state);
    let health = summary.health(NOW, HealthPolicy::default());
    assert!(health.expired_active > 0 && health.expiring_critical > 0);
    assert_eq!(
        health.cas_at_risk.len(),
        1,
        "the inactive CA still has active certificates"
    );
    assert_eq!((health.open_anomalies, health.critical_anomalies), (2, 1));
}

#[test]
fn the_summary_follows_saves_of_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    let mut state = fleet();
    let version = store.save(ENV, &state, NOW).unwrap();
    state.mark_saved(version);
    // Ten certificates change status (one active one expiring soon is revoked), one is
    // removed, a thing goes offline and moves group, an anomaly clears.
    state.apply(FleetUpdate::StatusChanged(
        (21..31)
            .map(|i| (synthetic::cert_id(i), CertStatus::Revoked))
            .collect(),
    ));
    state.apply(FleetUpdate::CertificatesRemoved(vec![synthetic::cert_id(
        44,
    )]));
    let mut thing = synthetic::thing(45);
    thing.groups = vec!["moved".into()];
    thing.connected = Some(false);
    state.apply(FleetUpdate::Things(vec![thing]));
    state.apply(FleetUpdate::Anomalies(vec![anomaly(
        "a1",
        Severity::Critical,
        true,
    )]));
    let version = store.save(ENV, &state, UnixTime(NOW.0 + 10)).unwrap();
    state.mark_saved(version);
    // Ten statuses, the removal, the thing and its certificate (whose cohorts moved).
    assert_eq!(change_rows(&store), 13, "the changes only");
    let summary = stored(&store);
    assert_ne!(summary, fleet().summary());
    assert_matches_model(&summary, &loaded(&store));
    assert_matches_model(&summary, &state);
    // A second save of changes on top of the first.
    state.apply(FleetUpdate::StatusChanged(vec![(
        synthetic::cert_id(21),
        CertStatus::Active,
    )]));
    store.save(ENV, &state, UnixTime(NOW.0 + 20)).unwrap();
    assert_eq!(change_rows(&store), 13, "certificate 21 changed again");
    assert_matches_model(&stored(&store), &loaded(&store));
    assert_matches_model(&stored(&store), &state);
}

#[test]
fn a_snapshot_without_a_summary_has_none_and_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    assert!(store.load_summary(ENV).unwrap().is_none());
    store.save(ENV, &fleet(), NOW).unwrap();
    store
        .connection
        .execute("DELETE FROM snapshot_blocks WHERE part = 'summary'", [])
        .unwrap();
    assert!(store.load_summary(ENV).unwrap().is_none());
    assert_eq!(loaded(&store).status_counts(), fleet().status_counts());
}

#[test]
fn a_damaged_summary_is_reported_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    store.save(ENV, &fleet(), NOW).unwrap();
    store
        .connection
        .execute(
            "UPDATE snapshot_blocks SET data = substr(data, 1, 20) WHERE part = 'summary'",
            [],
        )
        .unwrap();
    let err = store.load_summary(ENV).unwrap_err();
    assert!(err.to_string().contains("summary"), "{err}");
}
