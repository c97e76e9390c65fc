//! Stage 0 of a campaign onto another CA (`next_ca`): the next CA's certificate pushed to
//! every device of the campaign as its next trust anchor, before any device certificate is
//! rotated — its persisted state, the evidence per device, and the gate that lets stage 1
//! start. Pure, like `state`: every rule is tested here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::file::Gate;
use super::state::{Execution, Phase, StageState, percent, top_reasons};

/// What is known about one device of the anchor stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorEvidence {
    /// Its execution of the anchor job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// The fingerprint the agent reported installing (`statusDetails.anchor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// Why it failed, as the agent said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the device's latest status message a watching console saw listed the next CA
    /// among its trust anchors; `None` while none was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_status: Option<bool>,
}

/// The anchor stage as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnchorStage {
    /// The next CA's certificate id (the campaign's `next_ca`, resolved).
    pub ca: String,
    /// SHA-256 of the CA certificate's DER, lower-case hex: what the agents report. Set once
    /// the certificate was read (DescribeCACertificate).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The CA certificate (PEM) the job installs.
    #[serde(default)]
    pub pem: Option<String>,
    /// Its static thing group.
    pub group: String,
    /// Its job id.
    pub job: String,
    /// Pending, running, or passed.
    #[serde(flatten)]
    pub phase: Phase,
    /// Every device of the campaign.
    pub devices: BTreeMap<String, AnchorEvidence>,
    /// The job's status as last read; `None` until the job is known to exist.
    #[serde(default)]
    pub job_status: Option<String>,
}

/// The anchor stage's counts, for the gate and for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnchorCounts {
    /// Devices of the campaign.
    pub devices: usize,
    /// Per execution status.
    pub executions: BTreeMap<Execution, usize>,
    /// The agent reported installing the next CA's fingerprint.
    pub holding: usize,
    /// Its latest status message seen listed the next CA among its anchors.
    pub in_status: usize,
    /// Failed, timed out or rejected.
    pub failed: usize,
    /// No execution yet, queued or in progress.
    pub unfinished: usize,
    /// Failure reasons and how many devices gave each.
    pub reasons: BTreeMap<String, usize>,
}

impl AnchorCounts {
    /// Percent of the campaign's devices holding the next anchor.
    #[must_use]
    pub fn holding_percent(&self) -> f64 {
        percent(self.holding, self.devices).unwrap_or(100.0)
    }

    /// Percent failed, timed out or rejected.
    #[must_use]
    pub fn failure_percent(&self) -> f64 {
        percent(self.failed, self.devices).unwrap_or(0.0)
    }
}

/// What the gate says about the anchor stage.
#[derive(Debug, Clone, PartialEq)]
pub enum AnchorVerdict {
    /// Devices still install it.
    Installing,
    /// Failures over `max_failure`: cancel the job and halt.
    Halt(String),
    /// Every execution finished under `min_success`: halt.
    GateFailed(String),
    /// Enough devices hold the anchor: stage 1 may start.
    Pass,
}

impl AnchorStage {
    /// A pending anchor stage for `ca` over `devices`, named from campaign `id`.
    #[must_use]
    pub fn new<'a>(id: &str, ca: &str, devices: impl Iterator<Item = &'a String>) -> Self {
        let name = format!("fleetid-rotate-{id}-anchor");
        Self {
            ca: ca.to_owned(),
            fingerprint: None,
            pem: None,
            group: name.clone(),
            job: name,
            phase: Phase::Pending,
            devices: devices
                .map(|t| (t.clone(), AnchorEvidence::default()))
                .collect(),
            job_status: None,
        }
    }

    /// Whether stage 1 may start (the gate passed, or a person accepted the stage).
    #[must_use]
    pub fn passed(&self) -> bool {
        matches!(self.phase, Phase::Passed { .. } | Phase::Promoted { .. })
    }

    /// Whether `thing` reported holding the next CA as its next trust anchor.
    #[must_use]
    pub fn holds(&self, thing: &str) -> bool {
        self.devices
            .get(thing)
            .is_some_and(|e| self.evidence_holds(e))
    }

    fn evidence_holds(&self, evidence: &AnchorEvidence) -> bool {
        evidence.execution == Some(Execution::Succeeded)
            && evidence.installed.is_some()
            && evidence.installed == self.fingerprint
    }

    /// Why `thing` does not hold the next anchor, for the stage that sets it aside.
    #[must_use]
    pub fn why_not(&self, thing: &str) -> String {
        let evidence = self.devices.get(thing).cloned().unwrap_or_default();
        let what = match (evidence.execution, &evidence.reason, &evidence.installed) {
            (None, _, _) => "no execution of the anchor job".to_owned(),
            (Some(Execution::Succeeded), _, Some(other)) => {
                format!("the agent installed another anchor ({other})")
            }
            (Some(x), Some(reason), _) => format!("anchor job {}: {reason}", x.as_str()),
            (Some(x), None, _) => format!("anchor job {}", x.as_str()),
        };
        format!("does not hold the next CA as its next trust anchor ({what})")
    }

    /// The stage's counts.
    #[must_use]
    pub fn counts(&self) -> AnchorCounts {
        let mut counts = AnchorCounts::default();
        for evidence in self.devices.values() {
            counts.devices += 1;
            match evidence.execution {
                Some(e) => {
                    *counts.executions.entry(e).or_default() += 1;
                    if e.is_failure() {
                        counts.failed += 1;
                        let reason = evidence
                            .reason
                            .clone()
                            .unwrap_or_else(|| e.as_str().to_lowercase());
                        *counts.reasons.entry(reason).or_default() += 1;
                    }
                    if !e.is_terminal() {
                        counts.unfinished += 1;
                    }
                }
                None => counts.unfinished += 1,
            }
            counts.holding += usize::from(self.evidence_holds(evidence));
            counts.in_status += usize::from(evidence.in_status == Some(true));
        }
        counts
    }

    /// Records what the devices' status messages say about the next CA: `reports(thing,
    /// fingerprint)` is `None` for a device whose status was not seen. Whether anything
    /// changed (the state is then to be saved).
    pub fn note_status(&mut self, reports: impl Fn(&str, &str) -> Option<bool>) -> bool {
        let Some(fingerprint) = self.fingerprint.clone() else {
            return false;
        };
        let mut changed = false;
        for (thing, evidence) in &mut self.devices {
            if let Some(listed) = reports(thing, &fingerprint)
                && evidence.in_status != Some(listed)
            {
                evidence.in_status = Some(listed);
                changed = true;
            }
        }
        changed
    }
}

/// The gate's decision for the anchor stage: the campaign's own `max_failure` halts it, and
/// once every execution finished `min_success` % of the devices must hold the next anchor.
/// No soak: an installed anchor changes nothing until a certificate issued by it is used.
#[must_use]
pub fn judge_anchor(gate: &Gate, counts: &AnchorCounts) -> AnchorVerdict {
    if counts.failure_percent() > gate.max_failure {
        return AnchorVerdict::Halt(format!(
            "{:.1} % of the devices failed to install the next trust anchor (over {:.1} %): {}",
            counts.failure_percent(),
            gate.max_failure,
            top_reasons(&counts.reasons)
        ));
    }
    if counts.unfinished > 0 {
        return AnchorVerdict::Installing;
    }
    if counts.holding_percent() < gate.min_success {
        return AnchorVerdict::GateFailed(format!(
            "{:.1} % of the devices hold the next trust anchor (needs {:.1} %)",
            counts.holding_percent(),
            gate.min_success
        ));
    }
    AnchorVerdict::Pass
}

/// The share of a next-CA campaign's devices that hold the next anchor and that are on a
/// certificate the next CA issued, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextCaShare {
    /// The next CA.
    pub ca: String,
    /// Devices of the campaign.
    pub devices: usize,
    /// Of those, holding the next CA as their next trust anchor.
    pub holding_anchor: usize,
    /// `holding_anchor` in percent of `devices`.
    pub holding_anchor_percent: f64,
    /// Of those, listing it in the latest status message a watching console saw (the agents'
    /// own report again, through the live status; only while a console watches).
    pub in_status: usize,
    /// Of those, on a new certificate (by both checks) that the next CA issued.
    pub on_new_ca: usize,
    /// `on_new_ca` in percent of `devices`.
    pub on_new_ca_percent: f64,
}

/// The share of `anchor`'s devices holding it, and of the stages' devices on the new CA.
#[must_use]
pub fn next_ca_share(anchor: &AnchorStage, stages: &[StageState]) -> NextCaShare {
    let devices = anchor.devices.len();
    let counts = anchor.counts();
    let (holding_anchor, in_status) = (counts.holding, counts.in_status);
    let on_new_ca = stages
        .iter()
        .flat_map(|s| s.devices.values().filter(|e| s.rotated(e)))
        .count();
    NextCaShare {
        ca: anchor.ca.clone(),
        devices,
        holding_anchor,
        holding_anchor_percent: percent(holding_anchor, devices).unwrap_or(0.0),
        in_status,
        on_new_ca,
        on_new_ca_percent: percent(on_new_ca, devices).unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::rotation::state::{Confirmation, DeviceEvidence};

    const FP: &str = "ab12";

    fn gate() -> Gate {
        Gate {
            min_success: 90.0,
            max_failure: 10.0,
            soak_seconds: 600,
            auto_promote: false,
        }
    }

    fn anchor(outcomes: &[(Option<Execution>, Option<&str>)]) -> AnchorStage {
        let things: Vec<String> = (0..outcomes.len()).map(|i| format!("d{i:02}")).collect();
        let mut stage = AnchorStage::new("c", "ca-next", things.iter());
        stage.fingerprint = Some(FP.into());
        stage.phase = Phase::Running { since: 0 };
        for (thing, (execution, installed)) in things.iter().zip(outcomes) {
            let e = stage.devices.get_mut(thing).unwrap();
            e.execution = *execution;
            e.installed = installed.map(str::to_owned);
            e.reason = (*execution == Some(Execution::Failed)).then(|| "bad pem".to_owned());
        }
        stage
    }

    #[test]
    fn names_derive_from_the_campaign() {
        let s = AnchorStage::new("q1", "ca", std::iter::empty());
        assert_eq!(
            (s.group.as_str(), s.job.as_str()),
            ("fleetid-rotate-q1-anchor", "fleetid-rotate-q1-anchor")
        );
        assert!(!s.passed());
    }

    #[test]
    fn only_a_success_reporting_the_next_fingerprint_holds_the_anchor() {
        let s = anchor(&[
            (Some(Execution::Succeeded), Some(FP)),
            (Some(Execution::Succeeded), Some("other")),
            (Some(Execution::Succeeded), None),
            (Some(Execution::InProgress), Some(FP)),
        ]);
        assert!(s.holds("d00"));
        assert!(!s.holds("d01") && !s.holds("d02") && !s.holds("d03"));
        assert!(
            s.why_not("d01").contains("another anchor (other)"),
            "{}",
            s.why_not("d01")
        );
        assert!(!s.holds("nobody"));
        assert_eq!(s.counts().holding, 1);
    }

    #[test]
    fn status_messages_are_recorded_only_for_devices_seen() {
        let mut s = anchor(&[
            (Some(Execution::Succeeded), Some(FP)),
            (None, None),
            (None, None),
        ]);
        let seen = |thing: &str, fp: &str| {
            assert_eq!(fp, FP);
            match thing {
                "d00" => Some(true),
                "d01" => Some(false),
                _ => None,
            }
        };
        assert!(s.note_status(seen));
        assert!(!s.note_status(seen), "nothing new the second time");
        let (a, b, c) = (&s.devices["d00"], &s.devices["d01"], &s.devices["d02"]);
        assert_eq!(
            (a.in_status, b.in_status, c.in_status),
            (Some(true), Some(false), None)
        );
        assert_eq!(s.counts().in_status, 1);
        s.fingerprint = None;
        assert!(
            !s.note_status(|_, _| Some(false)),
            "without the CA read nothing is judged"
        );
    }

    #[test]
    fn the_gate_waits_halts_fails_or_passes() {
        let mut outcomes = vec![(Some(Execution::Succeeded), Some(FP)); 9];
        outcomes.push((Some(Execution::Queued), None));
        assert_eq!(
            judge_anchor(&gate(), &anchor(&outcomes).counts()),
            AnchorVerdict::Installing
        );

        outcomes[9] = (Some(Execution::Failed), None);
        assert_eq!(
            judge_anchor(&gate(), &anchor(&outcomes).counts()),
            AnchorVerdict::Pass
        );

        outcomes[8] = (Some(Execution::Failed), None);
        let verdict = judge_anchor(&gate(), &anchor(&outcomes).counts());
        assert!(
            matches!(verdict, AnchorVerdict::Halt(ref r) if r.contains("bad pem (2)")),
            "{verdict:?}"
        );

        outcomes[8] = (Some(Execution::Succeeded), Some("other"));
        let verdict = judge_anchor(&gate(), &anchor(&outcomes).counts());
        assert!(
            matches!(verdict, AnchorVerdict::GateFailed(ref r) if r.contains("80.0 %")),
            "{verdict:?}"
        );
    }

    #[test]
    fn the_share_counts_anchors_and_certificates_the_next_ca_issued() {
        let s = anchor(&[
            (Some(Execution::Succeeded), Some(FP)),
            (Some(Execution::Succeeded), Some(FP)),
            (Some(Execution::Failed), None),
            (None, None),
        ]);
        let on = |issuer: &str| DeviceEvidence {
            execution: Some(Execution::Succeeded),
            reported: Some(format!("new-{issuer}")),
            confirmed: Some(Confirmation::Connected),
            issuer: Some(issuer.to_owned()),
            ..DeviceEvidence::default()
        };
        let stage = StageState {
            number: 1,
            cumulative_percent: 100,
            group: "g".into(),
            job: "j".into(),
            phase: Phase::Running { since: 0 },
            devices: [
                ("d00".to_owned(), on("ca-next")),
                ("d01".to_owned(), on("ca-old")),
            ]
            .into_iter()
            .collect(),
            job_status: None,
            retries: 0,
            issuer: Some("ca-next".into()),
        };
        let share = next_ca_share(&s, std::slice::from_ref(&stage));
        assert_eq!(
            (share.devices, share.holding_anchor, share.on_new_ca),
            (4, 2, 1)
        );
        assert!((share.holding_anchor_percent - 50.0).abs() < f64::EPSILON);
        assert!((share.on_new_ca_percent - 25.0).abs() < f64::EPSILON);
    }
}
