//! The retry budget of a source's first call, and the memory of sources the endpoint does not
//! answer.
//!
//! A source's first call says whether the endpoint answers that source at all. It goes through
//! clients with a small retry budget ([`FIRST_CALL_ATTEMPTS`] attempts, backoff at most
//! [`FIRST_CALL_MAX_BACKOFF`]), so a source that fails costs a command about a second instead
//! of the full adaptive retries (about ten). The calls after it have the full retries. A
//! definite no — not answered by the endpoint, not enabled, not permitted — is remembered as a
//! [`SourceOutage`] for [`OUTAGE_LASTS`] seconds: later loads do not ask until then and report
//! the source unavailable with the remembered reason. Credentials, throttling and an
//! unreachable endpoint are not remembered: they affect every source and pass.

use std::sync::Mutex;
use std::time::Duration;

use aws_config::retry::RetryConfig;

use crate::backend::error::{CallFailure, FailureKind};
use crate::backend::update::{Source, SourceOutage};

/// Attempts of a source's first call.
pub const FIRST_CALL_ATTEMPTS: u32 = 3;
/// Backoff before the first retry of a first call (it doubles, with jitter).
pub const FIRST_CALL_BACKOFF: Duration = Duration::from_millis(250);
/// The longest backoff between attempts of a first call.
pub const FIRST_CALL_MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Seconds a source that gave a definite no is not asked again.
pub const OUTAGE_LASTS: i64 = 15 * 60;

/// The retry configuration of a source's first call.
#[must_use]
pub fn first_call_retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(FIRST_CALL_ATTEMPTS)
        .with_initial_backoff(FIRST_CALL_BACKOFF)
        .with_max_backoff(FIRST_CALL_MAX_BACKOFF)
}

/// A failed paged listing, and whether it failed on the source's first call: only that says
/// the endpoint does not answer the source (a later page failing is a passing fault).
#[derive(Debug)]
pub(super) struct ListingFailure {
    pub(super) call: CallFailure,
    pub(super) first_call: bool,
}

/// Whether a failure is a definite no that will not change by asking again soon.
fn is_definite(kind: FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::NotSupported | FailureKind::NotEnabled | FailureKind::Permission
    )
}

/// The outages of one load: those remembered from earlier loads and those found now.
#[derive(Debug, Default)]
pub(super) struct Outages {
    now: i64,
    remembered: Vec<SourceOutage>,
    found: Mutex<Vec<SourceOutage>>,
}

impl Outages {
    /// The outages of `remembered` still in effect at `now`.
    pub(super) fn new(remembered: &[SourceOutage], now: i64) -> Self {
        Self {
            now,
            remembered: remembered
                .iter()
                .filter(|o| o.until > now)
                .cloned()
                .collect(),
            found: Mutex::default(),
        }
    }

    /// The outage of `source` in effect, if any: the source is not to be asked.
    pub(super) fn remembered(&self, source: Source) -> Option<&SourceOutage> {
        self.remembered.iter().find(|o| o.source == source)
    }

    /// Notes that `source`'s first call failed; remembered when the failure is definite.
    pub(super) fn first_call_failed(&self, source: Source, failure: &CallFailure) {
        if !is_definite(failure.kind) {
            return;
        }
        let outage = SourceOutage {
            source,
            reason: failure.to_string(),
            since: self.now,
            until: self.now + OUTAGE_LASTS,
        };
        // A poisoned lock only means another source panicked; its list is still usable.
        let mut found = self
            .found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        found.retain(|o| o.source != source);
        found.push(outage);
    }

    /// Notes that a paged listing of `source` failed; remembered only when its first call
    /// failed with a definite no.
    pub(super) fn listing_failed(&self, source: Source, failure: &ListingFailure) {
        if failure.first_call {
            self.first_call_failed(source, &failure.call);
        }
    }

    /// Every outage in effect after the load: remembered ones and new ones.
    pub(super) fn into_vec(self) -> Vec<SourceOutage> {
        let mut all = self.remembered;
        let found = self
            .found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.retain(|o| !found.iter().any(|f| f.source == o.source));
        all.extend(found);
        all.sort_by_key(|o| o.source);
        all
    }
}

/// What a source the load skips reports: the remembered reason and when it is asked again.
pub(super) fn skipped_reason(outage: &SourceOutage, now: i64) -> String {
    let minutes = ((outage.until - now).max(0) + 59) / 60;
    format!(
        "{}; remembered as unavailable, asked again in {minutes} min",
        outage.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind) -> CallFailure {
        CallFailure {
            operation: "iot:ListCACertificates",
            kind,
            detail: "HTTP 500: InternalFailure".into(),
            code: None,
            request_id: None,
        }
    }

    #[test]
    fn only_a_definite_no_is_remembered_and_only_until_it_expires() {
        let outages = Outages::new(&[], 1_000);
        outages.first_call_failed(Source::Metrics, &failure(FailureKind::Throttled));
        outages.first_call_failed(Source::FleetIndexing, &failure(FailureKind::Credentials));
        outages.first_call_failed(Source::CaCertificates, &failure(FailureKind::NotSupported));
        let found = outages.into_vec();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].source, Source::CaCertificates);
        assert_eq!(found[0].until, 1_000 + OUTAGE_LASTS);

        let later = Outages::new(&found, 1_000 + OUTAGE_LASTS - 1);
        assert!(later.remembered(Source::CaCertificates).is_some());
        assert_eq!(later.into_vec(), found);
        let expired = Outages::new(&found, 1_000 + OUTAGE_LASTS);
        assert!(expired.remembered(Source::CaCertificates).is_none());
        assert!(expired.into_vec().is_empty());
    }

    #[test]
    fn a_listing_that_fails_after_its_first_page_is_not_remembered() {
        let outages = Outages::new(&[], 1_000);
        let later_page = ListingFailure {
            call: failure(FailureKind::NotSupported),
            first_call: false,
        };
        outages.listing_failed(Source::Certificates, &later_page);
        assert!(outages.into_vec().is_empty());

        let outages = Outages::new(&[], 1_000);
        let first_page = ListingFailure {
            call: failure(FailureKind::NotSupported),
            first_call: true,
        };
        outages.listing_failed(Source::Certificates, &first_page);
        assert_eq!(outages.into_vec().len(), 1);
    }

    #[test]
    fn a_skipped_source_says_when_it_is_asked_again() {
        let outage = SourceOutage {
            source: Source::CaCertificates,
            reason: "iot:ListCACertificates: not answered by this endpoint".into(),
            since: 0,
            until: OUTAGE_LASTS,
        };
        assert_eq!(
            skipped_reason(&outage, 61),
            "iot:ListCACertificates: not answered by this endpoint; remembered as unavailable, \
             asked again in 14 min"
        );
    }
}
