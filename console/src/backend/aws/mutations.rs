//! The mutations against aws-sdk-iot. Each is one API call; planning, confirmation, journaling
//! and verification belong to the ops code that calls these.

use aws_sdk_iot::Client;
use aws_sdk_iot::types::{
    AbortAction, AbortConfig, AbortCriteria, CertificateStatus, JobExecutionFailureType,
    JobExecutionsRolloutConfig, JobProcessDetails, TargetSelection, TimeoutConfig,
};

use crate::backend::error::{BackendError, CallFailure};
use crate::backend::mutations::{JobProgress, JobRequest, NewCertificateStatus, PolicyCreated};

pub(super) async fn update_certificate_status(
    iot: &Client,
    certificate_id: &str,
    status: NewCertificateStatus,
) -> Result<(), BackendError> {
    iot.update_certificate()
        .certificate_id(certificate_id)
        .new_status(CertificateStatus::from(status.as_str()))
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:UpdateCertificate", &e))?;
    Ok(())
}

pub(super) async fn attach_policy(
    iot: &Client,
    policy_name: &str,
    target_arn: &str,
) -> Result<(), BackendError> {
    iot.attach_policy()
        .policy_name(policy_name)
        .target(target_arn)
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:AttachPolicy", &e))?;
    Ok(())
}

pub(super) async fn detach_policy(
    iot: &Client,
    policy_name: &str,
    target_arn: &str,
) -> Result<(), BackendError> {
    iot.detach_policy()
        .policy_name(policy_name)
        .target(target_arn)
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:DetachPolicy", &e))?;
    Ok(())
}

pub(super) async fn create_policy(
    iot: &Client,
    policy_name: &str,
    document: &str,
) -> Result<PolicyCreated, BackendError> {
    let out = iot
        .create_policy()
        .policy_name(policy_name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:CreatePolicy", &e))?;
    Ok(PolicyCreated {
        arn: out
            .policy_arn()
            .ok_or(BackendError::MissingField {
                operation: "iot:CreatePolicy",
                field: "policyArn",
            })?
            .to_owned(),
        version: out.policy_version_id().unwrap_or("1").to_owned(),
    })
}

pub(super) async fn add_thing_to_group(
    iot: &Client,
    thing: &str,
    group: &str,
) -> Result<(), BackendError> {
    iot.add_thing_to_thing_group()
        .thing_name(thing)
        .thing_group_name(group)
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:AddThingToThingGroup", &e))?;
    Ok(())
}

pub(super) async fn create_job(iot: &Client, job: &JobRequest) -> Result<String, BackendError> {
    let invalid = |e: aws_sdk_iot::error::BuildError| BackendError::InvalidRequest {
        operation: "iot:CreateJob",
        detail: e.to_string(),
    };
    let mut request = iot
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

pub(super) async fn describe_job(iot: &Client, job_id: &str) -> Result<JobProgress, BackendError> {
    let out = iot
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

pub(super) async fn cancel_job(
    iot: &Client,
    job_id: &str,
    comment: &str,
    force: bool,
) -> Result<(), BackendError> {
    iot.cancel_job()
        .job_id(job_id)
        .comment(comment)
        .force(force)
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:CancelJob", &e))?;
    Ok(())
}
