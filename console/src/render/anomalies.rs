//! `anomalies`: open findings, violations and derived signals, most severe first, with the
//! triage kept in the store (acknowledged; suppressed ones hidden until their time).

use serde_json::{Value, json};

use super::{Report, Table, freshness};
use crate::model::{AnomalyRecord, FleetState, UnixTime};
use crate::safe_text::SafeText;
use crate::store::triage::{TriageMap, TriageState};

/// Open anomalies (cleared ones only when `include_cleared`), most severe and newest first.
#[must_use]
pub fn anomalies_report(state: &FleetState, include_cleared: bool, now: UnixTime) -> Report {
    anomalies_triaged(state, include_cleared, &TriageMap::new(), now)
}

/// [`anomalies_report`] with `triage` applied: suppressed anomalies are left out (listed, and
/// marked, only with `include_cleared`), acknowledged ones are marked. The mark leads the
/// summary in table and CSV output (`[acknowledged] ...`) and is the `triage` field in JSON
/// (absent when the anomaly is untriaged).
#[must_use]
pub fn anomalies_triaged(
    state: &FleetState,
    include_cleared: bool,
    triage: &TriageMap,
    now: UnixTime,
) -> Report {
    let mut items: Vec<&AnomalyRecord> = state
        .anomalies()
        .values()
        .filter(|a| include_cleared || !a.cleared)
        .filter(|a| {
            include_cleared
                || !matches!(triage.get(&*a.id), Some(TriageState::Suppressed { until }) if *until > now)
        })
        .collect();
    items.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.at.cmp(&a.at))
            .then(a.id.cmp(&b.id))
    });
    rows(state, &items, triage, now)
}

/// Rows for a given list of anomalies (used by `anomalies --follow` for each new batch).
#[must_use]
pub fn anomaly_rows(state: &FleetState, items: &[&AnomalyRecord], now: UnixTime) -> Report {
    rows(state, items, &TriageMap::new(), now)
}

/// [`anomaly_rows`] with `triage` marked (as in [`anomalies_triaged`]).
#[must_use]
pub fn anomaly_rows_triaged(
    state: &FleetState,
    items: &[&AnomalyRecord],
    triage: &TriageMap,
    now: UnixTime,
) -> Report {
    rows(state, items, triage, now)
}

fn rows(state: &FleetState, items: &[&AnomalyRecord], triage: &TriageMap, now: UnixTime) -> Report {
    let mut table = Table::new(&[
        "SEVERITY",
        "AT",
        "SOURCE",
        "KIND",
        "THING",
        "CERTIFICATE",
        "SUMMARY",
    ]);
    let mut data = Vec::new();
    for a in items {
        let mark = match triage.get(&*a.id) {
            Some(TriageState::Acknowledged) => {
                Some(("[acknowledged] ".to_owned(), json!("acknowledged")))
            }
            Some(TriageState::Suppressed { until }) if *until > now => Some((
                format!("[suppressed until {}] ", until.rfc3339()),
                json!({"suppressed_until": until.rfc3339()}),
            )),
            _ => None,
        };
        table.push(
            [
                a.severity.as_str().to_owned(),
                a.at.rfc3339(),
                a.source.name().to_owned(),
                a.kind.to_string(),
                a.thing.as_deref().unwrap_or("").to_owned(),
                a.certificate.map_or_else(String::new, |c| c.short(16)),
                format!(
                    "{}{}",
                    mark.as_ref().map_or("", |(text, _)| text.as_str()),
                    a.summary
                ),
            ]
            .map(SafeText::from_string),
        );
        let mut item = json!({
            "id": &*a.id,
            "severity": a.severity.as_str(),
            "at": a.at.rfc3339(),
            "source": a.source.name(),
            "kind": &*a.kind,
            "thing": a.thing.as_deref(),
            "certificate": a.certificate.map(|c| c.to_string()),
            "summary": &*a.summary,
            "cleared": a.cleared,
        });
        if let (Some((_, value)), Value::Object(fields)) = (mark, &mut item) {
            fields.insert("triage".to_owned(), value);
        }
        data.push(item);
    }
    Report {
        kind: "anomalies",
        data: Value::Array(data),
        table,
        text: None,
        freshness: freshness(state, now),
        generated_at: now,
    }
}
