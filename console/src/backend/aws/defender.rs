//! Device Defender, through aws-sdk-iot: Detect (ListActiveViolations, ListViolationEvents for
//! the last `recent_hours`) and Audit (ListAuditFindings of the certificate checks for the last
//! `audit_days`). Detect is closed to new customers since 2026-08-31 while Audit stays, so the
//! two are separate sources: one may be unavailable while the other works.

use aws_sdk_iot::Client;
use aws_sdk_iot::primitives::DateTime;
use aws_sdk_iot::types::{ActiveViolation, AuditFinding, MetricValue, ViolationEvent};
use tokio::sync::mpsc;

use super::LoadSettings;
use super::budget::Outages;
use super::snapshot::{deliver, now_secs};
use crate::backend::error::CallFailure;
use crate::backend::findings::{AuditFindingRecord, ViolationRecord};
use crate::backend::live::connection::LiveOptions;
use crate::backend::live::pool_identity::PoolIdentity;
use crate::backend::update::{BackendUpdate, Source, SourceState};
use crate::model::Severity;

/// The audit checks about certificates whose findings fleetid shows.
pub const CERTIFICATE_CHECKS: [&str; 8] = [
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "CA_CERTIFICATE_EXPIRING_CHECK",
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "CA_CERTIFICATE_KEY_QUALITY_CHECK",
];

/// Loads Detect and Audit, as `(detect, audit)` says; reports each source loaded. Their
/// listings are small: all of it goes through `first` (the small retry budget of a first
/// call); a definite no is noted in `outages`. The audit findings go with the identity of the
/// console's `live` connections.
pub(super) async fn load_defender(
    first: &Client,
    settings: &LoadSettings,
    (detect, audit): (bool, bool),
    live: Option<&LiveOptions>,
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Vec<(Source, SourceState)> {
    let now = now_secs();
    let detect = async {
        if !detect {
            return None;
        }
        let read = read_detect(first, now - settings.recent_hours * 3600, now).await;
        if let Err(failure) = &read {
            outages.first_call_failed(Source::DefenderDetect, failure);
        }
        let state = deliver(
            updates,
            Source::DefenderDetect,
            read,
            BackendUpdate::Violations,
        )
        .await;
        Some((Source::DefenderDetect, state))
    };
    let audit = async {
        if !audit {
            return None;
        }
        let read = read_audit(first, now - settings.audit_days * 86_400, now).await;
        if let Err(failure) = &read {
            outages.first_call_failed(Source::DefenderAudit, failure);
        }
        let pool = match live {
            Some(options) if read.is_ok() => PoolIdentity::of(options).await,
            _ => None,
        };
        let state = deliver(updates, Source::DefenderAudit, read, |findings| {
            BackendUpdate::AuditFindings { findings, pool }
        })
        .await;
        Some((Source::DefenderAudit, state))
    };
    let (detect, audit) = tokio::join!(detect, audit);
    detect.into_iter().chain(audit).collect()
}

async fn read_detect(
    iot: &Client,
    from: i64,
    to: i64,
) -> Result<Vec<ViolationRecord>, CallFailure> {
    let active = iot
        .list_active_violations()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:ListActiveViolations", &e))?;
    let events = iot
        .list_violation_events()
        .start_time(DateTime::from_secs(from))
        .end_time(DateTime::from_secs(to))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:ListViolationEvents", &e))?;
    let mut records: Vec<ViolationRecord> = active.iter().map(from_active).collect();
    records.extend(events.iter().map(from_event));
    Ok(records)
}

fn metric_number(value: Option<&MetricValue>) -> Option<f64> {
    let value = value?;
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    value.count().map(|c| c as f64).or(value.number())
}

fn from_active(v: &ActiveViolation) -> ViolationRecord {
    ViolationRecord {
        violation_id: v.violation_id().unwrap_or_default().to_owned(),
        thing: v.thing_name().map(str::to_owned),
        security_profile: v.security_profile_name().map(str::to_owned),
        behavior: v.behavior().map(|b| b.name().to_owned()),
        metric: v.behavior().and_then(|b| b.metric()).map(str::to_owned),
        value: metric_number(v.last_violation_value()),
        kind: "active".to_owned(),
        at: v.violation_start_time().map(DateTime::secs),
    }
}

fn from_event(v: &ViolationEvent) -> ViolationRecord {
    ViolationRecord {
        violation_id: v.violation_id().unwrap_or_default().to_owned(),
        thing: v.thing_name().map(str::to_owned),
        security_profile: v.security_profile_name().map(str::to_owned),
        behavior: v.behavior().map(|b| b.name().to_owned()),
        metric: v.behavior().and_then(|b| b.metric()).map(str::to_owned),
        value: metric_number(v.metric_value()),
        kind: v
            .violation_event_type()
            .map_or("unknown", |t| t.as_str())
            .to_owned(),
        at: v.violation_event_time().map(DateTime::secs),
    }
}

async fn read_audit(
    iot: &Client,
    from: i64,
    to: i64,
) -> Result<Vec<AuditFindingRecord>, CallFailure> {
    let mut records = Vec::new();
    for check in CERTIFICATE_CHECKS {
        let findings = iot
            .list_audit_findings()
            .check_name(check)
            .start_time(DateTime::from_secs(from))
            .end_time(DateTime::from_secs(to))
            .max_results(250)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListAuditFindings", &e))?;
        records.extend(findings.iter().map(from_finding));
    }
    Ok(records)
}

fn from_finding(f: &AuditFinding) -> AuditFindingRecord {
    let resource = f
        .non_compliant_resource()
        .and_then(|r| r.resource_identifier());
    AuditFindingRecord {
        finding_id: f.finding_id().unwrap_or_default().to_owned(),
        check: f.check_name().unwrap_or_default().to_owned(),
        severity: f
            .severity()
            .map_or(Severity::Low, |s| Severity::from_str_lossy(s.as_str())),
        device_certificate_id: resource
            .and_then(|r| r.device_certificate_id())
            .map(str::to_owned),
        ca_certificate_id: resource
            .and_then(|r| r.ca_certificate_id())
            .map(str::to_owned),
        reason_code: f.reason_for_non_compliance_code().map(str::to_owned),
        reason: f.reason_for_non_compliance().map(str::to_owned),
        found_at: f.finding_time().map(DateTime::secs),
        related_client_ids: f
            .related_resources()
            .iter()
            .filter_map(|r| r.resource_identifier()?.client_id())
            .map(str::to_owned)
            .collect(),
    }
}
