//! Jobs: the Jobs MQTT topics, rotate/finalize/anchor job documents, and the job reports
//! that are kept until the cloud has them.

use serde::Deserialize;

use super::{Action, Agent, Anchor, JobReport, Phase, Purpose, Qos, Rotation, Using};
use crate::wire::{
    AnchorAction, AnchorJob, JobDocument, JobExecution, JobStatus, JobUpdateRequest, RotateAction,
    RotateJob, RotationStep, StartNextAccepted, StartNextRequest, StatusDetails, jobs_topic,
};

pub(super) const CREATE_FROM_CSR: &str = "$aws/certificates/create-from-csr/json";
pub(super) const TOKEN_VERIFY: &str = "verify";
const TOKEN_REPORT: &str = "report";

/// The parts of an `/accepted` or `/rejected` answer the agent looks at.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Answer {
    #[serde(default)]
    client_token: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Answer {
    pub(super) fn parse(payload: &[u8]) -> Self {
        serde_json::from_slice(payload).unwrap_or_default()
    }

    pub(super) fn reason(&self) -> String {
        self.error_message
            .clone()
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "no reason given".into())
    }
}

pub(super) fn details(entries: &[(&str, &str)]) -> StatusDetails {
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
                // A leaf installed as a trust anchor would let whoever holds its key
                // impersonate the server: only a CA certificate is taken.
                let facts = super::cert::is_ca_certificate(&pem).and_then(|ca| {
                    if ca {
                        super::certificate_facts(&pem)
                    } else {
                        Err("the anchor is not a CA certificate".to_owned())
                    }
                });
                facts.map(|facts| {
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

    /// Records a job update to deliver and sends it when possible.
    pub(super) fn report(&mut self, job_id: &str, status: JobStatus, entries: &[(&str, &str)]) {
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
    pub(super) fn publish_json(&mut self, topic: String, body: &impl serde::Serialize) {
        self.out.push(Action::Publish {
            topic,
            payload: serde_json::to_vec(body).unwrap_or_default(),
            qos: Qos::AtLeastOnce,
        });
    }
}
