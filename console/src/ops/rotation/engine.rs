//! The campaign engine: starts stages (a static thing group and a job whose names derive from
//! the campaign), reads their evidence, applies the gate, promotes, halts, resumes and
//! aborts. Every step is written to the store before and after its AWS calls, and every AWS
//! resource is looked up before it is created, so a console killed at any moment and started
//! again carries on from where it was: no job is created twice and no stage is lost.

use std::collections::BTreeMap;

use fleetid_agent::wire::{JobDocument, RotateAction, RotateJob};

use super::file::Campaign;
use super::presence::PresenceLog;
use super::stages::StagePlan;
use super::state::{
    CampaignState, Confirmation, Execution, Halt, Overall, Phase, Seconds, StageCounts, StageState,
    Verdict, judge,
};
use crate::backend::aws::{AwsBackend, is_not_found};
use crate::backend::{BackendError, JobRequest};
use crate::context::{Clock, MutationPermit};
use crate::model::{CaStatus, CertStatus};
use crate::ops::fan_out::fan_out;
use crate::ops::record::Actor;
use crate::safe_text::SafeText;
use crate::store::audit::Decision;
use crate::store::{Store, StoreError};

/// Calls in flight for the per-device work of a stage.
pub(super) const DEVICE_CONCURRENCY: usize = 16;
/// Seconds an agent has to verify its new certificate before it rolls back.
const VERIFY_DEADLINE_SECONDS: u32 = 60;

/// Why a campaign step could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// No such campaign.
    #[error("no campaign {0:?} in this environment (see `fleetid rotate status`)")]
    Unknown(String),
    /// A campaign of this id exists.
    #[error(
        "campaign {0:?} was started before; see `fleetid rotate status {0}` (a new campaign \
         needs a new id)"
    )]
    Exists(String),
    /// The environment is frozen.
    #[error("refused: the environment is frozen ({0}); `fleetid unfreeze` first")]
    Frozen(String),
    /// The step does not fit the campaign's state.
    #[error("refused: {0}")]
    Refused(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An AWS call.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Some per-device calls failed; running the step again retries them.
    #[error("{failed} of {total} {what} failed (first: {first}); run the command again to retry")]
    Partial {
        /// What was being done.
        what: &'static str,
        /// How many failed.
        failed: usize,
        /// Out of.
        total: usize,
        /// The first error.
        first: String,
    },
    /// The stored state does not read.
    #[error("campaign {id:?} in the store is unreadable: {detail}")]
    Corrupt {
        /// The campaign.
        id: String,
        /// The parse error.
        detail: String,
    },
}

/// What one `advance` did, for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A stage's group and job were created (or found).
    Started(usize),
    /// A stage's executions finished over the gate's share; soaking.
    Soaking(usize, Seconds),
    /// A stage passed its gate.
    Passed(usize),
    /// A stage was promoted to the next.
    Promoted(usize),
    /// The campaign halted.
    Halted(String),
    /// The anchor stage's group and job were created (or found).
    AnchorStarted,
    /// The anchor stage passed its gate (what it found).
    AnchorPassed(String),
}

/// Drives campaigns of one environment.
pub struct Engine<'a> {
    pub(super) backend: &'a AwsBackend,
    pub(super) store: &'a mut Store,
    pub(super) actor: &'a Actor,
    pub(super) clock: Clock,
}

impl<'a> Engine<'a> {
    /// An engine over `backend`, recording in `store` as `actor`.
    pub fn new(
        backend: &'a AwsBackend,
        store: &'a mut Store,
        actor: &'a Actor,
        clock: Clock,
    ) -> Self {
        Self {
            backend,
            store,
            actor,
            clock,
        }
    }

    /// The backend it calls.
    #[must_use]
    pub fn backend(&self) -> &'a AwsBackend {
        self.backend
    }

    pub(super) fn now(&self) -> Seconds {
        self.clock.now().0
    }

    fn environment(&self) -> &str {
        &self.actor.environment
    }

    /// A campaign's state.
    ///
    /// # Errors
    /// [`RotationError::Unknown`], or the store's.
    pub fn load(&self, id: &str) -> Result<CampaignState, RotationError> {
        let text = self
            .store
            .campaign(self.environment(), id)?
            .ok_or_else(|| RotationError::Unknown(id.to_owned()))?;
        parse(id, &text)
    }

    /// Every campaign of the environment, oldest first.
    ///
    /// # Errors
    /// The store's.
    pub fn all(&self) -> Result<Vec<CampaignState>, RotationError> {
        stored(self.store, self.environment())
    }

    pub(super) fn save(&mut self, state: &CampaignState) -> Result<(), RotationError> {
        let text = serde_json::to_string(state).map_err(|e| RotationError::Corrupt {
            id: state.id().to_owned(),
            detail: e.to_string(),
        })?;
        let env = self.actor.environment.clone();
        self.store
            .update_campaign(&env, state.id(), &text, self.clock.now())?;
        Ok(())
    }

    pub(super) fn audit(
        &mut self,
        action: &str,
        state: &CampaignState,
        detail: &str,
        outcome: &str,
    ) -> Result<(), RotationError> {
        self.actor.record(
            self.store,
            action,
            vec![state.id().to_owned()],
            detail,
            Decision::Confirmed,
            outcome,
        )?;
        Ok(())
    }

    pub(super) fn frozen(&self) -> Result<(), RotationError> {
        match self.store.freeze(self.environment())? {
            Some(freeze) => Err(RotationError::Frozen(format!(
                "by {}: {}",
                freeze.by, freeze.reason
            ))),
            None => Ok(()),
        }
    }

    /// Records a new campaign from its plan and starts stage 1. `how` says how it was
    /// confirmed, for the audit log.
    ///
    /// # Errors
    /// [`RotationError::Exists`], [`RotationError::Frozen`], or a failed step (the campaign is
    /// recorded; `rotate status` shows it and the next command carries on).
    pub async fn start(
        &mut self,
        permit: &MutationPermit,
        campaign: Campaign,
        plan: &StagePlan,
        how: &str,
    ) -> Result<CampaignState, RotationError> {
        self.frozen()?;
        let mut state = CampaignState::new(campaign, plan, self.now());
        if let Some(anchor) = state.anchor.as_mut() {
            // Read before anything is recorded: a next CA AWS does not know refuses the start.
            let pem = match self.backend.ca_certificate(&anchor.ca).await {
                Ok((_, status)) if status != CaStatus::Active => {
                    return Err(RotationError::Refused(format!(
                        "next_ca {} is {status}: AWS IoT does not register the certificates an \
                         INACTIVE CA signs; activate it first (UpdateCACertificate)",
                        anchor.ca
                    )));
                }
                Ok((pem, _)) => pem,
                Err(e) if is_not_found(&e) => {
                    return Err(RotationError::Refused(format!(
                        "next_ca {}: no CA certificate of this id is registered in this account",
                        anchor.ca
                    )));
                }
                Err(e) => return Err(e.into()),
            };
            anchor.fingerprint = Some(anchor_fingerprint(&anchor.ca, &pem)?);
            anchor.pem = Some(pem);
            self.certificate_provider_exists(&anchor.ca).await?;
        }
        let text = serde_json::to_string(&state).map_err(|e| RotationError::Corrupt {
            id: state.id().to_owned(),
            detail: e.to_string(),
        })?;
        let env = self.actor.environment.clone();
        if !self
            .store
            .insert_campaign(&env, state.id(), &text, self.clock.now())?
        {
            return Err(RotationError::Exists(state.id().to_owned()));
        }
        let devices: usize = state.stages.iter().map(|s| s.devices.len()).sum();
        self.audit(
            "rotate-start",
            &state,
            &format!(
                "{} devices in {} stages ({how})",
                devices,
                state.stages.len()
            ),
            "started",
        )?;
        if state.anchor.is_some() {
            self.start_anchor(permit, &mut state).await?;
        } else {
            self.start_stage(permit, &mut state, 1).await?;
        }
        Ok(state)
    }

    /// Refuses a campaign onto `ca` in an account without a certificate provider: fleet
    /// provisioning's create-from-csr would sign with AWS IoT's own CA, so no device could end
    /// on a certificate `ca` issued. When the providers cannot be listed (a denied or
    /// unanswered call) it says so and goes on: the gate checks every issuer anyway.
    async fn certificate_provider_exists(&self, ca: &str) -> Result<(), RotationError> {
        match self.backend.certificate_providers().await {
            Ok(providers) if providers.is_empty() => Err(RotationError::Refused(format!(
                "next_ca {ca}: this account has no certificate provider, so fleet provisioning's \
                 create-from-csr signs with AWS IoT's own CA and no device would get a \
                 certificate the next CA issued; create one whose function signs with it first \
                 (docs/rotation.md, \"Onto another CA\")"
            ))),
            Ok(_) => Ok(()),
            Err(e) => {
                crate::stderr::line(&SafeText::from_string(format!(
                    "could not check for a certificate provider ({e}); going on: the gate counts \
                     only certificates the next CA issued"
                )));
                Ok(())
            }
        }
    }

    /// Starts stage `n` (1-based): its phase is written first, then its group, members and
    /// job are created — each looked up or idempotent, so a retry after a crash finishes the
    /// stage's start without duplicating anything.
    async fn start_stage(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        n: usize,
    ) -> Result<(), RotationError> {
        self.frozen()?;
        let now = self.now();
        let anchor = state.anchor.clone();
        let stage = &mut state.stages[n - 1];
        if stage.phase == Phase::Pending {
            stage.phase = Phase::Running { since: now };
            // Onto another CA, a device that does not hold the next CA as its next trust
            // anchor is never rotated onto it.
            if let Some(anchor) = &anchor {
                for (thing, evidence) in &mut stage.devices {
                    if evidence.set_aside.is_none() && !anchor.holds(thing) {
                        evidence.set_aside = Some(anchor.why_not(thing));
                    }
                }
            }
        }
        let stage = stage.clone();
        self.save(state)?;
        let things: Vec<String> = stage
            .devices
            .iter()
            .filter(|(_, e)| e.set_aside.is_none())
            .map(|(t, _)| t.clone())
            .collect();
        let (job, group) = (stage.job.clone(), stage.group.clone());
        let document = rotate_document(&state.campaign);
        self.launch(permit, &state.campaign, &job, &group, things, &document)
            .await?;
        state.stages[n - 1].job_status = Some("IN_PROGRESS".into());
        self.save(state)?;
        self.audit(
            "rotate-stage",
            state,
            &format!(
                "stage {n}: {} devices, group {group}, job {job}",
                stage.devices.len()
            ),
            "started",
        )?;
        Ok(())
    }

    /// Creates (or finds) `group`, puts `things` in it and creates (or finds) `job` on it
    /// with `document`.
    pub(super) async fn launch(
        &mut self,
        permit: &MutationPermit,
        campaign: &Campaign,
        job: &str,
        group: &str,
        things: Vec<String>,
        document: &str,
    ) -> Result<(), RotationError> {
        if !job_missing(self.backend, job).await? {
            return Ok(());
        }
        let group_arn = self.backend.stage_group(permit, group).await?;
        let total = things.len();
        let results = fan_out(things, DEVICE_CONCURRENCY, |thing| {
            let (backend, permit, group) = (self.backend.clone(), permit.clone(), group.to_owned());
            async move {
                backend
                    .add_thing_to_group(&permit, &thing, &group)
                    .await
                    .err()
                    .map(|e| format!("{thing}: {e}"))
            }
        })
        .await;
        let errors: Vec<String> = results.into_iter().flatten().collect();
        if let Some(first) = errors.first() {
            return Err(RotationError::Partial {
                what: "additions to the stage's group",
                failed: errors.len(),
                total,
                first: first.clone(),
            });
        }
        let request = job_request(campaign, job, &group_arn, total, document);
        self.backend.create_job(permit, &request).await?;
        Ok(())
    }

    /// Reads the current stage's evidence, applies the gate and takes the step it calls for:
    /// soak, pass, promote (auto-promote), or halt. Without a permit (read-only) it reads and
    /// judges but changes nothing in AWS: a halt is reported, not made.
    ///
    /// # Errors
    /// A failed read or step; the state saved so far stays.
    pub async fn advance(
        &mut self,
        permit: Option<&MutationPermit>,
        state: &mut CampaignState,
        presence: Option<&PresenceLog>,
    ) -> Result<Vec<Event>, RotationError> {
        let mut events = Vec::new();
        if state.overall() == Overall::Halted
            && let Some(permit) = permit
        {
            // A halt is recorded before its job is cancelled: a console killed in between
            // (or a read-only freeze) left the job rolling out. Cancelling is idempotent.
            self.cancel_running(permit, state, "halted").await?;
        }
        if !matches!(
            state.overall(),
            Overall::Running | Overall::AwaitingPromotion
        ) {
            return Ok(events);
        }
        // Onto another CA: what the devices' status messages say about the next anchor ...
        if let (Some(anchor), Some(log)) = (state.anchor.as_mut(), presence)
            && anchor.note_status(|thing, fp| log.reports_anchor(thing, fp))
        {
            self.save(state)?;
        }
        // ... and no stage starts before the anchor stage passed.
        if state.anchor.as_ref().is_some_and(|a| !a.passed()) {
            self.advance_anchor(permit, state, &mut events).await?;
            if state.anchor.as_ref().is_some_and(|a| !a.passed())
                || state.overall() != Overall::Running
            {
                return Ok(events);
            }
        }
        // A start or a promotion cut short: the campaign was recorded, or the stage before was
        // passed on, and the next stage was never marked started.
        let unstarted = match state.current() {
            None => state.next_pending(),
            Some(stage) if matches!(stage.phase, Phase::Promoted { .. }) => state.next_pending(),
            Some(_) => None,
        };
        if let (Some(n), Some(permit)) = (unstarted, permit) {
            self.start_stage(permit, state, n).await?;
            events.push(Event::Started(n));
        }
        let Some(index) = state.current().map(|s| s.number - 1) else {
            return Ok(events);
        };
        // A stage whose start was interrupted (phase written, job not yet known) is started
        // again: every part of it is looked up first.
        if state.stages[index].job_status.is_none()
            && matches!(state.stages[index].phase, Phase::Running { .. })
        {
            let Some(permit) = permit else {
                return Ok(events);
            };
            self.start_stage(permit, state, index + 1).await?;
            events.push(Event::Started(index + 1));
        }
        if matches!(
            state.stages[index].phase,
            Phase::Running { .. } | Phase::Soaking { .. }
        ) {
            self.observe(&mut state.stages[index], presence).await?;
            let counts = StageCounts::of(&state.stages[index]);
            let now = self.now();
            match judge(
                &state.campaign.gate,
                &state.stages[index].phase,
                &counts,
                now,
            ) {
                Verdict::Rotating => {}
                Verdict::Halt(reason) => {
                    if let Some(permit) = permit {
                        self.halt(permit, state, "gate", &reason).await?;
                    }
                    events.push(Event::Halted(reason));
                    self.save(state)?;
                    return Ok(events);
                }
                Verdict::GateFailed(reason) => {
                    if permit.is_some() {
                        self.set_halt(state, "gate", &reason)?;
                    }
                    events.push(Event::Halted(reason));
                    self.save(state)?;
                    return Ok(events);
                }
                Verdict::Soak(until) => {
                    if !matches!(state.stages[index].phase, Phase::Soaking { .. }) {
                        events.push(Event::Soaking(index + 1, until));
                    }
                    state.stages[index].phase = Phase::Soaking { until };
                }
                Verdict::Pass => {
                    state.stages[index].phase = Phase::Passed { at: now };
                    events.push(Event::Passed(index + 1));
                    let counts = StageCounts::of(&state.stages[index]);
                    self.audit(
                        "rotate-gate",
                        state,
                        &format!(
                            "stage {}: {:.1} % on the new certificate, {:.1} % failed",
                            index + 1,
                            counts.success_percent(),
                            counts.failure_percent()
                        ),
                        "passed",
                    )?;
                }
            }
            self.save(state)?;
        }
        let passed = matches!(state.stages[index].phase, Phase::Passed { .. });
        if passed
            && state.campaign.gate.auto_promote
            && let (Some(next), Some(permit)) = (state.next_pending(), permit)
            && self.frozen().is_ok()
        {
            self.promote(permit, state, next, "auto-promote: the gate passed")
                .await?;
            events.push(Event::Promoted(next));
        }
        Ok(events)
    }

    /// Reads a stage's executions, the agents' reports and the cloud's confirmation.
    async fn observe(
        &mut self,
        stage: &mut StageState,
        presence: Option<&PresenceLog>,
    ) -> Result<(), RotationError> {
        for (job, _) in stage.attempts() {
            match self.backend.describe_job(&job).await {
                Ok(progress) => {
                    if job == stage.job {
                        stage.job_status = Some(progress.status);
                    }
                }
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(e.into()),
            }
            for execution in self.backend.job_executions(&job).await? {
                let (Some(status), Some(evidence)) = (
                    Execution::parse(&execution.status),
                    stage.devices.get_mut(&execution.thing),
                ) else {
                    continue;
                };
                // A later attempt's execution supersedes an earlier one's.
                evidence.execution = Some(status);
            }
        }
        // The agents' reports: the new certificate of a success, the reason of a failure,
        // from the latest job that has an execution for the device.
        let jobs: Vec<String> = stage.attempts().into_iter().rev().map(|(j, _)| j).collect();
        let wanted: Vec<(String, Vec<String>)> = stage
            .devices
            .iter()
            .filter(|(_, e)| {
                e.set_aside.is_none()
                    && match e.execution {
                        Some(Execution::Succeeded) => e.reported.is_none(),
                        Some(x) if x.is_failure() => e.reason.is_none(),
                        _ => false,
                    }
            })
            .map(|(t, _)| (t.clone(), jobs.clone()))
            .collect();
        let details = fan_out(wanted.clone(), DEVICE_CONCURRENCY, |(thing, jobs)| {
            let backend = self.backend.clone();
            async move {
                for job in jobs {
                    if let Ok(detail) = backend.job_execution(&job, &thing).await {
                        return Some(detail);
                    }
                }
                None
            }
        })
        .await;
        for ((thing, _), detail) in wanted.iter().zip(details) {
            let (Some(detail), Some(evidence)) = (detail, stage.devices.get_mut(thing)) else {
                continue;
            };
            if let Some(id) = detail.status_details.get("newCertificateId") {
                evidence.reported = Some(id.clone());
            }
            if let Some(reason) = detail.status_details.get("reason") {
                evidence.reason = Some(reason.clone());
            }
        }
        // Onto another CA: which CA issued each reported certificate.
        if stage.issuer.is_some() {
            let unread: Vec<(String, String)> = stage
                .devices
                .iter()
                .filter(|(_, e)| e.set_aside.is_none() && e.issuer.is_none())
                .filter_map(|(t, e)| e.reported.clone().map(|c| (t.clone(), c)))
                .collect();
            let issuers = fan_out(unread.clone(), DEVICE_CONCURRENCY, |(_, cert)| {
                let backend = self.backend.clone();
                async move { Some(backend.certificate_issuer(&cert).await) }
            })
            .await;
            for ((thing, _), issuer) in unread.iter().zip(issuers) {
                let issuer = match issuer {
                    Some(Ok(issuer)) => issuer,
                    None => continue,
                    Some(Err(e)) if is_not_found(&e) => None,
                    Some(Err(e)) => return Err(e.into()),
                };
                if let Some(evidence) = stage.devices.get_mut(thing) {
                    evidence.issuer = issuer;
                }
            }
        }
        // The cloud's side: a connect seen with the reported certificate ...
        if let Some(log) = presence {
            for (thing, evidence) in &mut stage.devices {
                if evidence.confirmed.is_none()
                    && let Some(cert) = &evidence.reported
                    && log.saw(thing, cert)
                {
                    evidence.confirmed = Some(Confirmation::Connected);
                }
            }
        }
        // ... or, once every execution finished, the registry for those whose connect no
        // console saw (it happened while none was watching).
        let counts = StageCounts::of(stage);
        if counts.unfinished == 0 {
            let unconfirmed: Vec<(String, String)> = stage
                .devices
                .iter()
                .filter(|(_, e)| e.set_aside.is_none() && e.confirmed.is_none())
                .filter_map(|(t, e)| e.reported.clone().map(|c| (t.clone(), c)))
                .collect();
            let checks = fan_out(unconfirmed.clone(), DEVICE_CONCURRENCY, |(thing, cert)| {
                let backend = self.backend.clone();
                async move { registry_holds(&backend, &thing, &cert).await }
            })
            .await;
            for ((thing, _), held) in unconfirmed.iter().zip(checks) {
                if held && let Some(evidence) = stage.devices.get_mut(thing) {
                    evidence.confirmed = Some(Confirmation::Registry);
                }
            }
        }
        Ok(())
    }

    /// Starts stage `n` after the one before it passed. `how` for the audit log.
    ///
    /// # Errors
    /// [`RotationError::Refused`] when stage `n` is not the next, the one before has not
    /// passed, or the campaign is halted; [`RotationError::Frozen`].
    pub async fn promote(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        n: usize,
        how: &str,
    ) -> Result<(), RotationError> {
        self.frozen()?;
        match state.overall() {
            Overall::AwaitingPromotion => {}
            Overall::Halted => {
                return Err(RotationError::Refused(format!(
                    "campaign {} is halted; `fleetid rotate resume {} --reason ...` first",
                    state.id(),
                    state.id()
                )));
            }
            other => {
                return Err(RotationError::Refused(format!(
                    "campaign {} is {}; only a stage that passed its gate can be promoted",
                    state.id(),
                    overall_word(other)
                )));
            }
        }
        let next = state.next_pending();
        if next != Some(n) {
            return Err(RotationError::Refused(format!(
                "stage {n} is not the next stage of campaign {} (the next is {})",
                state.id(),
                next.map_or_else(|| "none".to_owned(), |n| n.to_string())
            )));
        }
        let now = self.now();
        if let Some(previous) = state.stages.get_mut(n - 2) {
            previous.phase = Phase::Promoted { at: now };
        }
        self.save(state)?;
        self.audit(
            "rotate-promote",
            state,
            &format!("stage {n} ({how})"),
            "promoted",
        )?;
        self.start_stage(permit, state, n).await
    }

    pub(super) fn set_halt(
        &mut self,
        state: &mut CampaignState,
        by: &str,
        reason: &str,
    ) -> Result<(), RotationError> {
        let at = self.now();
        state
            .history
            .push(format!("{at}: halted by {by}: {reason}"));
        state.halt = Some(Halt {
            at,
            by: by.to_owned(),
            reason: reason.to_owned(),
        });
        self.save(state)?;
        self.audit(
            "rotate-halt",
            state,
            &format!("by {by}: {reason}"),
            "halted",
        )
    }

    /// Halts the campaign: the running stage's jobs are cancelled (executions in progress
    /// finish: an agent never stops half-way) and nothing advances until `resume`.
    ///
    /// # Errors
    /// [`RotationError::Refused`] when it is not running; a failed cancel.
    pub async fn halt(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        by: &str,
        reason: &str,
    ) -> Result<(), RotationError> {
        if !matches!(
            state.overall(),
            Overall::Running | Overall::AwaitingPromotion
        ) {
            return Err(RotationError::Refused(format!(
                "campaign {} is {}; only a running campaign can be halted",
                state.id(),
                overall_word(state.overall())
            )));
        }
        self.set_halt(state, by, reason)?;
        self.cancel_running(permit, state, &format!("halted: {reason}"))
            .await
    }

    async fn cancel_running(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        comment: &str,
    ) -> Result<(), RotationError> {
        let comment: String = comment.chars().take(2028).collect();
        if let Some(anchor) = &state.anchor
            && matches!(anchor.phase, Phase::Running { .. })
        {
            let job = anchor.job.clone();
            match self.backend.describe_job(&job).await {
                Ok(progress) if !job_ended(&progress.status) => {
                    self.backend
                        .cancel_job(permit, &job, &comment, false)
                        .await?;
                }
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if let Some(anchor) = state.anchor.as_mut() {
                anchor.job_status = Some("CANCELED".into());
            }
            return self.save(state);
        }
        let Some(index) = state.current().map(|s| s.number - 1) else {
            return Ok(());
        };
        if !matches!(state.stages[index].phase, Phase::Running { .. }) {
            return Ok(());
        }
        for (job, _) in state.stages[index].attempts() {
            match self.backend.describe_job(&job).await {
                Ok(progress) if !job_ended(&progress.status) => {
                    self.backend
                        .cancel_job(permit, &job, &comment, false)
                        .await?;
                }
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        state.stages[index].job_status = Some("CANCELED".into());
        self.save(state)
    }

    /// Resumes a halted campaign. The person accepts the stage as it stands: devices that
    /// failed (or finished without the new certificate by both checks) are set aside and no
    /// longer count for the gate; devices the halt kept from running get a continuation job.
    ///
    /// # Errors
    /// [`RotationError::Refused`] when not halted; [`RotationError::Frozen`].
    pub async fn resume(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        reason: &str,
    ) -> Result<usize, RotationError> {
        self.frozen()?;
        if state.overall() != Overall::Halted {
            return Err(RotationError::Refused(format!(
                "campaign {} is {}, not halted",
                state.id(),
                overall_word(state.overall())
            )));
        }
        let now = self.now();
        let by = self.actor.os_user.clone();
        let mut again = Vec::new();
        // Halted in the anchor stage: the person accepts it as it stands. Devices that do not
        // hold the next anchor are set aside when their stage starts, never rotated onto it.
        if let Some(anchor) = state.anchor.as_mut()
            && !anchor.passed()
        {
            anchor.phase = Phase::Passed { at: now };
        }
        if let Some(index) = state.current().map(|s| s.number - 1) {
            let stage = &mut state.stages[index];
            let issuer = stage.issuer.clone();
            for (thing, evidence) in &mut stage.devices {
                let rotated = evidence.on_new()
                    && issuer
                        .as_ref()
                        .is_none_or(|ca| evidence.issuer.as_ref() == Some(ca));
                if evidence.set_aside.is_some() || rotated {
                    continue;
                }
                match evidence.execution {
                    None | Some(Execution::Canceled | Execution::Queued | Execution::Removed) => {
                        again.push(thing.clone());
                    }
                    Some(Execution::InProgress) => {}
                    Some(_) => {
                        evidence.set_aside = Some(format!(
                            "set aside at resume by {by} ({}): {reason}",
                            evidence.execution.map_or("", Execution::as_str)
                        ));
                    }
                }
            }
            if !again.is_empty() && matches!(stage.phase, Phase::Running { .. }) {
                stage.retries += 1;
                for thing in &again {
                    if let Some(e) = stage.devices.get_mut(thing) {
                        e.execution = None;
                    }
                }
            }
            if matches!(stage.phase, Phase::Running { .. } | Phase::Soaking { .. }) {
                stage.phase = Phase::Running { since: now };
            }
        }
        state.halt = None;
        state
            .history
            .push(format!("{now}: resumed by {by}: {reason}"));
        self.save(state)?;
        self.audit(
            "rotate-resume",
            state,
            &format!("{reason} ({} devices run again)", again.len()),
            "resumed",
        )?;
        if let Some(index) = state.current().map(|s| s.number - 1)
            && !again.is_empty()
            && state.stages[index].retries > 0
        {
            let (job, group) = state.stages[index]
                .attempts()
                .last()
                .cloned()
                .unwrap_or_default();
            let campaign = state.campaign.clone();
            let document = rotate_document(&campaign);
            self.launch(permit, &campaign, &job, &group, again.clone(), &document)
                .await?;
        }
        Ok(again.len())
    }

    /// Aborts the campaign: its running jobs are cancelled and nothing more happens to it.
    ///
    /// # Errors
    /// [`RotationError::Refused`] when it is aborted or finalized already.
    pub async fn abort(
        &mut self,
        permit: &MutationPermit,
        state: &mut CampaignState,
        reason: &str,
    ) -> Result<(), RotationError> {
        if matches!(state.overall(), Overall::Aborted | Overall::Finalized) {
            return Err(RotationError::Refused(format!(
                "campaign {} is {} already",
                state.id(),
                overall_word(state.overall())
            )));
        }
        self.cancel_running(permit, state, &format!("aborted: {reason}"))
            .await?;
        let at = self.now();
        state.aborted = Some(Halt {
            at,
            by: self.actor.os_user.clone(),
            reason: reason.to_owned(),
        });
        state
            .history
            .push(format!("{at}: aborted by {}: {reason}", self.actor.os_user));
        self.save(state)?;
        self.audit("rotate-abort", state, reason, "aborted")
    }

    /// Marks the campaign finalized (after its old certificates were retired).
    ///
    /// # Errors
    /// The store's.
    pub fn mark_finalized(
        &mut self,
        state: &mut CampaignState,
        detail: &str,
    ) -> Result<(), RotationError> {
        state.finalized = Some(self.now());
        self.save(state)?;
        self.audit("rotate-finalize", state, detail, "finalized")
    }

    /// Halts every running campaign of the environment (a freeze). Without a permit (a
    /// read-only session may freeze) the halts are recorded and the running jobs are left to
    /// finish: nothing is promoted, but nothing in AWS is changed either.
    ///
    /// # Errors
    /// The first failure; campaigns before it are halted.
    pub async fn halt_all(
        &mut self,
        permit: Option<&MutationPermit>,
        reason: &str,
    ) -> Result<Vec<String>, RotationError> {
        let mut halted = Vec::new();
        for mut state in self.all()? {
            if matches!(
                state.overall(),
                Overall::Running | Overall::AwaitingPromotion
            ) {
                match permit {
                    Some(permit) => self.halt(permit, &mut state, "freeze", reason).await?,
                    None => self.set_halt(&mut state, "freeze", reason)?,
                }
                halted.push(state.id().to_owned());
            }
        }
        Ok(halted)
    }

    /// Whether any campaign of the environment is running or waiting for promotion.
    ///
    /// # Errors
    /// The store's.
    pub fn any_running(store: &Store, environment: &str) -> Result<bool, RotationError> {
        Ok(stored(store, environment)?
            .iter()
            .any(|c| matches!(c.overall(), Overall::Running | Overall::AwaitingPromotion)))
    }
}

/// Every campaign of `environment` as the store holds it, oldest first: what reading needs
/// (no AWS, no clock), for the engine and for a console that only shows them.
///
/// # Errors
/// The store's, or [`RotationError::Corrupt`] for a row that does not read as a campaign.
pub fn stored(store: &Store, environment: &str) -> Result<Vec<CampaignState>, RotationError> {
    store
        .campaigns(environment)?
        .iter()
        .map(|(id, text)| parse(id, text))
        .collect()
}

/// The word people read for a campaign's overall state.
#[must_use]
pub fn overall_word(overall: Overall) -> &'static str {
    match overall {
        Overall::Running => "running",
        Overall::AwaitingPromotion => "waiting for promotion",
        Overall::Halted => "halted",
        Overall::Aborted => "aborted",
        Overall::Done => "done",
        Overall::Finalized => "finalized",
    }
}

fn parse(id: &str, text: &str) -> Result<CampaignState, RotationError> {
    serde_json::from_str(text).map_err(|e| RotationError::Corrupt {
        id: id.to_owned(),
        detail: e.to_string(),
    })
}

/// Whether a job's status is final: nothing left to cancel.
pub(super) fn job_ended(status: &str) -> bool {
    matches!(status, "CANCELED" | "COMPLETED" | "DELETION_IN_PROGRESS")
}

/// The SHA-256 fingerprint of the next CA's certificate, as the agents report it; refused
/// when the PEM is not a CA certificate.
pub(super) fn anchor_fingerprint(ca: &str, pem: &str) -> Result<String, RotationError> {
    let parsed = crate::backend::x509::parse_certificate_pem(pem)
        .map_err(|e| RotationError::Refused(format!("next_ca {ca}: {e}")))?;
    if !parsed.is_ca {
        return Err(RotationError::Refused(format!(
            "next_ca {ca}: its certificate is not a CA certificate"
        )));
    }
    Ok(parsed.sha256_fingerprint)
}

/// Whether `job` does not exist yet.
pub(super) async fn job_missing(backend: &AwsBackend, job: &str) -> Result<bool, RotationError> {
    match backend.describe_job(job).await {
        Ok(_) => Ok(false),
        Err(e) if is_not_found(&e) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// Whether the registry holds `cert` ACTIVE and attached to `thing`.
async fn registry_holds(backend: &AwsBackend, thing: &str, cert: &str) -> bool {
    let attached = backend
        .thing_principals(thing)
        .await
        .is_ok_and(|p| p.iter().any(|arn| arn.ends_with(&format!("/{cert}"))));
    attached
        && backend
            .describe_certificate(cert)
            .await
            .is_ok_and(|c| c.status == CertStatus::Active)
}

/// The agent's rotate document through the campaign's template.
fn rotate_document(campaign: &Campaign) -> String {
    JobDocument::Rotate(RotateJob {
        action: RotateAction::Rotate,
        template: Some(campaign.job.template.clone()),
        deadline_seconds: VERIFY_DEADLINE_SECONDS,
    })
    .to_value()
    .to_string()
}

/// The job of a stage (or a continuation, or the anchor stage): `document`, the rollout
/// rate, the per-device timeout, and an abort at the gate's failure share as a backstop when
/// no console watches.
fn job_request(
    campaign: &Campaign,
    job: &str,
    group_arn: &str,
    devices: usize,
    document: &str,
) -> JobRequest {
    let document = document.to_owned();
    // AWS applies the abort percentage to executed things; waiting for a tenth of the stage
    // (at least 10) keeps one early failure from cancelling a large stage.
    let min_executed = i32::try_from((devices / 10).max(10)).unwrap_or(i32::MAX);
    JobRequest {
        job_id: job.to_owned(),
        targets: vec![group_arn.to_owned()],
        document,
        max_per_minute: Some(campaign.job.rollout_per_minute),
        abort_failure_percent: Some(campaign.gate.max_failure.max(0.0)),
        abort_min_executed: min_executed,
        in_progress_timeout_minutes: Some(campaign.job.timeout_minutes),
    }
}

/// Per stage: devices by how far they are, for `status`.
#[must_use]
pub fn stage_summary(stage: &StageState) -> BTreeMap<&'static str, usize> {
    let counts = StageCounts::of(stage);
    let mut out = BTreeMap::new();
    for (execution, n) in &counts.executions {
        out.insert(execution.as_str(), *n);
    }
    out
}
