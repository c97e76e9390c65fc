//! `fleetid rotate plan FILE`: the campaign's stages on the refreshed model — devices per
//! stage, by group and firmware, and the AWS names each stage will use. No call is made.

use std::io::Write;

use super::file::Campaign;
use super::stages::StagePlan;
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
            out.write_all(text.as_bytes())
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
            out.write_all(text.as_bytes())
        }
    }
}
