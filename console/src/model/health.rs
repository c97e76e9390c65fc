//! The fleet's health verdict, as `fleetid status` reports it: certificates expiring inside
//! the critical window and CAs that are no longer active but still have active device
//! certificates under them.

use std::collections::BTreeMap;

use super::ids::{CertId, Day, SECONDS_PER_DAY, UnixTime};
use super::records::{CaRecord, CaStatus};
use super::state::FleetState;
use super::status::CertStatus;
use super::update::{AnomalyRecord, Severity};

/// Thresholds of the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Active certificates expiring within this many days (or already expired) are critical.
    pub critical_days: i64,
    /// Active certificates expiring within this many days are a warning.
    pub warning_days: i64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            critical_days: 7,
            warning_days: 30,
        }
    }
}

/// A CA that is not active but still has active device certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaAtRisk {
    /// The CA certificate id.
    pub id: CertId,
    /// Its subject.
    pub subject: String,
    /// Its status.
    pub status: CaStatus,
    /// Active device certificates it issued.
    pub active_certificates: u64,
}

/// The health summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The instant it was computed for.
    pub now: UnixTime,
    /// The thresholds used.
    pub policy: HealthPolicy,
    /// Active certificates already expired.
    pub expired_active: u64,
    /// Active certificates expiring inside the critical window (not yet expired).
    pub expiring_critical: u64,
    /// Active certificates expiring after the critical window but inside the warning window.
    pub expiring_warning: u64,
    /// Non-active CAs with active device certificates.
    pub cas_at_risk: Vec<CaAtRisk>,
    /// Certificates whose PEM could not be read.
    pub unreadable_pems: u64,
    /// Open anomalies at `Critical` severity.
    pub critical_anomalies: u64,
    /// Open anomalies in total.
    pub open_anomalies: u64,
}

impl Health {
    /// Healthy: nothing expired or expiring in the critical window, no CA at risk.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.expired_active == 0 && self.expiring_critical == 0 && self.cas_at_risk.is_empty()
    }
}

impl FleetState {
    /// Computes the health summary at `now`.
    #[must_use]
    pub fn health(&self, now: UnixTime, policy: HealthPolicy) -> Health {
        let critical = now.plus_seconds(policy.critical_days * SECONDS_PER_DAY);
        let warning =
            now.plus_seconds(policy.warning_days.max(policy.critical_days) * SECONDS_PER_DAY);
        let (mut expired_active, mut expiring_critical, mut expiring_warning) = (0, 0, 0);
        for cert in self.certificates_expiring(Day(i32::MIN), warning.day()) {
            let Some(not_after) = cert.not_after() else {
                continue;
            };
            if cert.record.status != CertStatus::Active {
                continue;
            }
            if not_after <= now {
                expired_active += 1;
            } else if not_after <= critical {
                expiring_critical += 1;
            } else if not_after <= warning {
                expiring_warning += 1;
            }
        }
        let (open_anomalies, critical_anomalies) = anomaly_counts(&self.anomalies);
        Health {
            now,
            policy,
            expired_active,
            expiring_critical,
            expiring_warning,
            cas_at_risk: cas_at_risk(&self.cas, self.issuing_cas()),
            unreadable_pems: self.unreadable_pems(),
            critical_anomalies,
            open_anomalies,
        }
    }
}

/// Non-active registered CAs among `issuing` (CA id, active device certificates it issued)
/// that still have active device certificates, by id.
pub(crate) fn cas_at_risk<'a>(
    cas: &BTreeMap<CertId, CaRecord>,
    issuing: impl Iterator<Item = (&'a CertId, u64)>,
) -> Vec<CaAtRisk> {
    let mut out: Vec<CaAtRisk> = issuing
        .filter_map(|(id, active)| {
            let ca = cas.get(id)?;
            (ca.status != CaStatus::Active && active > 0).then(|| CaAtRisk {
                id: *id,
                subject: ca
                    .parsed
                    .as_ref()
                    .map_or_else(|_| String::new(), |f| f.subject.to_string()),
                status: ca.status,
                active_certificates: active,
            })
        })
        .collect();
    out.sort_by_key(|a| a.id);
    out
}

/// Open anomalies, and how many of them are critical.
pub(crate) fn anomaly_counts(anomalies: &BTreeMap<Box<str>, AnomalyRecord>) -> (u64, u64) {
    let (mut open, mut critical) = (0, 0);
    for anomaly in anomalies.values().filter(|a| !a.cleared) {
        open += 1;
        if anomaly.severity == Severity::Critical {
            critical += 1;
        }
    }
    (open, critical)
}
