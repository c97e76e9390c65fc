//! Policies and their attachments.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{Paging, Query, answer, body, epoch, flag, number, query_page, required};
use super::{Api, ApiError, ApiState};
use crate::registry::PolicyRecord;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/policies", get(list_policies))
        .route("/policies/{name}", get(get_policy).post(create_policy))
        .route(
            "/target-policies/{name}",
            post(detach_policy).put(attach_policy),
        )
        .route("/attached-policies/{target}", post(list_attached))
        .route("/policy-targets/{name}", post(list_targets))
}

fn name_and_arn(p: &PolicyRecord) -> Value {
    json!({ "policyName": p.name, "policyArn": p.arn })
}

async fn list_policies(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let (items, next) = api.registry.list_policies(
        query.get("marker").map(String::as_str),
        number(&query, "pageSize")?,
        flag(&query, "isAscendingOrder", true),
    )?;
    Ok(answer(json!({
        "policies": items.iter().map(name_and_arn).collect::<Vec<_>>(),
        "nextMarker": next,
    })))
}

async fn get_policy(State(api): Api, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let p = api.registry.policy(&name)?;
    Ok(answer(json!({
        "policyName": p.name,
        "policyArn": p.arn,
        "policyDocument": p.document,
        "defaultVersionId": p.version_id,
        "creationDate": epoch(p.created),
        "lastModifiedDate": epoch(p.last_modified),
        "generationId": p.generation_id,
    })))
}

async fn create_policy(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let p = api
        .registry
        .create_policy(&name, &required(&request, "policyDocument")?)?;
    Ok(answer(json!({
        "policyName": p.name,
        "policyArn": p.arn,
        "policyDocument": p.document,
        "policyVersionId": p.version_id,
    })))
}

async fn attach_policy(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let target = required(&body(&bytes)?, "target")?;
    api.registry.attach_policy(&name, &target)?;
    Ok(answer(json!({})))
}

async fn detach_policy(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let target = required(&body(&bytes)?, "target")?;
    api.registry.detach_policy(&name, &target)?;
    Ok(answer(json!({})))
}

async fn list_attached(
    State(api): Api,
    Path(target): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let policies: Vec<Value> = if flag(&query, "recursive", false) {
        let cert = crate::registry::cert_id_of(&target);
        api.registry.effective_policies(cert)
    } else {
        api.registry.attached_policies(&target)
    }
    .iter()
    .map(name_and_arn)
    .collect();
    let (items, next) = query_page(&policies, &query, Paging::Marker, 25)?;
    Ok(answer(json!({ "policies": items, "nextMarker": next })))
}

async fn list_targets(
    State(api): Api,
    Path(name): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    api.registry.policy(&name)?;
    let targets = api.registry.policy_targets(&name);
    let (items, next) = query_page(&targets, &query, Paging::Marker, 25)?;
    Ok(answer(json!({ "targets": items, "nextMarker": next })))
}
