//! How the screen shows the model's certificate and CA status, anomaly severity and anomaly
//! source:
//! a short label that reads without colour, and the theme scope it is drawn with.
//!
//! The types are the model's own (one type per concept, shared with the backend, the store and
//! the ops code); only their look lives here, so the model learns nothing of the screen.

use crate::model::{CaStatus, CertStatus, Severity, Source};

/// A label and a theme scope for a value the screen colours by what it means.
pub trait Look: Copy {
    /// Upper-case label, readable without colour.
    fn label(self) -> &'static str;
    /// The theme scope it is drawn with.
    fn scope(self) -> &'static str;
}

impl Look for CertStatus {
    /// AWS's spelling, except that the three waiting statuses (pending activation, pending
    /// transfer, registered inactive) read `PENDING` alike: the table has one column's width.
    fn label(self) -> &'static str {
        if self.is_pending() {
            "PENDING"
        } else {
            self.as_aws_str()
        }
    }

    fn scope(self) -> &'static str {
        match self {
            Self::Active => "status.active",
            Self::Inactive => "status.inactive",
            Self::Revoked => "status.revoked",
            Self::PendingTransfer
            | Self::RegisterInactive
            | Self::PendingActivation
            | Self::Unknown => "status.pending",
        }
    }
}

/// A CA's registry status; `None` is a CA not registered (known only from the chain).
impl Look for Option<CaStatus> {
    /// AWS's spelling, `-` when not registered.
    fn label(self) -> &'static str {
        self.map_or("-", CaStatus::as_aws_str)
    }

    fn scope(self) -> &'static str {
        match self {
            Some(CaStatus::Active) => "status.active",
            Some(CaStatus::Inactive) => "status.inactive",
            Some(CaStatus::Revoked) => "status.revoked",
            Some(CaStatus::Unknown) | None => "ui.text.dim",
        }
    }
}

impl Look for Severity {
    /// `CRIT`, `HIGH`, `MED`, `LOW`.
    fn label(self) -> &'static str {
        match self {
            Self::Critical => "CRIT",
            Self::High => "HIGH",
            Self::Medium => "MED",
            Self::Low => "LOW",
        }
    }

    fn scope(self) -> &'static str {
        match self {
            Self::Critical => "severity.critical",
            Self::High => "severity.high",
            Self::Medium => "severity.medium",
            Self::Low => "severity.low",
        }
    }
}

/// Who found an anomaly raised by `source`: Device Defender's two services and CloudWatch by
/// name, every other source's anomalies being fleetid's own signals (`detect`, `audit`,
/// `cloudwatch`, `fleetid`).
#[must_use]
pub fn found_by(source: Source) -> &'static str {
    match source {
        Source::DefenderDetect => "detect",
        Source::DefenderAudit => "audit",
        Source::CloudWatch => "cloudwatch",
        Source::Certificates
        | Source::CaCertificates
        | Source::Things
        | Source::Policies
        | Source::Live => "fleetid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_label_and_a_status_scope() {
        let labels: Vec<&str> = CertStatus::ALL.into_iter().map(Look::label).collect();
        assert_eq!(
            labels,
            [
                "ACTIVE", "INACTIVE", "REVOKED", "PENDING", "PENDING", "PENDING", "UNKNOWN"
            ]
        );
        assert!(
            CertStatus::ALL
                .into_iter()
                .all(|s| s.scope().starts_with("status."))
        );
    }

    #[test]
    fn an_unregistered_ca_reads_as_a_dash_and_is_dim() {
        assert_eq!(None::<CaStatus>.label(), "-");
        assert_eq!(None::<CaStatus>.scope(), "ui.text.dim");
        assert_eq!(Some(CaStatus::Inactive).label(), "INACTIVE");
        assert_eq!(Some(CaStatus::Revoked).scope(), "status.revoked");
        assert_eq!(Some(CaStatus::Unknown).scope(), "ui.text.dim");
    }

    #[test]
    fn severities_read_most_severe_first() {
        let labels: Vec<&str> = Severity::ALL.into_iter().map(Look::label).collect();
        assert_eq!(labels, ["CRIT", "HIGH", "MED", "LOW"]);
        assert!(Severity::ALL.windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn fleetid_finds_what_no_aws_service_reported() {
        let found: Vec<&str> = Source::ALL.into_iter().map(found_by).collect();
        assert_eq!(
            found,
            [
                "fleetid",
                "fleetid",
                "fleetid",
                "fleetid",
                "detect",
                "audit",
                "cloudwatch",
                "fleetid"
            ]
        );
    }
}
