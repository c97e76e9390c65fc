//! `anomalies --follow` over a stream of model updates: the open anomalies first, then only
//! new or changed ones, one JSON object per line with `--output json`.

use fleetid::commands::{Output, follow_anomalies};
use fleetid::model::{AnomalyRecord, FleetState, FleetUpdate, Severity, Source, UnixTime};
use fleetid::render::{OutputFormat, RenderOptions};

fn anomaly(id: &str, summary: &str) -> AnomalyRecord {
    AnomalyRecord {
        id: id.into(),
        source: Source::Live,
        kind: "CONNECT_FAILED".into(),
        severity: Severity::Medium,
        thing: Some("dev-1".into()),
        certificate: None,
        summary: summary.into(),
        at: UnixTime(1_795_593_600),
        cleared: false,
    }
}

#[test]
fn prints_open_anomalies_then_only_new_or_changed_ones() {
    let mut state = FleetState::new();
    state.apply(FleetUpdate::Anomalies(vec![anomaly("a", "first")]));
    let updates = vec![
        FleetUpdate::Anomalies(vec![anomaly("a", "first")]), // unchanged: not printed again
        FleetUpdate::Anomalies(vec![anomaly("b", "second\u{1b}[31m")]),
        FleetUpdate::Anomalies(vec![anomaly("a", "first, again")]),
    ];
    let mut buffer = Vec::new();
    let mut output = Output {
        format: OutputFormat::Json,
        options: RenderOptions { color: false },
        out: &mut buffer,
    };
    let code = follow_anomalies(&mut state, updates, || UnixTime(1_795_593_600), &mut output)
        .expect("follow runs to the end of the stream");
    assert_eq!(code, 0);
    let text = String::from_utf8(buffer).expect("utf-8");
    assert!(!text.contains('\u{1b}'), "{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let seen: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap_or(""),
                l["summary"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("a", "first"),
            ("b", "second\u{1b}[31m"),
            ("a", "first, again")
        ]
    );
    assert_eq!(state.anomalies().len(), 2);
}

#[test]
fn following_skips_suppressed_anomalies_and_marks_acknowledged_ones() {
    use fleetid::commands::follow_triaged;
    use fleetid::store::triage::{TriageMap, TriageState};

    let now = UnixTime(1_795_593_600);
    let mut triage = TriageMap::new();
    triage.insert("a".into(), TriageState::Acknowledged);
    triage.insert(
        "b".into(),
        TriageState::Suppressed {
            until: UnixTime(now.0 + 60),
        },
    );
    let mut state = FleetState::new();
    state.apply(FleetUpdate::Anomalies(vec![anomaly("a", "first")]));
    let updates = vec![
        FleetUpdate::Anomalies(vec![anomaly("b", "hidden for a minute")]),
        FleetUpdate::Anomalies(vec![anomaly("c", "new")]),
    ];
    let mut buffer = Vec::new();
    let mut output = Output {
        format: OutputFormat::Json,
        options: RenderOptions { color: false },
        out: &mut buffer,
    };
    follow_triaged(&mut state, updates, &triage, || now, &mut output)
        .expect("follow runs to the end of the stream");
    let lines: Vec<serde_json::Value> = String::from_utf8(buffer)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(lines[0]["triage"], "acknowledged");
    assert!(lines[1].get("triage").is_none());
}
