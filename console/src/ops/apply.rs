//! Apply: the confirmed plan's calls, in order, each journaled before it is sent and after it
//! answered (with the AWS request id). Preparations (the deny-all policy, the quarantine
//! group) run first; then the targets, several at once, each target's calls in order, each
//! AWS API under a rate limit of its own (AWS IoT Core's quotas are per API, so a revoke's
//! four APIs proceed side by side). Throttling and 5xx answers are retried by the SDK (adaptive mode:
//! exponential backoff with jitter, client-side rate limiting) before a call counts as failed.
//!
//! Resuming an operation skips every call the journal has as done; a call journaled as
//! started with no result (the process died while it was in flight) is first checked by
//! reading AWS back, and made only when its effect is not there — so no call is made twice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use super::confirm::ConfirmedPlan;
use super::plan::{Call, Plan};
use super::record::Actor;
use crate::backend::aws::AwsBackend;
use crate::backend::{BackendError, Receipt, SessionCut};
use crate::context::MutationPermit;
use crate::model::{CaStatus, CertStatus, UnixTime};
use crate::store::audit::Decision;
use crate::store::journal::{CallRow, CallState};
use crate::store::{Store, StoreError};

/// How fast and how wide apply goes.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Calls per second at most to each mutating AWS API, across all targets.
    pub calls_per_second: f64,
    /// Targets worked on at once.
    pub concurrency: usize,
    /// How long verify waits for the disconnects to be observed.
    pub disconnect_wait: Duration,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            calls_per_second: super::DEFAULT_CALLS_PER_SECOND,
            concurrency: 16,
            disconnect_wait: Duration::from_secs(10),
        }
    }
}

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallResult {
    /// Index of the step in the plan.
    pub step: usize,
    /// The IAM action.
    pub operation: &'static str,
    /// `done`, `done earlier` (resumed), `already in effect` (checked on resume), `failed`,
    /// `not connected`, `not supported by this endpoint`, `not reached`.
    pub result: String,
    /// The AWS request id, when known.
    pub request_id: Option<String>,
    /// Error or note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl CallResult {
    /// Whether the call's effect is in place (or the call had nothing to do).
    #[must_use]
    pub fn ok(&self) -> bool {
        !matches!(self.result.as_str(), "failed" | "not reached")
    }
}

/// Progress while applying: calls finished out of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyProgress {
    /// Calls finished (done or failed).
    pub finished: usize,
    /// Calls failed.
    pub failed: usize,
    /// Calls in the plan.
    pub total: usize,
}

/// The calls of one apply, per step (`None`: not reached), and when each target's first call
/// started.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Per step of the plan.
    pub calls: Vec<Option<CallResult>>,
    /// Per target: when its first call was sent (for time-to-effect).
    pub started: Vec<Option<Instant>>,
}

impl Applied {
    /// Whether every call's effect is in place.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.calls
            .iter()
            .all(|c| c.as_ref().is_some_and(CallResult::ok))
    }
}

/// Why apply could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The journal could not be written: nothing is called without it.
    #[error("the operations journal: {0}")]
    Journal(#[from] StoreError),
    /// The plan could not be encoded for the journal.
    #[error("encoding the plan: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Everything the tasks of one apply share.
struct Shared {
    actor: Actor,
    backend: AwsBackend,
    permit: MutationPermit,
    plan: Plan,
    journal: Mutex<Store>,
    limiters: std::collections::HashMap<&'static str, RateLimiter>,
    earlier: Vec<Option<CallRow>>,
    progress: mpsc::UnboundedSender<ApplyProgress>,
    counts: Mutex<(usize, usize)>,
}

/// Applies `confirmed`: journals it (unless the journal has it already: a resume), then
/// makes its calls. Returns per step what happened; a failed call stops the rest of its
/// target's calls but not the other targets.
///
/// # Errors
/// [`ApplyError`] when the journal cannot be written (no call is made without it).
pub async fn apply(
    backend: &AwsBackend,
    permit: &MutationPermit,
    confirmed: &ConfirmedPlan,
    mut store: Store,
    actor: &Actor,
    settings: &ApplySettings,
    progress: mpsc::UnboundedSender<ApplyProgress>,
) -> Result<Applied, ApplyError> {
    let plan = confirmed.plan().clone();
    let now = UnixTime::now();
    if store.op(&plan.id)?.is_none() {
        let json = serde_json::to_string(&plan)?;
        store.begin_op(&plan.id, &plan.environment, plan.kind.as_str(), &json, now)?;
    }
    let mut earlier: Vec<Option<CallRow>> = vec![None; plan.steps.len()];
    for row in store.op_calls(&plan.id)? {
        if let Some(slot) = earlier.get_mut(row.step) {
            *slot = Some(row);
        }
    }
    let targets = plan.targets.len();
    let shared = Arc::new(Shared {
        actor: actor.clone(),
        backend: backend.clone(),
        permit: permit.clone(),
        journal: Mutex::new(store),
        limiters: plan
            .steps
            .iter()
            .map(|s| {
                (
                    s.call.operation(),
                    RateLimiter::new(settings.calls_per_second),
                )
            })
            .collect(),
        earlier,
        progress,
        counts: Mutex::new((0, 0)),
        plan,
    });
    let mut calls: Vec<Option<CallResult>> = vec![None; shared.plan.steps.len()];
    let mut started: Vec<Option<Instant>> = vec![None; targets];
    // Preparations first, in order; the targets need them.
    let prep: Vec<usize> = steps_of(&shared.plan, None);
    let (prep_results, _) = run_steps(Arc::clone(&shared), prep).await;
    let prep_ok = prep_results.iter().all(|(_, r)| r.ok());
    for (step, result) in prep_results {
        calls[step] = Some(result);
    }
    if prep_ok {
        let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for target in 0..targets {
            let shared = Arc::clone(&shared);
            let slots = Arc::clone(&slots);
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let steps = steps_of(&shared.plan, Some(target));
                let (results, first) = run_steps(shared, steps).await;
                (target, results, first)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((target, results, first)) = joined {
                started[target] = first;
                for (step, result) in results {
                    calls[step] = Some(result);
                }
            }
        }
    }
    for (step, slot) in calls.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(CallResult {
                step,
                operation: shared.plan.steps[step].call.operation(),
                result: "not reached".into(),
                request_id: None,
                detail: None,
            });
        }
    }
    Ok(Applied { calls, started })
}

fn steps_of(plan: &Plan, target: Option<usize>) -> Vec<usize> {
    plan.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.target == target)
        .map(|(i, _)| i)
        .collect()
}

/// Runs `steps` in order; stops after the first failure (the rest stay not reached).
async fn run_steps(
    shared: Arc<Shared>,
    steps: Vec<usize>,
) -> (Vec<(usize, CallResult)>, Option<Instant>) {
    let mut out = Vec::new();
    let mut first = None;
    for step in steps {
        let call = &shared.plan.steps[step].call;
        let earlier = shared.earlier[step].as_ref();
        let result = match earlier.map(|row| row.state) {
            Some(CallState::Done) => CallResult {
                step,
                operation: call.operation(),
                result: "done earlier".into(),
                request_id: earlier.and_then(|r| r.request_id.clone()),
                detail: None,
            },
            Some(CallState::Started) if in_effect(&shared.backend, call).await => {
                journal_result(
                    &shared,
                    step,
                    CallState::Done,
                    None,
                    "found in effect on resume",
                );
                CallResult {
                    step,
                    operation: call.operation(),
                    result: "already in effect".into(),
                    request_id: None,
                    detail: None,
                }
            }
            _ => {
                if let Some(limiter) = shared.limiters.get(call.operation()) {
                    limiter.wait().await;
                }
                first.get_or_insert_with(Instant::now);
                call_now(&shared, step, call).await
            }
        };
        let ok = result.ok();
        report(&shared, ok);
        out.push((step, result));
        if !ok {
            break;
        }
    }
    (out, first)
}

/// Makes one call now: its journal row first (no call without it), then the call, then its
/// result in the journal and the audit log.
async fn call_now(shared: &Shared, step: usize, call: &Call) -> CallResult {
    let started = shared
        .journal
        .lock()
        .map_err(|_| "poisoned".to_owned())
        .and_then(|mut j| {
            j.call_started(&shared.plan.id, step, UnixTime::now())
                .map_err(|e| e.to_string())
        });
    if let Err(e) = started {
        return CallResult {
            step,
            operation: call.operation(),
            result: "failed".into(),
            request_id: None,
            detail: Some(format!("not called: the journal could not be written: {e}")),
        };
    }
    let (state, request_id, detail, text) = match make(&shared.backend, &shared.permit, call).await
    {
        Ok((text, receipt)) => (CallState::Done, receipt.request_id, None, text.to_owned()),
        Err(e) => (
            CallState::Failed,
            None,
            Some(e.to_string()),
            "failed".into(),
        ),
    };
    journal_result(
        shared,
        step,
        state,
        request_id.as_deref(),
        detail.as_deref().unwrap_or(&text),
    );
    CallResult {
        step,
        operation: call.operation(),
        result: text,
        request_id,
        detail,
    }
}

fn journal_result(
    shared: &Shared,
    step: usize,
    state: CallState,
    request_id: Option<&str>,
    detail: &str,
) {
    let Ok(mut journal) = shared.journal.lock() else {
        return;
    };
    let plan_step = &shared.plan.steps[step];
    let targets = match plan_step.target.and_then(|t| shared.plan.targets.get(t)) {
        Some(target) => vec![target.certificate_id.clone()],
        None => Vec::new(),
    };
    let outcome = match request_id {
        Some(id) => format!("{}: {detail} (request {id})", state_word(state)),
        None => format!("{}: {detail}", state_word(state)),
    };
    let entry = shared.actor.entry(
        plan_step.call.operation(),
        targets,
        &shared.plan.id,
        Decision::Confirmed,
        &outcome,
    );
    let now = UnixTime::now();
    // The result and its audit entry in one transaction; should the audit log fail where the
    // journal would not, the journal alone is written: it is what resume needs.
    if journal
        .finish_call_recorded(&shared.plan.id, step, state, request_id, detail, now, entry)
        .is_err()
    {
        let _ = journal.call_finished(&shared.plan.id, step, state, request_id, detail, now);
    }
}

fn state_word(state: CallState) -> &'static str {
    match state {
        CallState::Started => "started",
        CallState::Done => "done",
        CallState::Failed => "failed",
    }
}

fn report(shared: &Shared, ok: bool) {
    if let Ok(mut counts) = shared.counts.lock() {
        counts.0 += 1;
        counts.1 += usize::from(!ok);
        let _ = shared.progress.send(ApplyProgress {
            finished: counts.0,
            failed: counts.1,
            total: shared.plan.steps.len(),
        });
    }
}

/// Makes one call; `Ok` with what to report and its receipt.
async fn make(
    backend: &AwsBackend,
    permit: &MutationPermit,
    call: &Call,
) -> Result<(&'static str, Receipt), BackendError> {
    let done = |receipt| ("done", receipt);
    match call {
        Call::CreatePolicy { policy, document } => {
            match backend.create_policy(permit, policy, document).await {
                Ok(created) => Ok(done(created.receipt)),
                Err(BackendError::Call(f))
                    if f.code.as_deref() == Some("ResourceAlreadyExistsException") =>
                {
                    Ok((
                        "existed",
                        Receipt {
                            request_id: f.request_id,
                        },
                    ))
                }
                Err(e) => Err(e),
            }
        }
        Call::CreateThingGroup { group } => {
            backend.create_thing_group(permit, group).await.map(done)
        }
        Call::AttachPolicy { policy, target } => backend
            .attach_policy(permit, policy, target)
            .await
            .map(done),
        Call::DetachPolicy { policy, target } => backend
            .detach_policy(permit, policy, target)
            .await
            .map(done),
        Call::UpdateCertificate {
            certificate_id,
            status,
        } => backend
            .update_certificate_status(permit, certificate_id, *status)
            .await
            .map(done),
        Call::AddThingToThingGroup { thing, group } => backend
            .add_thing_to_group(permit, thing, group)
            .await
            .map(done),
        Call::RemoveThingFromThingGroup { thing, group } => backend
            .remove_thing_from_group(permit, thing, group)
            .await
            .map(done),
        Call::UpdateCaCertificate {
            ca_certificate_id,
            deactivate,
            disable_auto_registration,
        } => backend
            .update_ca_certificate(
                permit,
                ca_certificate_id,
                *deactivate,
                *disable_auto_registration,
            )
            .await
            .map(done),
        Call::DeleteConnection { client_id } => {
            Ok(match backend.delete_connection(permit, client_id).await? {
                SessionCut::Cut(receipt) => ("done", receipt),
                SessionCut::NotConnected(receipt) => ("not connected", receipt),
                SessionCut::NotSupported(_) => {
                    ("not supported by this endpoint", Receipt::default())
                }
            })
        }
    }
}

/// Whether a call journaled as started (no result) already took effect, by reading AWS.
/// A DeleteConnection is never repeated: the session it was meant to cut is checked by
/// verify.
async fn in_effect(backend: &AwsBackend, call: &Call) -> bool {
    match call {
        Call::CreatePolicy { .. } | Call::CreateThingGroup { .. } => false,
        Call::AttachPolicy { policy, target } => backend
            .attached_policies(target)
            .await
            .is_ok_and(|p| p.contains(policy)),
        Call::DetachPolicy { policy, target } => backend
            .attached_policies(target)
            .await
            .is_ok_and(|p| !p.contains(policy)),
        Call::UpdateCertificate {
            certificate_id,
            status,
        } => backend
            .describe_certificate(certificate_id)
            .await
            .is_ok_and(|c| c.status == CertStatus::from(*status)),
        Call::AddThingToThingGroup { thing, group } => backend
            .thing_groups_of(thing)
            .await
            .is_ok_and(|g| g.contains(group)),
        Call::RemoveThingFromThingGroup { thing, group } => backend
            .thing_groups_of(thing)
            .await
            .is_ok_and(|g| !g.contains(group)),
        Call::UpdateCaCertificate {
            ca_certificate_id,
            deactivate,
            disable_auto_registration,
        } => backend
            .describe_ca(ca_certificate_id)
            .await
            .is_ok_and(|ca| {
                (!deactivate || ca.status == CaStatus::Inactive)
                    && (!disable_auto_registration || !ca.auto_registration)
            }),
        Call::DeleteConnection { .. } => true,
    }
}

/// At most `per_second` calls per second: each caller gets the next free slot.
struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    fn new(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            super::DEFAULT_CALLS_PER_SECOND
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}
