//! The Jobs MQTT API (`$aws/things/<thing>/jobs/...`): get, start-next, `<jobId>/get`,
//! `<jobId>/update`, each answered on `/accepted` or `/rejected`, and `notify-next`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::registry::{ExecutionStatus, JobExecution, JobRecord, Registry, RegistryError, now};

/// Epoch seconds, as the Jobs API reports times.
fn secs(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn execution_json(job: &JobRecord, e: &JobExecution) -> Value {
    let document: Value = job
        .spec
        .document
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    json!({
        "jobId": job.spec.job_id,
        "thingName": e.thing_name,
        "jobDocument": document,
        "status": e.status.as_str(),
        "statusDetails": e.status_details,
        "queuedAt": secs(e.queued_at),
        "startedAt": e.started_at.map(secs),
        "lastUpdatedAt": secs(e.last_updated_at),
        "versionNumber": e.version,
        "executionNumber": e.execution_number,
    })
}

fn summary_json(job: &JobRecord, e: &JobExecution) -> Value {
    json!({
        "jobId": job.spec.job_id,
        "queuedAt": secs(e.queued_at),
        "startedAt": e.started_at.map(secs),
        "lastUpdatedAt": secs(e.last_updated_at),
        "versionNumber": e.version,
        "executionNumber": e.execution_number,
    })
}

/// The `notify-next` message for a thing, if it has an open execution.
#[must_use]
pub fn notify_next(registry: &Registry, thing: &str) -> Option<(String, Value)> {
    let (job, e) = registry.open_executions(thing).into_iter().next()?;
    Some((
        format!("$aws/things/{thing}/jobs/notify-next"),
        json!({ "timestamp": secs(now()), "execution": execution_json(&job, &e) }),
    ))
}

/// Handles a device request on a jobs topic; returns the (topic, payload) answers.
#[must_use]
pub fn handle(registry: &Registry, topic: &str, payload: &[u8]) -> Vec<(String, Value)> {
    let Some(rest) = topic.strip_prefix("$aws/things/") else {
        return Vec::new();
    };
    let Some((thing, op)) = rest.split_once("/jobs/") else {
        return Vec::new();
    };
    let request: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let token = request.get("clientToken").cloned().unwrap_or(Value::Null);
    let at = secs(now());
    let answer = |ok: Result<Value, RegistryError>| -> Vec<(String, Value)> {
        match ok {
            Ok(mut body) => {
                body["timestamp"] = json!(at);
                body["clientToken"] = token.clone();
                vec![(format!("{topic}/accepted"), body)]
            }
            Err(e) => {
                let code = match &e {
                    RegistryError::NotFound { .. } => "ResourceNotFound",
                    RegistryError::InvalidRequest(m) if m == "VersionMismatch" => "VersionMismatch",
                    RegistryError::InvalidRequest(_) => "InvalidStateTransition",
                    _ => "InvalidRequest",
                };
                vec![(
                    format!("{topic}/rejected"),
                    json!({ "code": code, "message": e.to_string(), "timestamp": at, "clientToken": token }),
                )]
            }
        }
    };
    match op {
        "get" => {
            let open = registry.open_executions(thing);
            let (in_progress, queued): (Vec<_>, Vec<_>) = open
                .iter()
                .partition(|(_, e)| e.status == ExecutionStatus::InProgress);
            answer(Ok(json!({
                "inProgressJobs": in_progress.iter().map(|(j, e)| summary_json(j, e)).collect::<Vec<_>>(),
                "queuedJobs": queued.iter().map(|(j, e)| summary_json(j, e)).collect::<Vec<_>>(),
            })))
        }
        "start-next" => {
            let Some((job, e)) = registry.open_executions(thing).into_iter().next() else {
                return answer(Ok(json!({})));
            };
            let details = status_details(&request);
            let started = if e.status == ExecutionStatus::Queued {
                registry.update_execution(
                    &job.spec.job_id,
                    thing,
                    ExecutionStatus::InProgress,
                    details,
                    None,
                )
            } else {
                Ok(e)
            };
            answer(started.map(|e| json!({ "execution": execution_json(&job, &e) })))
        }
        other => {
            let Some((job_id, verb)) = other.split_once('/') else {
                return Vec::new();
            };
            let job_id = if job_id == "$next" {
                match registry.open_executions(thing).into_iter().next() {
                    Some((job, _)) => job.spec.job_id,
                    None => {
                        return answer(Err(RegistryError::NotFound {
                            kind: "job execution",
                            id: "$next".into(),
                        }));
                    }
                }
            } else {
                job_id.to_owned()
            };
            match verb {
                "get" => answer(registry.job(&job_id).and_then(|job| {
                    let e = job.executions.get(thing).cloned().ok_or_else(|| {
                        RegistryError::NotFound {
                            kind: "job execution",
                            id: format!("{job_id}/{thing}"),
                        }
                    })?;
                    Ok(json!({ "execution": execution_json(&job, &e) }))
                })),
                "update" => {
                    let status = request
                        .get("status")
                        .and_then(Value::as_str)
                        .ok_or_else(|| RegistryError::InvalidRequest("status is required".into()))
                        .and_then(ExecutionStatus::parse);
                    let expected = request.get("expectedVersion").and_then(|v| {
                        v.as_i64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    });
                    let result = status.and_then(|s| {
                        registry.update_execution(
                            &job_id,
                            thing,
                            s,
                            status_details(&request),
                            expected,
                        )
                    });
                    let ended = result.as_ref().is_ok_and(|e| e.status.is_terminal());
                    let mut out = answer(result.map(|e| {
                        json!({ "executionState": {
                            "status": e.status.as_str(),
                            "statusDetails": e.status_details,
                            "versionNumber": e.version,
                        }})
                    }));
                    if ended {
                        out.extend(notify_next(registry, thing));
                    }
                    out
                }
                _ => Vec::new(),
            }
        }
    }
}

fn status_details(request: &Value) -> BTreeMap<String, String> {
    request
        .get("statusDetails")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
