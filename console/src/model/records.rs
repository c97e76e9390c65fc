//! The records the backend delivers: certificates, CAs, things, policies and thing groups.
//!
//! Plain data, no AWS types: the backend converts SDK outputs into these, the store persists
//! them, the model indexes them. Strings are `Box<str>` to keep records small.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::compact::{GenerationId, Serial};

use super::ids::{CertId, UnixTime};
use super::status::CertStatus;

/// Status of a registered CA certificate (AWS `CACertificateStatus`). In JSON (the journal's
/// plans and reports) it is the spelling below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", from = "String")]
pub enum CaStatus {
    /// Devices signed by it may register and connect.
    Active,
    /// Deactivated in AWS IoT.
    Inactive,
    /// Known to be revoked by its issuer (a CRL or an audit finding said so).
    Revoked,
    /// A status this version does not know.
    Unknown,
}

impl CaStatus {
    /// The spelling used in output (`ACTIVE`, `INACTIVE`, `REVOKED`, `UNKNOWN`).
    #[must_use]
    pub fn as_aws_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Parses the spelling above, case-insensitively; anything else is `Unknown`.
    #[must_use]
    pub fn from_aws_str(text: &str) -> Self {
        [Self::Active, Self::Inactive, Self::Revoked]
            .into_iter()
            .find(|s| s.as_aws_str().eq_ignore_ascii_case(text))
            .unwrap_or(Self::Unknown)
    }
}

impl From<CaStatus> for &'static str {
    fn from(status: CaStatus) -> Self {
        status.as_aws_str()
    }
}

impl From<String> for CaStatus {
    /// [`CaStatus::from_aws_str`]: a spelling this version does not know is `Unknown`.
    fn from(text: String) -> Self {
        Self::from_aws_str(&text)
    }
}

impl fmt::Display for CaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_aws_str())
    }
}

/// The public key of a certificate, as far as fleet health cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Elliptic curve key with this many bits (256 for P-256).
    Ec {
        /// Curve size in bits.
        bits: u16,
    },
    /// RSA key with this modulus size.
    Rsa {
        /// Modulus size in bits.
        bits: u16,
    },
    /// Ed25519 or another algorithm.
    Other,
}

impl KeyKind {
    /// Short label: `EC-256`, `RSA-2048`, `other`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Self::Ec { bits } => format!("EC-{bits}"),
            Self::Rsa { bits } => format!("RSA-{bits}"),
            Self::Other => "other".to_owned(),
        }
    }
}

/// What the certificate's own PEM says (parsed from the PEM; `DescribeCertificate`'s validity
/// fields are not trusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    /// Start of validity.
    pub not_before: UnixTime,
    /// End of validity: the expiry every view and aggregate uses.
    pub not_after: UnixTime,
    /// Subject distinguished name as text (`CN=dev-1, O=Acme`).
    pub subject: Box<str>,
    /// Issuer distinguished name as text; shared by the certificates of one issuer (a
    /// million copies of a CA's name would be a tenth of the model).
    pub issuer: Arc<str>,
    /// Serial number as lowercase hex.
    pub serial: Serial,
    /// The public key.
    pub key: KeyKind,
}

/// One device certificate as the registry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// The certificate id.
    pub id: CertId,
    /// Registry status.
    pub status: CertStatus,
    /// The registered CA that issued it (`caCertificateId`), if any.
    pub ca: Option<CertId>,
    /// When the registry created it.
    pub created: UnixTime,
    /// When the registry last changed it (status, owner...).
    pub last_modified: UnixTime,
    /// AWS `generationId`: changes whenever the registry entry changes.
    pub generation: GenerationId,
    /// The PEM's fields, or why they could not be read.
    pub parsed: Result<CertFields, PemProblem>,
}

/// Why a certificate's PEM could not be used. The record stays in the fleet; its expiry is
/// unknown and it shows up as an anomaly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct PemProblem {
    /// Human-readable reason, e.g. `PEM: missing END marker`.
    pub reason: Box<str>,
}

/// A registered CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// The CA certificate id.
    pub id: CertId,
    /// Registry status.
    pub status: CaStatus,
    /// Whether JITR/JITP auto-registration is enabled.
    pub auto_registration: bool,
    /// The registered CA that issued this one, when the backend matched it (key ids or
    /// names). Without it the CA tree matches the issuer name against CA subjects.
    pub parent: Option<CertId>,
    /// The PEM's fields, or why they could not be read.
    pub parsed: Result<CertFields, PemProblem>,
}

/// One thing (device) in the registry, with its principals and cohort attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingRecord {
    /// The thing name.
    pub name: Box<str>,
    /// Thing groups it belongs to.
    pub groups: Vec<Box<str>>,
    /// Firmware version (thing attribute `firmware` or the agent's status message).
    pub firmware: Option<Box<str>>,
    /// Connected right now, when fleet indexing or presence events say so.
    pub connected: Option<bool>,
}

/// An IoT policy and the principals it is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// The policy name.
    pub name: Box<str>,
    /// The default version id.
    pub default_version: Box<str>,
    /// Certificates it is attached to.
    pub certificates: BTreeSet<CertId>,
    /// Thing groups it is attached to.
    pub groups: BTreeSet<Box<str>>,
    /// Whether the default version allows `iot:*` on `*` (overly permissive).
    pub allows_everything: bool,
}

/// A thing group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The group name.
    pub name: Box<str>,
    /// Its parent group, if any.
    pub parent: Option<Box<str>>,
    /// Dynamic (query-defined) group: cannot carry policies.
    pub dynamic: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_status_is_its_spelling_in_json_and_reads_back() {
        for status in [
            CaStatus::Active,
            CaStatus::Inactive,
            CaStatus::Revoked,
            CaStatus::Unknown,
        ] {
            let json = format!("\"{}\"", status.as_aws_str());
            assert_eq!(serde_json::to_string(&status).unwrap(), json);
            assert_eq!(serde_json::from_str::<CaStatus>(&json).unwrap(), status);
            assert_eq!(CaStatus::from_aws_str(&status.to_string()), status);
        }
        // What the journal held when the read-back had no status, and AWS's other spellings.
        assert_eq!(CaStatus::from_aws_str(""), CaStatus::Unknown);
        assert_eq!(
            serde_json::from_str::<CaStatus>("\"PENDING_TRANSFER\"").unwrap(),
            CaStatus::Unknown
        );
        assert_eq!(CaStatus::from_aws_str("inactive"), CaStatus::Inactive);
    }
}
