//! The cache against a real SQLite file in a temporary directory.

use super::*;
use crate::model::{
    CertStatus, Cohort, Day, FleetUpdate, HealthPolicy, Source, SourceState, synthetic,
};

const NOW: UnixTime = UnixTime(1_795_593_600);

fn fleet() -> crate::model::FleetState {
    let mut state = crate::model::FleetState::new();
    state.apply_all(synthetic::fleet_updates(500, NOW, 100));
    state.apply(FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Fresh,
        at: UnixTime(NOW.0 - 60),
    });
    state.apply(FleetUpdate::SourceStatus {
        source: Source::CloudWatch,
        state: SourceState::Unavailable {
            reason: "AccessDenied".into(),
        },
        at: NOW,
    });
    state
}

#[test]
fn a_restart_shows_the_saved_fleet_with_its_age() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/fleetid.sqlite3");
    let original = fleet();
    {
        let mut store = Store::open(&path).unwrap();
        store.save("prod", &original, NOW).unwrap();
    }
    // A new process: open the file again.
    let store = Store::open(&path).unwrap();
    let snapshot = store.load("prod").unwrap().expect("a snapshot");
    let restored = snapshot.state;
    assert_eq!(snapshot.saved_at, NOW);
    assert_eq!(restored.status_counts(), original.status_counts());
    assert_eq!(restored.unreadable_pems(), original.unreadable_pems());
    assert_eq!(restored.thing_count(), original.thing_count());
    assert_eq!(restored.ca_tree(), original.ca_tree());
    let all = |s: &crate::model::FleetState| {
        s.expiry_histogram()
            .days(Cohort::All, Day(i32::MIN), Day(i32::MAX))
            .collect::<Vec<_>>()
    };
    assert_eq!(all(&restored), all(&original));
    assert_eq!(
        restored.health(NOW, HealthPolicy::default()),
        original.health(NOW, HealthPolicy::default())
    );
    let cert = restored.certificate(&synthetic::cert_id(42)).unwrap();
    let before = original.certificate(&synthetic::cert_id(42)).unwrap();
    assert_eq!(cert.record, before.record);
    assert_eq!(cert.groups(), before.groups());
    assert_eq!(cert.firmware(), before.firmware());
    // The age of every source survives the restart.
    let sources = restored.sources();
    assert_eq!(sources[&Source::Certificates].age(NOW), Some(60));
    assert!(matches!(
        sources[&Source::CloudWatch].state,
        SourceState::Unavailable { .. }
    ));
    assert_eq!(restored.sources(), original.sources());
}

#[test]
fn environments_are_kept_apart_and_a_save_replaces_the_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    let mut state = fleet();
    store.save("prod", &state, NOW).unwrap();
    assert!(store.load("staging").unwrap().is_none());
    state.apply(FleetUpdate::StatusChanged(vec![(
        synthetic::cert_id(3),
        CertStatus::Revoked,
    )]));
    store.save("prod", &state, UnixTime(NOW.0 + 10)).unwrap();
    let again = store.load("prod").unwrap().unwrap();
    assert_eq!(again.saved_at, UnixTime(NOW.0 + 10));
    assert_eq!(again.state.status_counts(), state.status_counts());
}

#[test]
fn an_unusable_location_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let err = Store::open(&blocker.join("fleetid.sqlite3")).unwrap_err();
    assert!(err.to_string().contains("opening the cache"), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
}
