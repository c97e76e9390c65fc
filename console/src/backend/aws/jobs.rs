//! IoT Jobs, as the rotation campaigns use them: create a stage's job, read its progress and
//! its executions (with the `statusDetails` the agent reported), cancel it; and the registry
//! reads a campaign onto another CA needs (the CA's certificate for the anchor job, the
//! account's certificate providers, the issuer of a new device certificate). Creating and cancelling need a
//! [`MutationPermit`].

use std::collections::BTreeMap;

use aws_sdk_iot::types::{
    AbortAction, AbortConfig, AbortCriteria, JobExecutionFailureType, JobExecutionsRolloutConfig,
    JobProcessDetails, TargetSelection, TimeoutConfig,
};

use super::AwsBackend;
use crate::backend::error::{BackendError, CallFailure};
use crate::backend::mutations::{JobProgress, JobRequest};
use crate::context::MutationPermit;
use crate::model::CaStatus;

/// One thing's execution of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// The thing.
    pub thing: String,
    /// `QUEUED`, `IN_PROGRESS`, `SUCCEEDED`, ...
    pub status: String,
}

/// One execution in detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionDetail {
    /// `QUEUED`, `IN_PROGRESS`, `SUCCEEDED`, ...
    pub status: String,
    /// What the device reported with its last update.
    pub status_details: BTreeMap<String, String>,
}

/// Whether `error` is AWS's "no such resource".
#[must_use]
pub fn is_not_found(error: &BackendError) -> bool {
    matches!(error, BackendError::Call(f) if f.code.as_deref() == Some("ResourceNotFoundException"))
}

impl AwsBackend {
    /// Creates an IoT job; returns its ARN.
    ///
    /// # Errors
    /// [`BackendError::Call`], or [`BackendError::InvalidRequest`] for a bad abort config.
    pub async fn create_job(
        &self,
        _permit: &MutationPermit,
        job: &JobRequest,
    ) -> Result<String, BackendError> {
        let invalid = |e: aws_sdk_iot::error::BuildError| BackendError::InvalidRequest {
            operation: "iot:CreateJob",
            detail: e.to_string(),
        };
        let mut request = self
            .iot
            .create_job()
            .job_id(&job.job_id)
            .set_targets(Some(job.targets.clone()))
            .document(&job.document)
            .target_selection(TargetSelection::Snapshot);
        if let Some(per_minute) = job.max_per_minute {
            request = request.job_executions_rollout_config(
                JobExecutionsRolloutConfig::builder()
                    .maximum_per_minute(per_minute)
                    .build(),
            );
        }
        if let Some(percent) = job.abort_failure_percent {
            let criteria = AbortCriteria::builder()
                .failure_type(JobExecutionFailureType::All)
                .action(AbortAction::Cancel)
                .threshold_percentage(percent)
                .min_number_of_executed_things(job.abort_min_executed.max(1))
                .build()
                .map_err(invalid)?;
            request = request.abort_config(
                AbortConfig::builder()
                    .criteria_list(criteria)
                    .build()
                    .map_err(invalid)?,
            );
        }
        if let Some(minutes) = job.in_progress_timeout_minutes {
            request = request.timeout_config(
                TimeoutConfig::builder()
                    .in_progress_timeout_in_minutes(minutes)
                    .build(),
            );
        }
        let out = request
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:CreateJob", &e))?;
        Ok(out
            .job_arn()
            .ok_or(BackendError::MissingField {
                operation: "iot:CreateJob",
                field: "jobArn",
            })?
            .to_owned())
    }

    /// Reads a job's status and per-state counts.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn describe_job(&self, job_id: &str) -> Result<JobProgress, BackendError> {
        let out = self
            .iot
            .describe_job()
            .job_id(job_id)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeJob", &e))?;
        let job = out.job().ok_or(BackendError::MissingField {
            operation: "iot:DescribeJob",
            field: "job",
        })?;
        let details = job.job_process_details();
        let count = |f: fn(&JobProcessDetails) -> Option<i32>| details.and_then(f).unwrap_or(0);
        Ok(JobProgress {
            status: job.status().map_or("", |s| s.as_str()).to_owned(),
            succeeded: count(JobProcessDetails::number_of_succeeded_things),
            failed: count(JobProcessDetails::number_of_failed_things),
            rejected: count(JobProcessDetails::number_of_rejected_things),
            timed_out: count(JobProcessDetails::number_of_timed_out_things),
            queued: count(JobProcessDetails::number_of_queued_things),
            in_progress: count(JobProcessDetails::number_of_in_progress_things),
            canceled: count(JobProcessDetails::number_of_canceled_things),
        })
    }

    /// Cancels a job; `force` also cancels executions in progress.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn cancel_job(
        &self,
        _permit: &MutationPermit,
        job_id: &str,
        comment: &str,
        force: bool,
    ) -> Result<(), BackendError> {
        self.iot
            .cancel_job()
            .job_id(job_id)
            .comment(comment)
            .force(force)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:CancelJob", &e))?;
        Ok(())
    }

    /// Creates a rotation stage's static thing group, or finds it (AWS answers an existing
    /// group of the same properties as created); returns its ARN, the job's target.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn stage_group(
        &self,
        _permit: &MutationPermit,
        group: &str,
    ) -> Result<String, BackendError> {
        let out = self
            .iot
            .create_thing_group()
            .thing_group_name(group)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:CreateThingGroup", &e))?;
        out.thing_group_arn()
            .map(str::to_owned)
            .ok_or(BackendError::MissingField {
                operation: "iot:CreateThingGroup",
                field: "thingGroupArn",
            })
    }

    /// Every execution of a job (ListJobExecutionsForJob, all pages).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn job_executions(
        &self,
        job_id: &str,
    ) -> Result<Vec<ExecutionSummary>, BackendError> {
        let mut executions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .iot
                .list_job_executions_for_job()
                .job_id(job_id)
                .max_results(250)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| CallFailure::from_sdk("iot:ListJobExecutionsForJob", &e))?;
            for summary in out.execution_summaries() {
                let Some(thing) = summary
                    .thing_arn()
                    .and_then(|arn| arn.rsplit_once("thing/"))
                    .map(|(_, name)| name.to_owned())
                else {
                    continue;
                };
                let status = summary
                    .job_execution_summary()
                    .and_then(|s| s.status())
                    .map_or("", |s| s.as_str())
                    .to_owned();
                executions.push(ExecutionSummary { thing, status });
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(executions),
            }
        }
    }

    /// One thing's execution of a job, with its status details (DescribeJobExecution).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn job_execution(
        &self,
        job_id: &str,
        thing: &str,
    ) -> Result<ExecutionDetail, BackendError> {
        let out = self
            .iot
            .describe_job_execution()
            .job_id(job_id)
            .thing_name(thing)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeJobExecution", &e))?;
        let execution = out.execution().ok_or(BackendError::MissingField {
            operation: "iot:DescribeJobExecution",
            field: "execution",
        })?;
        Ok(ExecutionDetail {
            status: execution.status().map_or("", |s| s.as_str()).to_owned(),
            status_details: execution
                .status_details()
                .and_then(|d| d.details_map())
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        })
    }

    /// The principals (certificate ARNs) attached to a thing.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn thing_principals(&self, thing: &str) -> Result<Vec<String>, BackendError> {
        let out = self
            .iot
            .list_thing_principals()
            .thing_name(thing)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListThingPrincipals", &e))?;
        Ok(out.principals().to_vec())
    }

    /// A registered CA's certificate (PEM) and status (`ACTIVE`, `INACTIVE`), from
    /// DescribeCACertificate.
    ///
    /// # Errors
    /// [`BackendError::Call`], or [`BackendError::MissingField`] without a PEM.
    pub async fn ca_certificate(
        &self,
        ca_certificate_id: &str,
    ) -> Result<(String, CaStatus), BackendError> {
        let out = self
            .iot
            .describe_ca_certificate()
            .certificate_id(ca_certificate_id)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeCACertificate", &e))?;
        let description = out.certificate_description();
        let pem = description
            .and_then(|d| d.certificate_pem())
            .map(str::to_owned)
            .ok_or(BackendError::MissingField {
                operation: "iot:DescribeCACertificate",
                field: "certificateDescription.certificatePem",
            })?;
        let status = CaStatus::from_aws_str(
            description
                .and_then(|d| d.status())
                .map_or("", |s| s.as_str()),
        );
        Ok((pem, status))
    }

    /// The names of the account's certificate providers (ListCertificateProviders; AWS allows
    /// one per account, so the first page is all of them).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn certificate_providers(&self) -> Result<Vec<String>, BackendError> {
        let out = self
            .iot
            .list_certificate_providers()
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListCertificateProviders", &e))?;
        Ok(out
            .certificate_providers()
            .iter()
            .filter_map(|p| p.certificate_provider_name().map(str::to_owned))
            .collect())
    }

    /// The registered CA that issued a certificate (`caCertificateId` of
    /// DescribeCertificate); `None` for a certificate registered without one.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn certificate_issuer(
        &self,
        certificate_id: &str,
    ) -> Result<Option<String>, BackendError> {
        let out = self
            .iot
            .describe_certificate()
            .certificate_id(certificate_id)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeCertificate", &e))?;
        Ok(out
            .certificate_description()
            .and_then(|d| d.ca_certificate_id())
            .map(str::to_owned))
    }
}
