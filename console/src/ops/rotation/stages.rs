//! Which devices each stage of a campaign rotates: the target's devices whose certificate is
//! ACTIVE and that are not quarantined, in an order fixed by the campaign id (SHA-256 of id
//! and thing name), cut at the stages' cumulative percentages. The same campaign on the same
//! fleet gives the same stages on every run, so a restart resumes the stage it left.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::file::{Campaign, CampaignTarget};
use crate::model::{CertStatus, FleetState, UnixTime};
use crate::ops::QUARANTINE_GROUP;
use crate::ops::selector::{self, SelectError, Selector};

/// One stage's devices and how they split by cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// 1-based.
    pub number: usize,
    /// Cumulative share of the target after this stage, in percent.
    pub cumulative_percent: u8,
    /// The stage's static thing group.
    pub group: String,
    /// The stage's job id.
    pub job: String,
    /// The devices (thing names), in rotation order.
    pub things: Vec<String>,
    /// Devices per group of theirs (`none` without one).
    pub by_group: BTreeMap<String, usize>,
    /// Devices per firmware (`unknown` when not reported).
    pub by_firmware: BTreeMap<String, usize>,
}

/// A campaign's stages on the fleet as the model has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StagePlan {
    /// The campaign.
    pub campaign: String,
    /// Devices the target names.
    pub targeted: usize,
    /// Of those, left out: not ACTIVE, or quarantined.
    pub excluded: usize,
    /// The stages.
    pub stages: Vec<Stage>,
    /// The ACTIVE certificate each staged device has now: the one finalize retires.
    #[serde(skip)]
    pub current: BTreeMap<String, String>,
    /// The campaign's `next_ca`, resolved to the CA's certificate id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_ca: Option<String>,
}

/// Splits the campaign's target into its stages.
///
/// # Errors
/// [`SelectError`] when the target, or `next_ca`, names nothing the model knows.
pub fn plan_stages(
    state: &FleetState,
    campaign: &Campaign,
    now: UnixTime,
) -> Result<StagePlan, SelectError> {
    let selector = match &campaign.target {
        CampaignTarget::Ca(ca) => Selector::Ca(ca.clone()),
        CampaignTarget::Group(group) => Selector::Query(format!("group={group}")),
        CampaignTarget::Query(query) => Selector::Query(query.clone()),
    };
    let ids = selector::resolve(state, &[selector], now)?;
    let next_ca = match &campaign.next_ca {
        Some(pattern) => {
            // A full id is taken as it is (`rotate start` reads the CA before it records
            // anything); a prefix or subject text is looked up among the CAs the model has.
            let ca = state
                .resolve_ca(pattern)
                .map_err(|e| SelectError::NotFound(format!("next_ca: {e}")))?;
            Some(ca.to_string())
        }
        None => None,
    };
    let mut targeted = BTreeSet::new();
    let mut eligible = BTreeSet::new();
    let mut current = BTreeMap::new();
    for id in &ids {
        let Some(cert) = state.certificate(id) else {
            continue;
        };
        for thing in cert.things() {
            targeted.insert(thing.to_owned());
            let quarantined = state
                .thing(thing)
                .is_some_and(|t| t.groups.contains(&QUARANTINE_GROUP));
            if cert.record.status == CertStatus::Active && !quarantined {
                eligible.insert(thing.to_owned());
                current.insert(thing.to_owned(), id.to_string());
            }
        }
    }
    // A thing with one ACTIVE and one other certificate is rotated (its ACTIVE one).
    let mut order: Vec<(Vec<u8>, String)> = eligible
        .into_iter()
        .map(|thing| (rank(&campaign.id, &thing), thing))
        .collect();
    order.sort();
    let total = order.len();
    let mut stages = Vec::with_capacity(campaign.stages.len());
    let mut from = 0;
    for (i, pct) in campaign.stages.iter().enumerate() {
        let to = (total * usize::from(*pct)).div_ceil(100).min(total);
        let things: Vec<String> = order[from..to.max(from)]
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        let mut by_group = BTreeMap::new();
        let mut by_firmware = BTreeMap::new();
        for thing in &things {
            let view = state.thing(thing);
            let groups = view.as_ref().map(|v| v.groups.clone()).unwrap_or_default();
            if groups.is_empty() {
                *by_group.entry("none".to_owned()).or_default() += 1;
            }
            for g in groups {
                *by_group.entry(g.to_owned()).or_default() += 1;
            }
            let firmware = view.and_then(|v| v.firmware).unwrap_or("unknown");
            *by_firmware.entry(firmware.to_owned()).or_default() += 1;
        }
        stages.push(Stage {
            number: i + 1,
            cumulative_percent: *pct,
            group: campaign.stage_group(i + 1),
            job: campaign.stage_job(i + 1),
            things,
            by_group,
            by_firmware,
        });
        from = to.max(from);
    }
    Ok(StagePlan {
        campaign: campaign.id.clone(),
        excluded: targeted.len() - total,
        targeted: targeted.len(),
        stages,
        current,
        next_ca,
    })
}

fn rank(campaign: &str, thing: &str) -> Vec<u8> {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(campaign.as_bytes());
    context.update(&[0]);
    context.update(thing.as_bytes());
    context.finish().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_depends_on_the_campaign_and_is_stable() {
        let a: Vec<_> = (0..50).map(|i| rank("c1", &format!("dev-{i}"))).collect();
        let again: Vec<_> = (0..50).map(|i| rank("c1", &format!("dev-{i}"))).collect();
        let other: Vec<_> = (0..50).map(|i| rank("c2", &format!("dev-{i}"))).collect();
        assert_eq!(a, again);
        assert_ne!(a, other);
    }
}
