//! CloudWatch `AWS/IoT` metrics through GetMetricData: connection auth errors and successes
//! (Protocol=MQTT) and the provisioning metrics (CSR failures, template failures, things
//! registered by claim certificates — the last two summed over every template / claim
//! certificate with a SEARCH expression). Hourly sums over the last `recent_hours`.
//! aws-sdk-cloudwatch speaks smithy RPCv2 CBOR, which moto does not answer (the source shows
//! as unavailable there); the lab does.

use std::collections::HashMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use tokio::sync::mpsc;

use super::LoadSettings;
use super::budget::Outages;
use super::snapshot::{deliver, now_secs};
use crate::backend::error::CallFailure;
use crate::backend::findings::{IotMetric, MetricSeries};
use crate::backend::update::{BackendUpdate, Source, SourceState};

/// Seconds per data point.
const PERIOD: i32 = 3600;
/// CloudWatch namespace of AWS IoT.
const NAMESPACE: &str = "AWS/IoT";

/// Loads the metrics and reports the source. `cloudwatch` has the small retry budget of a
/// first call (one query of every series); a definite no is noted in `outages`.
pub(super) async fn load_metrics(
    cloudwatch: &Client,
    settings: &LoadSettings,
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SourceState {
    let now = now_secs();
    let read = read(cloudwatch, now - settings.recent_hours * 3600, now).await;
    if let Err(failure) = &read {
        outages.first_call_failed(Source::Metrics, failure);
    }
    deliver(updates, Source::Metrics, read, BackendUpdate::Metrics).await
}

/// The GetMetricData query for one metric.
fn query(metric: IotMetric) -> MetricDataQuery {
    let builder = MetricDataQuery::builder()
        .id(metric.query_id())
        .return_data(true);
    let search_sum = |dimension: &str| {
        format!(
            "SUM(SEARCH('{{{NAMESPACE},{dimension}}} MetricName=\"{}\"', 'Sum', {PERIOD}))",
            metric.metric_name()
        )
    };
    let builder = match metric {
        IotMetric::RegisterThingFailed => builder.expression(search_sum("TemplateName")),
        IotMetric::ThingsRegisteredByClaim => builder.expression(search_sum("ClaimCertificateId")),
        IotMetric::ConnectAuthError
        | IotMetric::ConnectSuccess
        | IotMetric::CreateCertificateFromCsrFailed => {
            let mut m = Metric::builder()
                .namespace(NAMESPACE)
                .metric_name(metric.metric_name());
            if matches!(
                metric,
                IotMetric::ConnectAuthError | IotMetric::ConnectSuccess
            ) {
                m = m.dimensions(Dimension::builder().name("Protocol").value("MQTT").build());
            }
            builder.metric_stat(
                MetricStat::builder()
                    .metric(m.build())
                    .period(PERIOD)
                    .stat("Sum")
                    .build(),
            )
        }
    };
    builder.build()
}

async fn read(cloudwatch: &Client, from: i64, to: i64) -> Result<Vec<MetricSeries>, CallFailure> {
    let queries = IotMetric::ALL.into_iter().map(query).collect();
    let pages = cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(DateTime::from_secs(from))
        .end_time(DateTime::from_secs(to))
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("cloudwatch:GetMetricData", &e))?;

    // A series may be split over pages: gather by id, then sort each by time.
    let mut points: HashMap<IotMetric, Vec<(i64, f64)>> = HashMap::new();
    for page in &pages {
        for result in page.metric_data_results() {
            let Some(metric) = result.id().and_then(IotMetric::from_query_id) else {
                continue;
            };
            let entry = points.entry(metric).or_default();
            entry.extend(
                result
                    .timestamps()
                    .iter()
                    .map(DateTime::secs)
                    .zip(result.values().iter().copied()),
            );
        }
    }
    Ok(IotMetric::ALL
        .into_iter()
        .map(|metric| {
            let mut series = points.remove(&metric).unwrap_or_default();
            series.sort_by_key(|(t, _)| *t);
            MetricSeries {
                metric,
                timestamps: series.iter().map(|(t, _)| *t).collect(),
                values: series.iter().map(|(_, v)| *v).collect(),
            }
        })
        .collect())
}
