//! Errors of the backend, and the classification of an AWS call's failure into something an
//! operator can act on: credentials, permission, not answered by this endpoint, throttling,
//! unreachable endpoint.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iot::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// What kind of failure an AWS call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Credentials missing, invalid or expired (SSO token, session token).
    Credentials,
    /// The identity is not allowed to call the operation.
    Permission,
    /// The feature is not enabled in this account/region (e.g. Device Defender audit).
    NotEnabled,
    /// The endpoint does not implement the operation (HTTP 404/500/501: moto, old emulators).
    NotSupported,
    /// Still throttled after the retries.
    Throttled,
    /// No answer from the endpoint (DNS, connection refused, timeout).
    Unreachable,
    /// Any other service error.
    Service,
}

/// A failed AWS call, classified, with the operation it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// The IAM action of the call, e.g. `iot:ListCertificates`.
    pub operation: &'static str,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The service's error code and message, or the transport error.
    pub detail: String,
    /// The service's error code (`ResourceAlreadyExistsException`), when it answered one.
    pub code: Option<String>,
    /// The request id of the failed call, when the service answered.
    pub request_id: Option<String>,
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, detail) = (self.operation, &self.detail);
        match self.kind {
            FailureKind::Credentials => write!(
                f,
                "{op}: the AWS credentials are missing, invalid or expired ({detail}); refresh \
                 them (for SSO: `aws sso login --profile <name>`) and refresh fleetid"
            ),
            FailureKind::Permission => write!(
                f,
                "{op}: not permitted for this identity ({detail}); grant {op} (see docs/iam.md)"
            ),
            FailureKind::NotEnabled => write!(f, "{op}: not enabled in this account ({detail})"),
            FailureKind::NotSupported => {
                write!(f, "{op}: not answered by this endpoint ({detail})")
            }
            FailureKind::Throttled => write!(
                f,
                "{op}: still throttled after retries ({detail}); lower the describe concurrency \
                 or refresh later"
            ),
            FailureKind::Unreachable => write!(
                f,
                "{op}: the endpoint did not answer ({detail}); check --region, --endpoint-url \
                 and the network"
            ),
            FailureKind::Service => write!(f, "{op}: {detail}"),
        }
    }
}

impl StdError for CallFailure {}

/// Error codes that mean the credentials, not the caller's rights, are the problem.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "SignatureDoesNotMatch",
];

/// Error codes that mean the identity lacks the permission.
const PERMISSION_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedException",
    "UnauthorizedOperation",
];

impl CallFailure {
    /// Classifies an SDK error of `operation` (works for every AWS SDK client).
    pub fn from_sdk<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let kind = classify(err);
        let detail = match err.as_service_error() {
            Some(service) => {
                let code = service.code().unwrap_or("unknown error");
                let status = err
                    .raw_response()
                    .map(|r| format!("HTTP {}: ", r.status().as_u16()))
                    .unwrap_or_default();
                match service.message() {
                    Some(message) if !message.is_empty() => format!("{status}{code}: {message}"),
                    _ => format!("{status}{code}"),
                }
            }
            None => DisplayErrorContext(err).to_string(),
        };
        let code = err
            .as_service_error()
            .and_then(ProvideErrorMetadata::code)
            .map(str::to_owned);
        let request_id = err
            .raw_response()
            .and_then(|r| {
                r.headers()
                    .get("x-amzn-RequestId")
                    .or_else(|| r.headers().get("x-amz-request-id"))
            })
            .map(str::to_owned);
        Self {
            operation,
            kind,
            detail,
            code,
            request_id,
        }
    }
}

fn classify<E>(err: &SdkError<E, HttpResponse>) -> FailureKind
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    if chain_has_credentials_error(err) {
        return FailureKind::Credentials;
    }
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => FailureKind::Unreachable,
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default();
            if CREDENTIAL_CODES.contains(&code) {
                FailureKind::Credentials
            } else if PERMISSION_CODES.contains(&code) || status == 403 {
                FailureKind::Permission
            } else if code == "ThrottlingException" || status == 429 {
                FailureKind::Throttled
            } else if code.contains("NotEnabled")
                || code == "NotConfiguredException"
                || code == "OptInRequired"
            {
                FailureKind::NotEnabled
            } else if matches!(status, 404 | 500 | 501) {
                FailureKind::NotSupported
            } else {
                FailureKind::Service
            }
        }
        SdkError::ResponseError(response) => {
            if matches!(response.raw().status().as_u16(), 404 | 500 | 501) {
                FailureKind::NotSupported
            } else {
                FailureKind::Service
            }
        }
        _ => FailureKind::Service,
    }
}

/// Walks the source chain looking for a credentials provider's error.
fn chain_has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Errors of backend calls that are not per-source (mutations, live connection, setup).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// An AWS call failed.
    #[error(transparent)]
    Call(#[from] CallFailure),
    /// An AWS answer lacked a field fleetid needs.
    #[error("{operation}: the answer has no {field}")]
    MissingField {
        /// The API operation.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A request could not be built from the given input.
    #[error("building the {operation} request: {detail}")]
    InvalidRequest {
        /// The API operation.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Reading an operator certificate, key or CA file for MQTT.
    #[error("reading {what} {path}: {source}")]
    ReadFile {
        /// What the file is for (`--mqtt-cert`, ...).
        what: &'static str,
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The live MQTT connection could not be set up or was refused.
    #[error("live MQTT to {endpoint}: {detail}")]
    Live {
        /// Host and port, or the websocket URL without its signature.
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
}
