//! The TUI's confirmed mutations, handed to the ops engine on the model thread: the plan is
//! made from the model (its count must be the one the dialog showed and the operator typed),
//! then applied and verified in a task of its own while the screen keeps answering, with a
//! progress bar and the result as a notice; the statuses read back go to the model, so the
//! rows show them at once. Offline, or read-only, nothing is called.

use crate::safe_text::SafeText;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::mpsc as tokio_mpsc;

use crate::context::Context;
use crate::model::{CertId, CertStatus, FleetState, FleetUpdate};
use crate::ops::OpReport;
use crate::ops::apply::{ApplyProgress, ApplySettings};
use crate::ops::{command, confirm};
use crate::tui::data::{MutationRequest, OpProgress, TuiUpdate};

/// What the ops engine needs on the model thread: the context, and the way back to the
/// model for what an operation read back.
pub struct Ops {
    /// The session's context.
    pub ctx: Arc<Context>,
    /// Into the model thread's pump.
    pub results: tokio_mpsc::UnboundedSender<FleetUpdate>,
}

/// Plans `request` on `state` and starts applying it; returns the notice to show now.
/// Must run inside the context's runtime (the model thread's pump).
pub fn start(
    ops: &Ops,
    state: &FleetState,
    request: &MutationRequest,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> String {
    let ctx = &ops.ctx;
    let Ok(permit) = ctx.mutation_permit() else {
        return "refused: this session is read-only; nothing was changed".into();
    };
    let kind = request.kind;
    let ids: Vec<CertId> = request
        .things
        .iter()
        .filter_map(|t| state.thing(t.raw()))
        .flat_map(|t| t.certificates)
        .collect();
    let handle = tokio::runtime::Handle::current();
    let planned = tokio::task::block_in_place(|| {
        handle.block_on(async {
            let backend = ctx.aws().await.map_err(|e| e.to_string())?;
            crate::ops::plan_ids(backend, state, &ctx.env().name, kind, &ids, ctx.now())
                .await
                .map_err(|e| e.to_string())
        })
    });
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => return format!("{} not started: {e}", kind.verb()),
    };
    let confirmed = match confirm::confirm_dialog(plan, request.radius.certs) {
        Ok(confirmed) => confirmed,
        Err(refusal) => return refusal.to_string(),
    };
    let summary = confirmed.plan().summary();
    let ctx = Arc::clone(ctx);
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
            Err(e) => format!("{verb} failed: {e}"),
        };
        let _ = updates.send(TuiUpdate::Notice(SafeText::from_string(notice)));
    });
    format!("applying: {summary}")
}

/// The statuses an operation read back, as a model update.
fn read_back(report: &OpReport) -> FleetUpdate {
    FleetUpdate::StatusChanged(
        report
            .targets
            .iter()
            .filter_map(|t| {
                let id = CertId::parse(&t.certificate_id).ok()?;
                let status = t.status_after.as_deref()?;
                Some((id, CertStatus::from_aws_str(status)))
            })
            .collect(),
    )
}
