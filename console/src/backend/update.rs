//! What the backend sends to the model: snapshot pages, progress, the state of each source, and
//! live events — all through one bounded channel of [`BackendUpdate`].

use std::collections::{HashMap, HashSet};

use crate::backend::findings::{AuditFindingRecord, MetricSeries, ViolationRecord};
use crate::backend::live::LiveEvent;
use crate::backend::live::pool_identity::PoolIdentity;
use crate::backend::records::{
    CaRecord, CertificateRecord, ConnectivityRecord, GroupRecord, PolicyRecord, ThingRecord,
};
use crate::model::CertStatus;

/// A unit of loading: the AWS calls the backend reads, retries, gives up on
/// ([`SourceOutage`]) and reports ([`BackendUpdate::SourceFinished`]) together.
///
/// Not the model's [`crate::model::Source`], which is a part of the picture the console dates
/// and attributes anomalies to: this is finer (thing groups and fleet indexing load and fail on
/// their own, but are part of the model's `things`), and the ingest feed maps one onto the
/// other. The names differ too: the store's outage table keeps these, its freshness the
/// model's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// ListCACertificates + DescribeCACertificate.
    CaCertificates,
    /// ListCertificates; DescribeCertificate and ListPrincipalThings for new certificates;
    /// policies from ListPolicies + ListTargetsForPolicy.
    Certificates,
    /// ListThings.
    Things,
    /// ListThingGroups + ListThingsInThingGroup + group policies.
    ThingGroups,
    /// ListPolicies.
    Policies,
    /// Fleet indexing connectivity (SearchIndex).
    FleetIndexing,
    /// Device Defender Detect: active violations and violation events.
    DefenderDetect,
    /// Device Defender Audit: findings of the certificate checks.
    DefenderAudit,
    /// CloudWatch `AWS/IoT` metrics.
    Metrics,
    /// Live status and presence over MQTT.
    Live,
}

impl Source {
    /// Every source, in load order.
    pub const ALL: [Self; 10] = [
        Self::CaCertificates,
        Self::Certificates,
        Self::Things,
        Self::ThingGroups,
        Self::Policies,
        Self::FleetIndexing,
        Self::DefenderDetect,
        Self::DefenderAudit,
        Self::Metrics,
        Self::Live,
    ];

    /// The source named `name` ([`Source::as_str`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// A short name for tables and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaCertificates => "ca-certificates",
            Self::Certificates => "certificates",
            Self::Things => "things",
            Self::ThingGroups => "thing-groups",
            Self::Policies => "policies",
            Self::FleetIndexing => "fleet-indexing",
            Self::DefenderDetect => "defender-detect",
            Self::DefenderAudit => "defender-audit",
            Self::Metrics => "cloudwatch-metrics",
            Self::Live => "live-mqtt",
        }
    }
}

/// How loading one source ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Everything was read.
    Loaded {
        /// How many items it produced.
        items: usize,
    },
    /// Some items could not be read; the others were.
    Partial {
        /// Items read.
        items: usize,
        /// Items that failed.
        failed: usize,
        /// Why (the first failure).
        reason: String,
    },
    /// Nothing could be read: not enabled, no permission, not answered by this endpoint.
    Unavailable {
        /// Why, with a hint how to fix it where there is one.
        reason: String,
    },
}

/// The last known state of a certificate, supplied by the store, so that a refresh describes
/// only certificates that are new or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCertificate {
    /// The status the store holds. ListCertificates reports the status, so a change is seen
    /// without describing.
    pub status: CertStatus,
    /// AWS's last-modified time the store holds, if any.
    pub last_modified: Option<i64>,
}

/// A source the endpoint gave a definite no (not answered, not enabled, not permitted), after
/// its retry budget: it is not asked again until `until`, and shows as unavailable meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOutage {
    /// Which source.
    pub source: Source,
    /// Why, as the failed call said.
    pub reason: String,
    /// When it failed, seconds since the Unix epoch.
    pub since: i64,
    /// When it is asked again, seconds since the Unix epoch.
    pub until: i64,
}

/// What a snapshot load should do.
#[derive(Debug, Clone, Default)]
pub struct SnapshotRequest {
    /// Certificates already known (id -> state). Empty for a full load.
    pub known_certificates: HashMap<String, KnownCertificate>,
    /// CA certificate ids known from earlier snapshots. They are described even when
    /// ListCACertificates is refused or not implemented (moto lacks it), so the CA tree
    /// survives a missing `iot:ListCACertificates` permission.
    pub known_ca_ids: Vec<String>,
    /// Certificate ids each policy is known to be attached to (policy name -> ids), so that
    /// only certificates whose policies changed are sent.
    pub known_policy_targets: HashMap<String, HashSet<String>>,
    /// Sources remembered as unavailable: those still within their outage are not asked.
    pub outages: Vec<SourceOutage>,
    /// The sources to load; empty: all of them (except [`Source::Live`], which
    /// `follow_live` handles). A subcommand that needs only the registry skips the rest.
    pub sources: Vec<Source>,
}

impl SnapshotRequest {
    /// Whether `source` is to be loaded.
    #[must_use]
    pub fn wants(&self, source: Source) -> bool {
        self.sources.is_empty() || self.sources.contains(&source)
    }
}

/// Counts of a load in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Certificates listed so far (the total, once listing has finished).
    pub listed: usize,
    /// Whether listing has finished, so `listed` is the total.
    pub listing_done: bool,
    /// Certificates that need describing (new or changed).
    pub to_describe: usize,
    /// Of those, described so far.
    pub described: usize,
    /// Certificates unchanged since the known state (not described again).
    pub unchanged: usize,
}

/// One message from the backend to the model.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendUpdate {
    /// Progress of the certificate load.
    Progress(Progress),
    /// Registered CA certificates (all of them, in one page).
    CaCertificates(Vec<CaRecord>),
    /// A page of new device certificates (described: PEM, dates, attachments).
    Certificates(Vec<CertificateRecord>),
    /// Known certificates whose listed status changed (id, new status): the PEM never
    /// changes, so they are not described again.
    StatusChanged(Vec<(String, CertStatus)>),
    /// The things each of these certificates is attached to (ListPrincipalThings), replacing
    /// what was known.
    CertificateThings(Vec<(String, Vec<String>)>),
    /// The policies attached to each of these certificates, replacing what was known.
    CertificatePolicies(Vec<(String, Vec<String>)>),
    /// Known certificates that are no longer listed.
    CertificatesRemoved(Vec<String>),
    /// A page of things.
    Things(Vec<ThingRecord>),
    /// Thing groups.
    ThingGroups(Vec<GroupRecord>),
    /// Policies.
    Policies(Vec<PolicyRecord>),
    /// A page of connectivity states from fleet indexing.
    Connectivity(Vec<ConnectivityRecord>),
    /// Device Defender Detect: active violations and recent events.
    Violations(Vec<ViolationRecord>),
    /// Device Defender Audit findings for the certificate checks.
    AuditFindings {
        /// The findings.
        findings: Vec<AuditFindingRecord>,
        /// Who the console's own live-status connections are, when they present an operator
        /// certificate: a shared-certificate finding about them is told from one about
        /// another client.
        pool: Option<PoolIdentity>,
    },
    /// CloudWatch metric series.
    Metrics(Vec<MetricSeries>),
    /// A source finished loading (or failed to).
    SourceFinished {
        /// Which source.
        source: Source,
        /// How it ended.
        state: SourceState,
        /// When, seconds since the Unix epoch.
        at: i64,
    },
    /// A live event from MQTT.
    Live(LiveEvent),
}

/// How a whole snapshot load ended: one state per source that was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotSummary {
    /// Per source, how it ended.
    pub sources: Vec<(Source, SourceState)>,
    /// Final certificate progress counts.
    pub progress: Progress,
    /// The outages in effect after this load: those remembered from the request that have not
    /// expired, and the new ones. The caller keeps them for the next load.
    pub outages: Vec<SourceOutage>,
}

impl SnapshotSummary {
    /// The state of one source, if it was loaded.
    #[must_use]
    pub fn state(&self, source: Source) -> Option<&SourceState> {
        self.sources
            .iter()
            .find_map(|(s, state)| (*s == source).then_some(state))
    }
}
