//! Evidence an operation's plan shows before a person confirms it, read from CloudWatch:
//! how many things a provisioning claim certificate registered lately
//! (`ApproximateNumberOfThingsRegistered`, dimension `ClaimCertificateId`, AWS IoT Lens
//! 6.1.3's signal of a claim certificate being misused).

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

use super::AwsBackend;
use crate::backend::error::{BackendError, CallFailure};

/// Things a claim certificate registered: over the window asked for and in its last hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimRegistrations {
    /// Over the whole window.
    pub window: f64,
    /// In the window's last hour.
    pub last_hour: f64,
}

impl AwsBackend {
    /// Things registered through the claim certificate `claim_id` in the `hours` before `to`
    /// (Unix seconds), from CloudWatch hourly sums.
    ///
    /// # Errors
    /// [`BackendError::Call`] when CloudWatch does not answer.
    pub async fn claim_registrations(
        &self,
        claim_id: &str,
        hours: i64,
        to: i64,
    ) -> Result<ClaimRegistrations, BackendError> {
        let metric = Metric::builder()
            .namespace("AWS/IoT")
            .metric_name("ApproximateNumberOfThingsRegistered")
            .dimensions(
                Dimension::builder()
                    .name("ClaimCertificateId")
                    .value(claim_id)
                    .build(),
            )
            .build();
        let query = MetricDataQuery::builder()
            .id("registered")
            .return_data(true)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric)
                    .period(3600)
                    .stat("Sum")
                    .build(),
            )
            .build();
        let from = to - hours.max(1) * 3600;
        let pages = self
            .cloudwatch
            .get_metric_data()
            .metric_data_queries(query)
            .start_time(DateTime::from_secs(from))
            .end_time(DateTime::from_secs(to))
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| CallFailure::from_sdk("cloudwatch:GetMetricData", &e))?;
        let mut out = ClaimRegistrations {
            window: 0.0,
            last_hour: 0.0,
        };
        for result in pages
            .iter()
            .flat_map(aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::metric_data_results)
        {
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                out.window += value;
                if at.secs() >= to - 3600 {
                    out.last_hour += value;
                }
            }
        }
        Ok(out)
    }
}
