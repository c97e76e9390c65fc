//! Device Defender and CloudWatch through aws-smithy-mocks: moto answers HTTP 500 for every
//! Device Defender operation and does not speak aws-sdk-cloudwatch's RPCv2 CBOR protocol, so
//! these sources cannot be exercised against it. Only these sources are loaded here.
#![allow(clippy::unwrap_used)]

mod backend_support;

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::MetricDataResult;
use aws_sdk_iot::operation::list_active_violations::ListActiveViolationsOutput;
use aws_sdk_iot::operation::list_audit_findings::ListAuditFindingsOutput;
use aws_sdk_iot::operation::list_violation_events::ListViolationEventsOutput;
use aws_sdk_iot::primitives::DateTime;
use aws_sdk_iot::types::{
    ActiveViolation, AuditFinding, AuditFindingSeverity, Behavior, MetricValue,
    NonCompliantResource, ResourceIdentifier, ResourceType, ViolationEvent, ViolationEventType,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use backend_support::{load_all, settings};
use fleetid::backend::aws::AwsBackend;
use fleetid::backend::findings::IotMetric;
use fleetid::backend::{BackendUpdate, SnapshotRequest, Source, SourceState};
use fleetid::model::Severity;

const DEVICE_CERT: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

fn security_sources() -> SnapshotRequest {
    SnapshotRequest {
        sources: vec![
            Source::DefenderDetect,
            Source::DefenderAudit,
            Source::Metrics,
        ],
        ..SnapshotRequest::default()
    }
}

fn behavior() -> Behavior {
    Behavior::builder()
        .name("AuthFailures")
        .metric("aws:num-authorization-failures")
        .build()
        .unwrap()
}

fn audit_rules() -> (aws_smithy_mocks::Rule, aws_smithy_mocks::Rule) {
    let expiring = mock!(aws_sdk_iot::Client::list_audit_findings)
        .match_requests(|r| r.check_name() == Some("DEVICE_CERTIFICATE_EXPIRING_CHECK"))
        .then_output(|| {
            ListAuditFindingsOutput::builder()
                .findings(
                    AuditFinding::builder()
                        .finding_id("f-1")
                        .check_name("DEVICE_CERTIFICATE_EXPIRING_CHECK")
                        .severity(AuditFindingSeverity::Medium)
                        .reason_for_non_compliance_code("CERTIFICATE_APPROACHING_EXPIRATION")
                        .reason_for_non_compliance("Certificate is approaching expiration")
                        .finding_time(DateTime::from_secs(1_790_000_000))
                        .non_compliant_resource(
                            NonCompliantResource::builder()
                                .resource_type(ResourceType::DeviceCertificate)
                                .resource_identifier(
                                    ResourceIdentifier::builder()
                                        .device_certificate_id(DEVICE_CERT)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let other_checks = mock!(aws_sdk_iot::Client::list_audit_findings)
        .match_requests(|r| r.check_name() != Some("DEVICE_CERTIFICATE_EXPIRING_CHECK"))
        .sequence()
        .output(|| ListAuditFindingsOutput::builder().build())
        .repeatedly()
        .build();
    (expiring, other_checks)
}

#[tokio::test]
async fn defender_and_metrics_are_read() {
    let active = mock!(aws_sdk_iot::Client::list_active_violations).then_output(|| {
        ListActiveViolationsOutput::builder()
            .active_violations(
                ActiveViolation::builder()
                    .violation_id("v-1")
                    .thing_name("dev-001")
                    .security_profile_name("certs")
                    .behavior(behavior())
                    .last_violation_value(MetricValue::builder().count(42).build())
                    .violation_start_time(DateTime::from_secs(1_790_000_100))
                    .build(),
            )
            .active_violations(
                ActiveViolation::builder()
                    .violation_id("v-2")
                    .thing_name("dev-002")
                    .behavior(behavior())
                    .build(),
            )
            .build()
    });
    let events = mock!(aws_sdk_iot::Client::list_violation_events)
        .match_requests(|r| r.start_time().is_some() && r.end_time() > r.start_time())
        .then_output(|| {
            ListViolationEventsOutput::builder()
                .violation_events(
                    ViolationEvent::builder()
                        .violation_id("v-0")
                        .thing_name("dev-003")
                        .behavior(behavior())
                        .violation_event_type(ViolationEventType::AlarmCleared)
                        .violation_event_time(DateTime::from_secs(1_790_000_200))
                        .build(),
                )
                .build()
        });
    let (expiring, other_checks) = audit_rules();
    let iot = mock_client!(
        aws_sdk_iot,
        RuleMode::MatchAny,
        [&active, &events, &expiring, &other_checks]
    );

    // One metric split over two pages: the backend joins them in time order.
    let page_one = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token().is_none() && r.metric_data_queries().len() == 5)
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder()
                        .id("connectautherror")
                        .timestamps(DateTime::from_secs(7200))
                        .values(4.0)
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    let page_two = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder()
                        .id("connectautherror")
                        .timestamps(DateTime::from_secs(3600))
                        .values(3.0)
                        .build(),
                )
                .metric_data_results(
                    MetricDataResult::builder()
                        .id("csrfailed")
                        .timestamps(DateTime::from_secs(3600))
                        .values(1.0)
                        .build(),
                )
                .build()
        });
    let cloudwatch = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&page_one, &page_two]
    );

    let backend = AwsBackend::from_clients(iot, cloudwatch, settings());
    let (updates, summary) = load_all(&backend, security_sources()).await;

    for source in [
        Source::DefenderDetect,
        Source::DefenderAudit,
        Source::Metrics,
    ] {
        assert!(
            matches!(summary.state(source), Some(SourceState::Loaded { .. })),
            "{source:?}: {summary:?}"
        );
    }
    assert_eq!(summary.state(Source::Certificates), None, "not requested");

    let violations: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Violations(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(violations.len(), 3);
    let v1 = violations.iter().find(|v| v.violation_id == "v-1").unwrap();
    assert_eq!(v1.thing.as_deref(), Some("dev-001"));
    assert_eq!(v1.metric.as_deref(), Some("aws:num-authorization-failures"));
    assert_eq!(v1.value, Some(42.0));
    assert_eq!(v1.kind, "active");
    assert_eq!(v1.at, Some(1_790_000_100));
    let cleared = violations.iter().find(|v| v.violation_id == "v-0").unwrap();
    assert_eq!(cleared.kind, "alarm-cleared");

    let findings: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::AuditFindings { findings, .. } => Some(findings.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].device_certificate_id.as_deref(),
        Some(DEVICE_CERT)
    );
    assert_eq!(findings[0].severity, Severity::Medium);
    assert_eq!(
        findings[0].reason_code.as_deref(),
        Some("CERTIFICATE_APPROACHING_EXPIRATION")
    );
    assert!(findings[0].related_client_ids.is_empty());
    // Every certificate check was asked for.
    assert_eq!(expiring.num_calls() + other_checks.num_calls(), 8);

    let series: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Metrics(m) => Some(m.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(series.len(), IotMetric::ALL.len());
    let auth = series
        .iter()
        .find(|s| s.metric == IotMetric::ConnectAuthError)
        .unwrap();
    assert_eq!(auth.timestamps, vec![3600, 7200]);
    assert_eq!(auth.values, vec![3.0, 4.0]);
    assert!((auth.total() - 7.0).abs() < f64::EPSILON);
    let csr = series
        .iter()
        .find(|s| s.metric == IotMetric::CreateCertificateFromCsrFailed)
        .unwrap();
    assert_eq!(csr.values, vec![1.0]);
    assert!(
        series
            .iter()
            .find(|s| s.metric == IotMetric::RegisterThingFailed)
            .unwrap()
            .values
            .is_empty()
    );
}

#[tokio::test]
async fn refused_sources_are_unavailable_and_the_others_load() {
    // Detect refused (no permission, or Detect closed to this account), Audit works.
    let refused = mock!(aws_sdk_iot::Client::list_active_violations)
        .sequence()
        .http_status(
            403,
            Some(r#"{"__type":"AccessDeniedException","message":"User is not authorized"}"#.into()),
        )
        .build();
    let (expiring, other_checks) = audit_rules();
    let iot = mock_client!(
        aws_sdk_iot,
        RuleMode::MatchAny,
        [&refused, &expiring, &other_checks]
    );
    let refused_metrics = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(403, None)
        .build();
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&refused_metrics]);

    let backend = AwsBackend::from_clients(iot, cloudwatch, settings());
    let (updates, summary) = load_all(&backend, security_sources()).await;

    let Some(SourceState::Unavailable { reason }) = summary.state(Source::DefenderDetect) else {
        panic!("{summary:?}");
    };
    assert!(reason.contains("iot:ListActiveViolations"), "{reason}");
    assert!(reason.contains("not permitted"), "{reason}");
    assert!(
        reason.contains("grant iot:ListActiveViolations"),
        "{reason}"
    );
    let Some(SourceState::Unavailable { reason }) = summary.state(Source::Metrics) else {
        panic!("{summary:?}");
    };
    assert!(reason.contains("cloudwatch:GetMetricData"), "{reason}");
    assert!(
        matches!(
            summary.state(Source::DefenderAudit),
            Some(SourceState::Loaded { items: 1 })
        ),
        "{summary:?}"
    );
    assert!(updates.iter().any(
        |u| matches!(u, BackendUpdate::AuditFindings { findings, .. } if findings.len() == 1)
    ));
}
