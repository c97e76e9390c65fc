//! Device Defender reads (served from the detector and the registry) and `DescribeEndpoint`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{Paging, Query, answer, body, epoch, query_page, string};
use super::{Api, ApiError, ApiState};
use crate::detector::SECURITY_PROFILE;
use crate::registry::page;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/active-violations", get(list_active_violations))
        .route("/violation-events", get(list_violation_events))
        .route("/audit/findings", post(list_audit_findings))
        .route("/endpoint", get(describe_endpoint))
}

async fn list_active_violations(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let thing = query.get("thingName");
    let profile = query.get("securityProfileName");
    if profile.is_some_and(|p| p != SECURITY_PROFILE) {
        return Err(crate::registry::RegistryError::NotFound {
            kind: "security profile",
            id: profile.cloned().unwrap_or_default(),
        }
        .into());
    }
    let violations: Vec<Value> = api
        .detector
        .violations()
        .iter()
        .filter(|v| thing.is_none_or(|t| &v.thing_name == t))
        .map(|v| {
            json!({
                "violationId": v.id,
                "thingName": v.thing_name,
                "securityProfileName": SECURITY_PROFILE,
                "behavior": { "name": v.behavior, "metric": v.metric },
                "lastViolationValue": { "count": v.count },
                "verificationState": "UNKNOWN",
                "lastViolationTime": epoch(v.last),
                "violationStartTime": epoch(v.started),
            })
        })
        .collect();
    let (items, next) = query_page(&violations, &query, Paging::Token, 100)?;
    Ok(answer(
        json!({ "activeViolations": items, "nextToken": next }),
    ))
}

async fn list_violation_events(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let thing = query.get("thingName");
    let events: Vec<Value> = api
        .detector
        .violation_events()
        .iter()
        .filter(|v| thing.is_none_or(|t| &v.thing_name == t))
        .map(|v| {
            json!({
                "violationId": v.id,
                "thingName": v.thing_name,
                "securityProfileName": SECURITY_PROFILE,
                "behavior": { "name": v.behavior, "metric": v.metric },
                "metricValue": { "count": v.count },
                "violationEventType": "in-alarm",
                "verificationState": "UNKNOWN",
                "violationEventTime": epoch(v.started),
            })
        })
        .collect();
    let (items, next) = query_page(&events, &query, Paging::Token, 100)?;
    Ok(answer(
        json!({ "violationEvents": items, "nextToken": next }),
    ))
}

async fn list_audit_findings(State(api): Api, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let check = string(&request, "checkName");
    let findings: Vec<Value> = crate::audit::findings(&api.registry, &api.detector)
        .iter()
        .filter(|f| check.as_deref().is_none_or(|c| c == f.check_name))
        .map(|f| {
            let identifier = match f.resource_type {
                "CA_CERTIFICATE" => json!({ "caCertificateId": f.resource }),
                "CLIENT_ID" => json!({ "clientId": f.resource }),
                _ => json!({ "deviceCertificateId": f.resource }),
            };
            let mut finding = json!({
                "findingId": f.id,
                "taskId": "fleetid-lab-audit",
                "checkName": f.check_name,
                "taskStartTime": epoch(f.found),
                "findingTime": epoch(f.found),
                "severity": f.severity,
                "nonCompliantResource": {
                    "resourceType": f.resource_type,
                    "resourceIdentifier": identifier,
                },
                "reasonForNonCompliance": f.reason,
                "reasonForNonComplianceCode": f.reason_code,
                "isSuppressed": false,
            });
            if !f.related_client_ids.is_empty() {
                finding["relatedResources"] = f
                    .related_client_ids
                    .iter()
                    .map(|client| {
                        json!({
                            "resourceType": "CLIENT_ID",
                            "resourceIdentifier": { "clientId": client },
                        })
                    })
                    .collect();
            }
            finding
        })
        .collect();
    let max = request
        .get("maxResults")
        .and_then(Value::as_u64)
        .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
    let (items, next) = page(&findings, string(&request, "nextToken").as_deref(), max, 25)?;
    Ok(answer(json!({ "findings": items, "nextToken": next })))
}

async fn describe_endpoint(State(api): Api) -> Json<Value> {
    answer(json!({ "endpointAddress": api.mqtt_endpoint }))
}
