//! AWS implementations (feature `aws`): [`AwsControlPlane`] on aws-sdk-iot and the SDK error
//! classification shared with the DynamoDB manifest.

mod iot;

pub use iot::AwsControlPlane;

use aws_sdk_iot::config::http::HttpResponse;
use aws_sdk_iot::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::control_plane::{ControlPlaneError, ControlPlaneErrorKind};

/// Error codes after which the same call may succeed.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailableException",
    "InternalFailureException",
    "InternalServerError",
    "InternalServerException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// Sorts an SDK error into not found / retryable / permanent.
pub(crate) fn error_kind<E>(err: &SdkError<E, HttpResponse>) -> ControlPlaneErrorKind
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ControlPlaneErrorKind::Retryable
        }
        _ => match err.code() {
            Some("ResourceNotFoundException") => ControlPlaneErrorKind::NotFound,
            Some(code) if RETRYABLE_CODES.contains(&code) => ControlPlaneErrorKind::Retryable,
            _ => match err.raw_response().map(|r| r.status().as_u16()) {
                Some(429 | 500..=599) => ControlPlaneErrorKind::Retryable,
                _ => ControlPlaneErrorKind::Permanent,
            },
        },
    }
}

/// Converts an SDK error into a [`ControlPlaneError`] naming the operation and resource.
pub(crate) fn control_plane_error<E>(
    operation: &'static str,
    resource: &str,
    err: &SdkError<E, HttpResponse>,
) -> ControlPlaneError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let kind = error_kind(err);
    ControlPlaneError::new(
        operation,
        resource,
        kind,
        DisplayErrorContext(&err).to_string(),
    )
}

/// Whether the error is the service's `code` (e.g. `ResourceAlreadyExistsException`).
pub(crate) fn has_code<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    code: &str,
) -> bool {
    err.code() == Some(code)
}

/// What a describe said of a resource: `Ok(true)` found, `Ok(false)` the service says it does
/// not exist, otherwise the failure.
pub(crate) fn found<T, E>(
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<bool, ControlPlaneError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if error_kind(&e) == ControlPlaneErrorKind::NotFound => Ok(false),
        Err(e) => Err(control_plane_error(operation, resource, &e)),
    }
}

/// What a create did: made it, or found it made by a concurrent run between our describe and
/// create (`ResourceAlreadyExistsException`), or failed.
pub(crate) fn created<T, E>(
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<crate::control_plane::Change, ControlPlaneError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use crate::control_plane::Change;
    match result {
        Ok(_) => Ok(Change::Made),
        Err(e) if has_code(&e, "ResourceAlreadyExistsException") => Ok(Change::Unchanged),
        Err(e) => Err(control_plane_error(operation, resource, &e)),
    }
}
