//! The rotation view (`7`): every campaign of the environment, the selected one as a pipeline
//! of stages with live counts and a progress bar each, the selected stage's gate evidence
//! (success and failure against the thresholds, both checks of the new certificate, failure
//! reasons grouped), and the steps a person may take — each only through the confirmation.
//!
//! Focus moves down one level with `Enter` (campaigns -> failure reasons -> the devices that
//! gave one, where `Enter` opens the device) and back with `Esc`.

use crate::human::{count, timestamp};
use crate::ops::rotation::state::Overall;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{CampaignRow, Confirmable, RotationAction, RotationStep, UnixSeconds};
use crate::tui::keymap::Command;
use crate::tui::widgets::table::Scroll;

/// Which list `j`/`k` move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Focus {
    /// The campaigns (`h`/`l` pick the stage).
    #[default]
    Campaigns,
    /// The selected stage's failure reasons.
    Reasons,
    /// The devices that gave the selected reason.
    Devices,
}

/// Selection state of the rotation view.
#[derive(Debug, Clone, Default)]
pub struct RotationView {
    campaigns: Scroll,
    /// The stage picked in the selected campaign (index); `None` follows the current stage.
    stage: Option<usize>,
    focus: Focus,
    reasons: Scroll,
    devices: Scroll,
}

impl RotationView {
    fn selected<'a>(&self, campaigns: &'a [CampaignRow]) -> Option<&'a CampaignRow> {
        campaigns.get(self.campaigns.selected())
    }

    /// The stage shown in detail: the one picked, else the campaign's current one.
    fn stage_index(&self, campaign: &CampaignRow) -> usize {
        self.stage
            .filter(|i| *i < campaign.stages.len())
            .unwrap_or_else(|| campaign.current().unwrap_or(0))
    }

    /// `Esc` inside the view: one level up; `false` at the top (the app goes back a view).
    pub fn back(&mut self) -> bool {
        match self.focus {
            Focus::Campaigns => false,
            Focus::Reasons => {
                self.focus = Focus::Campaigns;
                true
            }
            Focus::Devices => {
                self.focus = Focus::Reasons;
                true
            }
        }
    }

    /// Moves, drills down, or asks for a campaign step (which opens the confirmation).
    pub fn handle(
        &mut self,
        command: Command,
        campaigns: &[CampaignRow],
        now: UnixSeconds,
    ) -> Outcome {
        if let Some(outcome) = self.step(command, campaigns, now) {
            return outcome;
        }
        let Some(campaign) = self.selected(campaigns) else {
            return Outcome::Ignored;
        };
        let stage = &campaign.stages.get(self.stage_index(campaign));
        let reasons = stage.map_or(0, |s| s.reasons.len());
        match self.focus {
            Focus::Campaigns => match command {
                Command::Left | Command::Right => {
                    let at = self.stage_index(campaign);
                    let last = campaign.stages.len().saturating_sub(1);
                    self.stage = Some(if command == Command::Left {
                        at.saturating_sub(1)
                    } else {
                        (at + 1).min(last)
                    });
                    self.reasons.select(0, 0);
                    Outcome::Consumed
                }
                Command::Open if reasons > 0 => {
                    self.focus = Focus::Reasons;
                    Outcome::Consumed
                }
                Command::Open => Outcome::Action(Action::Notify(
                    "no failure in this stage; h/l pick another stage".into(),
                )),
                other => {
                    if self.campaigns.apply(other, campaigns.len()) {
                        self.stage = None;
                        self.reasons.select(0, 0);
                        Outcome::Consumed
                    } else {
                        Outcome::Ignored
                    }
                }
            },
            Focus::Reasons => match command {
                Command::Open => {
                    self.focus = Focus::Devices;
                    self.devices.select(0, 0);
                    Outcome::Consumed
                }
                other if self.reasons.apply(other, reasons) => Outcome::Consumed,
                _ => Outcome::Ignored,
            },
            Focus::Devices => {
                let things = stage
                    .and_then(|s| s.reasons.get(self.reasons.selected()))
                    .map_or(&[][..], |r| &r.things[..]);
                match command {
                    Command::Open => things
                        .get(self.devices.selected())
                        .map_or(Outcome::Ignored, |thing| {
                            Outcome::Action(Action::OpenDevice(thing.raw().into()))
                        }),
                    other if self.devices.apply(other, things.len()) => Outcome::Consumed,
                    _ => Outcome::Ignored,
                }
            }
        }
    }

    /// A campaign step: the confirmation for it, or why it does not apply now.
    fn step(
        &self,
        command: Command,
        campaigns: &[CampaignRow],
        now: UnixSeconds,
    ) -> Option<Outcome> {
        let wanted = match command {
            Command::Promote => Wanted::Promote,
            Command::Halt => Wanted::Reason(|reason| RotationAction::Halt { reason }),
            Command::Resume => Wanted::Reason(|reason| RotationAction::Resume { reason }),
            Command::Abort => Wanted::Reason(|reason| RotationAction::Abort { reason }),
            Command::Finalize => Wanted::Finalize,
            _ => return None,
        };
        let Some(campaign) = self.selected(campaigns) else {
            return Some(Outcome::Action(Action::Notify(
                "no campaign: start one with fleetid rotate start FILE".into(),
            )));
        };
        let id: Box<str> = campaign.id.raw().into();
        let action = match wanted {
            Wanted::Promote => match campaign.next_to_promote() {
                Some(n) => RotationAction::Promote(n),
                None => return Some(refuse(campaign, "promoted", "waits for promotion")),
            },
            // The confirmation asks for the reason.
            Wanted::Reason(make) => make(String::new()),
            Wanted::Finalize => RotationAction::Finalize {
                certificates: campaign.retire,
            },
        };
        if let Err(why) = allowed(campaign, &action, now) {
            return Some(Outcome::Action(Action::Notify(why)));
        }
        let radius = radius(campaign, &action);
        Some(Outcome::Action(Action::Confirm(Confirmable::Step {
            step: RotationStep {
                campaign: id,
                action,
            },
            radius,
        })))
    }
}

/// What a step key asks for, before the campaign is looked at.
enum Wanted {
    Promote,
    Reason(fn(String) -> RotationAction),
    Finalize,
}

/// Whether `action` applies to the campaign now; the message says why not.
fn allowed(
    campaign: &CampaignRow,
    action: &RotationAction,
    now: UnixSeconds,
) -> Result<(), String> {
    let id = campaign.id.safe();
    let word = overall_label(campaign.overall);
    let ok = match action {
        RotationAction::Promote(_) => campaign.overall == Overall::AwaitingPromotion,
        RotationAction::Halt { .. } => matches!(
            campaign.overall,
            Overall::Running | Overall::AwaitingPromotion
        ),
        RotationAction::Resume { .. } => campaign.overall == Overall::Halted,
        RotationAction::Abort { .. } => {
            !matches!(campaign.overall, Overall::Aborted | Overall::Finalized)
        }
        RotationAction::Finalize { .. } => {
            matches!(campaign.overall, Overall::Done | Overall::Aborted)
        }
    };
    if ok {
        match (action, campaign.grace_ends) {
            (RotationAction::Finalize { .. }, Some(ends)) if now < ends => Err(format!(
                "campaign {id}: the grace period ends {}; the old certificates stay ACTIVE \
                 until then",
                timestamp(ends)
            )),
            _ => Ok(()),
        }
    } else {
        Err(format!(
            "campaign {id} is {word}: {} does not apply now",
            action.verb()
        ))
    }
}

/// What a step touches, in one line for its confirmation.
fn radius(campaign: &CampaignRow, action: &RotationAction) -> String {
    let (all, done) = campaign.progress();
    match action {
        RotationAction::Promote(n) => {
            let devices = campaign
                .stages
                .get(n.saturating_sub(1))
                .map_or(0, |s| s.counts.devices);
            format!(
                "stage {n} ({} % of the target): {}",
                campaign
                    .stages
                    .get(n.saturating_sub(1))
                    .map_or(0, |s| s.cumulative_percent),
                count(devices as u64, "device")
            )
        }
        RotationAction::Halt { .. } | RotationAction::Abort { .. } => {
            let running = campaign
                .stages
                .get(campaign.current().unwrap_or(0))
                .map_or(0, |s| s.counts.unfinished);
            format!(
                "{} not finished in the current stage; {done}/{all} on the new certificate",
                count(running as u64, "device")
            )
        }
        RotationAction::Resume { .. } => {
            let failed = campaign
                .stages
                .get(campaign.current().unwrap_or(0))
                .map_or(0, |s| s.counts.failed);
            format!(
                "{} of the current stage set aside; the rest run again",
                count(failed as u64, "failed device")
            )
        }
        RotationAction::Finalize { certificates } => format!(
            "{} set INACTIVE; {} still on the old one{}",
            count(*certificates, "old certificate"),
            count(all.saturating_sub(done) as u64, "device"),
            campaign
                .grace_ends
                .map(|at| format!("; grace ends {}", timestamp(at)))
                .unwrap_or_default()
        ),
    }
}

fn refuse(campaign: &CampaignRow, verb: &str, when: &str) -> Outcome {
    Outcome::Action(Action::Notify(format!(
        "campaign {} is {}: it can be {verb} once a stage {when}",
        campaign.id.safe(),
        overall_label(campaign.overall)
    )))
}

/// The word for a campaign's state.
#[must_use]
pub fn overall_label(overall: Overall) -> &'static str {
    match overall {
        Overall::Running => "running",
        Overall::AwaitingPromotion => "waiting to promote",
        Overall::Halted => "HALTED",
        Overall::Aborted => "aborted",
        Overall::Done => "done",
        Overall::Finalized => "finalized",
    }
}

mod draw;

#[cfg(test)]
mod tests;
