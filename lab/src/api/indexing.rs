//! Fleet indexing: the indexing configuration and `SearchIndex` over things with the
//! connectivity the gateway records.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{answer, body, string};
use super::{Api, ApiError, ApiState};
use crate::policy::glob;
use crate::registry::{ThingRecord, page};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/indexing/config", get(indexing_configuration))
        .route("/indices/search", post(search_index))
}

async fn indexing_configuration() -> Json<Value> {
    answer(json!({
        "thingIndexingConfiguration": {
            "thingIndexingMode": "REGISTRY",
            "thingConnectivityIndexingMode": "STATUS",
            "deviceDefenderIndexingMode": "OFF",
            "namedShadowIndexingMode": "OFF",
        },
        "thingGroupIndexingConfiguration": { "thingGroupIndexingMode": "OFF" },
    }))
}

/// One `field:value` term of the query syntax (AND of terms; `*` and `?` in values).
struct Term {
    field: String,
    value: String,
    negated: bool,
}

fn parse_query(query: &str) -> Result<Vec<Term>, ApiError> {
    query
        .split_whitespace()
        .filter(|w| *w != "AND")
        .map(|word| {
            let (negated, word) = word
                .strip_prefix('-')
                .or_else(|| word.strip_prefix("NOT:"))
                .map_or((false, word), |w| (true, w));
            let (field, value) = word.split_once(':').ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "InvalidQueryException",
                    format!("the lab understands field:value terms joined by AND, not {word:?}"),
                )
            })?;
            Ok(Term {
                field: field.to_owned(),
                value: value.to_owned(),
                negated,
            })
        })
        .collect()
}

fn field_value(api: &ApiState, thing: &ThingRecord, field: &str) -> Option<String> {
    let connectivity = || api.registry.connectivity(&thing.name);
    match field {
        "thingName" => Some(thing.name.clone()),
        "thingTypeName" => thing.thing_type.clone(),
        "thingGroupNames" => Some(thing.groups.iter().cloned().collect::<Vec<_>>().join(",")),
        "connectivity.connected" => Some(connectivity().is_some_and(|c| c.connected).to_string()),
        "connectivity.disconnectReason" => connectivity().and_then(|c| c.disconnect_reason),
        other => other
            .strip_prefix("attributes.")
            .and_then(|k| thing.attributes.get(k).cloned()),
    }
}

fn document(api: &ApiState, thing: &ThingRecord) -> Value {
    let connectivity = api.registry.connectivity(&thing.name);
    json!({
        "thingName": thing.name,
        "thingId": thing.id,
        "thingTypeName": thing.thing_type,
        "thingGroupNames": thing.groups,
        "attributes": thing.attributes,
        "connectivity": {
            "connected": connectivity.as_ref().is_some_and(|c| c.connected),
            "timestamp": connectivity.as_ref().map(|c| c.timestamp_ms),
            "disconnectReason": connectivity.as_ref().and_then(|c| c.disconnect_reason.clone()),
            "clientId": connectivity.as_ref().map(|c| c.client_id.clone()),
        },
    })
}

async fn search_index(State(api): Api, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let query = string(&request, "queryString")
        .ok_or_else(|| ApiError::invalid("queryString is required"))?;
    if string(&request, "indexName").is_some_and(|i| i != "AWS_Things") {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "the lab has only the AWS_Things index",
        ));
    }
    let terms = parse_query(&query)?;
    let (things, _) = api.registry.list_things(None, None, Some(usize::MAX / 2))?;
    let matching: Vec<Value> = things
        .iter()
        .filter(|t| {
            terms.iter().all(|term| {
                let hit = field_value(&api, t, &term.field).is_some_and(|v| glob(&term.value, &v));
                hit != term.negated
            })
        })
        .map(|t| document(&api, t))
        .collect();
    let max = request
        .get("maxResults")
        .and_then(Value::as_u64)
        .map(|m| usize::try_from(m).unwrap_or(100).min(100));
    let (items, next) = page(
        &matching,
        string(&request, "nextToken").as_deref(),
        max,
        100,
    )?;
    Ok(answer(json!({ "things": items, "nextToken": next })))
}
