//! Jobs: create, describe, cancel, list, and the executions of a job (listed, or one in detail).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{Paging, Query, answer, body, epoch, flag, number, query_page, string};
use super::{Api, ApiError, ApiState};
use crate::registry::{ExecutionStatus, JobRecord, NewJob, arn};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}", get(describe_job).put(create_job))
        .route("/jobs/{id}/cancel", put(cancel_job))
        .route("/jobs/{id}/things", get(list_executions))
        .route("/things/{thing}/jobs/{id}", get(describe_execution))
}

/// `DescribeJobExecution`: one thing's execution, with the details the device reported.
async fn describe_execution(
    State(api): Api,
    Path((thing, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let open = api.registry.execution(&id, &thing)?;
    let execution = &open.execution;
    Ok(answer(json!({
        "execution": {
            "jobId": open.job_id,
            "thingArn": arn(&format!("thing/{thing}")),
            "status": execution.status.as_str(),
            "statusDetails": { "detailsMap": execution.status_details },
            "queuedAt": epoch(execution.queued_at),
            "startedAt": execution.started_at.map(epoch),
            "lastUpdatedAt": epoch(execution.last_updated_at),
            "executionNumber": execution.execution_number,
            "versionNumber": execution.version,
        }
    })))
}

async fn create_job(
    State(api): Api,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let targets: Vec<String> = request
        .get("targets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if targets.is_empty() {
        return Err(ApiError::invalid("targets is required"));
    }
    let job = api.registry.create_job(NewJob {
        job_id: id,
        targets,
        document: string(&request, "document"),
        description: string(&request, "description"),
        target_selection: string(&request, "targetSelection"),
        abort_config: request.get("abortConfig").cloned(),
        timeout_config: request.get("timeoutConfig").cloned(),
        rollout_config: request.get("jobExecutionsRolloutConfig").cloned(),
    })?;
    Ok(answer(json!({
        "jobArn": job.arn,
        "jobId": job.spec.job_id,
        "description": job.spec.description,
    })))
}

fn job_json(job: &JobRecord) -> Value {
    let count = |s| job.count(s);
    json!({
        "jobArn": job.arn,
        "jobId": job.spec.job_id,
        "targetSelection": job.spec.target_selection.as_deref().unwrap_or("SNAPSHOT"),
        "status": job.status.as_str(),
        "forceCanceled": job.force_canceled,
        "reasonCode": job.reason_code,
        "comment": job.comment,
        "targets": job.spec.targets,
        "description": job.spec.description,
        "jobExecutionsRolloutConfig": job.spec.rollout_config,
        "abortConfig": job.spec.abort_config,
        "timeoutConfig": job.spec.timeout_config,
        "createdAt": epoch(job.created),
        "lastUpdatedAt": epoch(job.last_updated),
        "completedAt": job.completed.map(epoch),
        "isConcurrent": false,
        "jobProcessDetails": {
            "numberOfCanceledThings": count(ExecutionStatus::Canceled),
            "numberOfSucceededThings": count(ExecutionStatus::Succeeded),
            "numberOfFailedThings": count(ExecutionStatus::Failed),
            "numberOfRejectedThings": count(ExecutionStatus::Rejected),
            "numberOfQueuedThings": count(ExecutionStatus::Queued),
            "numberOfInProgressThings": count(ExecutionStatus::InProgress),
            "numberOfRemovedThings": count(ExecutionStatus::Removed),
            "numberOfTimedOutThings": count(ExecutionStatus::TimedOut),
        },
    })
}

async fn describe_job(State(api): Api, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let job = api.registry.with_job(&id, job_json)?;
    Ok(answer(json!({ "job": job })))
}

async fn list_jobs(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let wanted = query.get("status").cloned();
    let summaries: Vec<Value> = api.registry.with_jobs(|jobs| {
        jobs.filter(|j| wanted.as_deref().is_none_or(|s| j.status.as_str() == s))
            .map(|j| {
                json!({
                    "jobArn": j.arn,
                    "jobId": j.spec.job_id,
                    "targetSelection": j.spec.target_selection.as_deref().unwrap_or("SNAPSHOT"),
                    "status": j.status.as_str(),
                    "createdAt": epoch(j.created),
                    "lastUpdatedAt": epoch(j.last_updated),
                    "completedAt": j.completed.map(epoch),
                })
            })
            .collect()
    });
    let (items, next) = query_page(&summaries, &query, Paging::Token, 50)?;
    Ok(answer(json!({ "jobs": items, "nextToken": next })))
}

async fn cancel_job(
    State(api): Api,
    Path(id): Path<String>,
    query: Query,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let job = api.registry.cancel_job(
        &id,
        flag(&query, "force", false),
        string(&request, "reasonCode"),
        string(&request, "comment"),
    )?;
    Ok(answer(json!({
        "jobArn": job.arn,
        "jobId": job.spec.job_id,
        "description": job.spec.description,
    })))
}

async fn list_executions(
    State(api): Api,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let status = query
        .get("status")
        .map(|s| ExecutionStatus::parse(s))
        .transpose()?;
    let (items, next) = api.registry.job_executions(
        &id,
        status,
        query.get("nextToken").map(String::as_str),
        number(&query, "maxResults")?,
    )?;
    let summaries: Vec<Value> = items
        .iter()
        .map(|e| {
            json!({
                "thingArn": arn(&format!("thing/{}", e.thing_name)),
                "jobExecutionSummary": {
                    "status": e.status.as_str(),
                    "queuedAt": epoch(e.queued_at),
                    "startedAt": e.started_at.map(epoch),
                    "lastUpdatedAt": epoch(e.last_updated_at),
                    "executionNumber": e.execution_number,
                    "retryAttempt": 0,
                },
            })
        })
        .collect();
    Ok(answer(
        json!({ "executionSummaries": summaries, "nextToken": next }),
    ))
}
