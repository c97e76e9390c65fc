//! The Jobs MQTT API (`$aws/things/<thing>/jobs/...`): get, start-next, `<jobId>/get`,
//! `<jobId>/update`, each answered on `/accepted` or `/rejected`, and `notify-next`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::registry::{DeviceExecution, ExecutionStatus, Registry, RegistryError, now};

/// Epoch seconds, as the Jobs API reports times.
fn secs(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn execution_json(open: &DeviceExecution) -> Value {
    let e = &open.execution;
    let document: Value = open
        .document
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    json!({
        "jobId": open.job_id,
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

fn summary_json(open: &DeviceExecution) -> Value {
    let e = &open.execution;
    json!({
        "jobId": open.job_id,
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
    let open = registry.open_executions(thing).into_iter().next()?;
    Some((
        format!("$aws/things/{thing}/jobs/notify-next"),
        json!({ "timestamp": secs(now()), "execution": execution_json(&open) }),
    ))
}

/// The `notify-next` message of every thing whose next execution is still QUEUED: what the
/// gateway announces again when it missed registry events (a burst of queued executions can
/// outrun the event channel), so no device waits for a notice that was lost. A thing already
/// working on its next execution is not told again.
#[must_use]
pub fn notify_queued(registry: &Registry) -> Vec<(String, Value)> {
    registry
        .things_next_queued()
        .iter()
        .filter_map(|thing| notify_next(registry, thing))
        .collect()
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
                .partition(|o| o.execution.status == ExecutionStatus::InProgress);
            answer(Ok(json!({
                "inProgressJobs": in_progress.into_iter().map(summary_json).collect::<Vec<_>>(),
                "queuedJobs": queued.into_iter().map(summary_json).collect::<Vec<_>>(),
            })))
        }
        "start-next" => {
            let Some(open) = registry.open_executions(thing).into_iter().next() else {
                return answer(Ok(json!({})));
            };
            let details = status_details(&request);
            let started = if open.execution.status == ExecutionStatus::Queued {
                registry
                    .update_execution(
                        &open.job_id,
                        thing,
                        ExecutionStatus::InProgress,
                        details,
                        None,
                    )
                    .map(|execution| DeviceExecution { execution, ..open })
            } else {
                Ok(open)
            };
            answer(started.map(|open| json!({ "execution": execution_json(&open) })))
        }
        other => {
            let Some((job_id, verb)) = other.split_once('/') else {
                return Vec::new();
            };
            let job_id = if job_id == "$next" {
                match registry.open_executions(thing).into_iter().next() {
                    Some(open) => open.job_id,
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
                "get" => answer(
                    registry
                        .execution(&job_id, thing)
                        .map(|open| json!({ "execution": execution_json(&open) })),
                ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{NewJob, arn};

    #[test]
    fn after_missed_events_only_things_whose_next_execution_is_queued_are_told_again() {
        let registry = Registry::new();
        for thing in ["dev-1", "dev-2", "dev-3"] {
            registry.create_thing(thing, None, BTreeMap::new()).unwrap();
        }
        registry
            .create_job(NewJob {
                job_id: "rotate".into(),
                targets: vec![arn("thing/dev-1"), arn("thing/dev-2")],
                document: Some(r#"{"operation":"x"}"#.into()),
                ..NewJob::default()
            })
            .unwrap();
        // dev-2 has started its execution already; dev-3 has none.
        let started = handle(&registry, "$aws/things/dev-2/jobs/start-next", b"{}");
        assert!(
            started[0].0.ends_with("/start-next/accepted"),
            "{started:?}"
        );

        let told = notify_queued(&registry);
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].0, "$aws/things/dev-1/jobs/notify-next");
        assert_eq!(told[0].1["execution"]["jobId"], "rotate");
        assert_eq!(told[0].1["execution"]["status"], "QUEUED");
    }
}
