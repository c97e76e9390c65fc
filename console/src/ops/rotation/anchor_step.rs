//! The engine's side of the anchor stage (docs/rotation.md, "Onto another CA"): read the next
//! CA's certificate, create (or find) the group and the `fleetid.anchor.v1` install job on
//! every device of the campaign, read what the agents reported, and apply the gate that lets
//! stage 1 start. Each step is written to the store before and after its AWS calls, like the
//! stages'.

use fleetid_agent::wire::{AnchorAction, AnchorJob, JobDocument};

use super::anchor::{AnchorVerdict, judge_anchor};
use super::engine::{DEVICE_CONCURRENCY, Engine, Event, RotationError, anchor_fingerprint};
use super::state::{CampaignState, Execution, Phase};
use crate::backend::aws::is_not_found;
use crate::context::MutationPermit;
use crate::ops::fan_out::fan_out;

impl Engine<'_> {
    /// Starts the anchor stage: its phase is written first, then the CA certificate read (and
    /// written), then its group, members and job created — each looked up or idempotent.
    pub(super) async fn start_anchor(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
    ) -> Result<(), RotationError> {
        self.frozen()?;
        let now = self.now();
        let Some(anchor) = state.anchor.as_mut() else {
            return Ok(());
        };
        if anchor.phase == Phase::Pending {
            anchor.phase = Phase::Running { since: now };
            self.save(state)?;
        }
        let Some(anchor) = state.anchor.as_mut() else {
            return Ok(());
        };
        if anchor.pem.is_none() {
            let (pem, _) = self.backend.ca_certificate(&anchor.ca).await?;
            anchor.fingerprint = Some(anchor_fingerprint(&anchor.ca, &pem)?);
            anchor.pem = Some(pem);
            self.save(state)?;
        }
        let Some(anchor) = state.anchor.clone() else {
            return Ok(());
        };
        let document = JobDocument::Anchor(AnchorJob {
            action: AnchorAction::Install,
            anchor_pem: anchor.pem.clone(),
            fingerprint: None,
        })
        .to_value()
        .to_string();
        let things: Vec<String> = anchor.devices.keys().cloned().collect();
        let campaign = state.campaign.clone();
        self.launch(
            permit,
            &campaign,
            &anchor.job,
            &anchor.group,
            things,
            &document,
        )
        .await?;
        if let Some(a) = state.anchor.as_mut() {
            a.job_status = Some("IN_PROGRESS".into());
        }
        self.save(state)?;
        self.audit(
            "rotate-anchor",
            state,
            &format!(
                "next CA {} to {} devices as their next trust anchor, group {}, job {}",
                anchor.ca,
                anchor.devices.len(),
                anchor.group,
                anchor.job
            ),
            "started",
        )
    }

    /// Drives the anchor stage one step: starts what a crash left unstarted, reads the
    /// evidence, and halts or passes it as the gate says. Without a permit it reads and
    /// judges only.
    pub(super) async fn advance_anchor(
        &mut self,
        permit: Option<&MutationPermit>,
        state: &mut CampaignState,
        events: &mut Vec<Event>,
    ) -> Result<(), RotationError> {
        let Some(anchor) = &state.anchor else {
            return Ok(());
        };
        if anchor.job_status.is_none() {
            let Some(permit) = permit else {
                return Ok(());
            };
            self.start_anchor(permit, state).await?;
            events.push(Event::AnchorStarted);
        }
        self.observe_anchor(state).await?;
        let Some(anchor) = &state.anchor else {
            return Ok(());
        };
        let counts = anchor.counts();
        match judge_anchor(&state.campaign.gate, &counts) {
            AnchorVerdict::Installing => {}
            AnchorVerdict::Halt(reason) => {
                if let Some(permit) = permit {
                    self.halt(permit, state, "gate", &reason).await?;
                }
                events.push(Event::Halted(reason));
            }
            AnchorVerdict::GateFailed(reason) => {
                if permit.is_some() {
                    self.set_halt(state, "gate", &reason)?;
                }
                events.push(Event::Halted(reason));
            }
            AnchorVerdict::Pass => {
                if permit.is_some() {
                    let now = self.now();
                    if let Some(a) = state.anchor.as_mut() {
                        a.phase = Phase::Passed { at: now };
                    }
                    let detail = format!(
                        "{:.1} % of {} devices hold the next trust anchor",
                        counts.holding_percent(),
                        counts.devices
                    );
                    self.save(state)?;
                    self.audit("rotate-anchor-gate", state, &detail, "passed")?;
                    events.push(Event::AnchorPassed(detail));
                }
            }
        }
        self.save(state)
    }

    /// Reads the anchor job's executions and the agents' reports.
    async fn observe_anchor(&mut self, state: &mut CampaignState) -> Result<(), RotationError> {
        let Some(anchor) = state.anchor.as_mut() else {
            return Ok(());
        };
        match self.backend.describe_job(&anchor.job).await {
            Ok(progress) => anchor.job_status = Some(progress.status),
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        for execution in self.backend.job_executions(&anchor.job).await? {
            if let (Some(status), Some(evidence)) = (
                Execution::parse(&execution.status),
                anchor.devices.get_mut(&execution.thing),
            ) {
                evidence.execution = Some(status);
            }
        }
        let wanted: Vec<String> = anchor
            .devices
            .iter()
            .filter(|(_, e)| match e.execution {
                Some(Execution::Succeeded) => e.installed.is_none(),
                Some(x) if x.is_failure() => e.reason.is_none(),
                _ => false,
            })
            .map(|(t, _)| t.clone())
            .collect();
        let job = anchor.job.clone();
        let details = fan_out(wanted.clone(), DEVICE_CONCURRENCY, |thing| {
            let (backend, job) = (self.backend.clone(), job.clone());
            async move { Some(backend.job_execution(&job, &thing).await) }
        })
        .await;
        for (thing, detail) in wanted.iter().zip(details) {
            let detail = match detail {
                Some(Ok(detail)) => detail,
                None => continue,
                Some(Err(e)) if is_not_found(&e) => continue,
                Some(Err(e)) => return Err(RotationError::Backend(e)),
            };
            if let Some(evidence) = anchor.devices.get_mut(thing) {
                evidence.installed = detail.status_details.get("anchor").cloned();
                evidence.reason = detail.status_details.get("reason").cloned();
            }
        }
        Ok(())
    }
}
