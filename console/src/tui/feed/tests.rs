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
    assert_eq!(
        snapshot.devices.rows.len() as u64,
        state.status_counts().total()
    );
    let active = snapshot
        .devices
        .rows
        .iter()
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
            .rows
            .iter()
            .any(|r| r.thing.raw() == "dev-0000000")
    );
    assert!(
        snapshot
            .devices
            .rows
            .iter()
            .all(|r| r.cert.raw().len() == 16)
    );
    let overview = overview(&state.summary(), NOW);
    assert!(overview.devices_loading && overview.devices.rows.is_empty());
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
        let thing = cert.things().next();
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
    assert_eq!(direct.rows.len(), expected.rows.len());
    assert_eq!(direct.names, expected.names);
    assert!(direct.rows == expected.rows, "rows differ");
}
