//! restJson1 errors: status code, `x-amzn-ErrorType` header and `{"message": ...}` body.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::registry::RegistryError;

/// An error answer of the HTTP API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    /// An error of the given modeled type.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    /// `InvalidRequestException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let (status, kind) = match &e {
            RegistryError::NotFound { .. } => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
            RegistryError::AlreadyExists { .. } => {
                (StatusCode::CONFLICT, "ResourceAlreadyExistsException")
            }
            RegistryError::InvalidRequest(_) => {
                (StatusCode::BAD_REQUEST, "InvalidRequestException")
            }
            RegistryError::CertificateState(_) => {
                (StatusCode::NOT_ACCEPTABLE, "CertificateStateException")
            }
            RegistryError::CertificateValidation(_) => {
                (StatusCode::BAD_REQUEST, "CertificateValidationException")
            }
            RegistryError::MalformedPolicy(_) => {
                (StatusCode::BAD_REQUEST, "MalformedPolicyException")
            }
        };
        Self::new(status, kind, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
