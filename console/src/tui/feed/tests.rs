//! Tests of the model-to-screen feed over the model's synthetic fleet.

use crate::model::synthetic::fleet_updates;
use crate::model::{FleetState, UnixTime};
use crate::tui::data::{CaState, CertState, CohortKind};

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
        .filter(|r| r.state == CertState::Active)
        .count() as u64;
    assert_eq!(snapshot.dashboard.status_counts[0], active);
    assert_eq!(snapshot.dashboard.things, 1_000);
    assert!(
        snapshot
            .devices
            .rows
            .iter()
            .any(|r| &*r.thing == "dev-0000000")
    );
    assert!(snapshot.devices.rows.iter().all(|r| r.cert.len() == 16));
    let overview = overview(&state, NOW);
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
    assert_eq!(flagged[0].state, CaState::Inactive);
    assert!(flagged[0].devices[0] > 0);
    assert_eq!(snapshot.dashboard.cas_flagged, 1);
}

#[test]
fn details_carry_chain_groups_and_state() {
    let state = fleet(100);
    let detail = device_detail(&state, "dev-0000003", NOW).unwrap_or_else(|| panic!("known"));
    assert_eq!(&*detail.thing, "dev-0000003");
    assert!(detail.chain.len() >= 2, "{:?}", detail.chain);
    assert!(
        detail
            .chain
            .last()
            .is_some_and(|c| c.0.starts_with("certificate "))
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
