//! The lab's STS and CloudWatch answers through the real SDK clients (aws-sdk-sts in the AWS
//! query protocol, aws-sdk-cloudwatch in smithy RPC v2 CBOR), on a lab started on loopback:
//! the caller's identity, and the metrics fleetid's console queries — counted by the gateway
//! from real mTLS connections, and recorded directly to check the arithmetic.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

mod support;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_sdk_iot::config::{Credentials, Region};
use fleetid_lab::api::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use fleetid_lab::metrics::{self, MetricId};
use fleetid_lab::registry::CertStatus;
use fleetid_lab::{Lab, LabHandle, LabOptions};

async fn config(lab: &LabHandle, key_id: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            key_id,
            SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .endpoint_url(&lab.endpoint_url)
        .load()
        .await
}

async fn cloud_only() -> LabHandle {
    Lab::start(LabOptions {
        devices: 0,
        ..LabOptions::default()
    })
    .await
    .unwrap()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The console's query for one metric with the Protocol=MQTT dimension, hourly sums.
fn mqtt_sum(id: &str, name: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/IoT")
                        .metric_name(name)
                        .dimensions(Dimension::builder().name("Protocol").value("MQTT").build())
                        .build(),
                )
                .period(3600)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}

fn summed_search(id: &str, dimension: &str, name: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .expression(format!(
            "SUM(SEARCH('{{AWS/IoT,{dimension}}} MetricName=\"{name}\"', 'Sum', 3600))"
        ))
        .return_data(true)
        .build()
}

#[tokio::test]
async fn get_caller_identity_names_the_lab_account_and_other_keys_are_refused() {
    let lab = cloud_only().await;
    let sts = aws_sdk_sts::Client::new(&config(&lab, ACCESS_KEY_ID).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(fleetid_lab::registry::ACCOUNT_ID));
    assert_eq!(me.arn(), Some(fleetid_lab::api::sts::CALLER_ARN));
    assert!(me.user_id().is_some_and(|u| u.starts_with("AIDA")));

    // Other credentials are refused in each service's own error shape, which its SDK reads.
    let stranger = config(&lab, "AKIAOTHERKEY00000000").await;
    let err = aws_sdk_sts::Client::new(&stranger)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("InvalidClientTokenId")
    );
    let err = aws_sdk_cloudwatch::Client::new(&stranger)
        .get_metric_data()
        .metric_data_queries(mqtt_sum("ok", metrics::CONNECT_SUCCESS))
        .start_time(DateTime::from_secs(now() - 3600))
        .end_time(DateTime::from_secs(now()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("InvalidClientTokenId")
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn get_metric_data_sums_by_period_and_evaluates_the_consoles_searches() {
    let lab = cloud_only().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config(&lab, ACCESS_KEY_ID).await);
    let hour = now() / 3600 * 3600;
    let record = |id: &MetricId, value: f64, at: i64| lab.metrics.record_at(id, value, at);
    let failed = |template: &str| {
        MetricId::new(
            metrics::REGISTER_THING_FAILED,
            &[("TemplateName", template)],
        )
    };
    for minute in 0..3 {
        record(&failed("claim"), 1.0, hour - 3600 + minute * 60);
    }
    record(&failed("claim"), 0.0, hour + 1);
    record(&failed("rotation"), 1.0, hour + 2);
    record(
        &MetricId::new(metrics::THINGS_REGISTERED, &[("ClaimCertificateId", "c1")]),
        1.0,
        hour + 3,
    );

    let answer = cloudwatch
        .get_metric_data()
        .metric_data_queries(summed_search(
            "failed",
            "TemplateName",
            metrics::REGISTER_THING_FAILED,
        ))
        .metric_data_queries(summed_search(
            "claimed",
            "ClaimCertificateId",
            metrics::THINGS_REGISTERED,
        ))
        .metric_data_queries(mqtt_sum("success", metrics::CONNECT_SUCCESS))
        .start_time(DateTime::from_secs(hour - 6 * 3600))
        .end_time(DateTime::from_secs(hour + 3600))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    let results = answer.metric_data_results();
    let series = |id: &str| {
        let r = results.iter().find(|r| r.id() == Some(id)).unwrap();
        assert_eq!(
            r.status_code()
                .map(aws_sdk_cloudwatch::types::StatusCode::as_str),
            Some("Complete")
        );
        r.timestamps()
            .iter()
            .map(DateTime::secs)
            .zip(r.values().iter().copied())
            .collect::<Vec<_>>()
    };
    assert_eq!(series("failed"), vec![(hour - 3600, 3.0), (hour, 1.0)]);
    assert_eq!(series("claimed"), vec![(hour, 1.0)]);
    assert_eq!(series("success"), Vec::new());
    assert!(answer.next_token().is_none());

    let refused = cloudwatch
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("m")
                .expression("ANOMALY_DETECTION_BAND(m1)")
                .build(),
        )
        .start_time(DateTime::from_secs(hour - 3600))
        .end_time(DateTime::from_secs(hour))
        .send()
        .await
        .unwrap_err();
    let refused = refused.into_service_error();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&refused),
        Some("InvalidParameterValue"),
        "{refused:?}"
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn the_gateway_counts_authorized_and_refused_connections() {
    let lab = cloud_only().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config(&lab, ACCESS_KEY_ID).await);

    // The operator connects; a revoked device certificate is refused.
    let (_op, mut op_events) = support::operator(&lab);
    support::connected(&mut op_events).await.unwrap();
    let device = lab.issuing_ca.issue_device("dev-refused", 30).unwrap();
    lab.registry
        .insert_certificate(&device.certificate_pem, CertStatus::Revoked)
        .unwrap();
    let (_dev, mut dev_events) = support::client(
        &lab,
        "dev-refused",
        &device.certificate_pem,
        &device.key_pem,
    );
    assert!(support::connected(&mut dev_events).await.is_err());

    let sums = async || {
        let answer = cloudwatch
            .get_metric_data()
            .metric_data_queries(mqtt_sum("ok", metrics::CONNECT_SUCCESS))
            .metric_data_queries(mqtt_sum("auth", metrics::CONNECT_AUTH_ERROR))
            .start_time(DateTime::from_secs(now() - 3600))
            .end_time(DateTime::from_secs(now() + 60))
            .send()
            .await
            .unwrap();
        let total = |id: &str| -> f64 {
            answer
                .metric_data_results()
                .iter()
                .filter(|r| r.id() == Some(id))
                .flat_map(|r| r.values().iter().copied())
                .sum()
        };
        (total("ok"), total("auth"))
    };
    let mut seen = sums().await;
    for _ in 0..50 {
        if seen.0 >= 1.0 && seen.1 >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = sums().await;
    }
    assert_eq!(seen.0, 1.0, "Connect.Success");
    assert!(seen.1 >= 1.0, "Connect.AuthError: {}", seen.1);
    lab.shutdown().await;
}

#[tokio::test]
async fn the_demos_misused_claim_shows_in_the_provisioning_metrics() {
    use fleetid_lab::fleet::claim::{CLAIM_COMMON_NAME, CLAIM_TEMPLATE, MALFORMED_CSRS};
    use fleetid_lab::fleet::claim::{REFUSED, REGISTERED};
    let lab = Lab::start(LabOptions {
        devices: 12,
        device_kind: fleetid_lab::fleet::DeviceKind::Scripted,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let recalled = fleetid_lab::fleet::recalled(&lab.plan);
    assert!(!recalled.is_empty());
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config(&lab, ACCESS_KEY_ID).await);
    let read = async || {
        let answer = cloudwatch
            .get_metric_data()
            .metric_data_queries(summed_search(
                "failed",
                "TemplateName",
                metrics::REGISTER_THING_FAILED,
            ))
            .metric_data_queries(summed_search(
                "claimed",
                "ClaimCertificateId",
                metrics::THINGS_REGISTERED,
            ))
            .metric_data_queries(
                MetricDataQuery::builder()
                    .id("csr")
                    .metric_stat(
                        MetricStat::builder()
                            .metric(
                                Metric::builder()
                                    .namespace("AWS/IoT")
                                    .metric_name(metrics::CREATE_CERTIFICATE_FROM_CSR_FAILED)
                                    .build(),
                            )
                            .period(3600)
                            .stat("Sum")
                            .build(),
                    )
                    .build(),
            )
            .metric_data_queries(mqtt_sum("auth", metrics::CONNECT_AUTH_ERROR))
            .start_time(DateTime::from_secs(now() - 3 * 3600))
            .end_time(DateTime::from_secs(now() + 60))
            .send()
            .await
            .unwrap();
        let total = |id: &str| -> f64 {
            answer
                .metric_data_results()
                .iter()
                .filter(|r| r.id() == Some(id))
                .flat_map(|r| r.values().iter().copied())
                .sum()
        };
        (
            total("failed"),
            total("csr"),
            total("claimed"),
            total("auth"),
        )
    };
    let refused = REFUSED as f64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = read().await;
    while seen.0 < refused && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        seen = read().await;
    }
    let (failed, csr, claimed, auth) = seen;
    assert_eq!(
        failed, refused,
        "the attempts with recalled serials refused"
    );
    assert_eq!(csr, MALFORMED_CSRS as f64);
    assert_eq!(
        claimed, REGISTERED as f64,
        "the clones registered by the claim"
    );
    assert!(
        auth >= 1.0,
        "the recalled batch's refused connections: {auth}"
    );

    // Per claim, as `fleetid claim disable` reads it: the registrations carry the claim's id.
    let (certs, _) = lab
        .registry
        .list_certificates(None, None, Some(10_000), true)
        .unwrap();
    let claim = certs
        .into_iter()
        .find(|c| c.facts.common_name.as_deref() == Some(CLAIM_COMMON_NAME))
        .unwrap();
    let by_claim = MetricId::new(
        metrics::THINGS_REGISTERED,
        &[("ClaimCertificateId", claim.id())],
    );
    let sums = lab.metrics.statistics(
        &by_claim,
        metrics::Statistic::Sum,
        3600,
        now() - 3600,
        now() + 60,
    );
    assert_eq!(sums.iter().map(|(_, v)| v).sum::<f64>(), REGISTERED as f64);
    assert!(
        lab.metrics
            .list()
            .iter()
            .any(|m| m.name == metrics::REGISTER_THING_FAILED
                && m.dimensions == vec![("TemplateName".to_owned(), CLAIM_TEMPLATE.to_owned())])
    );
    // The clones are things now; the recalled devices got none through the claim.
    for clone in 1..=REGISTERED {
        assert!(lab.registry.thing(&format!("clone-{clone:04}")).is_ok());
    }
    for name in &recalled {
        assert!(lab.registry.thing(name).is_err(), "{name}");
    }
    lab.shutdown().await;
}
