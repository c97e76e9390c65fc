//! The fleet's health verdict, as `fleetid status` reports it: certificates expiring inside
//! the critical window and CAs that are no longer active but still have active device
//! certificates under them.

use super::ids::{CertId, Day, SECONDS_PER_DAY, UnixTime};
use super::records::{CaStatus, CertStatus};
use super::state::FleetState;
use super::update::Severity;

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
        let mut cas_at_risk: Vec<CaAtRisk> = self
            .issuing_cas()
            .filter_map(|(id, active)| {
                let ca = self.cas.get(id)?;
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
        cas_at_risk.sort_by_key(|a| a.id);
        let open = self.anomalies.values().filter(|a| !a.cleared);
        let (mut open_anomalies, mut critical_anomalies) = (0, 0);
        for anomaly in open {
            open_anomalies += 1;
            if anomaly.severity == Severity::Critical {
                critical_anomalies += 1;
            }
        }
        Health {
            now,
            policy,
            expired_active,
            expiring_critical,
            expiring_warning,
            cas_at_risk,
            unreadable_pems: self.unreadable_pems(),
            critical_anomalies,
            open_anomalies,
        }
    }
}
