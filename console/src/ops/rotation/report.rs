//! What the rotation commands print: a campaign's stage plan (`rotate plan`), and campaigns
//! with their stages, counts and the gate's evidence (`rotate status`).

use std::io::Write;

use super::anchor::{NextCaShare, next_ca_share};
use super::engine::overall_word;
use super::file::Campaign;
use super::stages::StagePlan;
use super::state::{CampaignState, Overall, Phase, Seconds, StageCounts};
use crate::human::{span, timestamp};
use crate::render::OutputFormat;
use crate::render::json::to_terminal_safe_json;
use crate::safe_text::SafeText;

/// Prints the stage plan.
///
/// # Errors
/// The I/O error of writing.
pub fn print_plan(
    campaign: &Campaign,
    plan: &StagePlan,
    format: OutputFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let value = serde_json::json!({ "campaign": campaign, "plan": plan });
            writeln!(out, "{}", to_terminal_safe_json(&value).unwrap_or_default())
        }
        OutputFormat::Csv => {
            let mut text = String::from("stage,cumulative_percent,devices,group,job\n");
            if plan.next_ca.is_some() {
                let devices: usize = plan.stages.iter().map(|s| s.things.len()).sum();
                let name = format!("fleetid-rotate-{}-anchor", campaign.id);
                text.push_str(&format!("anchor,0,{devices},{name},{name}\n"));
            }
            for s in &plan.stages {
                text.push_str(&format!(
                    "{},{},{},{},{}\n",
                    s.number,
                    s.cumulative_percent,
                    s.things.len(),
                    s.group,
                    s.job
                ));
            }
            crate::render::write_safe_lines(out, &text)
        }
        OutputFormat::Table => {
            let mut text = format!(
                "campaign {} (plan only: nothing was changed): {} devices targeted, {} left out \
                 (not ACTIVE or quarantined)\n",
                campaign.id, plan.targeted, plan.excluded
            );
            text.push_str(&format!(
                "gate: at least {:.1} % on the new certificate, halt over {:.1} % failed, soak \
                 {} s, {}\n",
                campaign.gate.min_success,
                campaign.gate.max_failure,
                campaign.gate.soak_seconds,
                if campaign.gate.auto_promote {
                    "promoted automatically"
                } else {
                    "promoted by a person"
                }
            ));
            if let Some(ca) = &plan.next_ca {
                let devices: usize = plan.stages.iter().map(|s| s.things.len()).sum();
                text.push_str(&format!(
                    "stage 0 (anchor): next CA {ca} to all {devices} devices as their next trust \
                     anchor; group and job fleetid-rotate-{}-anchor; a device that does not \
                     hold it is not rotated\n",
                    campaign.id
                ));
            }
            for s in &plan.stages {
                let cohort = |map: &std::collections::BTreeMap<String, usize>| {
                    map.iter()
                        .map(|(k, v)| format!("{} {v}", SafeText::new(k)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                text.push_str(&format!(
                    "stage {} (to {} %): {} devices; group {}, job {}\n  by group: {}\n  by firmware: {}\n",
                    s.number,
                    s.cumulative_percent,
                    s.things.len(),
                    s.group,
                    s.job,
                    cohort(&s.by_group),
                    cohort(&s.by_firmware)
                ));
            }
            crate::render::write_safe_lines(out, &text)
        }
    }
}

/// One campaign as `rotate status` shows it: the state plus each stage's counts.
#[derive(Debug, serde::Serialize)]
pub struct CampaignReport<'a> {
    /// The campaign id.
    pub id: &'a str,
    /// `running`, `waiting for promotion`, `halted`, ...
    pub state: &'static str,
    /// The stored state.
    pub campaign: &'a CampaignState,
    /// Counts per stage, in order.
    pub counts: Vec<StageCounts>,
    /// Onto another CA: the share holding the next anchor and the share on the new CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_ca: Option<NextCaShare>,
    /// What a person can do next.
    pub next: Option<String>,
}

impl<'a> CampaignReport<'a> {
    /// The report of `state`.
    #[must_use]
    pub fn of(state: &'a CampaignState) -> Self {
        Self {
            id: state.id(),
            state: overall_word(state.overall()),
            campaign: state,
            counts: state.stages.iter().map(StageCounts::of).collect(),
            next_ca: state
                .anchor
                .as_ref()
                .map(|a| next_ca_share(a, &state.stages)),
            next: next_step(state),
        }
    }
}

fn next_step(state: &CampaignState) -> Option<String> {
    let id = state.id();
    match state.overall() {
        Overall::AwaitingPromotion => state
            .next_pending()
            .map(|n| format!("fleetid rotate promote {id} --stage {n}")),
        Overall::Halted => Some(format!(
            "investigate, then `fleetid rotate resume {id} --reason ...` or `fleetid rotate \
             abort {id} --reason ...`"
        )),
        Overall::Done => Some(format!(
            "after the grace period ({}): fleetid rotate finalize {id}",
            span(state.campaign.grace_seconds)
        )),
        Overall::Running => Some(format!("fleetid rotate status {id} --watch")),
        Overall::Aborted | Overall::Finalized => None,
    }
}

fn phase_text(phase: &Phase, now: Seconds) -> String {
    match phase {
        Phase::Pending => "pending".into(),
        Phase::Running { since } => format!("running for {}", span(now - since)),
        Phase::Soaking { until } => format!("soaking, {} left", span((until - now).max(0))),
        Phase::Passed { at } => format!("passed {}", timestamp(*at)),
        Phase::Promoted { at } => format!("passed, promoted {}", timestamp(*at)),
    }
}

/// Prints campaigns.
///
/// # Errors
/// The I/O error of writing.
pub fn print_status(
    campaigns: &[CampaignState],
    now: Seconds,
    format: OutputFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let reports: Vec<CampaignReport<'_>> = campaigns.iter().map(CampaignReport::of).collect();
    match format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            to_terminal_safe_json(&reports).unwrap_or_default()
        ),
        OutputFormat::Csv => {
            let mut text = String::from(
                "campaign,state,stage,cumulative_percent,phase,devices,on_new_certificate,\
                 reported,seen_connecting,registry_only,failed,unfinished,set_aside\n",
            );
            for r in &reports {
                if let Some(anchor) = &r.campaign.anchor {
                    // Stage 0: "on the new certificate" reads "holds the next anchor" here.
                    let c = anchor.counts();
                    text.push_str(&format!(
                        "{},{},anchor,0,{},{},{},{},,,{},{},0\n",
                        r.id,
                        r.state,
                        phase_word(&anchor.phase),
                        c.devices,
                        c.holding,
                        c.executions
                            .get(&super::state::Execution::Succeeded)
                            .copied()
                            .unwrap_or(0),
                        c.failed,
                        c.unfinished
                    ));
                }
                for (stage, c) in r.campaign.stages.iter().zip(&r.counts) {
                    text.push_str(&format!(
                        "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                        r.id,
                        r.state,
                        stage.number,
                        stage.cumulative_percent,
                        phase_word(&stage.phase),
                        c.devices,
                        c.on_new,
                        c.reported,
                        c.seen_connecting,
                        c.registry_only,
                        c.failed,
                        c.unfinished,
                        c.set_aside
                    ));
                }
            }
            crate::render::write_safe_lines(out, &text)
        }
        OutputFormat::Table => {
            if reports.is_empty() {
                return writeln!(out, "no rotation campaign in this environment");
            }
            let mut text = String::new();
            for r in &reports {
                text.push_str(&campaign_text(r, now));
            }
            crate::render::write_safe_lines(out, &text)
        }
    }
}

fn phase_word(phase: &Phase) -> &'static str {
    match phase {
        Phase::Pending => "pending",
        Phase::Running { .. } => "running",
        Phase::Soaking { .. } => "soaking",
        Phase::Passed { .. } => "passed",
        Phase::Promoted { .. } => "promoted",
    }
}

fn campaign_text(r: &CampaignReport<'_>, now: Seconds) -> String {
    let state = r.campaign;
    let gate = &state.campaign.gate;
    let mut text = format!(
        "campaign {} — {}, started {}\n",
        r.id,
        r.state,
        timestamp(state.created)
    );
    if let Some(halt) = &state.halt {
        text.push_str(&format!(
            "  HALTED {} by {}: {}\n",
            timestamp(halt.at),
            SafeText::new(&halt.by),
            SafeText::new(&halt.reason)
        ));
    }
    if let Some(abort) = &state.aborted {
        text.push_str(&format!(
            "  ABORTED {} by {}: {}\n",
            timestamp(abort.at),
            SafeText::new(&abort.by),
            SafeText::new(&abort.reason)
        ));
    }
    if let (Some(anchor), Some(share)) = (&state.anchor, &r.next_ca) {
        text.push_str(&anchor_text(anchor, share, now));
    }
    for (stage, c) in state.stages.iter().zip(&r.counts) {
        text.push_str(&format!(
            "  stage {} (to {} %): {} device{}, {}\n",
            stage.number,
            stage.cumulative_percent,
            c.devices + c.set_aside,
            if c.devices + c.set_aside == 1 {
                ""
            } else {
                "s"
            },
            phase_text(&stage.phase, now)
        ));
        if stage.phase == Phase::Pending {
            continue;
        }
        let executions: Vec<String> = c
            .executions
            .iter()
            .map(|(e, n)| format!("{} {n}", e.as_str().to_lowercase().replace('_', " ")))
            .collect();
        text.push_str(&format!(
            "    jobs {}: {}\n",
            stage
                .attempts()
                .iter()
                .map(|(j, _)| j.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if executions.is_empty() {
                "no execution yet".to_owned()
            } else {
                executions.join(", ")
            }
        ));
        text.push_str(&format!(
            "    on the new certificate: {:.1} % ({} of {}; agents reported {}, seen connecting \
             {}, registry only {}) — gate {:.1} %\n",
            c.success_percent(),
            c.on_new,
            c.devices,
            c.reported,
            c.seen_connecting,
            c.registry_only,
            gate.min_success
        ));
        text.push_str(&format!(
            "    failed: {:.1} % ({}) — halt over {:.1} %\n",
            c.failure_percent(),
            c.failed,
            gate.max_failure
        ));
        for (reason, n) in &c.reasons {
            text.push_str(&format!("      {n} × {}\n", SafeText::new(reason)));
        }
        if c.set_aside > 0 {
            text.push_str(&format!("    set aside by a resume: {}\n", c.set_aside));
        }
    }
    text.push_str(&format!(
        "  gate: at least {:.1} % on the new certificate, halt over {:.1} % failed, soak {}, {}\n",
        gate.min_success,
        gate.max_failure,
        span(gate.soak_seconds),
        if gate.auto_promote {
            "promoted automatically"
        } else {
            "promoted by a person"
        }
    ));
    if let Some(next) = &r.next {
        text.push_str(&format!("  next: {next}\n"));
    }
    text
}

fn anchor_text(anchor: &super::anchor::AnchorStage, share: &NextCaShare, now: Seconds) -> String {
    let c = anchor.counts();
    let mut text = format!(
        "  next CA {}: {} of {} devices ({:.1} %) hold it as their next trust anchor, {} \
         ({:.1} %) are on a certificate it issued\n",
        share.ca,
        share.holding_anchor,
        share.devices,
        share.holding_anchor_percent,
        share.on_new_ca,
        share.on_new_ca_percent,
    );
    if share.in_status > 0 {
        text.push_str(&format!(
            "    {} listed it in the status message a watching console saw last\n",
            share.in_status
        ));
    }
    text.push_str(&format!(
        "  anchor stage: {}, job {}",
        phase_text(&anchor.phase, now),
        anchor.job
    ));
    let executions: Vec<String> = c
        .executions
        .iter()
        .map(|(e, n)| format!("{} {n}", e.as_str().to_lowercase().replace('_', " ")))
        .collect();
    if !executions.is_empty() {
        text.push_str(&format!(": {}", executions.join(", ")));
    }
    text.push('\n');
    for (reason, n) in &c.reasons {
        text.push_str(&format!("      {n} × {}\n", SafeText::new(reason)));
    }
    text
}
