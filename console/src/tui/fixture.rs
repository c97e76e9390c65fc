//! A deterministic synthetic fleet for snapshot tests and benchmarks: devices under three CAs
//! (one inactive with active devices, so it is flagged), expiry spread over the year,
//! anomalies from every source (one with a hostile thing name), an audit log. Numbers are
//! computed from the rows, never typed in.
//!
//! Test code: built for the crate's own tests, and with the `test-support` feature (which its
//! tests, benches and examples turn on), never into the shipped binary.

use std::sync::Arc;

use crate::model::{CaStatus, CertStatus, Severity, Source, StatusCounts};
use crate::ops::rotation::file::Campaign;
use crate::ops::rotation::state::CampaignState;
use crate::safe_text::OutsideText;
use crate::store::journal::CallState;

use super::data::{
    AnomalyRow, AuditRow, CaNode, CallLine, CampaignRow, CohortKind, CohortSeries, DAY,
    DashboardData, DetailSource, DeviceDetail, DeviceRow, DeviceTable, FleetSnapshot, Freshness,
    HeatmapData, LiveStatus, Look, OperationRow, Triage,
};

/// The console as it opens on `snapshot` at `now` in an environment named `environment`, with
/// the default theme and keys (for benchmarks that drive the real `App`).
///
/// # Panics
/// The default theme or keymap does not load.
#[must_use]
pub fn app(environment: &str, snapshot: FleetSnapshot, now: i64) -> super::app::App {
    let options = super::TuiOptions {
        environment: super::widgets::banner::Environment {
            name: environment.to_owned(),
            ..super::widgets::banner::Environment::default()
        },
        ..super::TuiOptions::default()
    };
    let settings = super::settings(&options).unwrap_or_else(|e| panic!("{e}"));
    super::app::App::new(settings, snapshot, now)
}

const CAS: [&str; 3] = ["Acme Device CA 1", "Acme Device CA 2023", "Recall Batch CA"];
const GROUPS: [&str; 3] = ["eu-plant-1", "us-warehouse", "field-test"];
const FIRMWARE: [&str; 3] = ["1.5.0", "1.4.2", "1.3.9"];
const HEATMAP_DAYS: usize = 365;

/// A small deterministic generator (splitmix64), so fixtures are the same everywhere.
#[derive(Debug, Clone)]
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The device table alone (for filter benchmarks): `devices` rows.
#[must_use]
pub fn device_table(devices: usize, now: i64) -> DeviceTable {
    let mut dice = Dice(42);
    let names: Vec<OutsideText> = CAS
        .iter()
        .chain(&GROUPS)
        .chain(&FIRMWARE)
        .map(|s| (*s).into())
        .collect();
    let rows = (0..devices)
        .map(|i| {
            let ca = match dice.below(10) {
                0..=6 => 0,
                7..=8 => 1,
                _ => 2,
            };
            let state = match dice.below(100) {
                0..=89 => CertStatus::Active,
                90..=95 => CertStatus::Inactive,
                96..=97 => CertStatus::Revoked,
                _ => CertStatus::PendingActivation,
            };
            let days = i64::try_from(dice.below(420)).unwrap_or(0) - 20;
            DeviceRow {
                thing: format!("dev-{i:07}").into(),
                cert: format!("{:016x}", dice.next()).into(),
                state,
                expires: Some(now + days * DAY + i64::try_from(dice.below(86_400)).unwrap_or(0)),
                ca,
                group: 3 + u32::try_from(dice.below(3)).unwrap_or(0),
                firmware: 6 + u32::try_from(dice.below(3)).unwrap_or(0),
                online: Some(dice.below(3) != 0),
            }
        })
        .collect();
    DeviceTable::new(rows, names)
}

fn heatmap(table: &DeviceTable, now: i64) -> HeatmapData {
    let start_day = now.div_euclid(DAY);
    let mut series = vec![CohortSeries {
        kind: CohortKind::All,
        name: "all".into(),
        per_day: vec![0; HEATMAP_DAYS],
    }];
    for (kind, range) in [
        (CohortKind::Ca, 0..3),
        (CohortKind::Group, 3..6),
        (CohortKind::Firmware, 6..9),
    ] {
        for index in range {
            series.push(CohortSeries {
                kind,
                name: table.names[index].clone(),
                per_day: vec![0; HEATMAP_DAYS],
            });
        }
    }
    for row in table.rows().filter(|r| r.state == CertStatus::Active) {
        let Some(day) = row
            .expires
            .and_then(|t| usize::try_from(t.div_euclid(DAY) - start_day).ok())
        else {
            continue;
        };
        if day >= HEATMAP_DAYS {
            continue;
        }
        for target in [
            0,
            1 + row.ca as usize,
            1 + row.group as usize,
            1 + row.firmware as usize,
        ] {
            series[target].per_day[day] += 1;
        }
    }
    HeatmapData { start_day, series }
}

fn ca_tree(table: &DeviceTable, now: i64) -> Vec<CaNode> {
    let mut counts = [StatusCounts::default(); 3];
    for row in table.rows() {
        counts[row.ca as usize].add(row.state, 1);
    }
    let node = |i: usize, status: CaStatus, auto: bool| CaNode {
        id: format!("ca{i:02}7f3a9c").into(),
        name: CAS[i].into(),
        status: Some(status),
        auto_registration: auto,
        expires: Some(now + (400 + i64::try_from(i).unwrap_or(0) * 200) * DAY),
        devices: counts[i],
        children: Vec::new(),
    };
    vec![CaNode {
        id: "root00a1b2".into(),
        name: "Acme Root CA 2024".into(),
        status: None,
        auto_registration: false,
        expires: Some(now + 3_000 * DAY),
        devices: StatusCounts::default(),
        children: vec![
            node(0, CaStatus::Active, true),
            node(1, CaStatus::Inactive, false),
            node(2, CaStatus::Revoked, false),
        ],
    }]
}

fn anomalies(now: i64) -> Vec<AnomalyRow> {
    let specs: [(Severity, Source, &str, &str, &str); 8] = [
        (
            Severity::Critical,
            Source::Live,
            "dev-0000007",
            "revoked-cert-connects",
            "connect attempts with a REVOKED certificate",
        ),
        (
            Severity::High,
            Source::DefenderDetect,
            "dev-0000042",
            "debug-topic",
            "publishes to debug/# (12 msgs/min)",
        ),
        (
            Severity::High,
            Source::DefenderAudit,
            "dev-0000003",
            "ca-inactive-active-certs",
            "Acme Device CA 2023 INACTIVE with active device certificates",
        ),
        (
            Severity::Medium,
            Source::CloudWatch,
            "dev-0000011",
            "flapping",
            "connected 14 times in 10 minutes",
        ),
        (
            Severity::Medium,
            Source::Live,
            "dev-0000005",
            "old-firmware",
            "firmware 1.3.9 below minimum 1.4.0",
        ),
        (
            Severity::Low,
            Source::DefenderAudit,
            "dev-0000001",
            "policy-permissive",
            "policy fleet-default allows iot:* on *",
        ),
        (
            Severity::Low,
            Source::Things,
            "dev\u{1b}[31m-evil",
            "hostile-name",
            "thing name with an escape sequence\u{7}",
        ),
        (
            Severity::Low,
            Source::CloudWatch,
            "dev-0000019",
            "auth-failures",
            "3 authentication failures",
        ),
    ];
    specs
        .into_iter()
        .enumerate()
        .map(|(i, (severity, source, thing, kind, detail))| AnomalyRow {
            id: u64::try_from(i).unwrap_or(0) + 1,
            severity,
            source,
            thing: thing.into(),
            kind: kind.into(),
            detail: detail.into(),
            at: now - 90 * i64::try_from(i).unwrap_or(0) - 30,
            triage: Triage::Open,
        })
        .collect()
}

fn audit(now: i64) -> Arc<[AuditRow]> {
    let entry = |ago: i64, action: &str, target: &str, result: &str, plan: &str, n: u32| AuditRow {
        sequence: i64::from(n),
        at: now - ago,
        actor: "oncall (123456789012)".into(),
        action: action.into(),
        target: target.into(),
        result: result.into(),
        plan: plan.into(),
        hash: format!("{:08x}", 0x9e37_79b9_u32.wrapping_mul(n)).into(),
    };
    Arc::from(vec![
        entry(
            300,
            "revoke",
            "dev-0000007",
            "confirmed: not applied (no ops engine)",
            "revoke 1 certificate, 1 thing, 1 group, 0.1 % of the fleet, 1 online now",
            3,
        ),
        entry(
            7_200,
            "suppress",
            "dev-0000042 flapping",
            "confirmed: suppressed",
            "hide for 24h",
            2,
        ),
        entry(
            90_000,
            "quarantine",
            "dev-0000042",
            "refused-read-only",
            "quarantine 1 certificate, 1 thing, 1 group, 0.1 % of the fleet, 0 online now",
            1,
        ),
    ])
}

/// Detail lookups over the fixture's table.
#[derive(Debug)]
pub struct FixtureDetails {
    table: Arc<DeviceTable>,
    now: i64,
}

impl DetailSource for FixtureDetails {
    fn detail(&self, thing: &str) -> Option<DeviceDetail> {
        let row = self.table.rows().find(|r| r.thing == thing)?;
        Some(DeviceDetail {
            thing: row.thing.clone(),
            chain: vec![
                (
                    "Acme Root CA 2024".into(),
                    "-".into(),
                    Some(self.now + 3_000 * DAY),
                ),
                (
                    self.table.name(row.ca).clone(),
                    "ACTIVE".into(),
                    Some(self.now + 400 * DAY),
                ),
                (
                    format!("{} ({})", row.thing.raw(), row.cert.raw()).into(),
                    row.state.label().into(),
                    row.expires,
                ),
            ],
            policies: vec!["fleet-default".into(), "telemetry-publish".into()],
            groups: vec![self.table.name(row.group).clone()],
            live: row.online.filter(|o| *o).map(|_| LiveStatus {
                state: "active".into(),
                active_cert: row.cert.clone(),
                pending_cert: None,
                firmware: self.table.name(row.firmware).clone(),
                seen: self.now - 12,
                last_error: None,
            }),
            history: vec![
                (self.now - 3_600, "connected".into()),
                (self.now - 86_400, "certificate registered (JITR)".into()),
            ],
        })
    }
}

/// A complete snapshot of `devices` devices as seen at `now`.
#[must_use]
pub fn sample_snapshot(devices: usize, now: i64) -> FleetSnapshot {
    let table = Arc::new(device_table(devices, now));
    let cas = ca_tree(&table, now);
    let anomalies = anomalies(now);
    let mut dashboard = DashboardData::default();
    for row in table.rows() {
        dashboard.status_counts.add(row.state, 1);
        if row.state == CertStatus::Active
            && let Some(left) = row.expires.map(|t| t - now)
        {
            if left < 0 {
                dashboard.expired += 1;
            }
            for (slot, days) in [7, 30, 90].into_iter().enumerate() {
                if (0..days * DAY).contains(&left) {
                    dashboard.expiring[slot] += 1;
                }
            }
        }
    }
    dashboard.things = table.len() as u64;
    dashboard.online = Some(table.rows().filter(|r| r.online == Some(true)).count() as u64);
    dashboard.cas = 3;
    dashboard.cas_flagged = cas[0].children.iter().filter(|c| c.flagged()).count() as u64;
    for row in &anomalies {
        let slot = Severity::ALL
            .iter()
            .position(|s| *s == row.severity)
            .unwrap_or(3);
        dashboard.anomalies[slot] += 1;
    }
    dashboard.freshness = [
        (Source::Certificates, 12, true),
        (Source::CaCertificates, 40, true),
        (Source::Things, 75, true),
        (Source::DefenderDetect, 4_000, false),
        (Source::Live, 2, true),
    ]
    .into_iter()
    .map(|(source, ago, available)| Freshness {
        source,
        updated: Some(now - ago),
        available,
    })
    .collect();
    FleetSnapshot {
        taken_at: now,
        dashboard,
        heatmap: heatmap(&table, now),
        cas,
        anomalies,
        devices_loading: false,
        campaigns: campaigns(now).into(),
        operations: operations(now).into(),
        live: crate::tui::data::LiveCounts::default(),
        audit: audit(now),
        details: Some(Arc::new(FixtureDetails {
            table: Arc::clone(&table),
            now,
        })),
        devices: table,
    }
}

/// Two campaigns in their persisted form, as the rotation view shows them: one rotating its
/// second stage with failures of two kinds, one halted by its gate on stage 1.
#[must_use]
pub fn campaigns(now: i64) -> Vec<CampaignRow> {
    let mut dice = Dice(7);
    let running = campaign_state(
        "id = \"rotate-2027q1\"\ntarget = { group = \"eu-plant-1\" }\nstages = [10, 50, 100]\n",
        &[
            (
                100,
                serde_json::json!({"phase": "promoted", "at": now - 3 * 3_600}),
            ),
            (
                400,
                serde_json::json!({"phase": "running", "since": now - 1_800}),
            ),
            (500, serde_json::json!({"phase": "pending"})),
        ],
        now - 86_400,
        |stage, i| match (stage, i % 100) {
            (1, _) | (2, 0..75) => done(&mut dice),
            (2, 75..80) => serde_json::json!({"execution": "IN_PROGRESS"}),
            (2, 80..81) => failed("FAILED", "create-from-csr timed out"),
            (2, 81..82) if i % 200 < 100 => {
                failed("REJECTED", "the previous key is not finalized yet")
            }
            (2, _) => serde_json::json!({"execution": "QUEUED"}),
            _ => serde_json::json!({}),
        },
    );
    let mut halted = campaign_state(
        "id = \"meters-us\"\ntarget = { group = \"us-warehouse\" }\nstages = [20, 100]\n\
         [gate]\nauto_promote = true\n",
        &[
            (
                20,
                serde_json::json!({"phase": "running", "since": now - 7_200}),
            ),
            (80, serde_json::json!({"phase": "pending"})),
        ],
        now - 7_300,
        |stage, i| match (stage, i % 10) {
            (1, 0) => failed("TIMED_OUT", "job timed out"),
            (1, _) => done(&mut Dice(i as u64)),
            _ => serde_json::json!({}),
        },
    );
    halted["halt"] = serde_json::json!({
        "at": now - 600, "by": "gate",
        "reason": "10.0 % of the stage failed, timed out or was rejected (over 1.0 %)"
    });
    [running, halted]
        .into_iter()
        .map(|value| {
            serde_json::from_value::<CampaignState>(value)
                .unwrap_or_else(|e| panic!("fixture campaign state: {e}"))
        })
        .map(|state| CampaignRow::of(&state))
        .collect()
}

/// A device on its new certificate by both checks.
fn done(dice: &mut Dice) -> serde_json::Value {
    serde_json::json!({
        "execution": "SUCCEEDED",
        "reported": format!("{:016x}", dice.next()),
        "confirmed": "connected",
        "old": format!("{:016x}", dice.next()),
    })
}

fn failed(execution: &str, reason: &str) -> serde_json::Value {
    serde_json::json!({"execution": execution, "reason": reason})
}

/// A campaign's persisted JSON from its file and, per stage, its device count, phase and
/// each device's evidence (`evidence(stage number, device index)`).
fn campaign_state(
    file: &str,
    stages: &[(usize, serde_json::Value)],
    created: i64,
    mut evidence: impl FnMut(usize, usize) -> serde_json::Value,
) -> serde_json::Value {
    let campaign = Campaign::parse(std::path::Path::new("fixture.toml"), file)
        .unwrap_or_else(|e| panic!("fixture campaign: {e}"));
    let stages: Vec<serde_json::Value> = stages
        .iter()
        .enumerate()
        .map(|(index, (devices, phase))| {
            let number = index + 1;
            let mut stage = phase.clone();
            stage["number"] = number.into();
            stage["cumulative_percent"] = campaign.stages[index].into();
            stage["group"] = campaign.stage_group(number).into();
            stage["job"] = campaign.stage_job(number).into();
            stage["devices"] = (0..*devices)
                .map(|i| {
                    (
                        format!("{}-{number}-{i:04}", campaign.id),
                        evidence(number, i),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            stage
        })
        .collect();
    serde_json::json!({
        "campaign": campaign,
        "created": created,
        "stages": stages,
    })
}

/// Three operations of the journal as the operations view shows them: a revoke verified, a
/// quarantine a killed apply left half done (resumable), a CA deactivation with a failed call.
#[must_use]
pub fn operations(now: i64) -> Vec<OperationRow> {
    let call =
        |action: &'static str, target: &str, state: Option<CallState>, detail: &str| CallLine {
            action,
            target: target.into(),
            state,
            detail: detail.into(),
        };
    let done = Some(CallState::Done);
    vec![
        OperationRow {
            id: "op-20261205T174512-3f2a".into(),
            kind: "quarantine".into(),
            state: "applying".into(),
            created: now - 600,
            updated: now - 540,
            summary: "quarantine 2 certificates, 2 things, 1 group, 0.2 % of the fleet, 1 online"
                .into(),
            calls: vec![
                call("iot:CreatePolicy", "all", done, "exists"),
                call("iot:CreateThingGroup", "all", done, "exists"),
                call("iot:AttachPolicy", "dev-0000012", done, "request 7c1e"),
                call(
                    "iot:AddThingToThingGroup",
                    "dev-0000012",
                    done,
                    "request 7c1f",
                ),
                call(
                    "iot:AttachPolicy",
                    "dev-0000031",
                    Some(CallState::Started),
                    "",
                ),
                call("iot:AddThingToThingGroup", "dev-0000031", None, ""),
            ],
        },
        OperationRow {
            id: "op-20261205T160301-91bc".into(),
            kind: "ca-deactivate".into(),
            state: "partial".into(),
            created: now - 6_000,
            updated: now - 5_990,
            summary: "ca-deactivate Recall Batch CA: 0 certificates changed, 41 ACTIVE signed"
                .into(),
            calls: vec![call(
                "iot:UpdateCACertificate",
                "all",
                Some(CallState::Failed),
                "ThrottlingException: Rate exceeded",
            )],
        },
        OperationRow {
            id: "op-20261204T091500-07d1".into(),
            kind: "revoke".into(),
            state: "verified".into(),
            created: now - 90_000,
            updated: now - 89_990,
            summary: "revoke 1 certificate, 1 thing, 1 group, 0.1 % of the fleet, 1 online".into(),
            calls: vec![
                call("iot:AttachPolicy", "dev-0000007", done, "request 1a2b"),
                call("iot:UpdateCertificate", "dev-0000007", done, "INACTIVE"),
                call(
                    "iot:DeleteConnection",
                    "dev-0000007",
                    done,
                    "disconnected in 41 ms",
                ),
            ],
        },
    ]
}
