//! The CLI side of the ops engine: `revoke`, `restore`, `quarantine`, `freeze`, `unfreeze`,
//! `ops list` and `ops resume` — plan from the refreshed model, confirm from the flags or
//! the terminal, apply, verify, print, and the exit code (docs/cli.md).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::sync::mpsc;

use super::apply::{ApplyProgress, ApplySettings};
use super::confirm::{self, CliAnswer, ConfirmedPlan, Refusal};
use super::plan::{OpKind, Plan};
use super::record::{Actor, os_user};
use super::selector::Selector;
use super::{OpReport, OpsError};
use crate::backend::aws::AwsBackend;
use crate::cli::{ApplyArgs, TargetArgs};
use crate::context::{Context, MutationPermit};
use crate::exit;
use crate::model::{CaStatus, CertStatus, FleetState};
use crate::render::OutputFormat;
use crate::render::json::to_terminal_safe_json;
use crate::safe_text::SafeText;
use crate::store::Store;
use crate::store::audit::Decision;
use crate::store::journal::Freeze;

/// A command that ended with an exit code other than 0, and why.
#[derive(Debug)]
pub struct Stop {
    /// The exit code.
    pub code: u8,
    /// For stderr.
    pub message: String,
}

fn stop(code: u8, message: impl Into<String>) -> Stop {
    Stop {
        code,
        message: message.into(),
    }
}

fn ops_stop(e: &OpsError) -> Stop {
    let code = match e {
        OpsError::Select(
            super::selector::SelectError::Empty | super::selector::SelectError::BadQuery { .. },
        )
        | OpsError::Plan(_) => exit::USAGE,
        OpsError::Select(_) => exit::NOT_FOUND,
        _ => exit::FAILURE,
    };
    stop(code, e.to_string())
}

/// A mutating command as parsed: what it does, to what, and how it is confirmed.
#[derive(Debug)]
pub struct Mutation<'a> {
    /// The operation.
    pub kind: OpKind,
    /// What it acts on (a CA operation: the one `--ca`).
    pub selectors: Vec<Selector>,
    /// Confirmation and pace.
    pub apply: &'a ApplyArgs,
}

/// The selectors of the command line, in the order of the flags' kinds.
#[must_use]
pub fn selectors(args: &TargetArgs) -> Vec<Selector> {
    let mut out: Vec<Selector> = args.certs.iter().cloned().map(Selector::Cert).collect();
    out.extend(args.things.iter().cloned().map(Selector::Thing));
    out.extend(args.files.iter().cloned().map(Selector::FromFile));
    out.extend(args.queries.iter().cloned().map(Selector::Query));
    out.extend(args.cas.iter().cloned().map(Selector::Ca));
    out
}

/// Who acts: the OS user and, when sts answers, the AWS principal.
pub async fn actor(ctx: &Context) -> Actor {
    let identity = ctx.caller_identity().await;
    Actor {
        os_user: os_user(),
        principal: identity.map(|i| i.arn.clone()).filter(|a| !a.is_empty()),
        account: identity
            .map(|i| i.account.clone())
            .filter(|a| !a.is_empty()),
        environment: ctx.env().name.clone(),
    }
}

/// `revoke`, `restore`, `quarantine`, `ca deactivate|revoke|disable-auto-registration` and
/// `claim disable` on the refreshed `state`.
///
/// # Errors
/// A [`Stop`] with the exit code.
pub fn mutate(
    ctx: &Context,
    mutation: &Mutation<'_>,
    state: &FleetState,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
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
        let plan = super::plan_operation(
            backend,
            state,
            &ctx.env().name,
            mutation.kind,
            &mutation.selectors,
            ctx.now(),
        )
        .await
        .map_err(|e| ops_stop(&e))?;
        let record = |store: &mut Store, decision, outcome: &str| {
            actor
                .record(
                    store,
                    plan.kind.as_str(),
                    plan.targets
                        .iter()
                        .map(|t| t.certificate_id.clone())
                        .collect(),
                    &format!("{}: {}", plan.id, plan.summary()),
                    decision,
                    outcome,
                )
                .map_err(|e| stop(exit::FAILURE, format!("the audit log: {e}")))
        };
        if mutation.apply.dry_run {
            record(&mut store, Decision::DryRun, "nothing was changed")?;
            print_plan(&plan, format, out)?;
            return Ok(exit::OK);
        }
        // Checked before any call too (app.rs); a permit is what the backend needs.
        let Ok(permit) = ctx.mutation_permit() else {
            record(&mut store, Decision::RefusedReadOnly, "nothing was changed")?;
            return Err(read_only(ctx));
        };
        let answer = CliAnswer {
            yes: mutation.apply.yes,
            expect_count: mutation.apply.expect_count,
        };
        let confirmed = match confirm::confirm_cli(plan.clone(), answer) {
            Ok(confirmed) => confirmed,
            Err(refusal) => {
                let (decision, code) = match refusal {
                    Refusal::CountDiffers { .. } => {
                        (Decision::RefusedCountDiffers, exit::COUNT_DIFFERS)
                    }
                    Refusal::Cancelled => (Decision::Cancelled, exit::USAGE),
                    Refusal::NotConfirmed { .. }
                    | Refusal::NotConfirmedTyped
                    | Refusal::CountMissing => (Decision::RefusedNotConfirmed, exit::USAGE),
                };
                record(&mut store, decision, "nothing was changed")?;
                return Err(stop(code, refusal.to_string()));
            }
        };
        let applying = Applying {
            backend,
            permit: &permit,
            store,
            actor: &actor,
        };
        applying.run(&confirmed, mutation.apply, format, out).await
    })
}

/// What an apply from the command line runs with.
struct Applying<'a> {
    backend: &'a AwsBackend,
    permit: &'a MutationPermit,
    store: Store,
    actor: &'a Actor,
}

impl Applying<'_> {
    /// Applies and verifies `confirmed`, prints the report, and gives the exit code.
    async fn run(
        self,
        confirmed: &ConfirmedPlan,
        args: &ApplyArgs,
        format: OutputFormat,
        out: &mut dyn Write,
    ) -> Result<u8, Stop> {
        let report = super::execute(
            self.backend,
            self.permit,
            confirmed,
            self.store,
            self.actor,
            &settings(args),
            progress_sender(),
        )
        .await
        .map_err(|e| ops_stop(&e))?;
        finish(&report, format, out)
    }
}

fn settings(args: &ApplyArgs) -> ApplySettings {
    ApplySettings {
        calls_per_second: args.rate,
        disconnect_wait: Duration::from_secs(
            u64::try_from(args.disconnect_wait.max(0)).unwrap_or(0),
        ),
        ..ApplySettings::default()
    }
}

/// Refuses a mutation in a read-only session before anything is read or called, and
/// records the refusal (with the selectors, as no plan was made) in the audit log.
#[must_use]
pub fn refuse_read_only(ctx: &Context, mutation: &Mutation<'_>) -> Stop {
    let selectors: Vec<String> = mutation
        .selectors
        .iter()
        .map(|s| format!("{s:?}"))
        .collect();
    if let Ok(mut store) = ctx.store() {
        let actor = Actor::local(&ctx.env().name);
        if let Err(e) = actor.record(
            &mut store,
            mutation.kind.as_str(),
            selectors,
            "not planned: the session is read-only",
            Decision::RefusedReadOnly,
            "nothing was changed",
        ) {
            crate::stderr::message(&format!("the audit log: {e}"));
        }
    }
    read_only(ctx)
}

/// The read-only refusal as a [`Stop`] (exit 6).
#[must_use]
pub fn read_only(ctx: &Context) -> Stop {
    let refusal = ctx
        .mutation_permit()
        .err()
        .map_or_else(|| "refused: read-only".to_owned(), |r| r.to_string());
    stop(exit::READ_ONLY, refusal)
}

/// A sender whose progress is drawn on stderr when it is a terminal.
fn progress_sender() -> mpsc::UnboundedSender<ApplyProgress> {
    let (tx, mut rx) = mpsc::unbounded_channel::<ApplyProgress>();
    let terminal = std::io::stderr().is_terminal();
    tokio::spawn(async move {
        let mut last = None;
        while let Some(p) = rx.recv().await {
            if terminal {
                crate::stderr::progress(&SafeText::from_string(format!(
                    "applying: {}/{} calls, {} failed",
                    p.finished, p.total, p.failed
                )));
            }
            last = Some(p);
        }
        if terminal && last.is_some() {
            crate::stderr::clear_progress();
        }
    });
    tx
}

/// Prints the report; the exit code: 0 verified, 9 partly applied, 1 applied but not as
/// intended when read back.
fn finish(report: &OpReport, format: OutputFormat, out: &mut dyn Write) -> Result<u8, Stop> {
    print_report(report, format, out)?;
    match report.state() {
        "verified" => Ok(exit::OK),
        "partial" => Err(stop(
            exit::PARTIAL,
            format!(
                "operation {} was applied in part (see the calls above); run `fleetid ops resume {}` \
                 to finish it",
                report.op_id, report.op_id
            ),
        )),
        _ => Err(stop(
            exit::FAILURE,
            format!(
                "operation {}: every call was made, but not every target reads back as intended \
                 (see above)",
                report.op_id
            ),
        )),
    }
}

fn io(e: &std::io::Error) -> Stop {
    stop(exit::FAILURE, format!("writing output: {e}"))
}

fn json(value: &impl serde::Serialize, out: &mut dyn Write) -> Result<(), Stop> {
    let text = to_terminal_safe_json(value)
        .map_err(|e| stop(exit::FAILURE, format!("encoding JSON: {e}")))?;
    writeln!(out, "{text}").map_err(|e| io(&e))
}

/// Prints a plan: JSON as is; a table with the summary, warnings, the breakdown and the
/// calls; CSV one row per call.
///
/// # Errors
/// A [`Stop`] when writing fails.
pub fn print_plan(plan: &Plan, format: OutputFormat, out: &mut dyn Write) -> Result<(), Stop> {
    match format {
        OutputFormat::Json => json(plan, out),
        OutputFormat::Csv => {
            let mut text = String::from("step,operation,certificate_id,call\n");
            for (i, step) in plan.steps.iter().enumerate() {
                let cert = step
                    .target
                    .and_then(|t| plan.targets.get(t))
                    .map_or("", |t| t.certificate_id.as_str());
                let call = serde_json::to_string(&step.call).unwrap_or_default();
                text.push_str(&format!(
                    "{i},{},{cert},\"{}\"\n",
                    step.call.operation(),
                    SafeText::new(&call).as_str().replace('"', "\"\"")
                ));
            }
            crate::render::write_safe_lines(out, &text).map_err(|e| io(&e))
        }
        OutputFormat::Table => {
            let mut text = format!(
                "plan {} (dry run: nothing was changed)\n{}\n",
                plan.id,
                plan.summary()
            );
            if let Some(ca) = &plan.authority {
                text.push_str(&format!(
                    "CA {}: {}, auto-registration {}; it signs {} ACTIVE device certificate{}\n",
                    ca.ca_certificate_id,
                    ca.status,
                    if ca.auto_registration { "on" } else { "off" },
                    ca.active_certificates.len(),
                    if ca.active_certificates.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
            }
            for warning in &plan.warnings {
                text.push_str(&format!("warning: {warning}\n"));
            }
            for evidence in &plan.evidence {
                text.push_str(&format!("evidence: {}\n", SafeText::new(evidence)));
            }
            let r = &plan.radius;
            for (title, map) in [
                ("by CA", &r.by_ca),
                ("by group", &r.by_group),
                ("by firmware", &r.by_firmware),
            ] {
                let parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{} {v}", SafeText::new(k)))
                    .collect();
                text.push_str(&format!("{title}: {}\n", parts.join(", ")));
            }
            text.push_str("calls, in order:\n");
            for (i, step) in plan.steps.iter().enumerate() {
                let call = serde_json::to_string(&step.call).unwrap_or_default();
                text.push_str(&format!("  {:>4}  {}\n", i + 1, SafeText::new(&call)));
            }
            crate::render::write_safe_lines(out, &text).map_err(|e| io(&e))
        }
    }
}

/// Prints an applied operation's report.
///
/// # Errors
/// A [`Stop`] when writing fails.
pub fn print_report(
    report: &OpReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), Stop> {
    match format {
        OutputFormat::Json => json(report, out),
        OutputFormat::Csv => {
            let mut text = String::from(
                "certificate_id,things,status_after,deny_all_attached,quarantined,disconnected,time_to_effect_ms,verified\n",
            );
            for t in &report.targets {
                text.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    t.certificate_id,
                    SafeText::new(&t.things.join(" ")),
                    t.status_after.map_or("", CertStatus::as_aws_str),
                    t.deny_all_attached.map_or(String::new(), |b| b.to_string()),
                    t.quarantined.map_or(String::new(), |b| b.to_string()),
                    t.disconnected.as_str(),
                    t.time_to_effect_ms.map_or(String::new(), |m| m.to_string()),
                    t.verified
                ));
            }
            crate::render::write_safe_lines(out, &text).map_err(|e| io(&e))
        }
        OutputFormat::Table => {
            let mut text = format!(
                "operation {}: {} — {}\n",
                report.op_id,
                report.summary,
                report.state()
            );
            if let Some(note) = &report.session_cut {
                text.push_str(&format!("{note}\n"));
            }
            if let Some(ca) = &report.authority {
                text.push_str(&format!(
                    "CA {}: status {}, auto-registration {} — {}\n",
                    ca.ca_certificate_id,
                    ca.status_after.map_or("?", CaStatus::as_aws_str),
                    ca.auto_registration_after
                        .map_or("?", |on| if on { "on" } else { "off" }),
                    if ca.verified {
                        "verified"
                    } else {
                        "NOT verified"
                    }
                ));
            }
            text.push_str(&format!(
                "{:<14} {:<24} {:<9} {:<8} {:<11} {:<12} {:>9}  {}\n",
                "CERTIFICATE",
                "THING",
                "STATUS",
                "DENY-ALL",
                "QUARANTINE",
                "DISCONNECTED",
                "EFFECT",
                "VERIFIED"
            ));
            for t in &report.targets {
                let yes_no = |b: Option<bool>| b.map_or("?", |b| if b { "yes" } else { "no" });
                text.push_str(&format!(
                    "{:<14} {:<24} {:<9} {:<8} {:<11} {:<12} {:>9}  {}\n",
                    &t.certificate_id[..t.certificate_id.len().min(12)],
                    SafeText::new(&t.things.join(",")),
                    t.status_after.map_or("?", CertStatus::as_aws_str),
                    yes_no(t.deny_all_attached),
                    yes_no(t.quarantined),
                    t.disconnected.as_str(),
                    t.time_to_effect_ms
                        .map_or("-".to_owned(), |m| format!("{m} ms")),
                    if t.verified { "yes" } else { "NO" }
                ));
                for c in t.calls.iter().filter(|c| !c.ok()) {
                    text.push_str(&format!(
                        "    {} {}: {}\n",
                        c.operation,
                        c.result,
                        SafeText::new(c.detail.as_deref().unwrap_or(""))
                    ));
                }
            }
            crate::render::write_safe_lines(out, &text).map_err(|e| io(&e))
        }
    }
}

/// `ops list`.
///
/// # Errors
/// A [`Stop`] when the store cannot be read or writing fails.
pub fn list(
    ctx: &Context,
    limit: usize,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    let store = ctx
        .store()
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    let rows = store
        .ops(&ctx.env().name, limit)
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let summary = serde_json::from_str::<Plan>(&r.plan)
                .map(|p| p.summary())
                .unwrap_or_default();
            serde_json::json!({
                "id": r.id,
                "kind": r.kind,
                "state": r.state,
                "created": r.created.rfc3339(),
                "updated": r.updated.rfc3339(),
                "summary": summary,
                "resumable": matches!(r.state.as_str(), "applying" | "partial"),
            })
        })
        .collect();
    match format {
        OutputFormat::Json => json(&items, out)?,
        _ => {
            let mut text = format!(
                "{:<26} {:<17} {:<11} {:<21} {}\n",
                "ID", "KIND", "STATE", "STARTED", "SUMMARY"
            );
            for (r, item) in rows.iter().zip(&items) {
                text.push_str(&format!(
                    "{:<26} {:<17} {:<11} {:<21} {}{}\n",
                    r.id,
                    r.kind,
                    r.state,
                    r.created.rfc3339(),
                    item["summary"].as_str().unwrap_or(""),
                    if item["resumable"] == true {
                        "  (resumable: fleetid ops resume)"
                    } else {
                        ""
                    }
                ));
            }
            crate::render::write_safe_lines(out, &text).map_err(|e| io(&e))?;
        }
    }
    Ok(exit::OK)
}

/// `ops resume [ID]`: the named operation, or the newest one still applying or partial.
///
/// # Errors
/// A [`Stop`] with the exit code.
pub fn resume(
    ctx: &Context,
    id: Option<&str>,
    args: &ApplyArgs,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    let store = ctx
        .store()
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    let id = match id {
        Some(id) => id.to_owned(),
        None => store
            .ops(&ctx.env().name, 1000)
            .map_err(|e| stop(exit::FAILURE, e.to_string()))?
            .into_iter()
            .find(|r| matches!(r.state.as_str(), "applying" | "partial"))
            .map(|r| r.id)
            .ok_or_else(|| {
                stop(
                    exit::NOT_FOUND,
                    "no operation to resume in this environment",
                )
            })?,
    };
    let confirmed = super::journaled(&store, &id)
        .map_err(|e| ops_stop(&e))?
        .ok_or_else(|| {
            stop(
                exit::NOT_FOUND,
                format!("no operation {id:?} in the journal"),
            )
        })?;
    if confirmed.plan().environment != ctx.env().name {
        return Err(stop(
            exit::USAGE,
            format!(
                "operation {id} belongs to environment {:?}; use --env",
                confirmed.plan().environment
            ),
        ));
    }
    if args.dry_run {
        print_plan(confirmed.plan(), format, out)?;
        return Ok(exit::OK);
    }
    let permit = ctx.mutation_permit().map_err(|_| read_only(ctx))?;
    let runtime = ctx
        .runtime()
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    runtime.block_on(async {
        let backend = ctx
            .aws()
            .await
            .map_err(|e| stop(e.exit_code(), e.to_string()))?;
        let actor = actor(ctx).await;
        let applying = Applying {
            backend,
            permit: &permit,
            store,
            actor: &actor,
        };
        applying.run(&confirmed, args, format, out).await
    })
}

/// `freeze` (allowed in a read-only session: it only blocks) and `unfreeze` (needs a
/// mutation permit), both in the audit log.
///
/// # Errors
/// A [`Stop`] with the exit code.
pub fn freeze(ctx: &Context, reason: &str, on: bool, out: &mut dyn Write) -> Result<u8, Stop> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(stop(exit::USAGE, "--reason must say why"));
    }
    if !on {
        ctx.mutation_permit().map_err(|_| read_only(ctx))?;
    }
    let mut store = ctx
        .store()
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    let actor = Actor::local(&ctx.env().name);
    let env = ctx.env().name.clone();
    let freeze = on.then(|| Freeze {
        reason: reason.to_owned(),
        since: ctx.now(),
        by: actor.os_user.clone(),
    });
    store
        .set_freeze(&env, freeze.as_ref())
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    actor
        .record(
            &mut store,
            if on { "freeze" } else { "unfreeze" },
            vec![env.clone()],
            reason,
            Decision::Confirmed,
            if on { "frozen" } else { "unfrozen" },
        )
        .map_err(|e| stop(exit::FAILURE, format!("the audit log: {e}")))?;
    writeln!(
        out,
        "environment {env:?} {}",
        if on {
            "is frozen: rotation stages will not start or promote"
        } else {
            "is no longer frozen"
        }
    )
    .map_err(|e| io(&e))?;
    let running = crate::ops::rotation::engine::Engine::any_running(&store, &env)
        .map_err(|e| stop(exit::FAILURE, e.to_string()))?;
    drop(store);
    if on && running {
        let halted = crate::ops::rotation::command::halt_for_freeze(ctx, reason)?;
        for id in halted {
            writeln!(out, "campaign {id} halted").map_err(|e| io(&e))?;
        }
    }
    Ok(exit::OK)
}
