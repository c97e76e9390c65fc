//! The lab's CloudWatch metrics (namespace `AWS/IoT`): what the gateway and the provisioning
//! API observe, kept per minute and per metric (name and dimensions), and read back as
//! period statistics the way GetMetricData answers them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// The namespace of every metric the lab records.
pub const NAMESPACE: &str = "AWS/IoT";

/// `Connect.Success` (dimension `Protocol`).
pub const CONNECT_SUCCESS: &str = "Connect.Success";
/// `Connect.AuthError` (dimension `Protocol`): connections the broker did not authorize.
pub const CONNECT_AUTH_ERROR: &str = "Connect.AuthError";
/// `CreateCertificateFromCsrFailed` (no dimension).
pub const CREATE_CERTIFICATE_FROM_CSR_FAILED: &str = "CreateCertificateFromCsrFailed";
/// `RegisterThingFailed` (dimension `TemplateName`): 0 for a success, 1 for a failure.
pub const REGISTER_THING_FAILED: &str = "RegisterThingFailed";
/// `ApproximateNumberOfThingsRegistered` (dimension `ClaimCertificateId`).
pub const THINGS_REGISTERED: &str = "ApproximateNumberOfThingsRegistered";

/// One metric: a name and its dimensions (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId {
    /// The metric's name.
    pub name: String,
    /// `(name, value)` pairs, sorted by name.
    pub dimensions: Vec<(String, String)>,
}

impl MetricId {
    /// A metric with these dimensions (in any order).
    #[must_use]
    pub fn new(name: &str, dimensions: &[(&str, &str)]) -> Self {
        let mut dimensions: Vec<(String, String)> = dimensions
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        dimensions.sort();
        Self {
            name: name.to_owned(),
            dimensions,
        }
    }
}

/// The samples of one minute.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Minute {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
}

impl Minute {
    fn merge(&mut self, other: Self) {
        self.sum += other.sum;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

/// A statistic GetMetricData can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// `Sum`.
    Sum,
    /// `SampleCount`.
    SampleCount,
    /// `Average`.
    Average,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
}

impl Statistic {
    /// The statistic of its CloudWatch name (percentiles and the like are not kept).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Sum" => Self::Sum,
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => return None,
        })
    }

    #[allow(clippy::cast_precision_loss)] // sample counts stay far below 2^52
    fn of(self, m: &Minute) -> f64 {
        match self {
            Self::Sum => m.sum,
            Self::SampleCount => m.count as f64,
            Self::Average => m.sum / m.count as f64,
            Self::Minimum => m.min,
            Self::Maximum => m.max,
        }
    }
}

/// The recorded metrics, shared by the gateway (which records) and the API (which reads).
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    series: Arc<Mutex<HashMap<MetricId, BTreeMap<i64, Minute>>>>,
}

impl Metrics {
    /// Records `value` for `metric` now.
    pub fn record(&self, metric: &MetricId, value: f64) {
        self.record_at(metric, value, crate::registry::now().unix_timestamp());
    }

    /// Records `value` for `metric` at `epoch_seconds`.
    pub fn record_at(&self, metric: &MetricId, value: f64, epoch_seconds: i64) {
        let minute = epoch_seconds.div_euclid(60) * 60;
        let sample = Minute {
            sum: value,
            count: 1,
            min: value,
            max: value,
        };
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .entry(metric.clone())
            .or_default()
            .entry(minute)
            .and_modify(|m| m.merge(sample))
            .or_insert(sample);
    }

    /// Every metric recorded so far.
    #[must_use]
    pub fn list(&self) -> Vec<MetricId> {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ids: Vec<MetricId> = series.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// `statistic` of `metric` per `period` seconds (periods aligned to multiples of
    /// `period` since the epoch) over `[from, to)`: `(period start, value)`, oldest first,
    /// only periods with samples (as CloudWatch leaves out periods without data).
    #[must_use]
    pub fn statistics(
        &self,
        metric: &MetricId,
        statistic: Statistic,
        period: i64,
        from: i64,
        to: i64,
    ) -> Vec<(i64, f64)> {
        let period = period.max(60);
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(minutes) = series.get(metric) else {
            return Vec::new();
        };
        let mut periods: BTreeMap<i64, Minute> = BTreeMap::new();
        for (&minute, sample) in minutes.range(from.div_euclid(60) * 60..to) {
            if minute + 60 <= from {
                continue;
            }
            periods
                .entry(minute.div_euclid(period) * period)
                .and_modify(|m| m.merge(*sample))
                .or_insert(*sample);
        }
        periods
            .iter()
            .map(|(&start, m)| (start, statistic.of(m)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_add_up_per_period_and_metric() {
        let metrics = Metrics::default();
        let failed = MetricId::new(REGISTER_THING_FAILED, &[("TemplateName", "claim")]);
        let other = MetricId::new(REGISTER_THING_FAILED, &[("TemplateName", "rotation")]);
        let hour = 1_800_000_000 / 3600 * 3600;
        metrics.record_at(&failed, 1.0, hour + 10);
        metrics.record_at(&failed, 1.0, hour + 70);
        metrics.record_at(&failed, 0.0, hour + 3599);
        metrics.record_at(&failed, 1.0, hour + 3600 + 5);
        metrics.record_at(&other, 1.0, hour + 20);

        let sums = metrics.statistics(&failed, Statistic::Sum, 3600, hour - 3600, hour + 7200);
        assert_eq!(sums, vec![(hour, 2.0), (hour + 3600, 1.0)]);
        let counts = metrics.statistics(&failed, Statistic::SampleCount, 3600, hour, hour + 3600);
        assert_eq!(counts, vec![(hour, 3.0)]);
        let minutes = metrics.statistics(&failed, Statistic::Maximum, 60, hour, hour + 120);
        assert_eq!(minutes, vec![(hour, 1.0), (hour + 60, 1.0)]);
        assert!(
            metrics
                .statistics(&failed, Statistic::Sum, 3600, hour + 7200, hour + 9000)
                .is_empty()
        );
        assert_eq!(metrics.list(), vec![failed, other]);
    }

    #[test]
    fn dimensions_are_one_metric_in_any_order() {
        assert_eq!(
            MetricId::new("m", &[("B", "2"), ("A", "1")]),
            MetricId::new("m", &[("A", "1"), ("B", "2")])
        );
        assert_eq!(Statistic::parse("p99"), None);
    }
}
