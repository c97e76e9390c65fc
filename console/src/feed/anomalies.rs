//! Device Defender's violations and audit findings, and CloudWatch metrics that cross a line,
//! as anomalies of the model.

use std::collections::BTreeSet;

use super::derived;
use crate::backend::findings::{AuditFindingRecord, IotMetric, MetricSeries, ViolationRecord};
use crate::backend::live::pool_identity::PoolIdentity;
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

/// The anomaly of an audit finding, as AWS rated it unless it is about the console's own
/// connection `pool` (see [`own_pool_sharing`]).
pub(super) fn finding(
    f: &AuditFindingRecord,
    pool: Option<&PoolIdentity>,
    now: UnixTime,
) -> AnomalyRecord {
    let mut anomaly = AnomalyRecord {
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
    };
    if let Some(clients) = pool.and_then(|pool| own_pool_sharing(f, pool)) {
        anomaly.severity = Severity::Low;
        anomaly.summary =
            format!("shared by fleetid's own live-status connections ({clients} client ids)")
                .into();
    }
    anomaly
}

/// How many client ids share the certificate when `f` is a `DEVICE_CERTIFICATE_SHARED_CHECK`
/// finding about the pool's operator certificate and every client id it lists is one of the
/// pool's own: the console's connections, which share that certificate by design. `None`
/// otherwise: with another client id among them, or none listed, the finding stays as AWS
/// rated it, since a stolen operator certificate must still alarm.
fn own_pool_sharing(f: &AuditFindingRecord, pool: &PoolIdentity) -> Option<usize> {
    let about_the_pool = f.check == "DEVICE_CERTIFICATE_SHARED_CHECK"
        && f.device_certificate_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(&pool.certificate_id));
    let clients: BTreeSet<&str> = f.related_client_ids.iter().map(String::as_str).collect();
    (about_the_pool && !clients.is_empty() && clients.iter().all(|c| pool.is_member(c)))
        .then_some(clients.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_800_000_000);

    fn pool() -> PoolIdentity {
        PoolIdentity {
            certificate_id: "0a".repeat(32),
            client_id: "fleetid-operator".into(),
        }
    }

    fn shared(certificate: &str, clients: &[&str]) -> AuditFindingRecord {
        AuditFindingRecord {
            finding_id: "f-1".into(),
            check: "DEVICE_CERTIFICATE_SHARED_CHECK".into(),
            severity: Severity::Critical,
            device_certificate_id: Some(certificate.to_owned()),
            ca_certificate_id: None,
            reason_code: Some("CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES".into()),
            reason: Some("Certificate shared by one or more devices.".into()),
            found_at: Some(1_799_999_000),
            related_client_ids: clients.iter().map(|&c| c.to_owned()).collect(),
        }
    }

    #[test]
    fn the_pool_sharing_its_operator_certificate_is_told_apart_from_anyone_else() {
        let pool = pool();
        let operator = pool.certificate_id.clone();
        // The pool's own connections only (a client id listed once per connection).
        let own = shared(
            &operator,
            &[
                "fleetid-operator",
                "fleetid-operator-1",
                "fleetid-operator-1",
            ],
        );
        let anomaly = finding(&own, Some(&pool), NOW);
        assert_eq!(anomaly.severity, Severity::Low);
        assert_eq!(
            &*anomaly.summary,
            "shared by fleetid's own live-status connections (2 client ids)"
        );
        assert_eq!(anomaly.certificate, CertId::parse(&operator).ok());
        // The same certificate id as AWS might spell it.
        let upper = shared(&operator.to_uppercase(), &["fleetid-operator"]);
        assert_eq!(finding(&upper, Some(&pool), NOW).severity, Severity::Low);

        let unchanged = |f: &AuditFindingRecord, pool: Option<&PoolIdentity>| {
            let anomaly = finding(f, pool, NOW);
            assert_eq!(anomaly.severity, Severity::Critical, "{f:?}");
            assert_eq!(
                &*anomaly.summary, "Certificate shared by one or more devices.",
                "{f:?}"
            );
        };
        // A client that is not the pool's: a stolen operator certificate.
        unchanged(
            &shared(
                &operator,
                &["fleetid-operator", "fleetid-operator-1", "intruder"],
            ),
            Some(&pool),
        );
        // Another certificate shared by clients named like the pool's.
        unchanged(
            &shared(
                &"0b".repeat(32),
                &["fleetid-operator", "fleetid-operator-1"],
            ),
            Some(&pool),
        );
        // No client ids listed: nothing says who shares it.
        unchanged(&shared(&operator, &[]), Some(&pool));
        // A console without an operator certificate (SigV4) has no pool identity.
        unchanged(&shared(&operator, &["fleetid-operator"]), None);
        // Another check about the operator certificate.
        let mut expiring = shared(&operator, &["fleetid-operator"]);
        expiring.check = "DEVICE_CERTIFICATE_EXPIRING_CHECK".into();
        unchanged(&expiring, Some(&pool));
    }
}
