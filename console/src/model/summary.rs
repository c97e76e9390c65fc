//! [`FleetSummary`]: the fleet's aggregates without its records — what `status`, the dashboard,
//! the expiry heatmap and the CA tree show. The store writes one with every snapshot, so those
//! answer from a few hundred kilobytes instead of a model of a million devices.
//!
//! A summary is canonical: two summaries of the same fleet are equal (`==`) however the fleets
//! were built, so a stored summary can be checked against the model it belongs to.

use std::collections::BTreeMap;

use super::aggregates::{Cohort, ExpiryHistogram, StatusCounts};
use super::ca_tree::{CaNode, build_ca_tree};
use super::health::{Health, HealthPolicy, anomaly_counts, cas_at_risk};
use super::ids::{CertId, SECONDS_PER_DAY, UnixTime};
use super::records::CaRecord;
use super::state::{FleetState, SourceInfo};
use super::status::CertStatus;
use super::update::{AnomalyRecord, Source};

/// Device certificates of one issuing CA, per status (indexed by [`CertStatus::index`]).
pub type StatusByCa = [u64; CertStatus::ALL.len()];

/// The counts a summary holds besides the small parts (CAs, anomalies, sources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    /// Certificates per status.
    pub status_counts: StatusCounts,
    /// Active certificates by expiry day and cohort; group and firmware cohorts index
    /// [`SummaryCounts::names`].
    pub histogram: ExpiryHistogram,
    /// Group names and firmware versions the histogram's cohorts name, sorted.
    pub names: Vec<Box<str>>,
    /// Device certificates per issuing CA (registered or not) and status; only CAs that
    /// issued at least one certificate.
    pub per_ca: BTreeMap<CertId, StatusByCa>,
    /// Certificates whose PEM could not be read.
    pub unreadable_pems: u64,
    /// Things in the registry.
    pub things: u64,
    /// Things connected, when any thing's connectivity is known.
    pub things_online: Option<u64>,
    /// The expiry of every active certificate with a readable PEM, ascending: the health
    /// verdict counts to the second at any instant and window.
    pub active_expiries: Vec<UnixTime>,
}

/// The fleet's aggregates, from a [`FleetState`] or from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetSummary {
    /// The counts.
    pub counts: SummaryCounts,
    /// Registered CA certificates by id.
    pub cas: BTreeMap<CertId, CaRecord>,
    /// Anomalies by id (cleared ones included).
    pub anomalies: BTreeMap<Box<str>, AnomalyRecord>,
    /// Freshness of each source that has reported.
    pub sources: BTreeMap<Source, SourceInfo>,
}

impl FleetState {
    /// The fleet's aggregates: one pass over the certificates and things.
    #[must_use]
    pub fn summary(&self) -> FleetSummary {
        FleetSummary {
            counts: self.summary_counts(),
            cas: self.cas.clone(),
            anomalies: self.anomalies_with_things(),
            sources: self.sources.clone(),
        }
    }

    /// The anomalies, each naming the thing its certificate is attached to when the source
    /// named only the certificate (an audit finding does): the feed shows whose it is.
    fn anomalies_with_things(&self) -> BTreeMap<Box<str>, AnomalyRecord> {
        let mut anomalies = self.anomalies.clone();
        for anomaly in anomalies.values_mut().filter(|a| a.thing.is_none()) {
            anomaly.thing = anomaly
                .certificate
                .and_then(|id| self.certificate(&id))
                .and_then(|cert| cert.things().next().map(Into::into));
        }
        anomalies
    }

    fn summary_counts(&self) -> SummaryCounts {
        let per_ca: BTreeMap<CertId, StatusByCa> =
            self.per_ca.iter().map(|(ca, n)| (*ca, *n)).collect();
        let active_expiries = self.active_expiries.sorted(|| {
            self.certs
                .iter()
                .filter_map(|c| c.record.as_ref())
                .filter(|r| r.status == CertStatus::Active)
                .filter_map(|r| r.parsed.as_ref().ok().map(|f| f.not_after))
                .collect()
        });
        let (mut things, mut online, mut known) = (0, 0, false);
        for thing in self.things.iter().filter(|t| t.present) {
            things += 1;
            known |= thing.connected.is_some();
            online += u64::from(thing.connected == Some(true));
        }
        let (names, histogram) = self.canonical_histogram();
        SummaryCounts {
            status_counts: self.status_counts,
            histogram,
            names,
            per_ca,
            unreadable_pems: self.unreadable_pems,
            things,
            things_online: known.then_some(online),
            active_expiries,
        }
    }

    /// The histogram with its group and firmware cohorts renumbered into the sorted list of
    /// the names they use (the model's interned numbers depend on the order of loading).
    fn canonical_histogram(&self) -> (Vec<Box<str>>, ExpiryHistogram) {
        let cohorts = self.histogram.cohorts();
        let mut names: Vec<Box<str>> = cohorts
            .iter()
            .filter_map(|c| match c {
                Cohort::Group(n) | Cohort::Firmware(n) => Some(self.name_text(*n).into()),
                Cohort::All | Cohort::Ca(_) => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        let number = |n: u32| {
            let index = names
                .binary_search_by(|name| (**name).cmp(self.name_text(n)))
                .unwrap_or(0);
            u32::try_from(index).unwrap_or(u32::MAX)
        };
        let mut buckets = Vec::with_capacity(self.histogram.bucket_count());
        for cohort in cohorts {
            let renumbered = match cohort {
                Cohort::Group(n) => Cohort::Group(number(n)),
                Cohort::Firmware(n) => Cohort::Firmware(number(n)),
                other => other,
            };
            buckets.extend(
                self.histogram
                    .all_days(cohort)
                    .map(|(day, n)| ((renumbered, day), n)),
            );
        }
        (names, ExpiryHistogram::from_counts(buckets))
    }
}

impl FleetSummary {
    /// Certificates per status.
    #[must_use]
    pub fn status_counts(&self) -> &StatusCounts {
        &self.counts.status_counts
    }

    /// Active certificates by expiry day and cohort.
    #[must_use]
    pub fn expiry_histogram(&self) -> &ExpiryHistogram {
        &self.counts.histogram
    }

    /// The text of a group or firmware cohort's number.
    #[must_use]
    pub fn name_text(&self, id: u32) -> &str {
        self.counts.names.get(id as usize).map_or("", |t| t)
    }

    /// Things in the registry.
    #[must_use]
    pub fn thing_count(&self) -> u64 {
        self.counts.things
    }

    /// Things connected, when any thing's connectivity is known.
    #[must_use]
    pub fn things_online(&self) -> Option<u64> {
        self.counts.things_online
    }

    /// Registered CA certificates by id.
    #[must_use]
    pub fn cas(&self) -> &BTreeMap<CertId, CaRecord> {
        &self.cas
    }

    /// Anomalies by id (cleared ones included).
    #[must_use]
    pub fn anomalies(&self) -> &BTreeMap<Box<str>, AnomalyRecord> {
        &self.anomalies
    }

    /// Freshness of each source that has reported.
    #[must_use]
    pub fn sources(&self) -> &BTreeMap<Source, SourceInfo> {
        &self.sources
    }

    /// Device certificates per issuing CA and status.
    #[must_use]
    pub fn per_ca(&self) -> &BTreeMap<CertId, StatusByCa> {
        &self.counts.per_ca
    }

    /// Active device certificates issued directly by `ca`.
    #[must_use]
    pub fn active_certificates_under(&self, ca: &CertId) -> u64 {
        self.counts
            .per_ca
            .get(ca)
            .map_or(0, |n| n[CertStatus::Active.index()])
    }

    /// The CA chain tree, as [`FleetState::ca_tree`] builds it.
    #[must_use]
    pub fn ca_tree(&self) -> Vec<CaNode> {
        build_ca_tree(&self.cas, self.counts.per_ca.keys().copied(), |id| {
            self.active_certificates_under(id)
        })
    }

    /// The health verdict at `now`, as [`FleetState::health`] computes it.
    #[must_use]
    pub fn health(&self, now: UnixTime, policy: HealthPolicy) -> Health {
        let critical = now.plus_seconds(policy.critical_days * SECONDS_PER_DAY);
        let warning =
            now.plus_seconds(policy.warning_days.max(policy.critical_days) * SECONDS_PER_DAY);
        let expiries = &self.counts.active_expiries;
        let up_to = |t: UnixTime| expiries.partition_point(|&e| e <= t) as u64;
        let expired_active = up_to(now);
        let expiring_critical = up_to(critical).saturating_sub(expired_active);
        let expiring_warning = up_to(warning).saturating_sub(up_to(now.max(critical)));
        let issuing = self
            .counts
            .per_ca
            .iter()
            .map(|(id, n)| (id, n[CertStatus::Active.index()]));
        let (open_anomalies, critical_anomalies) = anomaly_counts(&self.anomalies);
        Health {
            now,
            policy,
            expired_active,
            expiring_critical,
            expiring_warning,
            cas_at_risk: cas_at_risk(&self.cas, issuing),
            unreadable_pems: self.counts.unreadable_pems,
            critical_anomalies,
            open_anomalies,
        }
    }
}
