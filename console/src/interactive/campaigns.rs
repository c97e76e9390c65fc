//! Rotation campaigns for the console: read from the store and driven by the rotation engine
//! every few seconds while the console is open (as `fleetid rotate status --watch` drives
//! them: soak, pass, auto-promote, halt on the gate), sent to the UI as rows; and the steps a
//! person confirmed in the rotation view (promote, halt, resume, abort), taken through the
//! same engine, which writes each to the audit log. Finalize needs the fleet model and goes
//! through the ops engine on the model thread ([`super::act`]). Offline, or read-only, the
//! campaigns are shown and nothing is changed.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc as tokio_mpsc;

use crate::context::Context;
use crate::ops::rotation::command::event_text;
use crate::ops::rotation::engine::{Engine, RotationError, stored};
use crate::ops::rotation::presence::PresenceLog;
use crate::ops::rotation::state::{CampaignState, Overall};
use crate::safe_text::SafeText;
use crate::store::Store;
use crate::tui::data::{CampaignRow, RotationAction, RotationStep, TuiUpdate};

/// How often the campaigns are read and driven while the console is open.
const EVERY: Duration = Duration::from_secs(5);

/// The campaigns as the screen shows them.
fn rows(states: &[CampaignState]) -> Vec<CampaignRow> {
    states.iter().map(CampaignRow::of).collect()
}

/// Sends the campaigns the store holds, unchanged (an offline console).
pub fn send_stored(store: &Store, environment: &str, updates: &mpsc::SyncSender<TuiUpdate>) {
    match stored(store, environment) {
        Ok(states) if states.is_empty() => {}
        Ok(states) => {
            let _ = updates.send(TuiUpdate::Campaigns(rows(&states)));
        }
        Err(e) => notice(updates, format!("rotation campaigns: {e}")),
    }
}

fn notice(updates: &mpsc::SyncSender<TuiUpdate>, text: String) {
    let _ = updates.send(TuiUpdate::Notice(SafeText::from_string(text)));
}

/// Reads and drives every campaign every [`EVERY`], and takes the steps confirmed in the
/// rotation view as they come, until the UI is gone. A console with no campaign reads the
/// store only (no AWS call) until one appears.
pub async fn follow(
    ctx: Arc<Context>,
    updates: mpsc::SyncSender<TuiUpdate>,
    mut steps: tokio_mpsc::UnboundedReceiver<RotationStep>,
) {
    let mut store = match ctx.store() {
        Ok(store) => store,
        Err(e) => return notice(&updates, format!("rotation campaigns: {e}")),
    };
    let environment = ctx.env().name.clone();
    let mut shown: Option<Vec<CampaignRow>> = None;
    let mut presence: Option<PresenceLog> = None;
    let mut step = None;
    loop {
        let stored = match stored(&store, &environment) {
            Ok(stored) => stored,
            Err(e) => {
                notice(&updates, format!("rotation campaigns: {e}"));
                Vec::new()
            }
        };
        let states = if stored.is_empty() && step.is_none() {
            stored
        } else {
            match drive(&ctx, &mut store, &mut presence, step.take(), &updates).await {
                Ok(states) => states,
                Err(e) => {
                    notice(&updates, format!("rotation: {e}"));
                    stored
                }
            }
        };
        let now = rows(&states);
        if shown.as_ref() != Some(&now) {
            if updates.send(TuiUpdate::Campaigns(now.clone())).is_err() {
                return;
            }
            shown = Some(now);
        }
        tokio::select! {
            next = steps.recv() => match next {
                Some(next) => step = Some(next),
                None => return,
            },
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One round: the step asked for (if any), then every campaign advanced. The presence log
/// (the cloud's side of the gate's evidence) is followed while a campaign runs.
async fn drive(
    ctx: &Context,
    store: &mut Store,
    presence: &mut Option<PresenceLog>,
    step: Option<RotationStep>,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> Result<Vec<CampaignState>, String> {
    let backend = ctx.aws().await.map_err(|e| e.to_string())?;
    let actor = crate::ops::command::actor(ctx).await;
    let permit = ctx.mutation_permit().ok();
    let mut engine = Engine::new(backend, store, &actor, ctx.clock());
    if let Some(step) = step {
        let text = match take_step(&mut engine, permit.as_ref(), &step, &actor.os_user).await {
            Ok(done) => done,
            Err(e) => format!(
                "{} of campaign {} failed: {e}",
                step.action.verb(),
                step.campaign
            ),
        };
        notice(updates, text);
    }
    let mut states = engine.all().map_err(|e| e.to_string())?;
    let running = states.iter().any(|s| s.overall() == Overall::Running);
    if running && presence.is_none() {
        *presence = PresenceLog::start(backend).await;
    } else if !running {
        *presence = None;
    }
    for state in &mut states {
        match engine
            .advance(permit.as_ref(), state, presence.as_ref())
            .await
        {
            Ok(events) => {
                for event in events {
                    notice(updates, format!("{}: {}", state.id(), event_text(&event)));
                }
            }
            Err(e) => notice(updates, format!("{}: {e}", state.id())),
        }
    }
    Ok(states)
}

/// A confirmed step through the engine; the text says what came of it.
async fn take_step(
    engine: &mut Engine<'_>,
    permit: Option<&crate::context::MutationPermit>,
    step: &RotationStep,
    by: &str,
) -> Result<String, RotationError> {
    let Some(permit) = permit else {
        return Err(RotationError::Refused(
            "this session is read-only; nothing was changed".into(),
        ));
    };
    let mut state = engine.load(&step.campaign)?;
    let how = "typed in the console's dialog";
    match &step.action {
        RotationAction::Promote(n) => {
            engine.promote(permit, &mut state, *n, how).await?;
            Ok(format!("campaign {}: stage {n} started", step.campaign))
        }
        RotationAction::Halt { reason } => {
            engine.halt(permit, &mut state, by, reason).await?;
            Ok(format!("campaign {}: HALTED", step.campaign))
        }
        RotationAction::Resume { reason } => {
            let again = engine.resume(permit, &mut state, reason).await?;
            Ok(format!(
                "campaign {}: resumed; {again} device(s) run again in a continuation job",
                step.campaign
            ))
        }
        RotationAction::Abort { reason } => {
            engine.abort(permit, &mut state, reason).await?;
            Ok(format!("campaign {}: aborted", step.campaign))
        }
        RotationAction::Finalize { .. } => Err(RotationError::Refused(
            "finalize goes through the ops engine".into(),
        )),
    }
}
