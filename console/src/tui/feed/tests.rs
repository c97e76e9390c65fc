//! Tests of the model-to-screen feed over the model's synthetic fleet.

use crate::model::synthetic::fleet_updates;
use crate::model::{CaStatus, CertStatus, FleetState, UnixTime};
use crate::tui::data::{CohortKind, DeviceRow};

use super::*;

const NOW: UnixTime = UnixTime(1_795_600_000);

fn fleet(devices: usize) -> FleetState {
    let mut state = FleetState::new();
    for update in fleet_updates(devices, NOW, 250) {
        state.apply(update);
    }
    state
}

#[test]
fn one_row_per_certificate_with_counts_that_agree() {
    let state = fleet(1_000);
    let snapshot = snapshot(&state, NOW);
    assert_eq!(snapshot.devices.len() as u64, state.status_counts().total());
    let active = snapshot
        .devices
        .rows()
        .filter(|r| r.state == CertStatus::Active)
        .count() as u64;
    assert_eq!(
        snapshot.dashboard.status_counts.get(CertStatus::Active),
        active
    );
    assert_eq!(snapshot.dashboard.things, 1_000);
    assert!(
        snapshot
            .devices
            .rows()
            .any(|r| r.thing.raw() == "dev-0000000")
    );
    assert!(snapshot.devices.rows().all(|r| r.cert.raw().len() == 16));
    let overview = overview(&state.summary(), NOW);
    assert!(overview.devices_loading && overview.devices.is_empty());
    assert_eq!(overview.dashboard, snapshot.dashboard);
    assert_eq!(overview.cas, snapshot.cas);
}

#[test]
fn the_heatmap_sums_agree_with_the_expiry_windows() {
    let state = fleet(2_000);
    let snapshot = snapshot(&state, NOW);
    let all = &snapshot.heatmap.series[0];
    assert_eq!(all.kind, CohortKind::All);
    let first_30: u64 = all.per_day.iter().take(30).map(|n| u64::from(*n)).sum();
    assert_eq!(first_30, snapshot.dashboard.expiring[1]);
    assert!(
        snapshot
            .heatmap
            .series
            .iter()
            .any(|s| s.kind == CohortKind::Firmware)
    );
    assert!(
        snapshot
            .heatmap
            .series
            .iter()
            .any(|s| s.kind == CohortKind::Ca)
    );
}

#[test]
fn the_inactive_intermediate_with_active_certificates_is_flagged() {
    let state = fleet(500);
    let snapshot = snapshot(&state, NOW);
    let mut flagged = Vec::new();
    let mut stack: Vec<&CaNode> = snapshot.cas.iter().collect();
    while let Some(node) = stack.pop() {
        if node.flagged() {
            flagged.push(node);
        }
        stack.extend(node.children.iter());
    }
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].status, Some(CaStatus::Inactive));
    assert!(flagged[0].devices.get(CertStatus::Active) > 0);
    assert_eq!(snapshot.dashboard.cas_flagged, 1);
}

#[test]
fn details_carry_chain_groups_and_state() {
    let state = fleet(100);
    let detail = device_detail(&state, "dev-0000003", NOW).unwrap_or_else(|| panic!("known"));
    assert_eq!(detail.thing.raw(), "dev-0000003");
    assert!(detail.chain.len() >= 2, "{:?}", detail.chain);
    assert!(
        detail
            .chain
            .last()
            .is_some_and(|c| c.0.raw().starts_with("certificate "))
    );
    assert_eq!(detail.groups.len(), 1);
    assert!(device_detail(&state, "no-such-thing", NOW).is_none());
}

#[test]
fn common_names_are_found_in_either_spelling() {
    assert_eq!(common_name("CN=Acme Root, O=Acme"), "Acme Root");
    assert_eq!(common_name("/O=Acme/CN=dev-1"), "dev-1");
    assert_eq!(common_name("O=Acme"), "O=Acme");
}

/// The device table as built through the model's public views (a thing look-up by name and
/// a joined view per row), to check the direct build against.
fn device_table_through_views(state: &FleetState) -> DeviceTable {
    let mut names: Vec<Box<str>> = Vec::new();
    let mut id = |name: &str| {
        let index = names.iter().position(|n| &**n == name).unwrap_or_else(|| {
            names.push(name.into());
            names.len() - 1
        });
        u32::try_from(index).unwrap_or(u32::MAX)
    };
    let none = id("-");
    let cas: Vec<(model::CertId, u32)> = state
        .issuing_cas()
        .map(|(ca, _)| *ca)
        .chain(state.cas().keys().copied())
        .map(|ca| (ca, id(&ca_label(state.cas(), &ca))))
        .collect();
    let mut rows = Vec::new();
    for cert in state.certificates() {
        let thing = cert.things().min();
        let view = thing.and_then(|t| state.thing(t));
        let group = view
            .as_ref()
            .and_then(|v| v.groups.first())
            .map_or(none, |g| id(g));
        rows.push(DeviceRow {
            thing: thing.unwrap_or("(no thing)").into(),
            cert: cert.record.id.0[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into(),
            state: cert.record.status,
            expires: cert.not_after().map(|t| t.0),
            ca: cert
                .record
                .ca
                .and_then(|ca| cas.iter().find(|(c, _)| *c == ca).map(|(_, i)| *i))
                .unwrap_or(none),
            group,
            firmware: cert.firmware().map_or(none, &mut id),
            online: view.and_then(|v| v.connected),
        });
    }
    DeviceTable::new(rows, names.into_iter().map(Into::into).collect())
}

#[test]
fn the_direct_device_table_equals_one_built_through_the_models_views() {
    // More rows than one part of the parallel build.
    let state = fleet(20_000);
    let direct = device_table(&state);
    let expected = device_table_through_views(&state);
    assert_eq!(direct.len(), expected.len());
    assert_eq!(direct.names, expected.names);
    assert!(*direct == expected, "rows differ");
}

mod device_feed {
    //! The table kept current by changes equals one built afresh, after every kind of
    //! update, and patches where it can.

    use super::*;
    use crate::model::synthetic::{self, certificate, thing};
    use crate::model::{FleetUpdate, LiveStatusRecord, PresenceEvent, PresenceKind};

    fn live_status(i: usize, firmware: &str) -> FleetUpdate {
        FleetUpdate::LiveStatus(LiveStatusRecord {
            thing: format!("dev-{i:07}").into(),
            firmware: firmware.into(),
            sequence: 1,
            state: Some("active".into()),
            last_error: None,
            at: NOW,
        })
    }

    fn presence(i: usize, connected: bool) -> FleetUpdate {
        let name: Box<str> = format!("dev-{i:07}").into();
        FleetUpdate::Presence(PresenceEvent {
            client_id: name.clone(),
            thing: Some(name),
            certificate: None,
            kind: if connected {
                PresenceKind::Connected
            } else {
                PresenceKind::Disconnected {
                    reason: "CLIENT_INITIATED_DISCONNECT".into(),
                }
            },
            at: UnixTime(NOW.0 + 60),
        })
    }

    /// Applies `updates`, brings the feed up to date and checks it against a fresh build.
    fn step(
        state: &mut FleetState,
        feed: &mut DeviceFeed,
        updates: Vec<FleetUpdate>,
    ) -> TableChange {
        let shown = Arc::clone(feed.table());
        state.apply_all(updates);
        let change = feed.update(state);
        let fresh = device_table(state);
        // Name ids follow first use in a build: compare the names they stand for.
        let resolved = |table: &DeviceTable| -> Vec<_> {
            table
                .rows()
                .map(|r| {
                    let name = |i: u32| table.name(i).raw().to_owned();
                    (
                        r.thing,
                        r.cert,
                        r.state,
                        r.expires,
                        name(r.ca),
                        name(r.group),
                        name(r.firmware),
                        r.online,
                    )
                })
                .collect()
        };
        let (fed, fresh) = (resolved(feed.table()), resolved(&fresh));
        assert_eq!(fed.len(), fresh.len(), "after {change:?}");
        let differs = (0..fed.len()).find(|&i| fed[i] != fresh[i]);
        assert!(
            differs.is_none(),
            "after {change:?}, row {differs:?} differs: {:?} against {:?}",
            differs.map(|i| &fed[i]),
            differs.map(|i| &fresh[i]),
        );
        match change {
            TableChange::Rebuilt => assert!(!Arc::ptr_eq(&shown, feed.table())),
            _ => assert!(
                Arc::ptr_eq(&shown, feed.table()),
                "patched in the same table"
            ),
        }
        change
    }

    #[test]
    fn patches_what_changed_and_builds_again_only_when_rows_come_go_or_gain_a_name() {
        let mut state = fleet(2_000);
        let mut feed = DeviceFeed::new(&mut state);
        assert!(**feed.table() == *device_table(&state), "the same build");
        assert_eq!(feed.update(&mut state), TableChange::Unchanged);

        // Connectivity, live status with a firmware the table knows, presence, a status
        // change: rows patched in place.
        let online = FleetUpdate::Connectivity(vec![
            ("dev-0000005".into(), true, Some(NOW)),
            ("dev-0000006".into(), false, Some(NOW)),
        ]);
        assert_eq!(
            step(&mut state, &mut feed, vec![online]),
            TableChange::Patched(2)
        );
        let firmware = synthetic::FIRMWARE[3];
        assert_eq!(
            step(&mut state, &mut feed, vec![live_status(0, firmware)]),
            TableChange::Patched(1)
        );
        assert_eq!(
            step(
                &mut state,
                &mut feed,
                vec![presence(7, false), presence(10, true)]
            ),
            TableChange::Patched(2)
        );
        let revoked =
            FleetUpdate::StatusChanged(vec![(synthetic::cert_id(12), CertStatus::Revoked)]);
        assert_eq!(
            step(&mut state, &mut feed, vec![revoked]),
            TableChange::Patched(1)
        );
        // The same status again, and a certificate re-read unchanged: nothing to patch.
        let again = FleetUpdate::StatusChanged(vec![(synthetic::cert_id(12), CertStatus::Revoked)]);
        assert_eq!(
            step(&mut state, &mut feed, vec![again]),
            TableChange::Unchanged
        );
        let mut same = certificate(30, NOW);
        same.status = state
            .certificate(&synthetic::cert_id(30))
            .map_or(same.status, |c| c.record.status);
        assert_eq!(
            step(
                &mut state,
                &mut feed,
                vec![FleetUpdate::Certificates(vec![same])]
            ),
            TableChange::Unchanged
        );
        // A thing moved to another group the table knows.
        let mut moved = thing(40);
        moved.groups = vec![synthetic::GROUPS[2].into()];
        assert!(matches!(
            step(
                &mut state,
                &mut feed,
                vec![FleetUpdate::Things(vec![moved])]
            ),
            TableChange::Patched(_)
        ));

        // A firmware version the table has no name for, a new certificate, a certificate
        // moved to another thing, one removed: built again.
        assert_eq!(
            step(&mut state, &mut feed, vec![live_status(3, "9.9.9")]),
            TableChange::Rebuilt
        );
        assert_eq!(
            step(
                &mut state,
                &mut feed,
                vec![
                    FleetUpdate::Certificates(vec![certificate(2_000, NOW)]),
                    FleetUpdate::Things(vec![thing(2_000)]),
                    FleetUpdate::Attachments(vec![(
                        synthetic::cert_id(2_000),
                        vec!["dev-0002000".into()]
                    )]),
                ]
            ),
            TableChange::Rebuilt
        );
        let relinked =
            FleetUpdate::Attachments(vec![(synthetic::cert_id(50), vec!["dev-0000051".into()])]);
        assert_eq!(
            step(&mut state, &mut feed, vec![relinked]),
            TableChange::Rebuilt
        );
        let removed = FleetUpdate::CertificatesRemoved(vec![synthetic::cert_id(60)]);
        assert_eq!(
            step(&mut state, &mut feed, vec![removed]),
            TableChange::Rebuilt
        );
        // The same attachments again change nothing.
        let same_links =
            FleetUpdate::Attachments(vec![(synthetic::cert_id(70), vec!["dev-0000070".into()])]);
        assert_eq!(
            step(&mut state, &mut feed, vec![same_links]),
            TableChange::Unchanged
        );
    }

    #[test]
    fn a_model_that_does_not_track_touches_pays_nothing() {
        let mut state = fleet(10);
        state.apply(presence(1, false));
        assert!(state.take_touched().is_empty());
        state.track_touched();
        state.apply(presence(1, true));
        let touched = state.take_touched();
        assert!(!touched.is_empty());
        assert!(state.take_touched().is_empty(), "taken once");
    }
}
