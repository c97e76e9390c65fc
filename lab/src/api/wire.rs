//! Small pieces of the restJson1 wire format shared by the handlers.

use std::collections::HashMap;

use axum::Json;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;

use super::ApiError;

/// Query parameters.
pub type Query = axum::extract::Query<HashMap<String, String>>;

/// Epoch seconds with milliseconds, as the SDK reads timestamps.
#[allow(clippy::cast_precision_loss)] // millisecond timestamps fit in f64 exactly
pub fn epoch(t: OffsetDateTime) -> f64 {
    (t.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
}

/// A JSON answer with `null` members removed (absent is how restJson1 says "none").
pub fn answer(value: Value) -> Json<Value> {
    Json(compact(value))
}

fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

/// The JSON request body (an empty body is an empty object).
///
/// # Errors
/// A body that is not JSON.
pub fn body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("request body is not JSON: {e}")))
}

/// A string member of a JSON body.
pub fn string(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A required string member of a JSON body.
///
/// # Errors
/// `InvalidRequestException` naming the member.
pub fn required(body: &Value, key: &str) -> Result<String, ApiError> {
    string(body, key).ok_or_else(|| ApiError::invalid(format!("{key} is required")))
}

/// A numeric query parameter.
///
/// # Errors
/// `InvalidRequestException` when it is not a number.
pub fn number(query: &Query, key: &str) -> Result<Option<usize>, ApiError> {
    query
        .get(key)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| ApiError::invalid(format!("{key} must be a number, not {v:?}")))
        })
        .transpose()
}

/// How an operation names its paging parameters.
#[derive(Debug, Clone, Copy)]
pub enum Paging {
    /// `nextToken` and `maxResults` (the newer operations).
    Token,
    /// `marker` and `pageSize` (ListCertificates, ListPolicies and their kin).
    Marker,
}

/// One page of `items` as the query asks for it, `default_size` items when it names no size.
///
/// # Errors
/// `InvalidRequestException` for a malformed token or size.
pub fn query_page<T: Clone>(
    items: &[T],
    query: &Query,
    paging: Paging,
    default_size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let (token, size) = match paging {
        Paging::Token => ("nextToken", "maxResults"),
        Paging::Marker => ("marker", "pageSize"),
    };
    Ok(crate::registry::page(
        items,
        query.get(token).map(String::as_str),
        number(query, size)?,
        default_size,
    )?)
}

/// A boolean query parameter (absent = `default`).
pub fn flag(query: &Query, key: &str, default: bool) -> bool {
    query.get(key).map_or(default, |v| v == "true")
}

/// A boolean query parameter that must be `true` or `false` when present.
///
/// # Errors
/// `InvalidRequestException` for any other value.
pub fn boolean(query: &Query, key: &str) -> Result<Option<bool>, ApiError> {
    query
        .get(key)
        .map(|v| match v.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(ApiError::invalid(format!(
                "{key} must be true or false, not {other:?}"
            ))),
        })
        .transpose()
}

/// The `x-amzn-principal` header.
///
/// # Errors
/// `InvalidRequestException` when it is missing.
pub fn principal(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get("x-amzn-principal")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid("the x-amzn-principal header is required"))
}
