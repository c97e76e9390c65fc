//! The TUI's confirmed mutations, handed to the ops engine on the model thread: the plan is
//! made from the model (its count must be the one the dialog showed and the operator typed),
//! then applied and verified in a task of its own while the screen keeps answering, with a
//! progress bar and the result as a notice; the statuses read back go to the model, so the
//! rows show them at once. Offline, or read-only, nothing is called. Campaign steps go to the
//! campaign follower ([`super::campaigns`]), but for finalize, which retires the old
//! certificates through the ops engine here and then marks the campaign finalized.

use crate::safe_text::SafeText;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::mpsc as tokio_mpsc;

use crate::context::Context;
use crate::model::{CertId, FleetState, FleetUpdate};
use crate::ops::OpReport;
use crate::ops::apply::{ApplyProgress, ApplySettings};
use crate::ops::plan::OpKind;
use crate::ops::rotation::command::{finalization, finalize_refusal};
use crate::ops::rotation::engine::Engine;
use crate::ops::{command, confirm};
use crate::tui::data::{
    Confirmable, MutationRequest, OpProgress, ResumeRequest, RotationAction, RotationStep,
    TuiUpdate,
};

/// What the ops engine needs on the model thread: the context, and the way back to the
/// model for what an operation read back.
pub struct Ops {
    /// The session's context.
    pub ctx: Arc<Context>,
    /// Into the model thread's pump.
    pub results: tokio_mpsc::UnboundedSender<FleetUpdate>,
    /// Into the campaign follower.
    pub steps: tokio_mpsc::UnboundedSender<RotationStep>,
}

/// Starts what the user confirmed; returns the notice to show now. Must run inside the
/// context's runtime (the model thread's pump).
pub fn start(
    ops: &Ops,
    state: &FleetState,
    request: Confirmable,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> String {
    match request {
        Confirmable::Mutation(request) => mutation(ops, state, &request, updates),
        Confirmable::Step { step: s, .. } => step(ops, state, s, updates),
        Confirmable::Resume(resume) => self::resume(ops, &resume, updates),
    }
}

/// Plans `request` on `state` and starts applying it.
fn mutation(
    ops: &Ops,
    state: &FleetState,
    request: &MutationRequest,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> String {
    let ids: Vec<CertId> = request
        .things
        .iter()
        .filter_map(|t| state.thing(t.raw()))
        .flat_map(|t| t.certificates)
        .collect();
    launch(
        ops,
        state,
        request.kind,
        &ids,
        request.radius.certs,
        updates,
        None,
    )
}

/// A campaign step confirmed in the rotation view: finalize is planned and applied here,
/// the others go to the campaign follower.
fn step(
    ops: &Ops,
    state: &FleetState,
    step: RotationStep,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> String {
    let RotationAction::Finalize { certificates } = step.action else {
        let text = format!("{}: under way", step.describe());
        return match ops.steps.send(step) {
            Ok(()) => text,
            Err(_) => "the campaign follower stopped; nothing was changed".into(),
        };
    };
    let ctx = &ops.ctx;
    let handle = tokio::runtime::Handle::current();
    let loaded = tokio::task::block_in_place(|| {
        handle.block_on(async {
            let backend = ctx.aws().await.map_err(|e| e.to_string())?;
            let mut store = ctx.store().map_err(|e| e.to_string())?;
            let actor = command::actor(ctx).await;
            Engine::new(backend, &mut store, &actor, ctx.clock())
                .load(&step.campaign)
                .map_err(|e| e.to_string())
        })
    });
    let campaign = match loaded {
        Ok(campaign) => campaign,
        Err(e) => return format!("finalize not started: {e}"),
    };
    if let Some(refusal) = finalize_refusal(&campaign, ctx.now().0) {
        return refusal;
    }
    let ids: Vec<CertId> = finalization(&campaign)
        .retire
        .iter()
        .filter_map(|(_, old)| CertId::parse(old).ok())
        .collect();
    if ids.is_empty() {
        return format!("campaign {}: no old certificate to retire", step.campaign);
    }
    launch(
        ops,
        state,
        OpKind::Retire,
        &ids,
        certificates,
        updates,
        Some(step.campaign),
    )
}

/// Plans `kind` on `ids`, checks the plan has the count the dialog showed, and applies and
/// verifies it in a task of its own; a finalize's campaign is marked finalized once every
/// target is verified. Returns the notice to show now.
fn launch(
    ops: &Ops,
    state: &FleetState,
    kind: OpKind,
    ids: &[CertId],
    shown: u64,
    updates: &mpsc::SyncSender<TuiUpdate>,
    finalizes: Option<Box<str>>,
) -> String {
    let ctx = &ops.ctx;
    let Ok(permit) = ctx.mutation_permit() else {
        return "refused: this session is read-only; nothing was changed".into();
    };
    let handle = tokio::runtime::Handle::current();
    let planned = tokio::task::block_in_place(|| {
        handle.block_on(async {
            let backend = ctx.aws().await.map_err(|e| e.to_string())?;
            crate::ops::plan_ids(backend, state, &ctx.env().name, kind, ids, ctx.now())
                .await
                .map_err(|e| e.to_string())
        })
    });
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => return format!("{} not started: {e}", kind.verb()),
    };
    let confirmed = match confirm::confirm_dialog(plan, shown) {
        Ok(confirmed) => confirmed,
        Err(refusal) => return refusal.to_string(),
    };
    apply(ops, permit, confirmed, updates, finalizes)
}

/// An operation the journal left unfinished, applied again from where it stopped (the calls
/// done are not made twice) and verified.
fn resume(ops: &Ops, resume: &ResumeRequest, updates: &mpsc::SyncSender<TuiUpdate>) -> String {
    let ctx = &ops.ctx;
    let Ok(permit) = ctx.mutation_permit() else {
        return "refused: this session is read-only; nothing was changed".into();
    };
    let journaled = ctx
        .store()
        .map_err(|e| e.to_string())
        .and_then(|store| crate::ops::journaled(&store, &resume.op).map_err(|e| e.to_string()));
    match journaled {
        Ok(Some(confirmed)) if confirmed.plan().environment == ctx.env().name => {
            apply(ops, permit, confirmed, updates, None)
        }
        Ok(Some(_)) => format!("operation {} belongs to another environment", resume.op),
        Ok(None) => format!("no operation {} in the journal", resume.op),
        Err(e) => format!("resume not started: {e}"),
    }
}

/// Applies and verifies `confirmed` in a task of its own, with the progress bar and the
/// result as a notice; a finalize's campaign is marked finalized once every target is
/// verified.
fn apply(
    ops: &Ops,
    permit: crate::context::MutationPermit,
    confirmed: crate::ops::confirm::ConfirmedPlan,
    updates: &mpsc::SyncSender<TuiUpdate>,
    finalizes: Option<Box<str>>,
) -> String {
    let handle = tokio::runtime::Handle::current();
    let summary = confirmed.plan().summary();
    let ctx = Arc::clone(&ops.ctx);
    let results = ops.results.clone();
    let updates = updates.clone();
    handle.spawn(async move {
        let (tx, mut rx) = tokio_mpsc::unbounded_channel::<ApplyProgress>();
        let progress_updates = updates.clone();
        let verb = confirmed.plan().kind.verb();
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                // A full channel drops a step of the bar, never the final notice.
                let _ = progress_updates.try_send(TuiUpdate::Progress(OpProgress {
                    verb,
                    finished: p.finished,
                    failed: p.failed,
                    total: p.total,
                }));
            }
        });
        let result = async {
            let backend = ctx.aws().await.map_err(|e| e.to_string())?;
            let store = ctx.store().map_err(|e| e.to_string())?;
            let actor = command::actor(&ctx).await;
            crate::ops::execute(
                backend,
                &permit,
                &confirmed,
                store,
                &actor,
                &ApplySettings::default(),
                tx,
            )
            .await
            .map_err(|e| e.to_string())
        }
        .await;
        let notice = match result {
            Ok(report) => {
                let _ = results.send(read_back(&report));
                let mut notice = report_line(&report);
                if let Some(id) = finalizes {
                    notice.push_str("; ");
                    notice.push_str(&mark_finalized(&ctx, &id, &report).await);
                }
                notice
            }
            Err(e) => format!("{verb} failed: {e}"),
        };
        let _ = updates.send(TuiUpdate::Notice(SafeText::from_string(notice)));
    });
    format!("applying: {summary}")
}

/// `op-… verified: 3/3 verified, disconnected in 40 ms`.
fn report_line(report: &OpReport) -> String {
    let effect: Vec<String> = report
        .targets
        .iter()
        .filter_map(|t| t.time_to_effect_ms)
        .map(|ms| format!("{ms} ms"))
        .collect();
    format!(
        "{} {}: {}/{} verified, disconnected in {}",
        report.op_id,
        report.state(),
        report.targets.iter().filter(|t| t.verified).count(),
        report.targets.len(),
        if effect.is_empty() {
            "-".to_owned()
        } else {
            effect.join(", ")
        }
    )
}

/// Marks campaign `id` finalized once every old certificate was retired and verified.
async fn mark_finalized(ctx: &Context, id: &str, report: &OpReport) -> String {
    let verified = report.targets.iter().filter(|t| t.verified).count();
    if verified < report.targets.len() {
        return format!(
            "campaign {id} not marked finalized: {verified}/{} verified; resume the operation",
            report.targets.len()
        );
    }
    let marked = async {
        let backend = ctx.aws().await.map_err(|e| e.to_string())?;
        let mut store = ctx.store().map_err(|e| e.to_string())?;
        let actor = command::actor(ctx).await;
        let mut engine = Engine::new(backend, &mut store, &actor, ctx.clock());
        let mut campaign = engine.load(id).map_err(|e| e.to_string())?;
        let detail = format!(
            "{} old certificate(s) retired, {} device(s) still on their old one",
            report.targets.len(),
            finalization(&campaign).left.len()
        );
        engine
            .mark_finalized(&mut campaign, &detail)
            .map_err(|e| e.to_string())
    }
    .await;
    match marked {
        Ok(()) => format!("campaign {id} finalized"),
        Err(e) => format!("campaign {id} not marked finalized: {e}"),
    }
}

/// The statuses an operation read back, as a model update.
fn read_back(report: &OpReport) -> FleetUpdate {
    FleetUpdate::StatusChanged(
        report
            .targets
            .iter()
            .filter_map(|t| {
                let id = CertId::parse(&t.certificate_id).ok()?;
                Some((id, t.status_after?))
            })
            .collect(),
    )
}
