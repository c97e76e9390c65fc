//! `certs list` and `certs show`: one row per certificate, or every field of one.

use serde_json::{Value, json};

use super::{Report, Table, freshness};
use crate::model::{CertView, FleetState, UnixTime, days_until};
use crate::safe_text::SafeText;

fn subject_cn(subject: &str) -> &str {
    subject
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject)
}

fn ca_label(state: &FleetState, cert: &CertView<'_>) -> String {
    let Some(ca) = cert.record.ca else {
        return String::new();
    };
    state
        .cas()
        .get(&ca)
        .and_then(|r| r.parsed.as_ref().ok())
        .map_or_else(|| ca.short(12), |f| subject_cn(&f.subject).to_owned())
}

fn cert_json(state: &FleetState, cert: &CertView<'_>, now: UnixTime) -> Value {
    let record = cert.record;
    let (fields, problem) = match &record.parsed {
        Ok(f) => (Some(f), None),
        Err(p) => (None, Some(&*p.reason)),
    };
    json!({
        "id": record.id.to_string(),
        "status": record.status.as_aws_str(),
        "ca_id": record.ca.map(|c| c.to_string()),
        "ca": ca_label(state, cert),
        "subject": fields.map(|f| &*f.subject),
        "issuer": fields.map(|f| &*f.issuer),
        "serial": fields.map(|f| f.serial.text()),
        "key": fields.map(|f| f.key.label()),
        "not_before": fields.map(|f| f.not_before.rfc3339()),
        "not_after": fields.map(|f| f.not_after.rfc3339()),
        "days_left": fields.map(|f| days_until(now, f.not_after)),
        "things": cert.things().collect::<Vec<_>>(),
        "groups": cert.groups(),
        "firmware": cert.firmware(),
        "created": record.created.rfc3339(),
        "last_modified": record.last_modified.rfc3339(),
        "pem_problem": problem,
    })
}

/// The rows of `certs list`.
#[must_use]
pub fn certs_report(state: &FleetState, certs: &[CertView<'_>], now: UnixTime) -> Report {
    let mut table = Table::new(&[
        "ID", "STATUS", "EXPIRES", "DAYS", "CA", "SUBJECT", "THINGS", "GROUPS", "FIRMWARE",
    ]);
    for cert in certs {
        let record = cert.record;
        let (expires, days, subject) = match &record.parsed {
            Ok(f) => (
                f.not_after.day().iso(),
                days_until(now, f.not_after).to_string(),
                subject_cn(&f.subject).to_owned(),
            ),
            Err(p) => (
                "?".to_owned(),
                "?".to_owned(),
                format!("(unreadable PEM: {})", p.reason),
            ),
        };
        table.push(
            [
                record.id.short(16),
                record.status.as_aws_str().to_owned(),
                expires,
                days,
                ca_label(state, cert),
                subject,
                cert.things().collect::<Vec<_>>().join(" "),
                cert.groups().join(" "),
                cert.firmware().unwrap_or("").to_owned(),
            ]
            .map(SafeText::from_string),
        );
    }
    Report {
        kind: "certificates",
        data: Value::Array(certs.iter().map(|c| cert_json(state, c, now)).collect()),
        table,
        text: None,
        freshness: freshness(state, now),
        generated_at: now,
    }
}

/// Every field of one certificate, as a two-column table.
#[must_use]
pub fn cert_show_report(state: &FleetState, cert: &CertView<'_>, now: UnixTime) -> Report {
    let mut data = cert_json(state, cert, now);
    // Attached to the certificate itself or to a group of one of its things.
    let groups = cert.groups();
    let policies: Vec<String> = state
        .policies()
        .values()
        .filter(|p| {
            p.certificates.contains(&cert.record.id)
                || p.groups.iter().any(|g| groups.contains(&&**g))
        })
        .map(|p| p.name.to_string())
        .collect();
    data["policies"] = json!(policies);
    let mut table = Table::new(&["FIELD", "VALUE"]);
    if let Value::Object(map) = &data {
        for key in FIELD_ORDER {
            let value = match map.get(*key) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            table.push([(*key).to_owned(), value].map(SafeText::from_string));
        }
    }
    Report {
        kind: "certificate",
        data,
        table,
        text: None,
        freshness: freshness(state, now),
        generated_at: now,
    }
}

const FIELD_ORDER: &[&str] = &[
    "id",
    "status",
    "ca",
    "ca_id",
    "subject",
    "issuer",
    "serial",
    "key",
    "not_before",
    "not_after",
    "days_left",
    "things",
    "groups",
    "policies",
    "firmware",
    "created",
    "last_modified",
    "pem_problem",
];
