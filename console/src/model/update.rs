//! The update API: everything the backend tells the model arrives as a [`FleetUpdate`].
//!
//! Record updates are upserts keyed by id or name; `*Removed` variants delete. A source reports
//! its progress and availability with [`FleetUpdate::SourceStatus`]; the model keeps the last
//! success of each source so every number can carry its age.

use super::ids::{CertId, UnixTime};
use super::records::{CaRecord, CertificateRecord, GroupRecord, PolicyRecord, ThingRecord};
use super::status::CertStatus;

/// One change to the fleet, as sent by a backend through a bounded channel.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetUpdate {
    /// New or changed device certificates (upsert by id).
    Certificates(Vec<CertificateRecord>),
    /// Known certificates whose status changed (as `ListCertificates` shows) and nothing else.
    StatusChanged(Vec<(CertId, CertStatus)>),
    /// The complete set of things each certificate is attached to (`ListPrincipalThings`);
    /// replaces the certificate's previous attachments.
    Attachments(Vec<(CertId, Vec<Box<str>>)>),
    /// Connectivity of things (fleet indexing): thing, connected, since when.
    Connectivity(Vec<(Box<str>, bool, Option<UnixTime>)>),
    /// Device certificates that no longer exist in the registry.
    CertificatesRemoved(Vec<CertId>),
    /// New or changed CA certificates (upsert by id).
    Cas(Vec<CaRecord>),
    /// New or changed things (upsert by name; the group list is replaced).
    Things(Vec<ThingRecord>),
    /// Things that no longer exist.
    ThingsRemoved(Vec<Box<str>>),
    /// New or changed policies (upsert by name; the attachments they carry are added to those
    /// known, which only [`FleetUpdate::CertificatePolicies`] and
    /// [`FleetUpdate::GroupPolicies`] replace).
    Policies(Vec<PolicyRecord>),
    /// Every policy attached to each of these certificates (ListAttachedPolicies), replacing
    /// what was known of them.
    CertificatePolicies(Vec<(CertId, Vec<Box<str>>)>),
    /// Every policy attached to each of these thing groups, replacing what was known of them.
    GroupPolicies(Vec<(Box<str>, Vec<Box<str>>)>),
    /// New or changed thing groups (upsert by name).
    Groups(Vec<GroupRecord>),
    /// Findings and violations from Device Defender, or signals the backend derived itself.
    Anomalies(Vec<AnomalyRecord>),
    /// A source started loading, made progress, finished, or is unavailable.
    SourceStatus {
        /// Which source.
        source: Source,
        /// Its state now.
        state: SourceState,
        /// When this was observed.
        at: UnixTime,
    },
    /// What an agent reported on `fleetid/v1/<thing>/status` (the fields the model keeps).
    LiveStatus(LiveStatusRecord),
    /// A lifecycle event from `$aws/events/presence/...`.
    Presence(PresenceEvent),
}

/// A part of the fleet picture: what the console dates (each number carries its source's age)
/// and what an anomaly was raised by.
///
/// Coarser than the backend's [`crate::backend::Source`], a unit of loading (thing groups and
/// fleet indexing load on their own, and both count here as `things`); the ingest feed maps
/// one onto the other. The screen names who found an anomaly from it
/// (`crate::tui::data::found_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// `ListCertificates` + `DescribeCertificate`.
    Certificates,
    /// `ListCACertificates` + `DescribeCACertificate`.
    CaCertificates,
    /// Things, principals and thing groups (registry or fleet indexing).
    Things,
    /// Policies and their targets.
    Policies,
    /// Device Defender Detect (active violations, violation events).
    DefenderDetect,
    /// Device Defender Audit (findings).
    DefenderAudit,
    /// CloudWatch `AWS/IoT` metrics.
    CloudWatch,
    /// Live status and presence over MQTT.
    Live,
}

impl Source {
    /// Every source, in display order.
    pub const ALL: [Self; 8] = [
        Self::Certificates,
        Self::CaCertificates,
        Self::Things,
        Self::Policies,
        Self::DefenderDetect,
        Self::DefenderAudit,
        Self::CloudWatch,
        Self::Live,
    ];

    /// Stable lower-case name used in output and in the store (`certificates`, `cloudwatch`...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Certificates => "certificates",
            Self::CaCertificates => "ca-certificates",
            Self::Things => "things",
            Self::Policies => "policies",
            Self::DefenderDetect => "defender-detect",
            Self::DefenderAudit => "defender-audit",
            Self::CloudWatch => "cloudwatch",
            Self::Live => "live",
        }
    }

    /// Parses [`Source::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What a source is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Loading: `done` items so far, out of `total` when known.
    Loading {
        /// Items loaded so far.
        done: u64,
        /// Items expected, when the source says.
        total: Option<u64>,
    },
    /// A complete, current picture was delivered at the update's `at`.
    Fresh,
    /// Not available (not enabled, no permission, unreachable); the rest keeps working.
    Unavailable {
        /// Why, in words an operator can act on.
        reason: Box<str>,
    },
}

/// The part of an agent's status message the model keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatusRecord {
    /// The thing the agent is provisioned as.
    pub thing: Box<str>,
    /// Firmware version it runs.
    pub firmware: Box<str>,
    /// The agent's message counter.
    pub sequence: u64,
    /// The agent's identity state (`active`, `rotating`, ...), as it spells it.
    pub state: Option<Box<str>>,
    /// Its last error, if it reports one.
    pub last_error: Option<Box<str>>,
    /// When the message was received.
    pub at: UnixTime,
}

/// A `$aws/events/presence/{connected,disconnected,connect_failed}/<clientId>` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceEvent {
    /// The MQTT client id.
    pub client_id: Box<str>,
    /// The thing name, when the client is attached exclusively to one.
    pub thing: Option<Box<str>>,
    /// The certificate it presented (`principalIdentifier`), when it is one.
    pub certificate: Option<CertId>,
    /// Connected, disconnected or failed.
    pub kind: PresenceKind,
    /// Event time.
    pub at: UnixTime,
}

/// The kind of a presence event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceKind {
    /// Connected.
    Connected,
    /// Disconnected, with AWS's `disconnectReason`.
    Disconnected {
        /// e.g. `CONNECTION_LOST`, `DUPLICATE_CLIENTID`.
        reason: Box<str>,
    },
    /// Connection refused, with `connectFailureReason`.
    ConnectFailed {
        /// e.g. `AUTHORIZATION_FAILED`.
        reason: Box<str>,
    },
}

/// Severity of an anomaly (Device Defender's scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Informational or low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order they are listed and counted in; `Ord`
    /// says more severe is greater).
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    /// `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }

    /// Parses the spelling above (case-insensitive); unknown ones are `Low`.
    #[must_use]
    pub fn from_str_lossy(text: &str) -> Self {
        [Self::Critical, Self::High, Self::Medium]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
            .unwrap_or(Self::Low)
    }
}

/// Something about the fleet that needs a human's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyRecord {
    /// Stable id (violation id, finding id, or `derived:<kind>:<subject>`); upsert key.
    pub id: Box<str>,
    /// Which source raised it.
    pub source: Source,
    /// What kind (`DEVICE_CERTIFICATE_EXPIRING_CHECK`, a behaviour name, ...).
    pub kind: Box<str>,
    /// How bad.
    pub severity: Severity,
    /// The thing concerned, if any.
    pub thing: Option<Box<str>>,
    /// The certificate concerned, if any.
    pub certificate: Option<CertId>,
    /// One line for a human.
    pub summary: Box<str>,
    /// When it was raised or last seen.
    pub at: UnixTime,
    /// Cleared or resolved: kept for history, not counted as open.
    pub cleared: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_severity_reads_its_spelling_back_and_anything_else_as_low() {
        for severity in Severity::ALL {
            assert_eq!(Severity::from_str_lossy(severity.as_str()), severity);
        }
        assert_eq!(Severity::from_str_lossy("critical"), Severity::Critical);
        for text in ["", "INFO", "SEVERE", "HIGH "] {
            assert_eq!(Severity::from_str_lossy(text), Severity::Low, "{text:?}");
        }
    }

    #[test]
    fn a_severity_keeps_the_spelling_the_store_holds() {
        let spelled: Vec<&str> = Severity::ALL.into_iter().map(Severity::as_str).collect();
        assert_eq!(spelled, ["CRITICAL", "HIGH", "MEDIUM", "LOW"]);
    }

    #[test]
    fn a_source_keeps_the_name_the_store_holds() {
        let names: Vec<&str> = Source::ALL.into_iter().map(Source::name).collect();
        assert_eq!(
            names,
            [
                "certificates",
                "ca-certificates",
                "things",
                "policies",
                "defender-detect",
                "defender-audit",
                "cloudwatch",
                "live"
            ]
        );
        for source in Source::ALL {
            assert_eq!(Source::from_name(source.name()), Some(source));
        }
    }
}
