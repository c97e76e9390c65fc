//! Device Defender's violations and audit findings, and CloudWatch metrics that cross a line,
//! as anomalies of the model.

use super::derived;
use crate::backend::findings::{AuditFindingRecord, IotMetric, MetricSeries, ViolationRecord};
use crate::model::{AnomalyRecord, CertId, Severity, Source, UnixTime};

pub(super) fn violation(v: &ViolationRecord, now: UnixTime) -> AnomalyRecord {
    let what = v
        .behavior
        .as_deref()
        .or(v.metric.as_deref())
        .unwrap_or("violation");
    let value = v.value.map_or_else(String::new, |x| format!(" = {x}"));
    AnomalyRecord {
        id: format!("violation:{}", v.violation_id).into(),
        source: Source::DefenderDetect,
        kind: what.into(),
        severity: Severity::Medium,
        thing: v.thing.as_deref().map(Into::into),
        certificate: None,
        summary: format!(
            "{}{value} ({}{})",
            v.metric.as_deref().unwrap_or(what),
            v.kind,
            v.security_profile
                .as_deref()
                .map(|p| format!(", profile {p}"))
                .unwrap_or_default()
        )
        .into(),
        at: v.at.map_or(now, UnixTime),
        cleared: v.kind.contains("cleared") || v.kind.contains("invalidated"),
    }
}

pub(super) fn finding(f: &AuditFindingRecord, now: UnixTime) -> AnomalyRecord {
    AnomalyRecord {
        id: format!("finding:{}", f.finding_id).into(),
        source: Source::DefenderAudit,
        kind: f.check.as_str().into(),
        severity: f.severity,
        thing: None,
        certificate: f
            .device_certificate_id
            .as_deref()
            .or(f.ca_certificate_id.as_deref())
            .and_then(|id| CertId::parse(id).ok()),
        summary: f
            .reason
            .as_deref()
            .or(f.reason_code.as_deref())
            .unwrap_or(&f.check)
            .into(),
        at: f.found_at.map_or(now, UnixTime),
        cleared: false,
    }
}

pub(super) fn metric_anomaly(series: &MetricSeries, now: UnixTime) -> Option<AnomalyRecord> {
    let total = series.total();
    let (kind, severity) = match series.metric {
        IotMetric::ConnectAuthError if total > 0.0 => ("CONNECT_AUTH_ERRORS", Severity::Medium),
        IotMetric::CreateCertificateFromCsrFailed | IotMetric::RegisterThingFailed
            if total > 0.0 =>
        {
            ("PROVISIONING_FAILURES", Severity::Medium)
        }
        _ => return None,
    };
    Some(AnomalyRecord {
        source: Source::CloudWatch,
        ..derived(
            format!("derived:metric:{}", series.metric.metric_name()),
            kind,
            severity,
            format!(
                "{} {} in the loaded period",
                total,
                series.metric.metric_name()
            ),
            now,
        )
    })
}
