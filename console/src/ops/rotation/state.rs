//! A campaign as it is persisted: its file, its stages with their devices fixed when the
//! campaign started, each stage's phase and evidence, and what the gate decides from them.
//! Pure: no AWS and no clock but the instant handed in, so every rule is tested here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::anchor::AnchorStage;
use super::file::{Campaign, Gate};
use super::stages::StagePlan;

/// Seconds since the Unix epoch.
pub type Seconds = i64;

/// Where a job execution is (AWS IoT's `JobExecutionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Execution {
    /// Waiting for the device.
    Queued,
    /// The device works on it.
    InProgress,
    /// The device reported success.
    Succeeded,
    /// The device reported failure.
    Failed,
    /// The device did not finish in time.
    TimedOut,
    /// The device refused the job.
    Rejected,
    /// Canceled (a halt or an abort).
    Canceled,
    /// The thing left the job's group before it ran.
    Removed,
}

impl Execution {
    /// Parses AWS's spelling; `None` for a status this reader does not know.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "QUEUED" => Self::Queued,
            "IN_PROGRESS" => Self::InProgress,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "REJECTED" => Self::Rejected,
            "CANCELED" => Self::Canceled,
            "REMOVED" => Self::Removed,
            _ => return None,
        })
    }

    /// AWS's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Rejected => "REJECTED",
            Self::Canceled => "CANCELED",
            Self::Removed => "REMOVED",
        }
    }

    /// The device is done with it, one way or the other.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Queued | Self::InProgress)
    }

    /// Counts against the gate's `max_failure`.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::Rejected)
    }
}

/// What is known about one device of a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEvidence {
    /// Its job execution, once the job has one for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// The certificate the agent reports it moved to (`newCertificateId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
    /// The cloud saw the device connect with [`Self::reported`]: a presence event, or (when
    /// no console was listening) the registry holding it ACTIVE and attached to the thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Confirmation>,
    /// The certificate it had when its stage started: set INACTIVE at finalize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// Why it failed, as the agent said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The CA that issued [`Self::reported`] (`caCertificateId`), read when the campaign
    /// rotates onto another CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Set aside by a `resume`: a person accepted that this device stays where it is; the
    /// gate no longer counts it. The text says when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<String>,
}

impl DeviceEvidence {
    /// On the new certificate by both checks.
    #[must_use]
    pub fn on_new(&self) -> bool {
        self.execution == Some(Execution::Succeeded)
            && self.reported.is_some()
            && self.confirmed.is_some()
    }
}

/// How the cloud side confirmed a device's new certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// A presence event: the device connected presenting the new certificate.
    Connected,
    /// The registry: the certificate is ACTIVE and attached to the thing (its connect happened
    /// while no console listened).
    Registry,
}

/// Where a stage is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Not started.
    Pending,
    /// Its group and job are being created or exist; devices rotate.
    Running {
        /// When it started.
        since: Seconds,
    },
    /// Every execution finished and the gate's share was met; soaking until `until`.
    Soaking {
        /// When soaking ends.
        until: Seconds,
    },
    /// The gate passed; the next stage waits for a person (or starts, with auto-promote).
    Passed {
        /// When it passed.
        at: Seconds,
    },
    /// The next stage started.
    Promoted {
        /// When.
        at: Seconds,
    },
}

/// One stage as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageState {
    /// 1-based.
    pub number: usize,
    /// Cumulative share of the target after it, in percent.
    pub cumulative_percent: u8,
    /// Its static thing group.
    pub group: String,
    /// Its job id.
    pub job: String,
    /// Its phase.
    #[serde(flatten)]
    pub phase: Phase,
    /// Its devices, with what is known of each.
    pub devices: BTreeMap<String, DeviceEvidence>,
    /// The job's status as last read (`IN_PROGRESS`, `COMPLETED`, `CANCELED`); `None` until
    /// the job is known to exist.
    #[serde(default)]
    pub job_status: Option<String>,
    /// Continuation jobs created by resumes (`<job>-r1`, ...), each on its own group.
    #[serde(default)]
    pub retries: u32,
    /// The CA the new certificates must be issued by (the campaign's `next_ca`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl StageState {
    /// Whether a device of this stage is rotated: on its new certificate by both checks and,
    /// when the campaign moves to another CA, that certificate issued by it.
    #[must_use]
    pub fn rotated(&self, evidence: &DeviceEvidence) -> bool {
        evidence.on_new()
            && self
                .issuer
                .as_ref()
                .is_none_or(|ca| evidence.issuer.as_ref() == Some(ca))
    }

    /// The stage's jobs, first to last, with their groups: the stage's own, then each
    /// continuation a resume created.
    #[must_use]
    pub fn attempts(&self) -> Vec<(String, String)> {
        std::iter::once((self.job.clone(), self.group.clone()))
            .chain(
                (1..=self.retries)
                    .map(|k| (format!("{}-r{k}", self.job), format!("{}-r{k}", self.group))),
            )
            .collect()
    }
}

/// Why a campaign stopped advancing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    /// When.
    pub at: Seconds,
    /// Who or what: `gate`, `freeze`, or the person (OS user).
    pub by: String,
    /// The reason given or found.
    pub reason: String,
}

/// The whole campaign as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignState {
    /// The campaign file as it was started.
    pub campaign: Campaign,
    /// When it started.
    pub created: Seconds,
    /// The stages.
    pub stages: Vec<StageState>,
    /// Set while halted.
    #[serde(default)]
    pub halt: Option<Halt>,
    /// Every halt and resume, oldest first.
    #[serde(default)]
    pub history: Vec<String>,
    /// Set once aborted: nothing more happens.
    #[serde(default)]
    pub aborted: Option<Halt>,
    /// Set once finalized.
    #[serde(default)]
    pub finalized: Option<Seconds>,
    /// Stage 0 of a campaign onto another CA: the next trust anchor pushed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorStage>,
}

/// What a campaign is doing, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// A stage runs or soaks.
    Running,
    /// A stage passed its gate and waits for `promote`.
    AwaitingPromotion,
    /// Halted: by a gate, a freeze or a person.
    Halted,
    /// Aborted.
    Aborted,
    /// Every stage passed; `finalize` is next.
    Done,
    /// Finalized: old certificates set INACTIVE.
    Finalized,
}

impl CampaignState {
    /// A new campaign from its stage plan: every stage pending, devices fixed.
    #[must_use]
    pub fn new(campaign: Campaign, plan: &StagePlan, now: Seconds) -> Self {
        let stages = plan
            .stages
            .iter()
            .map(|s| StageState {
                number: s.number,
                cumulative_percent: s.cumulative_percent,
                group: s.group.clone(),
                job: s.job.clone(),
                phase: Phase::Pending,
                devices: s
                    .things
                    .iter()
                    .map(|t| {
                        let evidence = DeviceEvidence {
                            old: plan.current.get(t).cloned(),
                            ..DeviceEvidence::default()
                        };
                        (t.clone(), evidence)
                    })
                    .collect(),
                job_status: None,
                retries: 0,
                issuer: plan.next_ca.clone(),
            })
            .collect::<Vec<_>>();
        let anchor = plan.next_ca.as_ref().map(|ca| {
            let id = &campaign.id;
            AnchorStage::new(id, ca, stages.iter().flat_map(|s| s.devices.keys()))
        });
        Self {
            campaign,
            created: now,
            stages,
            halt: None,
            history: Vec::new(),
            aborted: None,
            finalized: None,
            anchor,
        }
    }

    /// The campaign id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.campaign.id
    }

    /// The stage that runs, soaks or waits: the last one not pending.
    #[must_use]
    pub fn current(&self) -> Option<&StageState> {
        self.stages.iter().rev().find(|s| s.phase != Phase::Pending)
    }

    /// What it is doing.
    #[must_use]
    pub fn overall(&self) -> Overall {
        if self.aborted.is_some() {
            return Overall::Aborted;
        }
        if self.finalized.is_some() {
            return Overall::Finalized;
        }
        if self.halt.is_some() {
            return Overall::Halted;
        }
        let last_passed = self
            .stages
            .last()
            .is_some_and(|s| matches!(s.phase, Phase::Passed { .. }));
        if last_passed {
            return Overall::Done;
        }
        match self.current().map(|s| &s.phase) {
            Some(Phase::Passed { .. }) => Overall::AwaitingPromotion,
            _ => Overall::Running,
        }
    }

    /// When `finalize` may retire the old certificates: the grace period after the campaign
    /// ended (its last stage passed, or it was aborted); `None` while it has not ended.
    #[must_use]
    pub fn grace_ends(&self) -> Option<Seconds> {
        let ended = match self.overall() {
            Overall::Done => self.stages.last().and_then(|s| match s.phase {
                Phase::Passed { at } | Phase::Promoted { at } => Some(at),
                _ => None,
            }),
            Overall::Aborted => self.aborted.as_ref().map(|a| a.at),
            _ => return None,
        };
        Some(
            ended
                .unwrap_or(self.created)
                .saturating_add(self.campaign.grace_seconds),
        )
    }

    /// The next stage to start after `current` passed, if any.
    #[must_use]
    pub fn next_pending(&self) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.phase == Phase::Pending)
            .map(|i| i + 1)
    }

    /// Every device of the campaign with its evidence, stage by stage.
    pub fn devices(&self) -> impl Iterator<Item = (&str, &DeviceEvidence)> {
        self.stages
            .iter()
            .flat_map(|s| s.devices.iter().map(|(t, e)| (t.as_str(), e)))
    }
}

/// A stage's counts, for the gate and for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StageCounts {
    /// Devices in the stage.
    pub devices: usize,
    /// Per execution status (devices without an execution yet are not counted here).
    pub executions: BTreeMap<Execution, usize>,
    /// The agent reported a new certificate.
    pub reported: usize,
    /// The cloud saw the device connect with it.
    pub seen_connecting: usize,
    /// The registry holds it ACTIVE and attached (connect not seen).
    pub registry_only: usize,
    /// On the new certificate by both checks (and issued by the next CA, when the campaign
    /// moves to one).
    pub on_new: usize,
    /// On a new certificate by both checks, but issued by another CA than the next CA.
    pub other_issuer: usize,
    /// Failed, timed out or rejected.
    pub failed: usize,
    /// No execution yet, queued or in progress.
    pub unfinished: usize,
    /// Failure reasons and how many devices gave each.
    pub reasons: BTreeMap<String, usize>,
    /// Set aside by a resume (not counted above).
    pub set_aside: usize,
}

impl StageCounts {
    /// Counts a stage's evidence.
    #[must_use]
    pub fn of(stage: &StageState) -> Self {
        let mut counts = Self::default();
        for evidence in stage.devices.values() {
            if evidence.set_aside.is_some() {
                counts.set_aside += 1;
                continue;
            }
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
            counts.reported += usize::from(evidence.reported.is_some());
            match evidence.confirmed {
                Some(Confirmation::Connected) => counts.seen_connecting += 1,
                Some(Confirmation::Registry) => counts.registry_only += 1,
                None => {}
            }
            let rotated = stage.rotated(evidence);
            counts.on_new += usize::from(rotated);
            counts.other_issuer += usize::from(evidence.on_new() && !rotated);
        }
        counts
    }

    /// Devices whose execution is in `status`.
    #[must_use]
    pub fn in_status(&self, status: Execution) -> usize {
        self.executions.get(&status).copied().unwrap_or(0)
    }

    /// Percent of the stage's devices on the new certificate.
    #[must_use]
    pub fn success_percent(&self) -> f64 {
        percent(self.on_new, self.devices).unwrap_or(100.0)
    }

    /// Percent failed, timed out or rejected.
    #[must_use]
    pub fn failure_percent(&self) -> f64 {
        percent(self.failed, self.devices).unwrap_or(0.0)
    }
}

/// `part` of `whole` in percent; `None` of nothing.
pub(super) fn percent(part: usize, whole: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // device counts are far below 2^52
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// What the gate says about a running or soaking stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Devices still rotate.
    Rotating,
    /// Failures over `max_failure`: cancel the job and halt.
    Halt(String),
    /// Every execution finished under `min_success`: halt.
    GateFailed(String),
    /// Finished and over `min_success`: soak until then.
    Soak(Seconds),
    /// Soaked: the stage passed.
    Pass,
}

/// The gate's decision for a stage in `phase` with `counts`, at `now`.
#[must_use]
pub fn judge(gate: &Gate, phase: &Phase, counts: &StageCounts, now: Seconds) -> Verdict {
    if counts.failure_percent() > gate.max_failure {
        return Verdict::Halt(format!(
            "{:.1} % of the stage failed, timed out or was rejected (over {:.1} %): {}",
            counts.failure_percent(),
            gate.max_failure,
            top_reasons(&counts.reasons)
        ));
    }
    if let Phase::Soaking { until } = phase {
        return if now >= *until {
            Verdict::Pass
        } else {
            Verdict::Soak(*until)
        };
    }
    if counts.unfinished > 0 {
        return Verdict::Rotating;
    }
    if counts.success_percent() < gate.min_success {
        return Verdict::GateFailed(format!(
            "{:.1} % of the stage is on the new certificate by both checks (needs {:.1} %): \
             {} reported by the agents, {} seen connecting, {} in the registry only{}",
            counts.success_percent(),
            gate.min_success,
            counts.reported,
            counts.seen_connecting,
            counts.registry_only,
            if counts.other_issuer > 0 {
                format!(
                    ", {} issued by another CA than the next CA",
                    counts.other_issuer
                )
            } else {
                String::new()
            }
        ));
    }
    Verdict::Soak(now.saturating_add(gate.soak_seconds))
}

pub(super) fn top_reasons(reasons: &BTreeMap<String, usize>) -> String {
    let mut sorted: Vec<_> = reasons.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let text: Vec<String> = sorted
        .iter()
        .take(3)
        .map(|(r, n)| format!("{r} ({n})"))
        .collect();
    if text.is_empty() {
        "no reason reported".into()
    } else {
        text.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate {
            min_success: 98.0,
            max_failure: 1.0,
            soak_seconds: 600,
            auto_promote: false,
        }
    }

    fn stage(outcomes: &[(Option<Execution>, bool)]) -> StageState {
        StageState {
            number: 1,
            cumulative_percent: 10,
            group: "g".into(),
            job: "j".into(),
            phase: Phase::Running { since: 0 },
            devices: outcomes
                .iter()
                .enumerate()
                .map(|(i, (execution, confirmed))| {
                    (
                        format!("dev-{i:03}"),
                        DeviceEvidence {
                            execution: *execution,
                            reported: (*execution == Some(Execution::Succeeded))
                                .then(|| format!("new-{i}")),
                            confirmed: confirmed.then_some(Confirmation::Connected),
                            reason: (*execution == Some(Execution::Failed))
                                .then(|| "verify timed out".to_owned()),
                            ..DeviceEvidence::default()
                        },
                    )
                })
                .collect(),
            job_status: None,
            retries: 0,
            issuer: None,
        }
    }

    fn many(n: usize, e: Option<Execution>, confirmed: bool) -> Vec<(Option<Execution>, bool)> {
        vec![(e, confirmed); n]
    }

    #[test]
    fn a_stage_with_devices_still_rotating_waits() {
        let mut devices = many(99, Some(Execution::Succeeded), true);
        devices.push((Some(Execution::InProgress), false));
        let s = stage(&devices);
        assert_eq!(
            judge(&gate(), &s.phase, &StageCounts::of(&s), 100),
            Verdict::Rotating
        );
    }

    #[test]
    fn failures_over_the_threshold_halt_before_the_stage_finishes() {
        let mut devices = many(97, Some(Execution::Queued), false);
        devices.extend(many(2, Some(Execution::Failed), false));
        devices.push((Some(Execution::Succeeded), true));
        let s = stage(&devices);
        let verdict = judge(&gate(), &s.phase, &StageCounts::of(&s), 100);
        let Verdict::Halt(reason) = verdict else {
            panic!("expected a halt, got {verdict:?}")
        };
        assert!(reason.contains("2.0 %"), "{reason}");
        assert!(reason.contains("verify timed out (2)"), "{reason}");
    }

    #[test]
    fn exactly_at_the_failure_threshold_does_not_halt() {
        let mut devices = many(99, Some(Execution::Succeeded), true);
        devices.push((Some(Execution::TimedOut), false));
        let s = stage(&devices);
        assert_eq!(
            judge(&gate(), &s.phase, &StageCounts::of(&s), 100),
            Verdict::Soak(700)
        );
    }

    #[test]
    fn an_agent_report_without_the_cloud_seeing_it_does_not_count() {
        let mut devices = many(97, Some(Execution::Succeeded), true);
        devices.extend(many(3, Some(Execution::Succeeded), false));
        let s = stage(&devices);
        let counts = StageCounts::of(&s);
        assert_eq!((counts.reported, counts.on_new), (100, 97));
        let verdict = judge(&gate(), &s.phase, &counts, 100);
        assert!(
            matches!(verdict, Verdict::GateFailed(ref r) if r.contains("97.0 %")),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_soaking_stage_passes_when_the_soak_ends_unless_failures_arrive() {
        let mut s = stage(&many(100, Some(Execution::Succeeded), true));
        s.phase = Phase::Soaking { until: 700 };
        let counts = StageCounts::of(&s);
        assert_eq!(judge(&gate(), &s.phase, &counts, 699), Verdict::Soak(700));
        assert_eq!(judge(&gate(), &s.phase, &counts, 700), Verdict::Pass);
        let mut late = many(98, Some(Execution::Succeeded), true);
        late.extend(many(2, Some(Execution::Failed), false));
        let mut s = stage(&late);
        s.phase = Phase::Soaking { until: 700 };
        assert!(matches!(
            judge(&gate(), &s.phase, &StageCounts::of(&s), 800),
            Verdict::Halt(_)
        ));
    }

    #[test]
    fn devices_set_aside_by_a_resume_no_longer_count() {
        let mut devices = many(95, Some(Execution::Succeeded), true);
        devices.extend(many(5, Some(Execution::Failed), false));
        let mut s = stage(&devices);
        assert!(matches!(
            judge(&gate(), &s.phase, &StageCounts::of(&s), 1),
            Verdict::Halt(_)
        ));
        for evidence in s
            .devices
            .values_mut()
            .filter(|e| e.execution == Some(Execution::Failed))
        {
            evidence.set_aside = Some("accepted".into());
        }
        let counts = StageCounts::of(&s);
        assert_eq!(
            (counts.devices, counts.set_aside, counts.failed),
            (95, 5, 0)
        );
        assert_eq!(judge(&gate(), &s.phase, &counts, 1), Verdict::Soak(601));
        s.retries = 2;
        assert_eq!(
            s.attempts(),
            vec![
                ("j".to_owned(), "g".to_owned()),
                ("j-r1".to_owned(), "g-r1".to_owned()),
                ("j-r2".to_owned(), "g-r2".to_owned())
            ]
        );
    }

    #[test]
    fn onto_another_ca_only_certificates_it_issued_count() {
        let mut s = stage(&many(4, Some(Execution::Succeeded), true));
        s.issuer = Some("next".into());
        for (i, e) in s.devices.values_mut().enumerate() {
            e.issuer = Some(if i < 3 { "next" } else { "old" }.into());
        }
        let counts = StageCounts::of(&s);
        assert_eq!((counts.on_new, counts.other_issuer), (3, 1));
        let verdict = judge(&gate(), &s.phase, &counts, 1);
        assert!(
            matches!(verdict, Verdict::GateFailed(ref r) if r.contains("1 issued by another CA")),
            "{verdict:?}"
        );
        let unknown = s.devices.values_mut().next().unwrap();
        unknown.issuer = None;
        assert!(!s.rotated(s.devices.values().next().unwrap()));
        s.issuer = None;
        assert_eq!(
            StageCounts::of(&s).on_new,
            4,
            "without a next CA the issuer is not read"
        );
    }

    #[test]
    fn an_empty_stage_passes_its_share() {
        let s = stage(&[]);
        assert_eq!(
            judge(&gate(), &s.phase, &StageCounts::of(&s), 5),
            Verdict::Soak(605)
        );
    }

    #[test]
    fn the_overall_state_follows_the_stages() {
        let plan = StagePlan {
            campaign: "c".into(),
            targeted: 2,
            excluded: 0,
            stages: vec![],
            current: BTreeMap::new(),
            next_ca: None,
        };
        let campaign = crate::ops::rotation::file::Campaign::parse(
            std::path::Path::new("c.toml"),
            "id = \"c\"\ntarget = { group = \"g\" }\nstages = [50, 100]\n",
        )
        .unwrap();
        let mut state = CampaignState::new(campaign, &plan, 0);
        for n in 1..=2 {
            state.stages.push(StageState {
                number: n,
                ..stage(&[])
            });
            state.stages[n - 1].phase = Phase::Pending;
        }
        assert_eq!(state.next_pending(), Some(1));
        state.stages[0].phase = Phase::Passed { at: 1 };
        assert_eq!(state.overall(), Overall::AwaitingPromotion);
        assert_eq!(state.next_pending(), Some(2));
        state.stages[0].phase = Phase::Promoted { at: 2 };
        state.stages[1].phase = Phase::Passed { at: 3 };
        assert_eq!(state.overall(), Overall::Done);
        state.halt = Some(Halt {
            at: 4,
            by: "ops".into(),
            reason: "r".into(),
        });
        assert_eq!(state.overall(), Overall::Halted);
    }
}
