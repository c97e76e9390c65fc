//! Jobs and certificate renewal: rotation (and first provisioning by claim) step by step,
//! commit or roll back, finalize, anchor jobs, and the job reports.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Action, Agent, Anchor, Credential, JobReport, Phase, Purpose, Qos, Rotation, Using};
use crate::wire::{
    AnchorAction, AnchorJob, CreateFromCsrAccepted, CreateFromCsrRequest, JobDocument,
    JobExecution, JobStatus, JobUpdateRequest, ProvisionRequest, RotateAction, RotateJob,
    RotationStep, StartNextAccepted, StartNextRequest, StatusDetails, jobs_topic,
};

const CREATE_FROM_CSR: &str = "$aws/certificates/create-from-csr/json";
const TOKEN_VERIFY: &str = "verify";
const TOKEN_REPORT: &str = "report";

/// The parts of an `/accepted` or `/rejected` answer the agent looks at.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    client_token: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Answer {
    fn parse(payload: &[u8]) -> Self {
        serde_json::from_slice(payload).unwrap_or_default()
    }

    fn reason(&self) -> String {
        self.error_message
            .clone()
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "no reason given".into())
    }
}

fn details(entries: &[(&str, &str)]) -> StatusDetails {
    let mut details = StatusDetails::new();
    for (key, value) in entries {
        // Keys are constants of this module, all valid.
        let _ = details.insert(key, value);
    }
    details
}

impl Agent {
    pub(super) fn on_message(&mut self, topic: &str, payload: &[u8]) {
        let jobs_prefix = jobs_topic(&self.policy.thing, "");
        if let Some(rest) = topic.strip_prefix(&jobs_prefix) {
            self.on_jobs_message(rest, payload);
        } else if let Some(result) = topic.strip_prefix(CREATE_FROM_CSR) {
            self.on_create_from_csr(result, payload);
        } else if topic.starts_with("$aws/provisioning-templates/") {
            if topic.ends_with("/provision/json/accepted") {
                self.on_provisioned();
            } else if topic.ends_with("/provision/json/rejected") {
                let reason = Answer::parse(payload).reason();
                self.fail_rotation(RotationStep::Provisioning, format!("provision: {reason}"));
            }
        }
    }

    fn on_jobs_message(&mut self, rest: &str, payload: &[u8]) {
        match rest {
            "notify-next" => {
                let notice: StartNextAccepted = serde_json::from_slice(payload).unwrap_or_default();
                if notice.execution.is_some() && !self.rotation_in_progress() {
                    self.send_start_next();
                }
            }
            "start-next/accepted" => {
                self.verified();
                let accepted: StartNextAccepted =
                    serde_json::from_slice(payload).unwrap_or_default();
                if let Some(execution) = accepted.execution {
                    self.start_job(execution);
                }
            }
            "start-next/rejected" => self.verified(),
            _ => {
                let Some((job_id, result)) = rest.split_once("/update/") else {
                    return;
                };
                let answer = Answer::parse(payload);
                match answer.client_token.as_deref() {
                    Some(TOKEN_VERIFY) => self.on_verify_answer(job_id),
                    Some(TOKEN_REPORT) => {
                        self.verified();
                        if self
                            .state
                            .report
                            .as_ref()
                            .is_some_and(|r| r.job_id == job_id)
                        {
                            // Accepted or refused for good: either way it is delivered.
                            self.state.report = None;
                            self.dirty = true;
                            if result == "accepted" {
                                self.send_start_next();
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn start_job(&mut self, execution: JobExecution) {
        let busy_with_it = self.state.rotation.as_ref().is_some_and(|r| {
            r.job_id == execution.job_id && (r.in_progress() || self.state.report.is_some())
        });
        if busy_with_it || self.rotation_in_progress() || self.state.report.is_some() {
            return;
        }
        let job_id = execution.job_id;
        match JobDocument::from_value(&execution.job_document) {
            Err(e) => self.report(&job_id, JobStatus::Rejected, &[("reason", &e.to_string())]),
            Ok(JobDocument::Anchor(job)) => self.anchor_job(&job_id, &job),
            Ok(JobDocument::Rotate(job)) => self.rotate_job(job_id, job),
        }
    }

    fn rotate_job(&mut self, job_id: String, job: RotateJob) {
        let deadline_ms = u64::from(job.deadline_seconds) * 1_000;
        match job.action {
            RotateAction::Finalize => match self.state.previous.clone() {
                None => self.report(&job_id, JobStatus::Succeeded, &[("previous", "none")]),
                Some(previous) => {
                    self.state.rotation = Some(Rotation {
                        purpose: Purpose::Rotate,
                        job_id,
                        step: RotationStep::Finalizing,
                        slot: previous.slot,
                        template: String::new(),
                        deadline_ms,
                        csr_pem: None,
                        ownership_token: None,
                        pending: None,
                        verify_by: None,
                        error: None,
                    });
                    self.dirty = true;
                    self.out.push(Action::DeleteKey {
                        slot: previous.slot,
                    });
                }
            },
            RotateAction::Rotate => {
                let refusal = if self.state.previous.is_some() {
                    Some("the previous key is not finalized yet")
                } else if self.state.phase != Phase::Active || self.state.active.is_none() {
                    Some("the active certificate is not verified yet")
                } else {
                    None
                };
                if let Some(reason) = refusal {
                    return self.report(&job_id, JobStatus::Rejected, &[("reason", reason)]);
                }
                let template = job.template.unwrap_or_default();
                self.begin_rotation(Purpose::Rotate, job_id, template, deadline_ms);
            }
        }
    }

    fn anchor_job(&mut self, job_id: &str, job: &AnchorJob) {
        let outcome = match job.action {
            AnchorAction::Install => {
                let pem = job.anchor_pem.clone().unwrap_or_default();
                super::certificate_facts(&pem).map(|facts| {
                    self.state.anchors.next = Some(Anchor {
                        fingerprint: facts.fingerprint.clone(),
                        pem,
                    });
                    facts.fingerprint
                })
            }
            AnchorAction::Promote => {
                let wanted = job.fingerprint.clone().unwrap_or_default();
                let anchors = &mut self.state.anchors;
                if anchors.current.fingerprint == wanted {
                    Ok(wanted)
                } else if let Some(next) = anchors.next.take_if(|next| next.fingerprint == wanted) {
                    anchors.current = next;
                    Ok(wanted)
                } else {
                    Err(format!("no installed anchor has fingerprint {wanted}"))
                }
            }
        };
        self.dirty = true;
        match outcome {
            Ok(fingerprint) => {
                self.report(job_id, JobStatus::Succeeded, &[("anchor", &fingerprint)]);
            }
            Err(reason) => self.report(job_id, JobStatus::Failed, &[("reason", &reason)]),
        }
    }

    pub(super) fn begin_rotation(
        &mut self,
        purpose: Purpose,
        job_id: String,
        template: String,
        deadline_ms: u64,
    ) {
        let slot = match &self.state.active {
            Some(active) => self.policy.other_slot(active.slot),
            None => self.policy.slots[0],
        };
        self.state.rotation = Some(Rotation {
            purpose,
            job_id,
            step: RotationStep::GeneratingKey,
            slot,
            template,
            deadline_ms,
            csr_pem: None,
            ownership_token: None,
            pending: None,
            verify_by: None,
            error: None,
        });
        self.dirty = true;
        self.out.push(Action::GenerateKey { slot });
    }

    /// Picks a rotation up again after a restart or a retry.
    pub(super) fn resume_rotation(&mut self) {
        let Some(rotation) = &self.state.rotation else {
            return;
        };
        let slot = rotation.slot;
        match rotation.step {
            RotationStep::GeneratingKey => self.out.push(Action::GenerateKey { slot }),
            RotationStep::SigningCsr => self.out.push(Action::SignCsr {
                slot,
                common_name: self.policy.thing.clone(),
            }),
            RotationStep::Finalizing => self.out.push(Action::DeleteKey { slot }),
            _ => {}
        }
        if !matches!(
            rotation.step,
            RotationStep::GeneratingKey | RotationStep::SigningCsr
        ) || self.state.active.is_some()
        {
            self.connect();
        }
    }

    pub(super) fn on_key_generated(&mut self, slot: u32) {
        if let Some(rotation) = self
            .state
            .rotation
            .as_mut()
            .filter(|r| r.step == RotationStep::GeneratingKey && r.slot == slot)
        {
            rotation.step = RotationStep::SigningCsr;
            self.dirty = true;
            self.out.push(Action::SignCsr {
                slot,
                common_name: self.policy.thing.clone(),
            });
        }
    }

    pub(super) fn on_csr_signed(&mut self, slot: u32, csr_pem: String) {
        let Some(rotation) = self
            .state
            .rotation
            .as_mut()
            .filter(|r| r.step == RotationStep::SigningCsr && r.slot == slot)
        else {
            return;
        };
        rotation.step = RotationStep::CreatingCertificate;
        rotation.csr_pem = Some(csr_pem);
        self.dirty = true;
        if self.online_as(Using::Active) || self.online_as(Using::Claim) {
            self.send_rotation_request();
        } else if matches!(self.link, super::Link::Offline { retry_at: None }) {
            self.connect();
        }
    }

    pub(super) fn on_key_deleted(&mut self, slot: u32) {
        let finalizing = self
            .state
            .rotation
            .as_ref()
            .is_some_and(|r| r.step == RotationStep::Finalizing && r.slot == slot);
        let previous_slot = self.state.previous.as_ref().map(|p| p.slot);
        if !finalizing || previous_slot != Some(slot) {
            return;
        }
        self.state.previous = None;
        let job_id = self.finish_rotation(RotationStep::Committed, None);
        self.report(
            &job_id,
            JobStatus::Succeeded,
            &[("deletedSlot", &slot.to_string())],
        );
    }

    pub(super) fn on_se_failed(&mut self, slot: u32, error: &str) {
        let Some(rotation) = self.state.rotation.as_ref().filter(|r| r.slot == slot) else {
            return;
        };
        let step = rotation.step;
        let working = matches!(
            step,
            RotationStep::GeneratingKey | RotationStep::SigningCsr | RotationStep::Finalizing
        );
        if !working {
            return;
        }
        if rotation.purpose == Purpose::Provision {
            self.fault(format!("secure element, slot {slot:#x}: {error}"));
        } else {
            self.fail_rotation(step, format!("secure element, slot {slot:#x}: {error}"));
        }
    }

    fn on_create_from_csr(&mut self, result: &str, payload: &[u8]) {
        let step = self.state.rotation.as_ref().map(|r| r.step);
        if step != Some(RotationStep::CreatingCertificate) {
            return;
        }
        self.request_at = None;
        if result != "/accepted" {
            let reason = Answer::parse(payload).reason();
            return self.fail_rotation(
                RotationStep::CreatingCertificate,
                format!("create-from-csr: {reason}"),
            );
        }
        let created = match serde_json::from_slice::<CreateFromCsrAccepted>(payload) {
            Ok(created) => created,
            Err(e) => {
                return self.fail_rotation(
                    RotationStep::CreatingCertificate,
                    format!("create-from-csr answer: {e}"),
                );
            }
        };
        let Some(rotation) = self.state.rotation.as_mut() else {
            return;
        };
        match Credential::from_pem(rotation.slot, &created.certificate_pem) {
            Ok(credential) => {
                rotation.pending = Some(credential);
                rotation.ownership_token = Some(created.certificate_ownership_token);
                rotation.step = RotationStep::Provisioning;
                self.dirty = true;
                self.send_rotation_request();
            }
            Err(e) => self.fail_rotation(
                RotationStep::CreatingCertificate,
                format!("certificate from create-from-csr: {e}"),
            ),
        }
    }

    fn on_provisioned(&mut self) {
        let Some(rotation) = self
            .state
            .rotation
            .as_mut()
            .filter(|r| r.step == RotationStep::Provisioning && r.pending.is_some())
        else {
            return;
        };
        self.request_at = None;
        self.dirty = true;
        match rotation.purpose {
            Purpose::Rotate => {
                rotation.step = RotationStep::Verifying;
                rotation.verify_by = Some(self.now + rotation.deadline_ms);
            }
            Purpose::Provision => {
                self.state.active = rotation.pending.take();
                rotation.step = RotationStep::Committed;
                self.state.rotation = None;
                self.state.phase = Phase::Registering;
                self.state.failures = 0;
            }
        }
        self.connect();
    }

    fn on_verify_answer(&mut self, job_id: &str) {
        let verifying = self.online_as(Using::Pending)
            && self.state.rotation.as_ref().is_some_and(|r| {
                r.step == RotationStep::Verifying && r.job_id == job_id && r.pending.is_some()
            });
        if !verifying {
            return;
        }
        // Connected with the new certificate and a request made the round trip: commit.
        self.request_at = None;
        let pending = self.state.rotation.as_mut().and_then(|r| r.pending.take());
        self.state.previous = self.state.active.take();
        self.state.active = pending;
        let new_id = self
            .state
            .active
            .as_ref()
            .map(|a| a.fingerprint.clone())
            .unwrap_or_default();
        if let super::Link::Online { ref mut using, .. } = self.link {
            *using = Using::Active;
        }
        let job_id = self.finish_rotation(RotationStep::Committed, None);
        self.verified();
        self.report(
            &job_id,
            JobStatus::Succeeded,
            &[("newCertificateId", &new_id)],
        );
    }

    /// Back to the previous certificate after a failed verification.
    pub(super) fn roll_back(&mut self, reason: &str) {
        let job_id = self.finish_rotation(RotationStep::RolledBack, Some(reason.to_owned()));
        self.report(
            &job_id,
            JobStatus::Failed,
            &[("reason", reason), ("step", "verifying")],
        );
        self.connect();
    }

    /// A rotation step failed before the new certificate was used.
    fn fail_rotation(&mut self, step: RotationStep, reason: String) {
        let Some(rotation) = self.state.rotation.as_ref().filter(|r| r.step == step) else {
            return;
        };
        if rotation.purpose == Purpose::Provision {
            // Keep key and CSR; ask again after a backoff, as a failed provisioning attempt.
            if let Some(rotation) = self.state.rotation.as_mut() {
                rotation.step = RotationStep::CreatingCertificate;
                rotation.error = Some(reason);
            }
            self.dirty = true;
            self.out.push(Action::Disconnect);
            self.count_failure();
            return self.schedule_retry();
        }
        let step_name = format!("{step:?}");
        let job_id = self.finish_rotation(RotationStep::RolledBack, Some(reason.clone()));
        self.report(
            &job_id,
            JobStatus::Failed,
            &[("reason", &reason), ("step", &step_name)],
        );
    }

    pub(super) fn request_timed_out(&mut self) {
        // The round trip that proves the certificate got no answer: ask again.
        if let super::Link::Online {
            using: Using::Active,
            verified: false,
            ..
        } = self.link
        {
            self.send_start_next();
            self.request_at = Some(self.now + self.policy.request_timeout_ms);
        }
        let Some(step) = self.state.rotation.as_ref().map(|r| r.step) else {
            return;
        };
        if matches!(
            step,
            RotationStep::CreatingCertificate | RotationStep::Provisioning
        ) {
            self.fail_rotation(step, format!("no answer to {step:?} in time"));
        }
    }

    /// Ends the rotation at `step`; returns its job id.
    fn finish_rotation(&mut self, step: RotationStep, error: Option<String>) -> String {
        self.dirty = true;
        match self.state.rotation.as_mut() {
            Some(rotation) => {
                rotation.step = step;
                rotation.error = error;
                rotation.pending = None;
                rotation.csr_pem = None;
                rotation.ownership_token = None;
                rotation.verify_by = None;
                rotation.job_id.clone()
            }
            None => String::new(),
        }
    }

    /// Records a job update to deliver and sends it when possible.
    fn report(&mut self, job_id: &str, status: JobStatus, entries: &[(&str, &str)]) {
        if job_id.is_empty() {
            return;
        }
        self.state.report = Some(JobReport {
            job_id: job_id.to_owned(),
            status,
            details: details(entries),
        });
        self.dirty = true;
        self.send_report();
    }

    pub(super) fn send_report(&mut self) {
        let Some(report) = self.state.report.clone() else {
            return;
        };
        if !self.online_as(Using::Active) {
            return;
        }
        let request = JobUpdateRequest {
            status: report.status,
            status_details: report.details,
            client_token: Some(TOKEN_REPORT.into()),
        };
        let topic = jobs_topic(&self.policy.thing, &format!("{}/update", report.job_id));
        self.publish_json(topic, &request);
    }

    pub(super) fn send_start_next(&mut self) {
        let topic = jobs_topic(&self.policy.thing, "start-next");
        self.publish_json(topic, &StartNextRequest::default());
    }

    /// The round trip that verifies the pending certificate.
    pub(super) fn send_verify_request(&mut self) {
        let Some(rotation) = &self.state.rotation else {
            return;
        };
        let request = JobUpdateRequest {
            status: JobStatus::InProgress,
            status_details: details(&[("step", "verifying")]),
            client_token: Some(TOKEN_VERIFY.into()),
        };
        let topic = jobs_topic(&self.policy.thing, &format!("{}/update", rotation.job_id));
        self.publish_json(topic, &request);
    }

    /// Sends the create-from-csr or provision request the rotation waits for.
    pub(super) fn send_rotation_request(&mut self) {
        let Some(rotation) = self.state.rotation.as_ref().filter(|r| r.in_progress()) else {
            return;
        };
        let (topic, body) = match (rotation.step, &rotation.csr_pem, &rotation.ownership_token) {
            (RotationStep::CreatingCertificate, Some(csr), _) => (
                CREATE_FROM_CSR.to_owned(),
                serde_json::to_vec(&CreateFromCsrRequest {
                    certificate_signing_request: csr.clone(),
                }),
            ),
            (RotationStep::Provisioning, _, Some(token)) => (
                format!(
                    "$aws/provisioning-templates/{}/provision/json",
                    rotation.template
                ),
                serde_json::to_vec(&ProvisionRequest {
                    certificate_ownership_token: token.clone(),
                    parameters: BTreeMap::from([(
                        "ThingName".to_owned(),
                        self.policy.thing.clone(),
                    )]),
                }),
            ),
            _ => return,
        };
        self.out.push(Action::Publish {
            topic,
            payload: body.unwrap_or_default(),
            qos: Qos::AtLeastOnce,
        });
        self.request_at = Some(self.now + self.policy.request_timeout_ms);
    }

    fn publish_json(&mut self, topic: String, body: &impl serde::Serialize) {
        self.out.push(Action::Publish {
            topic,
            payload: serde_json::to_vec(body).unwrap_or_default(),
            qos: Qos::AtLeastOnce,
        });
    }
}
