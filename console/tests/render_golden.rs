//! Golden files of the table, JSON and CSV output of every report, from a small synthetic
//! fleet with a hostile thing name, an unreadable PEM, anomalies and an unavailable source.

use fleetid::model::{
    AnomalyRecord, CertQuery, Cohort, FleetState, FleetUpdate, HealthPolicy, SECONDS_PER_DAY,
    Severity, Source, SourceState, ThingRecord, UnixTime, synthetic,
};
use fleetid::render::{self, CheckOutcome, DoctorCheck, OutputFormat, RenderOptions, Report};
use fleetid::safe_text::{REPLACEMENT, is_neutralized};

/// 2026-11-25T08:00:00Z
const NOW: UnixTime = UnixTime(1_795_593_600);

fn fleet() -> FleetState {
    fleet_of(16)
}

fn fleet_of(devices: usize) -> FleetState {
    let mut state = FleetState::new();
    state.apply_all(synthetic::fleet_updates(devices, NOW, 8));
    state.apply(FleetUpdate::Things(vec![ThingRecord {
        name: "dev-0000005".into(),
        groups: vec!["eu-west".into(), "evil\u{1b}[2J\u{1b}]0;owned\u{7}".into()],
        firmware: Some("1.5.0\r\nrm -rf".into()),
        connected: Some(true),
    }]));
    state.apply(FleetUpdate::Anomalies(vec![
        AnomalyRecord {
            id: "finding-1".into(),
            source: Source::DefenderAudit,
            kind: "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK".into(),
            severity: Severity::Critical,
            thing: None,
            certificate: Some(synthetic::ca_id(2)),
            summary: "CA is inactive but 5 device certificates are active".into(),
            at: UnixTime(NOW.0 - 3600),
            cleared: false,
        },
        AnomalyRecord {
            id: "violation-7".into(),
            source: Source::DefenderDetect,
            kind: "AuthFailures".into(),
            severity: Severity::Medium,
            thing: Some("dev-0000003".into()),
            certificate: None,
            summary: "aws:num-authorization-failures = 42".into(),
            at: UnixTime(NOW.0 - 600),
            cleared: false,
        },
    ]));
    for (source, state_now, at) in [
        (Source::Certificates, SourceState::Fresh, NOW.0 - 120),
        (Source::Things, SourceState::Fresh, NOW.0 - 300),
        (
            Source::CloudWatch,
            SourceState::Unavailable {
                reason: "AccessDenied: cloudwatch:GetMetricData".into(),
            },
            NOW.0 - 60,
        ),
    ] {
        state.apply(FleetUpdate::SourceStatus {
            source,
            state: state_now,
            at: UnixTime(at),
        });
    }
    state
}

fn all_formats(report: &Report) -> String {
    let options = RenderOptions { color: false };
    format!(
        "--- table\n{}--- csv\n{}--- json\n{}",
        render::render(report, OutputFormat::Table, options),
        render::render(report, OutputFormat::Csv, options),
        render::render(report, OutputFormat::Json, options),
    )
}

fn assert_terminal_safe(text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| is_neutralized(c) && c != '\n' && c != '\r')
        .collect();
    assert!(bad.is_empty(), "unsafe characters in output: {bad:?}");
}

#[test]
fn certs_list() {
    let state = fleet();
    let rows = state
        .query_certificates(&CertQuery::default(), NOW)
        .unwrap();
    let out = all_formats(&render::certs_report(&state, &rows, NOW));
    assert_terminal_safe(&out);
    assert!(out.contains(REPLACEMENT));
    insta::assert_snapshot!(out);
}

#[test]
fn certs_list_expiring_within_30_days() {
    let state = fleet();
    let query = CertQuery {
        expiring_within: Some(30 * SECONDS_PER_DAY),
        ..CertQuery::default()
    };
    let rows = state.query_certificates(&query, NOW).unwrap();
    insta::assert_snapshot!(all_formats(&render::certs_report(&state, &rows, NOW)));
}

#[test]
fn cert_show_with_unreadable_pem() {
    let state = fleet();
    let cert = state.certificate(&synthetic::cert_id(13)).unwrap();
    insta::assert_snapshot!(all_formats(&render::cert_show_report(&state, &cert, NOW)));
}

#[test]
fn status() {
    let state = fleet();
    let summary = state.summary();
    let health = summary.health(NOW, HealthPolicy::default());
    insta::assert_snapshot!(all_formats(&render::status_report(&summary, &health, NOW)));
}

#[test]
fn ca_list_and_tree() {
    let state = fleet();
    insta::assert_snapshot!("ca_list", all_formats(&render::ca_list_report(&state, NOW)));
    insta::assert_snapshot!("ca_tree", all_formats(&render::ca_tree_report(&state, NOW)));
}

#[test]
fn anomalies() {
    let state = fleet();
    insta::assert_snapshot!(all_formats(&render::anomalies_report(&state, false, NOW)));
}

#[test]
fn heatmap() {
    let state = fleet_of(300);
    let out = all_formats(&render::heatmap_report(&state, Cohort::All, "all", 8, NOW));
    insta::assert_snapshot!(out);
}

#[test]
fn doctor() {
    let checks = [
        DoctorCheck {
            name: "credentials".into(),
            outcome: CheckOutcome::Pass,
            detail: "profile ops (arn:aws:iam::123456789012:role/ops)".into(),
            hint: None,
        },
        DoctorCheck {
            name: "cloudwatch:GetMetricData".into(),
            outcome: CheckOutcome::Fail,
            detail: "AccessDenied".into(),
            hint: Some("add cloudwatch:GetMetricData to the role (docs/iam.md)".into()),
        },
    ];
    insta::assert_snapshot!(all_formats(&render::doctor_report(&checks, NOW)));
}
