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

/// Everything a snapshot holds, in a comparable form.
fn contents(state: &crate::model::FleetState) -> impl PartialEq + std::fmt::Debug {
    let mut certs: Vec<_> = state
        .certificates()
        .map(|c| {
            (
                c.record.clone(),
                c.things().map(str::to_owned).collect::<Vec<_>>(),
                c.groups()
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
                c.firmware().map(str::to_owned),
            )
        })
        .collect();
    certs.sort_by_key(|c| c.0.id);
    let mut things: Vec<_> = state
        .things()
        .map(|t| {
            (
                t.name.to_owned(),
                t.certificates.clone(),
                t.groups.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>(),
                t.firmware.map(str::to_owned),
                t.connected,
            )
        })
        .collect();
    things.sort();
    (
        certs,
        things,
        state.cas().clone(),
        state.policies().clone(),
        state.groups().clone(),
        state.anomalies().clone(),
        state.sources().clone(),
        *state.status_counts(),
        state.expiry_histogram().clone(),
        state.unreadable_pems(),
    )
}

fn rows(store: &Store, table: &str) -> i64 {
    store
        .connection
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn realistic(devices: usize) -> crate::model::FleetState {
    let fleet = crate::model::synthetic::realistic::RealisticFleet { devices, now: NOW };
    let mut state = crate::model::FleetState::new();
    state.apply_all(fleet.updates(256));
    state
}

#[test]
fn a_realistic_fleet_comes_back_whole_with_its_policies() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    // More devices than one block holds, so several blocks decode side by side.
    let original = realistic(schema::BLOCK_RECORDS + 500);
    store.save("prod", &original, NOW).unwrap();
    let restored = store.load("prod").unwrap().unwrap().state;
    assert_eq!(contents(&restored), contents(&original));
    assert!(restored.changes().is_empty());
}

#[test]
fn a_refresh_that_changed_ten_certificates_writes_ten_rows() {
    use crate::model::synthetic::realistic::RealisticFleet;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite3");
    let mut store = Store::open(&path).unwrap();
    store.save("prod", &realistic(3000), NOW).unwrap();
    let blocks = rows(&store, "snapshot_blocks");

    let mut state = store.load("prod").unwrap().unwrap().state;
    state.apply(FleetUpdate::StatusChanged(
        (0..10)
            .map(|i| (RealisticFleet::cert_id(i * 7), CertStatus::Revoked))
            .collect(),
    ));
    let version = store.save("prod", &state, UnixTime(NOW.0 + 60)).unwrap();
    assert_eq!(rows(&store, "snapshot_changes"), 10);
    assert_eq!(rows(&store, "snapshot_blocks"), blocks);
    state.mark_saved(version);

    // A later refresh: a new certificate on a new thing, one removed, a thing regrouped.
    let fleet = RealisticFleet {
        devices: 3001,
        now: NOW,
    };
    state.apply(FleetUpdate::Certificates(vec![fleet.certificate(3000)]));
    state.apply(FleetUpdate::Things(vec![fleet.thing(3000)]));
    state.apply(FleetUpdate::Attachments(vec![(
        RealisticFleet::cert_id(3000),
        vec![RealisticFleet::thing_name(3000).into()],
    )]));
    state.apply(FleetUpdate::CertificatesRemoved(vec![
        RealisticFleet::cert_id(5),
    ]));
    let mut regrouped = fleet.thing(9);
    regrouped.groups = vec!["line-gateway-pro".into()];
    state.apply(FleetUpdate::Things(vec![regrouped]));
    store.save("prod", &state, UnixTime(NOW.0 + 120)).unwrap();
    // 10 + the new certificate and its thing, the removed certificate, the regrouped thing
    // and its certificate (its cohorts changed).
    assert_eq!(rows(&store, "snapshot_changes"), 15);
    assert_eq!(rows(&store, "snapshot_blocks"), blocks);

    let restored = Store::open(&path).unwrap().load("prod").unwrap().unwrap();
    assert_eq!(restored.saved_at, UnixTime(NOW.0 + 120));
    assert_eq!(contents(&restored.state), contents(&state));
    assert!(
        restored
            .state
            .certificate(&RealisticFleet::cert_id(5))
            .is_none()
    );
}

#[test]
fn a_state_that_is_not_the_saved_version_rewrites_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    store.save("prod", &realistic(500), NOW).unwrap();
    // Loaded by two processes; the first saves a change, then the second saves its own.
    let mut first = store.load("prod").unwrap().unwrap().state;
    let mut second = store.load("prod").unwrap().unwrap().state;
    first.apply(FleetUpdate::StatusChanged(vec![(
        crate::model::synthetic::realistic::RealisticFleet::cert_id(1),
        CertStatus::Inactive,
    )]));
    store.save("prod", &first, NOW).unwrap();
    assert_eq!(rows(&store, "snapshot_changes"), 1);
    second.apply(FleetUpdate::StatusChanged(vec![(
        crate::model::synthetic::realistic::RealisticFleet::cert_id(2),
        CertStatus::Revoked,
    )]));
    store.save("prod", &second, NOW).unwrap();
    assert_eq!(rows(&store, "snapshot_changes"), 0);
    let restored = store.load("prod").unwrap().unwrap().state;
    assert_eq!(contents(&restored), contents(&second));
}

#[test]
fn a_damaged_block_is_reported_and_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    store.save("prod", &realistic(100), NOW).unwrap();
    store
        .connection
        .execute(
            "UPDATE snapshot_blocks SET data = substr(data, 1, 50) WHERE part = 'certificates'",
            [],
        )
        .unwrap();
    let err = store.load("prod").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                table: "certificates",
                ..
            }
        ),
        "{err}"
    );
}

/// The byte each certificate status is stored as, as caches written by earlier versions hold
/// it: the status type may move, these bytes may not.
#[test]
fn each_certificate_status_keeps_its_byte_on_disk() {
    let on_disk = [
        (CertStatus::Active, 0_u8),
        (CertStatus::Inactive, 1),
        (CertStatus::Revoked, 2),
        (CertStatus::PendingTransfer, 3),
        (CertStatus::RegisterInactive, 4),
        (CertStatus::PendingActivation, 5),
        (CertStatus::Unknown, 6),
    ];
    for (status, byte) in on_disk {
        let mut record = synthetic::certificate(1, NOW);
        record.status = status;
        let mut w = codec::Writer::default();
        records::certificate(&mut w, &record, &[]);
        let mut bytes = w.finish();
        // The 32 bytes of the id, then the status.
        assert_eq!(bytes[32], byte, "{status}");
        let back = records::read_certificate(&mut codec::Reader::new(&bytes)).unwrap();
        assert_eq!(back.record, record);

        // A status byte from a newer version reads as unknown instead of failing the load.
        bytes[32] = 42;
        let newer = records::read_certificate(&mut codec::Reader::new(&bytes)).unwrap();
        assert_eq!(newer.record.status, CertStatus::Unknown);
    }
}

#[test]
fn a_calls_result_and_its_audit_entry_are_written_together_or_not_at_all() {
    use crate::store::audit::{AuditPage, Decision, NewAuditEntry};
    use crate::store::journal::CallState;

    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite3")).unwrap();
    let at = UnixTime(1_800_000_000);
    store.begin_op("op-1", "prod", "revoke", "{}", at).unwrap();
    store.call_started("op-1", 0, at).unwrap();
    let entry = || NewAuditEntry {
        at,
        os_user: "oncall".into(),
        principal: None,
        account: None,
        environment: "prod".into(),
        action: "iot:UpdateCertificate".into(),
        targets: vec!["abc".into()],
        plan: "op-1".into(),
        decision: Decision::Confirmed,
        outcome: "done: INACTIVE".into(),
    };
    store
        .finish_call_recorded(
            "op-1",
            0,
            CallState::Done,
            Some("req-1"),
            "INACTIVE",
            at,
            entry(),
        )
        .unwrap();
    assert_eq!(store.op_calls("op-1").unwrap()[0].state, CallState::Done);
    let page = AuditPage {
        environment: None,
        before: None,
        limit: 10,
    };
    assert_eq!(store.list_audit(&page).unwrap().len(), 1);

    // An audit log that cannot be appended to (its newest hash unreadable) keeps the result
    // out of the journal too: the call stays started, for resume to check.
    store.call_started("op-1", 1, at).unwrap();
    store
        .connection
        .execute_batch(
            "DROP TRIGGER IF EXISTS audit_log_no_update; \
             UPDATE audit_log SET hash = 'not hex'",
        )
        .unwrap();
    assert!(
        store
            .finish_call_recorded("op-1", 1, CallState::Done, None, "x", at, entry())
            .is_err()
    );
    let calls = store.op_calls("op-1").unwrap();
    assert_eq!(calls[1].state, CallState::Started);
}
