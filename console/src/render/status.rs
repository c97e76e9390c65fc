//! `status`: the health summary and the numbers behind it.

use serde_json::{Value, json};

use super::{Report, Table, sources_freshness};
use crate::model::{CertStatus, FleetSummary, Health, UnixTime};
use crate::safe_text::SafeText;

/// The health summary report. `health` is computed by the caller so the exit code and the
/// report come from the same verdict.
#[must_use]
pub fn status_report(state: &FleetSummary, health: &Health, now: UnixTime) -> Report {
    let counts = state.status_counts();
    let verdict = if health.healthy() {
        "healthy"
    } else {
        "critical"
    };
    let by_status: serde_json::Map<String, Value> = counts
        .iter()
        .filter(|&(s, n)| n > 0 || s == CertStatus::Active)
        .map(|(s, n)| (s.as_aws_str().to_owned(), n.into()))
        .collect();
    let at_risk: Vec<Value> = health
        .cas_at_risk
        .iter()
        .map(|ca| {
            json!({
                "id": ca.id.to_string(),
                "subject": ca.subject,
                "status": ca.status.as_aws_str(),
                "active_certificates": ca.active_certificates,
            })
        })
        .collect();
    let data = json!({
        "verdict": verdict,
        "certificates": counts.total(),
        "things": state.thing_count(),
        "cas": state.cas().len(),
        "by_status": by_status,
        "critical_days": health.policy.critical_days,
        "warning_days": health.policy.warning_days,
        "expired_active": health.expired_active,
        "expiring_critical": health.expiring_critical,
        "expiring_warning": health.expiring_warning,
        "cas_at_risk": at_risk,
        "unreadable_pems": health.unreadable_pems,
        "open_anomalies": health.open_anomalies,
        "critical_anomalies": health.critical_anomalies,
    });
    let mut table = Table::new(&["CHECK", "VALUE"]);
    table.push(["verdict", verdict].map(SafeText::new));
    table.push(["certificates".to_owned(), counts.total().to_string()].map(SafeText::from_string));
    for (status, n) in counts.iter().filter(|&(_, n)| n > 0) {
        table
            .push([format!("  {}", status.as_aws_str()), n.to_string()].map(SafeText::from_string));
    }
    table.push(["things".to_owned(), state.thing_count().to_string()].map(SafeText::from_string));
    table.push(
        [
            "expired, still active".to_owned(),
            health.expired_active.to_string(),
        ]
        .map(SafeText::from_string),
    );
    table.push(
        [
            format!("expiring within {}d", health.policy.critical_days),
            health.expiring_critical.to_string(),
        ]
        .map(SafeText::from_string),
    );
    table.push(
        [
            format!(
                "expiring within {}d..{}d",
                health.policy.critical_days, health.policy.warning_days
            ),
            health.expiring_warning.to_string(),
        ]
        .map(SafeText::from_string),
    );
    for ca in &health.cas_at_risk {
        table.push(
            [
                format!("{} CA with active certs", ca.status.as_aws_str()),
                format!(
                    "{} ({}): {}",
                    ca.subject,
                    ca.id.short(12),
                    ca.active_certificates
                ),
            ]
            .map(SafeText::from_string),
        );
    }
    table.push(
        [
            "unreadable PEMs".to_owned(),
            health.unreadable_pems.to_string(),
        ]
        .map(SafeText::from_string),
    );
    table.push(
        [
            "open anomalies".to_owned(),
            format!(
                "{} ({} critical)",
                health.open_anomalies, health.critical_anomalies
            ),
        ]
        .map(SafeText::from_string),
    );
    Report {
        kind: "status",
        data,
        table,
        text: None,
        freshness: sources_freshness(state.sources(), now),
        generated_at: now,
    }
}
