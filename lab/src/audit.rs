//! Audit findings computed from the registry on demand (certificate and CA expiry), merged
//! with the detector's own findings.

use time::Duration;

use crate::detector::{Detector, Finding};
use crate::registry::{CertStatus, Registry, now};

/// AWS flags device and CA certificates that expire within 30 days (or have expired).
const EXPIRING_WITHIN: Duration = Duration::days(30);

/// Every current finding.
#[must_use]
pub fn findings(registry: &Registry, detector: &Detector) -> Vec<Finding> {
    let at = now();
    let mut out = Vec::new();
    let (certs, _) = registry
        .list_certificates(None, None, Some(usize::MAX / 2), true)
        .unwrap_or_default();
    for cert in certs {
        if !matches!(
            cert.status,
            CertStatus::Active | CertStatus::PendingTransfer
        ) {
            continue;
        }
        if let Some(finding) = expiring(
            "DEVICE_CERTIFICATE_EXPIRING_CHECK",
            "DEVICE_CERTIFICATE",
            cert.id(),
            cert.facts.not_after,
            at,
        ) {
            out.push(finding);
        }
    }
    for ca in registry.cas() {
        if !ca.active {
            continue;
        }
        if let Some(finding) = expiring(
            "CA_CERTIFICATE_EXPIRING_CHECK",
            "CA_CERTIFICATE",
            ca.id(),
            ca.facts.not_after,
            at,
        ) {
            out.push(finding);
        }
    }
    out.extend(detector.findings());
    out
}

fn expiring(
    check: &str,
    resource_type: &'static str,
    id: &str,
    not_after: time::OffsetDateTime,
    at: time::OffsetDateTime,
) -> Option<Finding> {
    if not_after > at + EXPIRING_WITHIN {
        return None;
    }
    let (code, reason) = if not_after <= at {
        (
            "CERTIFICATE_PAST_EXPIRATION",
            format!("certificate expired on {not_after}"),
        )
    } else {
        (
            "CERTIFICATE_APPROACHING_EXPIRATION",
            format!("certificate expires on {not_after}"),
        )
    };
    let mut finding = Finding::now(check, "MEDIUM", resource_type, id, code, reason);
    // Stable per certificate and day, so repeated audits name the same finding.
    finding.id = format!("{}-{}", &id[..id.len().min(16)], at.date());
    Some(finding)
}
