//! What crosses between the model side and the UI: snapshots, live updates, requests, and
//! the mutations the user confirmed.

use std::sync::Arc;

use crate::human::{count, percent};
use crate::safe_text::{OutsideText, SafeText};

pub use crate::ops::plan::OpKind;

use super::{
    AnomalyRow, AuditRow, CaNode, CampaignRow, DashboardData, DetailSource, DeviceDetail,
    DeviceTable, HeatmapData, OperationRow, RotationStep, Triage, UnixSeconds,
};

/// A complete picture for the screen. Cheap to move: the big parts are behind `Arc`.
#[derive(Debug, Clone, Default)]
pub struct FleetSnapshot {
    /// When it was taken.
    pub taken_at: UnixSeconds,
    /// Dashboard numbers.
    pub dashboard: DashboardData,
    /// Expiry calendar.
    pub heatmap: HeatmapData,
    /// Root CAs with their subtrees.
    pub cas: Vec<CaNode>,
    /// The anomaly feed, newest first.
    pub anomalies: Vec<AnomalyRow>,
    /// All devices.
    pub devices: Arc<DeviceTable>,
    /// The device table is still being built ([`TuiUpdate::Devices`] brings it).
    pub devices_loading: bool,
    /// The newest page of the audit log, newest first. Snapshots from the model carry none:
    /// the log arrives as [`TuiUpdate::Audit`] and [`TuiUpdate::AuditPage`], and an empty
    /// `audit` keeps the rows already shown.
    pub audit: Arc<[AuditRow]>,
    /// Rotation campaigns, oldest first. Snapshots from the model carry none: they arrive as
    /// [`TuiUpdate::Campaigns`], and a snapshot keeps the campaigns already shown.
    pub campaigns: Arc<[CampaignRow]>,
    /// The newest operations of the journal, newest first; like the campaigns they arrive as
    /// [`TuiUpdate::Operations`] and a snapshot keeps those already shown.
    pub operations: Arc<[OperationRow]>,
    /// Live status messages the console received and what came of them.
    pub live: LiveCounts,
    /// Detail lookups, when the model provides them.
    pub details: Option<Arc<dyn DetailSource>>,
}

/// Live status messages since the console started: every one received is counted, and each
/// is either applied to the model or counted with why not — none is dropped silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveCounts {
    /// Status messages received.
    pub received: u64,
    /// Applied to a thing the model knows.
    pub applied: u64,
    /// About a thing the model does not know (yet): kept for when it arrives.
    pub unknown_thing: u64,
    /// Not readable as a status message.
    pub unreadable: u64,
}

/// What the backend/model side sends the TUI, through a bounded channel.
#[derive(Debug, Clone)]
pub enum TuiUpdate {
    /// A new picture (replaces the previous one; a loading device table keeps the one shown).
    Snapshot(Box<FleetSnapshot>),
    /// A new device table.
    Devices(Arc<DeviceTable>),
    /// A new anomaly, as it happens.
    Anomaly(AnomalyRow),
    /// A new audit entry.
    Audit(AuditRow),
    /// Older audit entries, answering [`TuiRequest::AuditPage`]; `more` is false at the
    /// start of the log.
    AuditPage {
        /// Newest first, all older than those shown.
        rows: Vec<AuditRow>,
        /// Whether older entries remain.
        more: bool,
    },
    /// The detail of a device the UI asked for with [`TuiRequest::Detail`].
    Detail(Box<DeviceDetail>),
    /// A message for the status line (a source failing, a reconnect, an operation's end); it
    /// may quote AWS errors and thing names, so it is made safe where it is made.
    Notice(SafeText<'static>),
    /// An operation's progress while it applies (cleared by the next notice).
    Progress(OpProgress),
    /// Every rotation campaign of the environment as last read, oldest first.
    Campaigns(Vec<CampaignRow>),
    /// The newest operations of the journal as last read, newest first.
    Operations(Vec<OperationRow>),
}

/// What the UI asks of the side that owns the model; sent without waiting for an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TuiRequest {
    /// Look up this thing's detail and answer with [`TuiUpdate::Detail`].
    Detail(Box<str>),
    /// The user confirmed this (never sent when read-only).
    Confirmed(Confirmable),
    /// Something planned that was not confirmed, or was refused: recorded in the audit log.
    Declined {
        /// What was planned.
        request: Confirmable,
        /// Why it goes no further.
        refusal: Refusal,
    },
    /// The user triaged an anomaly: kept in the store and recorded in the audit log.
    Triage(TriageChange),
    /// The audit entries older than this number (the oldest shown).
    AuditPage {
        /// The oldest entry shown.
        before: i64,
    },
}

/// Something that changes the fleet, asked for in the console: shown in the confirmation
/// dialog, confirmed by typing, then handed to the model side (or recorded as declined).
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmable {
    /// A revoke, quarantine or restore.
    Mutation(MutationRequest),
    /// A campaign step.
    Step {
        /// The step.
        step: RotationStep,
        /// What it touches, as the dialog showed it (`stage 2: 450 devices`).
        radius: String,
    },
    /// Resuming an operation a killed apply left unfinished.
    Resume(ResumeRequest),
}

impl Confirmable {
    /// One line saying what it does, for the status line.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Mutation(request) => format!(
                "{} of {}",
                request.kind.verb(),
                count(request.things.len() as u64, "thing")
            ),
            Self::Step { step, .. } => step.describe(),
            Self::Resume(resume) => format!("resume {} ({} calls left)", resume.op, resume.left),
        }
    }
}

/// An unfinished operation to resume from its journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRequest {
    /// The operation's id.
    pub op: Box<str>,
    /// Its calls not done yet (the answer the dialog asks to type).
    pub left: usize,
    /// Its plan's summary (may name a CA or things).
    pub summary: OutsideText,
}

/// Why a planned mutation was not requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The user cancelled the confirmation (Esc, or Enter without the expected answer).
    Cancelled,
    /// The session is read-only.
    ReadOnly,
}

/// An anomaly acknowledged, suppressed or opened again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageChange {
    /// The anomaly's [`AnomalyRow::id`].
    pub anomaly: u64,
    /// Its thing, for the record.
    pub thing: Box<str>,
    /// Its kind, for the record.
    pub kind: Box<str>,
    /// The new state.
    pub triage: Triage,
}

/// An operation being applied: calls finished out of all, for the status line's bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpProgress {
    /// What it does (`revoke`, ...).
    pub verb: &'static str,
    /// Calls finished.
    pub finished: usize,
    /// Calls failed.
    pub failed: usize,
    /// Calls in the plan.
    pub total: usize,
}

/// The blast radius of a planned mutation, shown before anyone confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct BlastRadius {
    /// Certificates affected.
    pub certs: u64,
    /// Things affected.
    pub things: u64,
    /// Distinct thing groups touched.
    pub groups: u64,
    /// Share of the fleet, in percent.
    pub fleet_percent: f64,
    /// Of those things, connected now.
    pub online: u64,
}

impl BlastRadius {
    /// `1 certificate, 1 thing, 1 group, 0.1 % of the fleet, 1 online now`.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "{}, {}, {}, {} of the fleet, {} online now",
            count(self.certs, "certificate"),
            count(self.things, "thing"),
            count(self.groups, "group"),
            percent(self.fleet_percent),
            self.online
        )
    }
}

/// A mutation the user confirmed; the ops engine plans, applies and verifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationRequest {
    /// What to do (revoke, quarantine or restore).
    pub kind: OpKind,
    /// The things concerned (their names came from the registry: drawn only through `safe()`).
    pub things: Vec<OutsideText>,
    /// The summary shown in the dialog.
    pub radius: BlastRadius,
}
