//! The status of a device certificate, once for the whole console: the backend reads it from
//! AWS, the model counts it, the store persists it, the views and the ops code act on it.
//!
//! AWS's spelling is written here and read here, nowhere else. What a mutation may set a
//! certificate to is the narrower [`NewCertificateStatus`] (what `UpdateCertificate` accepts),
//! a subset that converts into [`CertStatus`] rather than a parallel copy of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Status of a device certificate (AWS `CertificateStatus`).
///
/// The discriminants are the byte the store writes for each status: they never change, and a
/// new status gets the next free one. In JSON (the journal's plans and reports) it is AWS's
/// spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", from = "String")]
#[repr(u8)]
pub enum CertStatus {
    /// Usable for connecting.
    Active = 0,
    /// Deactivated; can be activated again.
    Inactive = 1,
    /// Revoked; final.
    Revoked = 2,
    /// Being transferred to another account.
    PendingTransfer = 3,
    /// Registered inactive (deprecated by AWS).
    RegisterInactive = 4,
    /// Registered by JITR/JITP, awaiting activation.
    PendingActivation = 5,
    /// A status this version does not know. AWS's spelling of it is not kept: nothing acts on
    /// it, and the store keeps one byte per status.
    Unknown = 6,
}

impl CertStatus {
    /// Every status, in the order of their discriminants.
    pub const ALL: [Self; 7] = [
        Self::Active,
        Self::Inactive,
        Self::Revoked,
        Self::PendingTransfer,
        Self::RegisterInactive,
        Self::PendingActivation,
        Self::Unknown,
    ];

    /// The AWS spelling (`ACTIVE`, `PENDING_ACTIVATION`, ...); `UNKNOWN` for unknown ones.
    #[must_use]
    pub fn as_aws_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::PendingTransfer => "PENDING_TRANSFER",
            Self::RegisterInactive => "REGISTER_INACTIVE",
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Parses the AWS spelling, case-insensitively; anything else is [`CertStatus::Unknown`].
    #[must_use]
    pub fn from_aws_str(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_aws_str().eq_ignore_ascii_case(text))
            .unwrap_or(Self::Unknown)
    }

    /// Index into per-status arrays; also the byte the store writes.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Waiting to become usable or to leave: pending activation or transfer, or registered
    /// inactive.
    #[must_use]
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Self::PendingTransfer | Self::RegisterInactive | Self::PendingActivation
        )
    }
}

impl From<CertStatus> for &'static str {
    fn from(status: CertStatus) -> Self {
        status.as_aws_str()
    }
}

impl From<String> for CertStatus {
    /// [`CertStatus::from_aws_str`]: a spelling this version does not know is `Unknown`.
    fn from(text: String) -> Self {
        Self::from_aws_str(&text)
    }
}

impl fmt::Display for CertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_aws_str())
    }
}

/// A status a mutation can set a certificate to: the three `UpdateCertificate` accepts.
///
/// Persisted in the journal's plans as AWS spells it (`"ACTIVE"`, `"INACTIVE"`, `"REVOKED"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum NewCertificateStatus {
    /// Accept connections again.
    Active,
    /// Refuse connections; reversible.
    Inactive,
    /// Refuse connections for good: AWS never lets a revoked certificate change again.
    Revoked,
}

impl NewCertificateStatus {
    /// AWS's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        CertStatus::from(self).as_aws_str()
    }
}

impl From<NewCertificateStatus> for CertStatus {
    fn from(status: NewCertificateStatus) -> Self {
        match status {
            NewCertificateStatus::Active => Self::Active,
            NewCertificateStatus::Inactive => Self::Inactive,
            NewCertificateStatus::Revoked => Self::Revoked,
        }
    }
}

impl From<NewCertificateStatus> for &'static str {
    fn from(status: NewCertificateStatus) -> Self {
        status.as_str()
    }
}

/// A status no mutation can set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a status a certificate can be set to (ACTIVE, INACTIVE or REVOKED)")]
pub struct NotSettable(pub String);

impl TryFrom<CertStatus> for NewCertificateStatus {
    type Error = NotSettable;

    fn try_from(status: CertStatus) -> Result<Self, NotSettable> {
        match status {
            CertStatus::Active => Ok(Self::Active),
            CertStatus::Inactive => Ok(Self::Inactive),
            CertStatus::Revoked => Ok(Self::Revoked),
            other => Err(NotSettable(other.as_aws_str().to_owned())),
        }
    }
}

impl TryFrom<String> for NewCertificateStatus {
    type Error = NotSettable;

    /// Reads AWS's spelling exactly, as the journal holds it; anything else is refused.
    fn try_from(text: String) -> Result<Self, NotSettable> {
        let status = CertStatus::from_aws_str(&text);
        if status.as_aws_str() != text {
            return Err(NotSettable(text));
        }
        Self::try_from(status).map_err(|_| NotSettable(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aws_spelling_reads_back_as_its_status() {
        for status in CertStatus::ALL {
            assert_eq!(CertStatus::from_aws_str(status.as_aws_str()), status);
            assert_eq!(status.to_string(), status.as_aws_str());
        }
        assert_eq!(
            CertStatus::from_aws_str("pending_activation"),
            CertStatus::PendingActivation
        );
        assert_eq!(CertStatus::from_aws_str("Revoked"), CertStatus::Revoked);
    }

    #[test]
    fn an_unheard_of_status_is_unknown() {
        for text in ["", "ACTIVATED", "PENDING", "ACTIVE ", "REVOKED\n"] {
            assert_eq!(
                CertStatus::from_aws_str(text),
                CertStatus::Unknown,
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_index_is_the_discriminant_and_the_position_in_all() {
        for (i, status) in CertStatus::ALL.into_iter().enumerate() {
            assert_eq!(status.index(), i);
        }
        // The bytes a cache holds: never renumber.
        let bytes: Vec<usize> = [
            CertStatus::Active,
            CertStatus::Inactive,
            CertStatus::Revoked,
            CertStatus::PendingTransfer,
            CertStatus::RegisterInactive,
            CertStatus::PendingActivation,
            CertStatus::Unknown,
        ]
        .into_iter()
        .map(CertStatus::index)
        .collect();
        assert_eq!(bytes, [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_status_is_aws_spelling_in_json() {
        for status in CertStatus::ALL {
            let json = format!("\"{}\"", status.as_aws_str());
            assert_eq!(serde_json::to_string(&status).unwrap(), json);
            assert_eq!(serde_json::from_str::<CertStatus>(&json).unwrap(), status);
        }
        assert_eq!(
            serde_json::from_str::<CertStatus>("\"DELETED_BY_A_LATER_API\"").unwrap(),
            CertStatus::Unknown
        );
    }

    #[test]
    fn pending_covers_the_three_waiting_statuses() {
        let pending: Vec<CertStatus> = CertStatus::ALL
            .into_iter()
            .filter(|s| s.is_pending())
            .collect();
        assert_eq!(
            pending,
            [
                CertStatus::PendingTransfer,
                CertStatus::RegisterInactive,
                CertStatus::PendingActivation
            ]
        );
    }

    #[test]
    fn a_settable_status_is_a_subset_of_the_status() {
        for new in [
            NewCertificateStatus::Active,
            NewCertificateStatus::Inactive,
            NewCertificateStatus::Revoked,
        ] {
            let status = CertStatus::from(new);
            assert_eq!(new.as_str(), status.as_aws_str());
            assert_eq!(NewCertificateStatus::try_from(status), Ok(new));
        }
        for status in [
            CertStatus::PendingTransfer,
            CertStatus::RegisterInactive,
            CertStatus::PendingActivation,
            CertStatus::Unknown,
        ] {
            assert!(NewCertificateStatus::try_from(status).is_err(), "{status}");
        }
    }

    #[test]
    fn a_settable_status_keeps_its_journal_encoding() {
        for (new, json) in [
            (NewCertificateStatus::Active, "\"ACTIVE\""),
            (NewCertificateStatus::Inactive, "\"INACTIVE\""),
            (NewCertificateStatus::Revoked, "\"REVOKED\""),
        ] {
            assert_eq!(serde_json::to_string(&new).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<NewCertificateStatus>(json).unwrap(),
                new
            );
            let value = serde_json::Value::String(new.as_str().to_owned());
            assert_eq!(
                serde_json::from_value::<NewCertificateStatus>(value).unwrap(),
                new
            );
        }
        for json in ["\"active\"", "\"PENDING_ACTIVATION\"", "\"UNKNOWN\"", "3"] {
            assert!(
                serde_json::from_str::<NewCertificateStatus>(json).is_err(),
                "{json}"
            );
        }
    }
}
