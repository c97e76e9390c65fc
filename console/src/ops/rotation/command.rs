//! `fleetid rotate ...`: plan, start, status (which also drives a campaign: soak, pass,
//! auto-promote, halt), promote, halt, resume, abort and finalize — with the typed
//! confirmations, the read-only refusal, the audit log and the exit codes (docs/rotation.md).

use std::io::Write;
use std::time::Duration;

use super::engine::{Engine, Event, RotationError};
use super::file::Campaign;
use super::presence::PresenceLog;
use super::report;
use super::stages::{self, StagePlan};
use super::state::{CampaignState, Overall, Phase};
use crate::cli::{ApplyArgs, RotateCommand};
use crate::context::{Context, MutationPermit};
use crate::exit;
use crate::human::{span, timestamp};
use crate::model::FleetState;
use crate::ops::command::{Mutation, Stop, actor, mutate, read_only};
use crate::ops::confirm::{Refusal, confirm_typed};
use crate::ops::plan::OpKind;
use crate::ops::record::Actor;
use crate::ops::selector::Selector;
use crate::render::OutputFormat;
use crate::safe_text::SafeText;
use crate::store::audit::Decision;

fn stop(code: u8, message: impl Into<String>) -> Stop {
    Stop {
        code,
        message: message.into(),
    }
}

fn io(e: &std::io::Error) -> Stop {
    stop(exit::FAILURE, format!("writing the output: {e}"))
}

fn rotation_stop(e: &RotationError) -> Stop {
    let code = match e {
        RotationError::Unknown(_) => exit::NOT_FOUND,
        RotationError::Exists(_) | RotationError::Refused(_) | RotationError::Frozen(_) => {
            exit::USAGE
        }
        _ => exit::FAILURE,
    };
    stop(code, e.to_string())
}

/// Runs a `rotate` subcommand. `model` refreshes the fleet (only `plan`, `start` and
/// `finalize` need it, and only after the file or the campaign was checked).
///
/// # Errors
/// A [`Stop`] with the exit code.
pub fn run(
    ctx: &Context,
    command: &RotateCommand,
    model: impl FnOnce() -> Result<FleetState, Stop>,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    match command {
        RotateCommand::Plan { file } => {
            let campaign = load(file)?;
            let plan = plan(&model()?, &campaign, ctx)?;
            report::print_plan(&campaign, &plan, format, out).map_err(|e| io(&e))?;
            Ok(exit::OK)
        }
        RotateCommand::Start { file, yes } => {
            let campaign = load(file)?;
            let permit = permit(ctx, "rotate-start", campaign.id.clone())?;
            let plan = plan(&model()?, &campaign, ctx)?;
            start(ctx, &permit, campaign, &plan, *yes, format, out)
        }
        RotateCommand::Status {
            id,
            watch,
            interval,
        } => status(ctx, id.as_deref(), *watch, *interval, format, out),
        RotateCommand::Promote { id, stage, yes } => {
            let permit = permit(ctx, "rotate-promote", id.clone())?;
            promote(ctx, &permit, id, *stage, *yes, format, out)
        }
        RotateCommand::Halt { id, reason } => {
            step(ctx, id, reason, "rotate-halt", format, out, Step::Halt)
        }
        RotateCommand::Resume { id, reason } => {
            step(ctx, id, reason, "rotate-resume", format, out, Step::Resume)
        }
        RotateCommand::Abort { id, reason } => {
            step(ctx, id, reason, "rotate-abort", format, out, Step::Abort)
        }
        RotateCommand::Finalize { id, apply } => finalize(ctx, id, apply, model, format, out),
    }
}

fn load(file: &std::path::Path) -> Result<Campaign, Stop> {
    // The file is checked before anything is read from AWS.
    Campaign::load(file).map_err(|e| stop(exit::CONFIG, e.to_string()))
}

fn plan(state: &FleetState, campaign: &Campaign, ctx: &Context) -> Result<StagePlan, Stop> {
    stages::plan_stages(state, campaign, ctx.now())
        .map_err(|e| stop(exit::NOT_FOUND, e.to_string()))
}

/// The permit, or the read-only refusal recorded in the audit log (exit 6).
fn permit(ctx: &Context, action: &str, target: String) -> Result<MutationPermit, Stop> {
    ctx.mutation_permit().map_err(|_| {
        if let Ok(mut store) = ctx.store() {
            let _ = Actor::local(&ctx.env().name).record(
                &mut store,
                action,
                vec![target],
                "not started: the session is read-only",
                Decision::RefusedReadOnly,
                "nothing was changed",
            );
        }
        read_only(ctx)
    })
}

/// Runs `work` with the engine on the context's runtime.
fn with_engine<T>(
    ctx: &Context,
    work: impl AsyncFnOnce(&mut Engine<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let runtime = ctx
        .runtime()
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    runtime.block_on(async {
        let backend = ctx
            .aws()
            .await
            .map_err(|e| stop(e.exit_code(), e.to_string()))?;
        let actor = actor(ctx).await;
        let mut store = ctx
            .store()
            .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
        let mut engine = Engine::new(backend, &mut store, &actor, ctx.clock());
        work(&mut engine).await
    })
}

fn refused(refusal: &Refusal) -> Stop {
    stop(exit::USAGE, refusal.to_string())
}

fn start(
    ctx: &Context,
    permit: &MutationPermit,
    campaign: Campaign,
    plan: &StagePlan,
    yes: bool,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    let first = plan.stages.first().map_or(0, |s| s.things.len());
    if format == OutputFormat::Table {
        report::print_plan(&campaign, plan, format, &mut std::io::stderr()).map_err(|e| io(&e))?;
    }
    let id = campaign.id.clone();
    let how = confirm_typed(
        yes,
        &format!(
            "start campaign {id}: stage 1 rotates {first} device{}",
            if first == 1 { "" } else { "s" }
        ),
        &id,
    )
    .map_err(|r| refused(&r))?;
    let state = with_engine(ctx, async |engine| {
        engine
            .start(permit, campaign, plan, &how)
            .await
            .map_err(|e| rotation_stop(&e))
    })?;
    report::print_status(std::slice::from_ref(&state), ctx.now().0, format, out)
        .map_err(|e| io(&e))?;
    Ok(exit::OK)
}

fn status(
    ctx: &Context,
    id: Option<&str>,
    watch: bool,
    interval: i64,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    // Reading drives the campaign; without a permit it only reads.
    let permit = ctx.mutation_permit().ok();
    let campaigns = with_engine(ctx, async |engine| {
        let presence = if watch {
            PresenceLog::start(engine.backend()).await
        } else {
            None
        };
        let pause = Duration::from_secs(u64::try_from(interval.max(1)).unwrap_or(5));
        loop {
            let mut campaigns = match id {
                Some(id) => vec![engine.load(id).map_err(|e| rotation_stop(&e))?],
                None => engine.all().map_err(|e| rotation_stop(&e))?,
            };
            let mut moving = false;
            for state in &mut campaigns {
                let events = engine
                    .advance(permit.as_ref(), state, presence.as_ref())
                    .await
                    .map_err(|e| rotation_stop(&e))?;
                for event in events {
                    crate::stderr::line(&SafeText::from_string(format!(
                        "{}: {}",
                        state.id(),
                        event_text(&event)
                    )));
                }
                moving |= state.overall() == Overall::Running;
            }
            if !watch || !moving {
                return Ok(campaigns);
            }
            tokio::time::sleep(pause).await;
        }
    })?;
    report::print_status(&campaigns, ctx.now().0, format, out).map_err(|e| io(&e))?;
    let halted = campaigns.iter().any(|c| c.overall() == Overall::Halted);
    Ok(if halted { exit::HALTED } else { exit::OK })
}

/// What one `advance` did, in one line for people.
#[must_use]
pub fn event_text(event: &Event) -> String {
    match event {
        Event::Started(n) => format!("stage {n} started"),
        Event::Soaking(n, until) => {
            format!("stage {n} finished; soaking until {}", timestamp(*until))
        }
        Event::Passed(n) => format!("stage {n} passed its gate"),
        Event::Promoted(n) => format!("stage {n} started (promoted)"),
        Event::Halted(reason) => format!("HALTED: {reason}"),
        Event::AnchorStarted => "anchor stage started: the next CA goes to every device".into(),
        Event::AnchorPassed(detail) => format!("anchor stage passed its gate: {detail}"),
    }
}

fn promote(
    ctx: &Context,
    permit: &MutationPermit,
    id: &str,
    n: usize,
    yes: bool,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    let state = with_engine(ctx, async |engine| {
        let mut state = engine.load(id).map_err(|e| rotation_stop(&e))?;
        let devices = state
            .stages
            .get(n.wrapping_sub(1))
            .map_or(0, |s| s.devices.len());
        let how = confirm_typed(
            yes,
            &format!("start stage {n} of campaign {id}: {devices} devices"),
            &n.to_string(),
        )
        .map_err(|r| refused(&r))?;
        engine
            .promote(permit, &mut state, n, &how)
            .await
            .map_err(|e| rotation_stop(&e))?;
        Ok(state)
    })?;
    report::print_status(std::slice::from_ref(&state), ctx.now().0, format, out)
        .map_err(|e| io(&e))?;
    Ok(exit::OK)
}

/// A step that needs a reason.
#[derive(Debug, Clone, Copy)]
enum Step {
    Halt,
    Resume,
    Abort,
}

fn step(
    ctx: &Context,
    id: &str,
    reason: &str,
    action: &str,
    format: OutputFormat,
    out: &mut dyn Write,
    which: Step,
) -> Result<u8, Stop> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(stop(exit::USAGE, "--reason must say why"));
    }
    let permit = permit(ctx, action, id.to_owned())?;
    let state = with_engine(ctx, async |engine| {
        let mut state = engine.load(id).map_err(|e| rotation_stop(&e))?;
        let result = match which {
            Step::Halt => {
                let by = crate::ops::record::os_user();
                engine.halt(&permit, &mut state, &by, reason).await
            }
            Step::Resume => engine
                .resume(&permit, &mut state, reason)
                .await
                .map(|again| {
                    if again > 0 {
                        crate::stderr::line(&SafeText::from_string(format!(
                            "{again} device(s) run again in a continuation job"
                        )));
                    }
                }),
            Step::Abort => engine.abort(&permit, &mut state, reason).await,
        };
        result.map_err(|e| rotation_stop(&e))?;
        Ok(state)
    })?;
    report::print_status(std::slice::from_ref(&state), ctx.now().0, format, out)
        .map_err(|e| io(&e))?;
    Ok(exit::OK)
}

/// A freeze halts every running campaign: with a permit their running jobs are cancelled, in
/// a read-only session the halts are only recorded. Returns the campaigns halted.
///
/// # Errors
/// A [`Stop`] when a halt fails.
pub fn halt_for_freeze(ctx: &Context, reason: &str) -> Result<Vec<String>, Stop> {
    let permit = ctx.mutation_permit().ok();
    with_engine(ctx, async |engine| {
        engine
            .halt_all(permit.as_ref(), reason)
            .await
            .map_err(|e| rotation_stop(&e))
    })
}

/// The devices a finalize retires the old certificate of, and those it leaves, with why.
#[derive(Debug, Default, serde::Serialize)]
pub struct Finalization {
    /// (thing, old certificate) of the devices on their new certificate by both checks.
    pub retire: Vec<(String, String)>,
    /// (thing, why) of the devices still on their old certificate.
    pub left: Vec<(String, String)>,
}

/// Why a campaign cannot be finalized at `now` (not done or aborted, or in its grace period).
#[must_use]
pub fn finalize_refusal(state: &CampaignState, now: i64) -> Option<String> {
    let id = state.id();
    let Some(grace_ends) = state.grace_ends() else {
        return Some(format!(
            "refused: campaign {id} is {}; finalize follows a campaign that is done or aborted",
            super::engine::overall_word(state.overall())
        ));
    };
    (now < grace_ends).then(|| {
        format!(
            "refused: the grace period of campaign {id} ({}) ends {}; the old certificates \
             stay ACTIVE until then",
            span(state.campaign.grace_seconds),
            timestamp(grace_ends)
        )
    })
}

/// Splits a campaign's devices for finalize.
#[must_use]
pub fn finalization(state: &CampaignState) -> Finalization {
    let mut out = Finalization::default();
    for stage in &state.stages {
        for (thing, e) in &stage.devices {
            if stage.rotated(e) && e.set_aside.is_none() {
                if let Some(old) = e.old.clone().filter(|o| Some(o) != e.reported.as_ref()) {
                    out.retire.push((thing.clone(), old));
                }
                continue;
            }
            let why = if let Some(aside) = &e.set_aside {
                aside.clone()
            } else if stage.phase == Phase::Pending {
                format!("stage {} never started", stage.number)
            } else if let Some(x) = e.execution.filter(|x| x.is_failure()) {
                format!(
                    "{}: {}",
                    x.as_str(),
                    e.reason.as_deref().unwrap_or("no reason reported")
                )
            } else if e.on_new() {
                format!(
                    "on a new certificate issued by {} instead of the next CA",
                    e.issuer.as_deref().unwrap_or("no registered CA")
                )
            } else if e.reported.is_some() {
                "reported a new certificate the cloud never confirmed".to_owned()
            } else {
                e.execution.map_or_else(
                    || "no job execution".to_owned(),
                    |x| format!("job execution {}", x.as_str()),
                )
            };
            out.left.push((thing.clone(), why));
        }
    }
    out
}

fn finalize(
    ctx: &Context,
    id: &str,
    apply: &ApplyArgs,
    model: impl FnOnce() -> Result<FleetState, Stop>,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    if !apply.dry_run {
        permit(ctx, "rotate-finalize", id.to_owned())?;
    }
    let now = ctx.now().0;
    let state = with_engine(ctx, async |engine| {
        engine.load(id).map_err(|e| rotation_stop(&e))
    })?;
    if let Some(refusal) = finalize_refusal(&state, now) {
        return Err(stop(exit::USAGE, refusal));
    }
    let split = finalization(&state);
    for (thing, why) in &split.left {
        crate::stderr::line(&SafeText::from_string(format!(
            "still on its old certificate: {thing} — {why}"
        )));
    }
    let code = if split.retire.is_empty() {
        writeln!(out, "campaign {id}: no old certificate to retire").map_err(|e| io(&e))?;
        exit::OK
    } else {
        let selectors: Vec<Selector> = split
            .retire
            .iter()
            .map(|(_, old)| Selector::Cert(old.clone()))
            .collect();
        let mutation = Mutation {
            kind: OpKind::Retire,
            selectors,
            apply,
        };
        mutate(ctx, &mutation, &model()?, format, out)?
    };
    if code == exit::OK && !apply.dry_run {
        let detail = format!(
            "{} old certificate(s) retired, {} device(s) still on their old one",
            split.retire.len(),
            split.left.len()
        );
        with_engine(ctx, async |engine| {
            let mut state = engine.load(id).map_err(|e| rotation_stop(&e))?;
            engine
                .mark_finalized(&mut state, &detail)
                .map_err(|e| rotation_stop(&e))
        })?;
    }
    Ok(code)
}
