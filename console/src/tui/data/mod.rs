//! What the console shows, as plain data: the view-state the backend/model side hands over
//! (through a bounded channel) and the views render. No ratatui here.
//!
//! Text in these records that came from a device or the registry is an [`OutsideText`]: a view
//! can draw it only as its `safe()` [`crate::safe_text::SafeText`].

use crate::model::{CaStatus, CertStatus, Severity, Source, StatusCounts};
use crate::safe_text::OutsideText;

/// Seconds since the Unix epoch.
pub type UnixSeconds = i64;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// One part of the picture and when it was last refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    /// The source.
    pub source: Source,
    /// Last successful refresh; `None` while never loaded.
    pub updated: Option<UnixSeconds>,
    /// Whether the source is reachable now.
    pub available: bool,
}

/// The numbers on the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardData {
    /// Device certificates by status.
    pub status_counts: StatusCounts,
    /// Active certificates already expired.
    pub expired: u64,
    /// Active certificates expiring within 7, 30 and 90 days.
    pub expiring: [u64; 3],
    /// Things in the registry.
    pub things: u64,
    /// Things connected now, when known.
    pub online: Option<u64>,
    /// Registered CAs.
    pub cas: u64,
    /// CAs flagged (inactive or revoked with active device certificates).
    pub cas_flagged: u64,
    /// Open anomalies by severity (index = position in `Severity::ALL`).
    pub anomalies: [u64; 4],
    /// Freshness of every source.
    pub freshness: Vec<Freshness>,
}

/// What a heatmap series is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CohortKind {
    /// The whole fleet.
    All,
    /// By issuing CA.
    Ca,
    /// By thing group.
    Group,
    /// By firmware version.
    Firmware,
}

impl CohortKind {
    /// Label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Ca => "CA",
            Self::Group => "group",
            Self::Firmware => "firmware",
        }
    }
}

/// Expiries per day of one cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortSeries {
    /// What it is grouped by.
    pub kind: CohortKind,
    /// The cohort's name (`all`, a CA name, a group, a firmware version).
    pub name: OutsideText,
    /// Active certificates expiring on day `start_day + i`.
    pub per_day: Vec<u32>,
}

/// The expiry calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeatmapData {
    /// Day number (Unix seconds / 86400) of `per_day[0]`, normally today.
    pub start_day: i64,
    /// The series; the first is the whole fleet.
    pub series: Vec<CohortSeries>,
}

/// One CA in the chain tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaNode {
    /// The CA certificate id (short).
    pub id: OutsideText,
    /// The subject's common name.
    pub name: OutsideText,
    /// Registry status; `None` for a CA not registered in AWS IoT (a root known only from
    /// the chain).
    pub status: Option<CaStatus>,
    /// JITR/JITP auto-registration on.
    pub auto_registration: bool,
    /// The CA's own expiry.
    pub expires: Option<UnixSeconds>,
    /// Device certificates it issued, by status.
    pub devices: StatusCounts,
    /// CAs it issued.
    pub children: Vec<CaNode>,
}

impl CaNode {
    /// AWS IoT Lens 6.1.2: an inactive or revoked CA that still has active device
    /// certificates.
    #[must_use]
    pub fn flagged(&self) -> bool {
        matches!(self.status, Some(CaStatus::Inactive | CaStatus::Revoked))
            && self.devices.get(CertStatus::Active) > 0
    }
}

/// How an anomaly has been triaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Triage {
    /// Not looked at.
    #[default]
    Open,
    /// Seen by someone.
    Acknowledged,
    /// Hidden until this time.
    Suppressed(UnixSeconds),
}

/// One anomaly in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyRow {
    /// Stable id.
    pub id: u64,
    /// How bad.
    pub severity: Severity,
    /// The source that raised it ([`found_by`] says who found it).
    pub source: Source,
    /// The thing concerned.
    pub thing: OutsideText,
    /// What kind (`debug-topic`, `expired-cert`, `flapping`, ...).
    pub kind: OutsideText,
    /// Details (may come from the device).
    pub detail: OutsideText,
    /// When it was seen.
    pub at: UnixSeconds,
    /// Triage state.
    pub triage: Triage,
}

/// A query over the device table: fuzzy text plus the drill-down constraints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceQuery {
    /// Fuzzy text matched against the thing name and certificate id.
    pub text: String,
    /// Only certificates expiring on this day number.
    pub expires_day: Option<i64>,
    /// Only this cohort.
    pub cohort: Option<(CohortKind, Box<str>)>,
}

impl DeviceQuery {
    /// True when it selects everything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.expires_day.is_none() && self.cohort.is_none()
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Its number in the log (pages are asked for below the oldest one shown).
    pub sequence: i64,
    /// When.
    pub at: UnixSeconds,
    /// Who (operating-system user, and the AWS account when known).
    pub actor: OutsideText,
    /// What (`revoke`, `quarantine`, `acknowledge`, `suppress`, ...).
    pub action: OutsideText,
    /// On what.
    pub target: OutsideText,
    /// The decision and what came of it (`confirmed: not applied ...`, `cancelled`).
    pub result: OutsideText,
    /// The plan that was shown (blast radius, suppression end).
    pub plan: OutsideText,
    /// The entry's chain hash (short).
    pub hash: OutsideText,
}

/// The live state an agent reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatus {
    /// Agent state (`active`, `rotating`, ...).
    pub state: OutsideText,
    /// Fingerprint of the certificate in use.
    pub active_cert: OutsideText,
    /// Fingerprint of a pending certificate.
    pub pending_cert: Option<OutsideText>,
    /// Firmware version.
    pub firmware: OutsideText,
    /// When the message was received.
    pub seen: UnixSeconds,
    /// The agent's last error.
    pub last_error: Option<OutsideText>,
}

/// Everything the detail view shows for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDetail {
    /// Thing name.
    pub thing: OutsideText,
    /// Root first, device certificate last: (name, status, expiry).
    pub chain: Vec<(OutsideText, OutsideText, Option<UnixSeconds>)>,
    /// Policies attached to the certificate or its groups.
    pub policies: Vec<OutsideText>,
    /// Thing groups.
    pub groups: Vec<OutsideText>,
    /// Last agent status, when any arrived.
    pub live: Option<LiveStatus>,
    /// Past events, newest first.
    pub history: Vec<(UnixSeconds, OutsideText)>,
}

/// Looks up the detail of one device (the model implements it once it exists).
pub trait DetailSource: Send + Sync + std::fmt::Debug {
    /// The detail of `thing`, or `None` when unknown.
    fn detail(&self, thing: &str) -> Option<DeviceDetail>;
}

mod campaigns;
mod exchange;
mod look;
mod operations;
mod table;

pub use campaigns::{
    CampaignRow, FailureReason, RotationAction, RotationStep, StagePhase, StageRow,
};

pub use look::{Look, found_by};
pub use operations::{CallLine, OperationRow};
pub use table::{DeviceRow, DeviceTable, RowCells};

pub use exchange::{
    BlastRadius, Confirmable, FleetSnapshot, LiveCounts, MutationRequest, OpKind, OpProgress,
    Refusal, ResumeRequest, TriageChange, TuiRequest, TuiUpdate,
};
