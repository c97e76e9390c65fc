//! From the model to the screen: builds the [`FleetSnapshot`] the views show out of a
//! [`FleetState`], and answers detail requests. Runs wherever the model lives (never on the
//! UI thread); the result crosses to the UI through the bounded update channel.

mod detail;
mod devices;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::model::{
    self, CertStatus, Cohort, Day, FleetState, FleetSummary, Severity, Source, StatusCounts,
    UnixTime,
};

pub use detail::device_detail;
pub use devices::{DeviceFeed, TableChange, device_table};

use super::data::{
    AnomalyRow, CaNode, CohortKind, CohortSeries, DashboardData, DeviceTable, FleetSnapshot,
    Freshness, HeatmapData, Triage,
};

/// Days the heatmap covers, from today.
pub const HEATMAP_DAYS: usize = 365;

/// The `CN=` value of a distinguished name, or the whole name when it has none.
#[must_use]
pub fn common_name(subject: &str) -> &str {
    subject
        .split([',', '/'])
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject)
}

fn ca_label(cas: &BTreeMap<model::CertId, model::CaRecord>, id: &model::CertId) -> String {
    cas.get(id)
        .and_then(|ca| ca.parsed.as_ref().ok())
        .map_or_else(
            || format!("CA {}", id.short(10)),
            |f| common_name(&f.subject).to_owned(),
        )
}

/// Device certificates per issuing CA and state (the active count comes from the CA tree
/// itself).
fn per_ca_counts(state: &FleetSummary) -> HashMap<model::CertId, StatusCounts> {
    let mut per_ca: HashMap<model::CertId, StatusCounts> = HashMap::new();
    for (ca, per_status) in state.per_ca() {
        let counts = per_ca.entry(*ca).or_default();
        for status in CertStatus::ALL {
            if status != CertStatus::Active {
                counts.add(status, count(per_status[status.index()]));
            }
        }
    }
    per_ca
}

/// A count as the signed change [`StatusCounts::add`] takes.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn heatmap(state: &FleetSummary, today: Day) -> HeatmapData {
    let histogram = state.expiry_histogram();
    let last = Day(today.0 + i32::try_from(HEATMAP_DAYS).unwrap_or(365) - 1);
    let mut cohorts = histogram.cohorts();
    cohorts.sort_by_key(|c| match c {
        Cohort::All => 0,
        Cohort::Ca(_) => 1,
        Cohort::Group(_) => 2,
        Cohort::Firmware(_) => 3,
    });
    if !cohorts.contains(&Cohort::All) {
        cohorts.insert(0, Cohort::All);
    }
    let series = cohorts
        .into_iter()
        .map(|cohort| {
            let (kind, name) = match cohort {
                Cohort::All => (CohortKind::All, "all".to_owned()),
                Cohort::Ca(id) => (CohortKind::Ca, ca_label(state.cas(), &id)),
                Cohort::Group(g) => (CohortKind::Group, state.name_text(g).to_owned()),
                Cohort::Firmware(f) => (CohortKind::Firmware, state.name_text(f).to_owned()),
            };
            let mut per_day = vec![0u32; HEATMAP_DAYS];
            for (day, n) in histogram.days(cohort, today, last) {
                if let Ok(i) = usize::try_from(day.0 - today.0)
                    && let Some(slot) = per_day.get_mut(i)
                {
                    *slot = u32::try_from(n).unwrap_or(u32::MAX);
                }
            }
            CohortSeries {
                kind,
                name: name.into(),
                per_day,
            }
        })
        .collect();
    HeatmapData {
        start_day: i64::from(today.0),
        series,
    }
}

fn ca_tree(state: &FleetSummary, per_ca: &HashMap<model::CertId, StatusCounts>) -> Vec<CaNode> {
    fn convert(
        state: &FleetSummary,
        per_ca: &HashMap<model::CertId, StatusCounts>,
        node: &model::CaNode,
    ) -> CaNode {
        let mut devices = per_ca.get(&node.id).copied().unwrap_or_default();
        devices.add(CertStatus::Active, count(node.active_direct));
        CaNode {
            id: node.id.short(10).into(),
            name: common_name(&node.subject).into(),
            status: node.registered.then_some(node.status),
            auto_registration: state
                .cas()
                .get(&node.id)
                .is_some_and(|ca| ca.auto_registration),
            expires: node.not_after.map(|t| t.0),
            devices,
            children: node
                .children
                .iter()
                .map(|c| convert(state, per_ca, c))
                .collect(),
        }
    }
    state
        .ca_tree()
        .iter()
        .map(|n| convert(state, per_ca, n))
        .collect()
}

/// A stable numeric id for an anomaly id (FNV-1a): [`AnomalyRow::id`].
#[must_use]
pub fn anomaly_number(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn anomalies(state: &FleetSummary) -> Vec<AnomalyRow> {
    let mut rows: Vec<AnomalyRow> = state
        .anomalies()
        .values()
        .filter(|a| !a.cleared)
        .map(|a| AnomalyRow {
            id: anomaly_number(&a.id),
            severity: a.severity,
            source: a.source,
            thing: a
                .thing
                .clone()
                .unwrap_or_else(|| {
                    a.certificate
                        .map_or_else(|| "-".to_owned(), |c| format!("cert {}", c.short(12)))
                        .into()
                })
                .into(),
            kind: a.kind.clone().into(),
            detail: a.summary.clone().into(),
            at: a.at.0,
            triage: Triage::Open,
        })
        .collect();
    rows.sort_by(|a, b| b.at.cmp(&a.at).then(b.severity.cmp(&a.severity)));
    rows
}

fn dashboard(
    state: &FleetSummary,
    today: Day,
    cas: &[CaNode],
    anomalies: &[AnomalyRow],
) -> DashboardData {
    let mut data = DashboardData {
        status_counts: *state.status_counts(),
        ..DashboardData::default()
    };
    let histogram = state.expiry_histogram();
    data.expired = histogram.sum(Cohort::All, Day(i32::MIN), Day(today.0 - 1));
    for (slot, days) in [7, 30, 90].into_iter().enumerate() {
        data.expiring[slot] = histogram.sum(Cohort::All, today, Day(today.0 + days - 1));
    }
    data.things = state.thing_count();
    data.online = state.things_online();
    data.cas = state.cas().len() as u64;
    fn flagged(nodes: &[CaNode]) -> u64 {
        nodes
            .iter()
            .map(|n| u64::from(n.flagged()) + flagged(&n.children))
            .sum()
    }
    data.cas_flagged = flagged(cas);
    for row in anomalies {
        data.anomalies[Severity::ALL
            .iter()
            .position(|s| *s == row.severity)
            .unwrap_or(3)] += 1;
    }
    data.freshness = Source::ALL
        .iter()
        .map(|source| {
            let info = state.sources().get(source);
            Freshness {
                source: *source,
                updated: info.and_then(|i| i.fresh_at).map(|t| t.0),
                available: info
                    .is_none_or(|i| !matches!(i.state, model::SourceState::Unavailable { .. })),
            }
        })
        .collect();
    data
}

/// Everything but the device table, as of `now`, from the fleet's aggregates (a model's, or
/// the summary the store keeps, so the first frame needs no model). The snapshot says the
/// device table is still loading.
#[must_use]
pub fn overview(state: &FleetSummary, now: UnixTime) -> FleetSnapshot {
    let today = now.day();
    let cas = ca_tree(state, &per_ca_counts(state));
    let anomalies = anomalies(state);
    FleetSnapshot {
        taken_at: now.0,
        dashboard: dashboard(state, today, &cas, &anomalies),
        heatmap: heatmap(state, today),
        cas,
        anomalies,
        devices: Arc::new(DeviceTable::default()),
        devices_loading: true,
        campaigns: Arc::from(Vec::new()),
        operations: Arc::from(Vec::new()),
        live: crate::tui::data::LiveCounts::default(),
        audit: Arc::from(Vec::new()),
        details: None,
    }
}

/// The whole picture: [`overview`] plus [`device_table`].
#[must_use]
pub fn snapshot(state: &FleetState, now: UnixTime) -> FleetSnapshot {
    FleetSnapshot {
        devices: device_table(state),
        devices_loading: false,
        ..overview(&state.summary(), now)
    }
}

#[cfg(test)]
mod tests;
