//! Certificate renewal step by step — rotation and first provisioning by claim: new key in
//! the spare slot, CSR, create-from-csr, provision, pending certificate, verification, then
//! commit or roll back; finalize deletes the previous key.

use std::collections::BTreeMap;

use super::jobs::{Answer, CREATE_FROM_CSR, TOKEN_VERIFY, details};
use super::{Action, Agent, Credential, Phase, Purpose, Qos, Rotation, Using};
use crate::wire::{
    CreateFromCsrAccepted, CreateFromCsrRequest, JobStatus, JobUpdateRequest, ProvisionRequest,
    RotationStep, jobs_topic,
};

impl Agent {
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

    pub(super) fn on_create_from_csr(&mut self, result: &str, payload: &[u8]) {
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

    pub(super) fn on_provisioned(&mut self) {
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

    pub(super) fn on_verify_answer(&mut self, job_id: &str) {
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
    pub(super) fn fail_rotation(&mut self, step: RotationStep, reason: String) {
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
    pub(super) fn finish_rotation(&mut self, step: RotationStep, error: Option<String>) -> String {
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
}
