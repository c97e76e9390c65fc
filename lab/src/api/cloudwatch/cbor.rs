//! Smithy RPC v2 CBOR on the wire: reading request members from a CBOR map, answering with
//! `Content-Type: application/cbor` and `smithy-protocol: rpc-v2-cbor`, and errors with
//! `__type` in the body plus CloudWatch's query-compatible `x-amzn-query-error` header.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ciborium::Value;

/// The CBOR tag of an epoch-seconds timestamp (RFC 8949 §3.4.2).
const EPOCH_TAG: u64 = 1;

/// A member of a CBOR map by its name.
pub fn member<'a>(map: &'a Value, name: &str) -> Option<&'a Value> {
    map.as_map()?
        .iter()
        .find(|(key, _)| key.as_text() == Some(name))
        .map(|(_, value)| value)
}

/// A text member.
pub fn text<'a>(map: &'a Value, name: &str) -> Option<&'a str> {
    member(map, name)?.as_text()
}

/// An integer member.
pub fn integer(map: &Value, name: &str) -> Option<i64> {
    member(map, name)?
        .as_integer()
        .and_then(|i| i64::try_from(i).ok())
}

/// A timestamp member (tag 1 around an integer or a float), in whole epoch seconds.
#[allow(clippy::cast_possible_truncation)] // epoch seconds fit an i64
pub fn timestamp(map: &Value, name: &str) -> Option<i64> {
    let Value::Tag(EPOCH_TAG, inner) = member(map, name)? else {
        return None;
    };
    match inner.as_ref() {
        Value::Integer(i) => i64::try_from(*i).ok(),
        Value::Float(f) => Some(f.floor() as i64),
        _ => None,
    }
}

/// A timestamp value.
pub fn epoch(seconds: i64) -> Value {
    Value::Tag(EPOCH_TAG, Box::new(Value::Integer(seconds.into())))
}

/// A map with text keys.
pub fn map(members: Vec<(&str, Value)>) -> Value {
    Value::Map(
        members
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    )
}

fn with_protocol_headers(status: StatusCode, body: &Value) -> Response {
    let mut bytes = Vec::new();
    // Writing CBOR to a Vec cannot fail.
    let _ = ciborium::ser::into_writer(body, &mut bytes);
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/cbor"),
    );
    headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    response
}

/// A successful answer.
pub struct Cbor(pub Value);

impl IntoResponse for Cbor {
    fn into_response(self) -> Response {
        with_protocol_headers(StatusCode::OK, &self.0)
    }
}

/// An error answer: the modeled shape in `__type`, the query-compatible code in
/// `x-amzn-query-error` (what the SDK reports as the error code).
#[derive(Debug)]
pub struct CborError {
    status: StatusCode,
    shape: &'static str,
    code: &'static str,
    message: String,
}

impl CborError {
    /// `InvalidParameterValue` (400).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            shape: "InvalidParameterValueException",
            code: "InvalidParameterValue",
            message: message.into(),
        }
    }

    /// `MissingParameter` (400).
    pub fn missing_parameter(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            shape: "MissingRequiredParameterException",
            code: "MissingParameter",
            message: message.into(),
        }
    }

    /// `InvalidClientTokenId` (403): credentials the lab does not know.
    pub fn invalid_client_token(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            shape: "InvalidClientTokenId",
            code: "InvalidClientTokenId",
            message: message.into(),
        }
    }

    /// An operation the lab does not answer (404).
    pub fn unknown_operation(operation: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            shape: "UnknownOperationException",
            code: "UnknownOperationException",
            message: format!("the fleetid lab's CloudWatch does not implement {operation}"),
        }
    }
}

impl IntoResponse for CborError {
    fn into_response(self) -> Response {
        let body = map(vec![
            (
                "__type",
                Value::Text(format!("com.amazonaws.cloudwatch#{}", self.shape)),
            ),
            ("message", Value::Text(self.message)),
        ]);
        let mut response = with_protocol_headers(self.status, &body);
        if let Ok(value) = HeaderValue::from_str(&format!("{};Sender", self.code)) {
            response.headers_mut().insert("x-amzn-query-error", value);
        }
        response
    }
}
