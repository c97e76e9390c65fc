//! What the backend reads from AWS, converted out of SDK types: one record per certificate,
//! CA, thing, group, policy, connectivity state, Device Defender finding and metric series.
//! Times are seconds since the Unix epoch. Text comes from AWS and devices unchanged: the
//! renderer sanitizes it before it reaches a terminal.

use crate::backend::x509::{ParsedCertificate, PemError};
use crate::model::{CaStatus, CertStatus};

/// The PEM of a certificate, read or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemContents {
    /// Parsed: dates, names and key come from here.
    Parsed(ParsedCertificate),
    /// The registry holds a PEM fleetid cannot read; the record is kept, without dates.
    Unreadable(PemError),
}

impl PemContents {
    /// The parsed certificate, if the PEM could be read.
    #[must_use]
    pub fn parsed(&self) -> Option<&ParsedCertificate> {
        match self {
            Self::Parsed(parsed) => Some(parsed),
            Self::Unreadable(_) => None,
        }
    }
}

/// A device certificate as described by DescribeCertificate, with its attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// The 64-hex-character certificate id.
    pub id: String,
    /// Its ARN (the principal things and policies are attached to).
    pub arn: String,
    /// Current status.
    pub status: CertStatus,
    /// The registered CA it chains to: from DescribeCertificate, or else matched by the
    /// authority key id (or issuer name) against the registered CAs.
    pub ca_certificate_id: Option<String>,
    /// When it was registered.
    pub created: Option<i64>,
    /// When AWS last changed it (status, owner).
    pub last_modified: Option<i64>,
    /// AWS's generation id, which changes with every update.
    pub generation_id: Option<String>,
    /// What the PEM says.
    pub pem: PemContents,
    /// Things this certificate is attached to (ListPrincipalThings).
    pub things: Vec<String>,
    /// Policies attached directly to the certificate (ListAttachedPolicies).
    pub policies: Vec<String>,
}

/// A registered CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// The CA's certificate id.
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// `ACTIVE` or `INACTIVE` (CAs cannot be revoked in AWS IoT; INACTIVE refuses its certs).
    pub status: CaStatus,
    /// Whether JITR auto-registration is enabled.
    pub auto_registration: bool,
    /// When it was registered.
    pub created: Option<i64>,
    /// When AWS last changed it.
    pub last_modified: Option<i64>,
    /// What the PEM says.
    pub pem: PemContents,
    /// The registered CA that issued this one (matched by key id or name), for intermediates.
    pub parent_ca_id: Option<String>,
}

/// A thing from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingRecord {
    /// Thing name.
    pub name: String,
    /// Thing type, if any.
    pub thing_type: Option<String>,
    /// The `firmware` attribute, if the thing carries one.
    pub firmware: Option<String>,
    /// Static and dynamic groups the thing is in.
    pub groups: Vec<String>,
}

/// A thing group with the policies attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// Group name.
    pub name: String,
    /// Its ARN (a policy target).
    pub arn: String,
    /// Policies attached to the group.
    pub policies: Vec<String>,
    /// Number of things listed in it.
    pub thing_count: usize,
}

/// An IoT policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// Policy name.
    pub name: String,
    /// Its ARN.
    pub arn: Option<String>,
}

/// Connectivity of a thing from fleet indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectivityRecord {
    /// Thing name.
    pub thing: String,
    /// Whether it is connected now.
    pub connected: bool,
    /// When that state began (seconds; the index reports milliseconds).
    pub since: Option<i64>,
    /// Why it last disconnected (`AUTH_ERROR`, `DUPLICATE_CLIENTID`, ...).
    pub disconnect_reason: Option<String>,
}
