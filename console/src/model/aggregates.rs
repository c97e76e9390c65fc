//! Aggregates kept up to date on every update: status counts and the expiry histogram by
//! day x cohort. Each certificate adds its contribution when it enters the model and takes it
//! back before it changes, so no aggregate ever needs a full scan.

use std::collections::BTreeMap;

use super::ids::{CertId, Day};
use super::status::CertStatus;

/// Number of certificates in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    counts: [u64; CertStatus::ALL.len()],
}

impl StatusCounts {
    /// Certificates in `status`.
    #[must_use]
    pub fn get(&self, status: CertStatus) -> u64 {
        self.counts[status.index()]
    }

    /// All certificates.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(status, count)` for every status, zero counts included.
    pub fn iter(&self) -> impl Iterator<Item = (CertStatus, u64)> + '_ {
        CertStatus::ALL.into_iter().map(|s| (s, self.get(s)))
    }

    pub(crate) fn add(&mut self, status: CertStatus, delta: i64) {
        let slot = &mut self.counts[status.index()];
        *slot = slot.saturating_add_signed(delta);
    }
}

/// A slice of the fleet the expiry histogram is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cohort {
    /// Every active certificate.
    All,
    /// Issued by this registered CA.
    Ca(CertId),
    /// Attached to a thing in this group (interned group name).
    Group(u32),
    /// Attached to a thing running this firmware (interned version).
    Firmware(u32),
}

/// Active certificates expiring on each day, per cohort.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryHistogram {
    buckets: BTreeMap<(Cohort, Day), u64>,
}

impl ExpiryHistogram {
    /// Active certificates of `cohort` expiring on `day`.
    #[must_use]
    pub fn count(&self, cohort: Cohort, day: Day) -> u64 {
        self.buckets.get(&(cohort, day)).copied().unwrap_or(0)
    }

    /// Non-empty days of `cohort` in `from..=to`, in order.
    pub fn days(
        &self,
        cohort: Cohort,
        from: Day,
        to: Day,
    ) -> impl Iterator<Item = (Day, u64)> + '_ {
        self.buckets
            .range((cohort, from)..=(cohort, to))
            .map(|(&(_, day), &n)| (day, n))
    }

    /// Every non-empty day of `cohort`, in order.
    pub fn all_days(&self, cohort: Cohort) -> impl Iterator<Item = (Day, u64)> + '_ {
        self.days(cohort, Day(i32::MIN), Day(i32::MAX))
    }

    /// Sum of `cohort` over `from..=to`.
    #[must_use]
    pub fn sum(&self, cohort: Cohort, from: Day, to: Day) -> u64 {
        self.days(cohort, from, to).map(|(_, n)| n).sum()
    }

    /// Every cohort with at least one bucket.
    #[must_use]
    pub fn cohorts(&self) -> Vec<Cohort> {
        let mut out: Vec<Cohort> = self.buckets.keys().map(|&(c, _)| c).collect();
        out.dedup();
        out
    }

    /// Number of non-empty buckets.
    #[must_use]
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    pub(crate) fn from_counts(counts: impl IntoIterator<Item = ((Cohort, Day), u64)>) -> Self {
        Self {
            buckets: counts.into_iter().filter(|&(_, n)| n > 0).collect(),
        }
    }

    pub(crate) fn add(&mut self, cohort: Cohort, day: Day, delta: i64) {
        let key = (cohort, day);
        let value = self.buckets.entry(key).or_insert(0);
        *value = value.saturating_add_signed(delta);
        if *value == 0 {
            self.buckets.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_vanish_at_zero_and_ranges_stay_in_their_cohort() {
        let mut h = ExpiryHistogram::default();
        h.add(Cohort::All, Day(10), 1);
        h.add(Cohort::All, Day(12), 2);
        h.add(Cohort::Group(0), Day(11), 5);
        assert_eq!(h.sum(Cohort::All, Day(0), Day(100)), 3);
        assert_eq!(h.sum(Cohort::Group(0), Day(0), Day(100)), 5);
        h.add(Cohort::All, Day(10), -1);
        assert_eq!(h.count(Cohort::All, Day(10)), 0);
        assert_eq!(h.bucket_count(), 2);
        assert_eq!(h.cohorts(), vec![Cohort::All, Cohort::Group(0)]);
    }
}
