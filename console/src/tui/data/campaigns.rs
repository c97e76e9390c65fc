//! Rotation campaigns as the screen shows them: each campaign a pipeline of stages with the
//! gate's evidence, and the steps a person may ask for. Made on the model side from the
//! persisted campaign state (`crate::ops::rotation::state`), whose counts and overall state
//! are reused here, not redefined.

use std::collections::BTreeMap;

use crate::ops::rotation::anchor::{NextCaShare, next_ca_share};
use crate::ops::rotation::command::finalization;
use crate::ops::rotation::state::{CampaignState, Execution, Overall, Phase, StageCounts};
use crate::safe_text::OutsideText;

use super::UnixSeconds;

/// Where a stage is, in the words of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagePhase {
    /// Not started.
    Pending,
    /// Devices rotate.
    Running,
    /// Finished over the gate's share; soaking until then.
    Soaking {
        /// When soaking ends.
        until: UnixSeconds,
    },
    /// Passed; the next stage waits for a person's `promote`.
    WaitingForPromotion,
    /// The campaign halted on this stage.
    Halted,
    /// The campaign was aborted on this stage.
    Aborted,
    /// Passed (and promoted, or the last stage).
    Done,
}

impl StagePhase {
    /// The word shown.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Soaking { .. } => "soaking",
            Self::WaitingForPromotion => "waiting for promotion",
            Self::Halted => "HALTED",
            Self::Aborted => "aborted",
            Self::Done => "done",
        }
    }

    /// The theme scope it is drawn with.
    #[must_use]
    pub fn scope(self) -> &'static str {
        match self {
            Self::Pending => "ui.text.dim",
            Self::Running | Self::Soaking { .. } => "status.pending",
            Self::WaitingForPromotion => "severity.medium",
            Self::Halted => "severity.critical",
            Self::Aborted => "status.revoked",
            Self::Done => "status.active",
        }
    }
}

/// Devices that failed for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReason {
    /// The reason the agent gave (or the execution's status): device text.
    pub reason: OutsideText,
    /// The things that gave it.
    pub things: Vec<OutsideText>,
}

/// One stage of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// 1-based.
    pub number: usize,
    /// Cumulative share of the target after it, in percent.
    pub cumulative_percent: u8,
    /// Where it is.
    pub phase: StagePhase,
    /// The gate's counts (executions, both checks, failures).
    pub counts: StageCounts,
    /// Failures grouped by reason, most frequent first.
    pub reasons: Vec<FailureReason>,
}

/// One campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRow {
    /// The campaign id (from the campaign file; drawn through `safe()` all the same).
    pub id: OutsideText,
    /// What it is doing.
    pub overall: Overall,
    /// Why it halted or was aborted, and by whom.
    pub stopped: Option<OutsideText>,
    /// The gate's thresholds: minimum success and maximum failure, in percent.
    pub min_success: f64,
    /// See `min_success`.
    pub max_failure: f64,
    /// Stages start by themselves when the gate passes.
    pub auto_promote: bool,
    /// When `finalize` may retire the old certificates (done or aborted campaigns).
    pub grace_ends: Option<UnixSeconds>,
    /// Old certificates a finalize would set INACTIVE (devices on their new one by both
    /// checks).
    pub retire: u64,
    /// Onto another CA: the share holding the next trust anchor and the share on the new CA.
    pub next_ca: Option<NextCaShare>,
    /// The stages, first to last.
    pub stages: Vec<StageRow>,
}

impl CampaignRow {
    /// A campaign as persisted, as the screen shows it.
    #[must_use]
    pub fn of(state: &CampaignState) -> Self {
        let current = state.current().map(|s| s.number);
        let stopped = state
            .aborted
            .as_ref()
            .map(|a| format!("{} (aborted by {})", a.reason, a.by))
            .or_else(|| {
                state
                    .halt
                    .as_ref()
                    .map(|h| format!("{} (halted by {})", h.reason, h.by))
            });
        let stages = state
            .stages
            .iter()
            .map(|stage| {
                let phase = match stage.phase {
                    Phase::Pending => StagePhase::Pending,
                    _ if current == Some(stage.number) && state.aborted.is_some() => {
                        StagePhase::Aborted
                    }
                    _ if current == Some(stage.number) && state.halt.is_some() => {
                        StagePhase::Halted
                    }
                    Phase::Running { .. } => StagePhase::Running,
                    Phase::Soaking { until } => StagePhase::Soaking { until },
                    Phase::Passed { .. } if stage.number < state.stages.len() => {
                        StagePhase::WaitingForPromotion
                    }
                    Phase::Passed { .. } | Phase::Promoted { .. } => StagePhase::Done,
                };
                let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (thing, evidence) in &stage.devices {
                    if evidence.set_aside.is_some() {
                        continue;
                    }
                    if let Some(execution) = evidence.execution.filter(|e| e.is_failure()) {
                        let reason = evidence
                            .reason
                            .clone()
                            .unwrap_or_else(|| failure_word(execution));
                        reasons.entry(reason).or_default().push(thing.clone());
                    }
                }
                let mut reasons: Vec<FailureReason> = reasons
                    .into_iter()
                    .map(|(reason, things)| FailureReason {
                        reason: reason.into(),
                        things: things.into_iter().map(Into::into).collect(),
                    })
                    .collect();
                reasons.sort_by_key(|r| std::cmp::Reverse(r.things.len()));
                StageRow {
                    number: stage.number,
                    cumulative_percent: stage.cumulative_percent,
                    phase,
                    counts: StageCounts::of(stage),
                    reasons,
                }
            })
            .collect();
        Self {
            id: state.id().into(),
            overall: state.overall(),
            stopped: stopped.map(Into::into),
            min_success: state.campaign.gate.min_success,
            max_failure: state.campaign.gate.max_failure,
            auto_promote: state.campaign.gate.auto_promote,
            grace_ends: state.grace_ends(),
            retire: u64::try_from(finalization(state).retire.len()).unwrap_or(u64::MAX),
            next_ca: state
                .anchor
                .as_ref()
                .map(|anchor| next_ca_share(anchor, &state.stages)),
            stages,
        }
    }

    /// The index of the stage that runs, soaks, waits or halted: the last one not pending;
    /// `None` while every stage is pending.
    #[must_use]
    pub fn current(&self) -> Option<usize> {
        self.stages
            .iter()
            .rposition(|s| s.phase != StagePhase::Pending)
    }

    /// The stage a `promote` would start: the first pending one, once the one before passed.
    #[must_use]
    pub fn next_to_promote(&self) -> Option<usize> {
        (self.overall == Overall::AwaitingPromotion)
            .then(|| {
                self.stages
                    .iter()
                    .find(|s| s.phase == StagePhase::Pending)
                    .map(|s| s.number)
            })
            .flatten()
    }

    /// Devices in the campaign, and those on their new certificate by both checks.
    #[must_use]
    pub fn progress(&self) -> (usize, usize) {
        self.stages.iter().fold((0, 0), |(all, done), s| {
            (all + s.counts.devices, done + s.counts.on_new)
        })
    }
}

fn failure_word(execution: Execution) -> String {
    execution.as_str().to_lowercase().replace('_', " ")
}

/// A step a person asks of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationAction {
    /// Start stage `n` (the one after a stage that passed).
    Promote(usize),
    /// Stop the campaign: its running job is cancelled.
    Halt {
        /// Why (recorded).
        reason: String,
    },
    /// Go on after a halt: what failed is set aside.
    Resume {
        /// Why (recorded).
        reason: String,
    },
    /// Stop for good.
    Abort {
        /// Why (recorded).
        reason: String,
    },
    /// Retire the old certificates once the grace period is over.
    Finalize {
        /// How many old certificates the dialog showed (the plan must have as many).
        certificates: u64,
    },
}

impl RotationAction {
    /// The verb (`promote`, `halt`, ...), also the audit log's `rotate-<verb>`.
    #[must_use]
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Promote(_) => "promote",
            Self::Halt { .. } => "halt",
            Self::Resume { .. } => "resume",
            Self::Abort { .. } => "abort",
            Self::Finalize { .. } => "finalize",
        }
    }

    /// The reason given, for the steps that need one.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Halt { reason } | Self::Resume { reason } | Self::Abort { reason } => {
                Some(reason)
            }
            Self::Promote(_) | Self::Finalize { .. } => None,
        }
    }
}

/// A campaign step the user asked for in the rotation view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationStep {
    /// The campaign's id.
    pub campaign: Box<str>,
    /// What to do.
    pub action: RotationAction,
}

impl RotationStep {
    /// The answer the confirmation asks to type: the stage number for a promotion, the
    /// campaign id otherwise.
    #[must_use]
    pub fn expected_answer(&self) -> String {
        match self.action {
            RotationAction::Promote(n) => n.to_string(),
            _ => self.campaign.to_string(),
        }
    }

    /// One line saying what it does, for the dialog and the status line.
    #[must_use]
    pub fn describe(&self) -> String {
        let id = &self.campaign;
        match &self.action {
            RotationAction::Promote(n) => format!("start stage {n} of campaign {id}"),
            RotationAction::Halt { .. } => {
                format!("halt campaign {id}: cancel its running job (devices mid-rotation finish)")
            }
            RotationAction::Resume { .. } => {
                format!("resume campaign {id}: set aside what failed, run what the halt stopped")
            }
            RotationAction::Abort { .. } => {
                format!("abort campaign {id}: cancel its running job; nothing more happens to it")
            }
            RotationAction::Finalize { certificates } => {
                format!("finalize campaign {id}: set {certificates} old certificate(s) INACTIVE")
            }
        }
    }
}
