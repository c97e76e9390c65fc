//! `anomalies`: open findings, violations and derived signals, most severe first.

use serde_json::{Value, json};

use super::sanitize::clean;
use super::{Report, Table, freshness};
use crate::model::{AnomalyRecord, FleetState, UnixTime};

/// Open anomalies (cleared ones only when `include_cleared`), most severe and newest first.
#[must_use]
pub fn anomalies_report(state: &FleetState, include_cleared: bool, now: UnixTime) -> Report {
    let mut items: Vec<&AnomalyRecord> = state
        .anomalies()
        .values()
        .filter(|a| include_cleared || !a.cleared)
        .collect();
    items.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.at.cmp(&a.at))
            .then(a.id.cmp(&b.id))
    });
    anomaly_rows(state, &items, now)
}

/// Rows for a given list of anomalies (used by `anomalies --follow` for each new batch).
#[must_use]
pub fn anomaly_rows(state: &FleetState, items: &[&AnomalyRecord], now: UnixTime) -> Report {
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
        table.push([
            a.severity.as_str().to_owned(),
            a.at.rfc3339(),
            a.source.name().to_owned(),
            a.kind.to_string(),
            a.thing.as_deref().unwrap_or("").to_owned(),
            a.certificate.map_or_else(String::new, |c| c.short(16)),
            a.summary.to_string(),
        ]);
        data.push(json!({
            "id": clean(&a.id),
            "severity": a.severity.as_str(),
            "at": a.at.rfc3339(),
            "source": a.source.name(),
            "kind": clean(&a.kind),
            "thing": a.thing.as_deref().map(clean),
            "certificate": a.certificate.map(|c| c.to_string()),
            "summary": clean(&a.summary),
            "cleared": a.cleared,
        }));
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
