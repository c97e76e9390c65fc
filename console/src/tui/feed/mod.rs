//! From the model to the screen: builds the [`FleetSnapshot`] the views show out of a
//! [`FleetState`], and answers detail requests. Runs wherever the model lives (never on the
//! UI thread); the result crosses to the UI through the bounded update channel.

mod detail;

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{self, CaStatus, CertStatus, Cohort, Day, FleetState, Source, UnixTime};

pub use detail::device_detail;

use super::data::{
    AnomalyRow, AnomalySource, CaNode, CaState, CertState, CohortKind, CohortSeries, DashboardData,
    DeviceRow, DeviceTable, FleetSnapshot, Freshness, HeatmapData, Severity, Triage,
};

/// Days the heatmap covers, from today.
pub const HEATMAP_DAYS: usize = 365;

/// The screen's state of a certificate status.
#[must_use]
pub fn cert_state(status: CertStatus) -> CertState {
    match status {
        CertStatus::Active => CertState::Active,
        CertStatus::Inactive => CertState::Inactive,
        CertStatus::Revoked => CertState::Revoked,
        CertStatus::PendingTransfer
        | CertStatus::RegisterInactive
        | CertStatus::PendingActivation => CertState::Pending,
        CertStatus::Unknown => CertState::Unknown,
    }
}

fn state_index(state: CertState) -> usize {
    CertState::ALL.iter().position(|s| *s == state).unwrap_or(4)
}

/// The `CN=` value of a distinguished name, or the whole name when it has none.
#[must_use]
pub fn common_name(subject: &str) -> &str {
    subject
        .split([',', '/'])
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject)
}

fn ca_label(state: &FleetState, id: &model::CertId) -> String {
    state
        .cas()
        .get(id)
        .and_then(|ca| ca.parsed.as_ref().ok())
        .map_or_else(
            || format!("CA {}", id.short(10)),
            |f| common_name(&f.subject).to_owned(),
        )
}

/// Interns names into the device table's name list.
#[derive(Default)]
struct Names {
    index: HashMap<String, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.index.insert(name.to_owned(), id);
        id
    }
}

/// Device rows (one per certificate) and per-CA counts by state.
fn devices(state: &FleetState) -> (DeviceTable, HashMap<model::CertId, [u64; 5]>) {
    let mut names = Names::default();
    let mut ca_labels: HashMap<model::CertId, u32> = HashMap::new();
    let mut per_ca: HashMap<model::CertId, [u64; 5]> = HashMap::new();
    let none = names.id("-");
    let mut rows = Vec::with_capacity(state.status_counts().total().try_into().unwrap_or(0));
    for cert in state.certificates() {
        let record = cert.record;
        let cert_state = cert_state(record.status);
        let ca = match &record.ca {
            Some(id) => {
                per_ca.entry(*id).or_default()[state_index(cert_state)] += 1;
                match ca_labels.get(id) {
                    Some(label) => *label,
                    None => {
                        let label = names.id(&ca_label(state, id));
                        ca_labels.insert(*id, label);
                        label
                    }
                }
            }
            None => none,
        };
        let thing = cert.things().next();
        let view = thing.and_then(|t| state.thing(t));
        let group = view
            .as_ref()
            .and_then(|v| v.groups.first().copied())
            .map_or(none, |g| names.id(g));
        let firmware = cert.firmware().map_or(none, |f| names.id(f));
        rows.push(DeviceRow {
            thing: thing.unwrap_or("(no thing)").into(),
            cert: record.id.short(16).into(),
            state: cert_state,
            expires: cert.not_after().map(|t| t.0),
            ca,
            group,
            firmware,
            online: view.and_then(|v| v.connected),
        });
    }
    rows.sort_unstable_by(|a, b| a.thing.cmp(&b.thing).then_with(|| a.cert.cmp(&b.cert)));
    (
        DeviceTable {
            rows,
            names: names.names,
        },
        per_ca,
    )
}

fn heatmap(state: &FleetState, today: Day) -> HeatmapData {
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
                Cohort::Ca(id) => (CohortKind::Ca, ca_label(state, &id)),
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

fn ca_tree(state: &FleetState, per_ca: &HashMap<model::CertId, [u64; 5]>) -> Vec<CaNode> {
    fn convert(
        state: &FleetState,
        per_ca: &HashMap<model::CertId, [u64; 5]>,
        node: &model::CaNode,
    ) -> CaNode {
        let mut devices = per_ca.get(&node.id).copied().unwrap_or_default();
        devices[0] = node.active_direct;
        CaNode {
            id: node.id.short(10).into(),
            name: common_name(&node.subject).into(),
            state: match (node.registered, node.status) {
                (true, CaStatus::Active) => CaState::Active,
                (true, CaStatus::Inactive) => CaState::Inactive,
                (true, CaStatus::Revoked) => CaState::Revoked,
                (false, _) | (true, CaStatus::Unknown) => CaState::Unregistered,
            },
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

/// A stable numeric id for an anomaly id (FNV-1a).
fn anomaly_number(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn anomalies(state: &FleetState) -> Vec<AnomalyRow> {
    let mut rows: Vec<AnomalyRow> = state
        .anomalies()
        .values()
        .filter(|a| !a.cleared)
        .map(|a| AnomalyRow {
            id: anomaly_number(&a.id),
            severity: match a.severity {
                model::Severity::Critical => Severity::Critical,
                model::Severity::High => Severity::High,
                model::Severity::Medium => Severity::Medium,
                model::Severity::Low => Severity::Low,
            },
            source: match a.source {
                Source::DefenderDetect => AnomalySource::DefenderDetect,
                Source::DefenderAudit => AnomalySource::Audit,
                Source::CloudWatch => AnomalySource::CloudWatch,
                _ => AnomalySource::Fleetid,
            },
            thing: a.thing.clone().unwrap_or_else(|| {
                a.certificate
                    .map_or_else(|| "-".to_owned(), |c| format!("cert {}", c.short(12)))
                    .into()
            }),
            kind: a.kind.clone(),
            detail: a.summary.clone(),
            at: a.at.0,
            triage: Triage::Open,
        })
        .collect();
    rows.sort_by(|a, b| b.at.cmp(&a.at).then(a.severity.cmp(&b.severity)));
    rows
}

fn dashboard(
    state: &FleetState,
    today: Day,
    cas: &[CaNode],
    anomalies: &[AnomalyRow],
) -> DashboardData {
    let mut data = DashboardData::default();
    for (status, n) in state.status_counts().iter() {
        data.status_counts[state_index(cert_state(status))] += n;
    }
    let histogram = state.expiry_histogram();
    data.expired = histogram.sum(Cohort::All, Day(i32::MIN), Day(today.0 - 1));
    for (slot, days) in [7, 30, 90].into_iter().enumerate() {
        data.expiring[slot] = histogram.sum(Cohort::All, today, Day(today.0 + days - 1));
    }
    data.things = state.thing_count() as u64;
    let mut known = false;
    let mut online = 0;
    for thing in state.things() {
        known |= thing.connected.is_some();
        online += u64::from(thing.connected == Some(true));
    }
    data.online = known.then_some(online);
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
                source: source.name().into(),
                updated: info.and_then(|i| i.fresh_at).map(|t| t.0),
                available: info
                    .is_none_or(|i| !matches!(i.state, model::SourceState::Unavailable { .. })),
            }
        })
        .collect();
    data
}

/// The whole picture for the screen, as of `now`. Costs one pass over the certificates;
/// call it after applying a batch of updates, not per update.
#[must_use]
pub fn snapshot(state: &FleetState, now: UnixTime) -> FleetSnapshot {
    let today = now.day();
    let (table, per_ca) = devices(state);
    let cas = ca_tree(state, &per_ca);
    let anomalies = anomalies(state);
    FleetSnapshot {
        taken_at: now.0,
        dashboard: dashboard(state, today, &cas, &anomalies),
        heatmap: heatmap(state, today),
        cas,
        anomalies,
        devices: Arc::new(table),
        audit: Arc::from(Vec::new()),
        details: None,
    }
}

#[cfg(test)]
mod tests;
