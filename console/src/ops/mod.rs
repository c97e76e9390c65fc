//! The one path for every mutation, the same for the TUI and the CLI:
//! **plan** ([`plan`]: the exact calls and the blast radius, a value) -> **confirm**
//! ([`confirm`]: only a matching answer makes a [`confirm::ConfirmedPlan`]) -> **apply**
//! ([`apply`]: journaled call by call, rate-limited, resumable) -> **verify** ([`verify`]:
//! read back, disconnect observed). Every step is written to the audit log ([`record`]).
//! Mutating backend calls need the context's [`crate::context::MutationPermit`].

pub mod apply;
pub mod command;
pub mod confirm;
pub mod fan_out;
pub mod plan;
pub mod presence_feed;
pub mod record;
pub mod rotation;
pub mod selector;
pub mod verify;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::backend::BackendError;
use crate::backend::aws::AwsBackend;
use crate::context::MutationPermit;
use crate::model::{CertId, FleetState, UnixTime};
use crate::store::audit::Decision;
use crate::store::{Store, StoreError};
use apply::{ApplyError, ApplyProgress, ApplySettings, CallResult};
use confirm::ConfirmedPlan;
use plan::{OpKind, Plan, PlanError};
use record::Actor;
use selector::{SelectError, Selector};
use verify::{AuthorityReport, DisconnectWatch, TargetReport};

/// The explicit deny-all policy a revoke or quarantine attaches.
pub const DENY_ALL_POLICY: &str = "fleetid-deny-all";
/// Its document: an explicit Deny on every IoT action beats every Allow.
pub const DENY_ALL_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;
/// The static thing group quarantined things are put in.
pub const QUARANTINE_GROUP: &str = "fleetid-quarantine";
/// Mutating calls per second unless `--rate` says otherwise: the lowest default
/// control-plane rate among the calls a revoke makes (UpdateCertificate, 10 per second in
/// AWS IoT Core's quotas; see docs/ops.md).
pub const DEFAULT_CALLS_PER_SECOND: f64 = 10.0;

/// Why an operation stopped before it could report per target.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The selection names nothing (or nothing that exists).
    #[error(transparent)]
    Select(#[from] SelectError),
    /// The plan cannot be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// AWS could not be read while planning.
    #[error("planning: {0}")]
    Backend(#[from] BackendError),
    /// The journal or the audit log could not be written.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An applied operation, per target: what `--output json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    /// The operation's id.
    pub op_id: String,
    /// The environment.
    pub environment: String,
    /// What it did.
    pub kind: OpKind,
    /// The plan's one-line summary.
    pub summary: String,
    /// Calls shared by all targets (policy, group).
    pub preparations: Vec<CallResult>,
    /// The CA a CA operation changed, read back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<AuthorityReport>,
    /// Per target.
    pub targets: Vec<TargetReport>,
    /// Every call's effect is in place.
    pub applied: bool,
    /// Every target read back as intended (and disconnected where it was to be).
    pub verified: bool,
    /// Set when the endpoint cannot cut sessions (moto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_cut: Option<String>,
}

impl OpReport {
    /// `verified`, `applied` (not verified) or `partial`: the journal's final state.
    #[must_use]
    pub fn state(&self) -> &'static str {
        match (self.applied, self.verified) {
            (true, true) => "verified",
            (true, false) => "applied",
            (false, _) => "partial",
        }
    }
}

/// Plans `kind` on what `selectors` name, from the model: certificates, or for a CA operation
/// the one `--ca`. Reads one certificate from AWS for the account's ARN prefix, and for a
/// claim certificate its registrations from CloudWatch.
///
/// # Errors
/// [`OpsError`] when the selection names nothing or the plan cannot be made.
pub async fn plan_operation(
    backend: &AwsBackend,
    state: &FleetState,
    environment: &str,
    kind: OpKind,
    selectors: &[Selector],
    now: UnixTime,
) -> Result<Plan, OpsError> {
    if kind.on_ca() {
        let [Selector::Ca(pattern)] = selectors else {
            return Err(
                SelectError::NotFound(format!("{} takes exactly one --ca", kind.verb())).into(),
            );
        };
        let ca = state
            .resolve_ca(pattern)
            .map_err(|e| SelectError::NotFound(e.to_string()))?;
        // The CA as AWS has it now: the model may not list it (an endpoint without
        // ListCACertificates) or have it stale.
        let read = backend
            .describe_ca(&ca.to_string())
            .await
            .map_err(|e| match e {
                BackendError::Call(f) if f.code.as_deref() == Some("ResourceNotFoundException") => {
                    OpsError::Plan(PlanError::UnknownCa(ca.to_string()))
                }
                e => OpsError::Backend(e),
            })?;
        // What it signed: the model's link (by key id) when the model knows the CA, else
        // AWS's own list of the certificates registered under it.
        let signed: Vec<CertId> = if state.cas().contains_key(&ca) {
            state.certificates_of_ca(ca).map(|c| c.record.id).collect()
        } else {
            backend
                .certificates_by_ca(&ca.to_string())
                .await?
                .iter()
                .filter_map(|id| CertId::parse(id).ok())
                .collect()
        };
        let prefix = match signed.first() {
            Some(first) => arn_prefix(backend, &first.to_string()).await?,
            None => String::new(),
        };
        let subject = plan::CaSubject {
            id: ca,
            read,
            signed,
        };
        return Ok(plan::plan_ca(
            state,
            environment,
            kind,
            &subject,
            &prefix,
            now,
        )?);
    }
    let ids = selector::resolve(state, selectors, now)?;
    let mut plan = plan_ids(backend, state, environment, kind, &ids, now).await?;
    if kind == OpKind::ClaimDisable {
        plan.evidence = claim_evidence(backend, &plan, now).await;
    }
    Ok(plan)
}

/// Hours of CloudWatch a claim certificate's plan shows.
const CLAIM_EVIDENCE_HOURS: i64 = 24;

async fn claim_evidence(backend: &AwsBackend, plan: &Plan, now: UnixTime) -> Vec<String> {
    let mut evidence = Vec::new();
    for target in &plan.targets {
        let id = &target.certificate_id;
        let short = &id[..id.len().min(12)];
        evidence.push(
            match backend
                .claim_registrations(id, CLAIM_EVIDENCE_HOURS, now.0)
                .await
            {
                Ok(n) => format!(
                    "CloudWatch: claim certificate {short} registered {:.0} thing(s) in the last \
                     {CLAIM_EVIDENCE_HOURS} h, {:.0} in the last hour \
                     (ApproximateNumberOfThingsRegistered)",
                    n.window, n.last_hour
                ),
                Err(e) => format!(
                    "CloudWatch: registrations by claim certificate {short} could not be read: {e}"
                ),
            },
        );
    }
    evidence
}

async fn arn_prefix(backend: &AwsBackend, certificate_id: &str) -> Result<String, OpsError> {
    let arn = backend.describe_certificate(certificate_id).await?.arn;
    Ok(arn.strip_suffix(certificate_id).unwrap_or("").to_owned())
}

/// [`plan_operation`] on certificate ids already resolved (the TUI's marks).
///
/// # Errors
/// As [`plan_operation`].
pub async fn plan_ids(
    backend: &AwsBackend,
    state: &FleetState,
    environment: &str,
    kind: OpKind,
    ids: &[CertId],
    now: UnixTime,
) -> Result<Plan, OpsError> {
    let first = ids.first().ok_or(PlanError::Empty)?.to_string();
    let prefix = arn_prefix(backend, &first).await?;
    Ok(plan::plan(state, environment, kind, ids, &prefix, now)?)
}

/// Applies a confirmed plan and verifies it; records the confirmation and the result in the
/// audit log and the final state in the journal. `progress` receives call counts.
///
/// # Errors
/// [`OpsError`] when the journal cannot be written (nothing is called then).
pub async fn execute(
    backend: &AwsBackend,
    permit: &MutationPermit,
    confirmed: &ConfirmedPlan,
    mut store: Store,
    actor: &Actor,
    settings: &ApplySettings,
    progress: mpsc::UnboundedSender<ApplyProgress>,
) -> Result<OpReport, OpsError> {
    let plan = confirmed.plan();
    let targets: Vec<String> = plan
        .targets
        .iter()
        .map(|t| t.certificate_id.clone())
        .collect();
    actor.record(
        &mut store,
        plan.kind.as_str(),
        targets.clone(),
        &format!("{}: {}", plan.id, plan.summary()),
        Decision::Confirmed,
        &format!("applying ({})", confirmed.how()),
    )?;
    let path = store.path().to_owned();
    // Subscribed before the first call, so no disconnect is missed.
    let watch = if plan.kind.disconnects() {
        DisconnectWatch::start(backend).await
    } else {
        None
    };
    let applied =
        apply::apply(backend, permit, confirmed, store, actor, settings, progress).await?;
    let reports = verify::verify(
        backend,
        plan,
        &applied,
        watch.as_ref(),
        settings.disconnect_wait,
    )
    .await;
    drop(watch);
    let authority = verify::verify_authority(backend, plan, &applied).await;
    let preparations: Vec<CallResult> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.target.is_none())
        .filter_map(|(i, _)| applied.calls[i].clone())
        .collect();
    let session_cut = applied
        .calls
        .iter()
        .flatten()
        .any(|c| c.result == "not supported by this endpoint")
        .then(|| "session cut: not supported by this endpoint".to_owned());
    let report = OpReport {
        op_id: plan.id.clone(),
        environment: plan.environment.clone(),
        kind: plan.kind,
        summary: plan.summary(),
        preparations,
        verified: applied.complete()
            && reports.iter().all(|r| r.verified)
            && authority.as_ref().is_none_or(|a| a.verified),
        authority,
        applied: applied.complete(),
        targets: reports,
        session_cut,
    };
    let mut store = Store::open(&path)?;
    store.set_op_state(&plan.id, report.state(), UnixTime::now())?;
    let done = report.targets.iter().filter(|t| t.verified).count();
    actor.record(
        &mut store,
        plan.kind.as_str(),
        targets,
        &plan.id,
        Decision::Confirmed,
        &format!(
            "{}: {done} of {} target(s) verified",
            report.state(),
            report.targets.len()
        ),
    )?;
    Ok(report)
}

/// The plan of a journaled operation, to resume it.
///
/// # Errors
/// [`OpsError::Store`] when it cannot be read; a plan that does not decode is a store error.
pub fn journaled(store: &Store, id: &str) -> Result<Option<ConfirmedPlan>, OpsError> {
    let Some(row) = store.op(id)? else {
        return Ok(None);
    };
    let plan: Plan = serde_json::from_str(&row.plan).map_err(|e| {
        OpsError::Store(StoreError::Corrupt {
            table: "ops",
            environment: row.environment.clone(),
            detail: format!("operation {id}: {e}"),
        })
    })?;
    Ok(Some(ConfirmedPlan::resumed(plan)))
}
