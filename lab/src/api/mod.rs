//! The AWS IoT HTTP API (restJson1) over the lab registry, as aws-sdk-iot sends and reads it:
//! the same paths, methods, query parameters, headers and camelCase JSON, epoch-second
//! timestamps, and errors with `x-amzn-ErrorType`. Any SigV4 `Authorization` header made with
//! the lab's access key id is accepted (the signature itself is not checked). The same
//! listener answers the IoT data plane's DeleteConnection (aws-sdk-iotdataplane), STS's
//! GetCallerIdentity (aws-sdk-sts) and CloudWatch's GetMetricData (aws-sdk-cloudwatch), since a
//! client passes one endpoint URL to every SDK client.

mod certificate_providers;
mod certs;
pub mod cloudwatch;
mod connections;
mod defender;
mod error;
mod indexing;
mod jobs;
mod policies;
pub mod sts;
mod things;
mod wire;

pub use error::ApiError;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::detector::Detector;
use crate::gateway::Connections;
use crate::metrics::Metrics;
use crate::pki::CertificateAuthority;
use crate::registry::Registry;

/// The lab's static credentials: any SigV4 signature made with this access key id is
/// accepted.
pub const ACCESS_KEY_ID: &str = "AKIAFLEETIDLAB000001";
/// The secret that goes with [`ACCESS_KEY_ID`] (not a secret: the lab is local).
pub const SECRET_ACCESS_KEY: &str = "fleetid-lab-secret-access-key-not-secret";

/// What the HTTP API serves.
#[derive(Clone)]
pub struct ApiState {
    /// The control plane.
    pub registry: Registry,
    /// Device Defender stand-in.
    pub detector: Detector,
    /// The CA that signs `CreateCertificateFromCsr` requests.
    pub issuing_ca: Arc<CertificateAuthority>,
    /// The account's certificate provider (shared with the gateway, whose fleet
    /// provisioning `create-from-csr` it signs; the HTTP CreateCertificateFromCsr is not
    /// affected, as on AWS).
    pub certificate_provider: crate::certificate_provider::CertificateProvider,
    /// `host:port` returned by `DescribeEndpoint` (the identity gateway).
    pub mqtt_endpoint: String,
    /// The gateway's live sessions, for DeleteConnection (`Connections::default()`: no
    /// gateway, no client is connected).
    pub connections: Connections,
    /// CloudWatch metrics the gateway records, for GetMetricData.
    pub metrics: Metrics,
}

/// The router with every operation the lab answers.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(certs::routes())
        .merge(certificate_providers::routes())
        .merge(things::routes())
        .merge(policies::routes())
        .merge(jobs::routes())
        .merge(defender::routes())
        .merge(indexing::routes())
        .merge(connections::routes())
        .merge(sts::routes())
        .merge(cloudwatch::routes())
        .fallback(unknown_operation)
        .layer(middleware::from_fn(require_lab_credentials))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn unknown_operation(request: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "UnknownOperationException",
        format!(
            "the fleetid lab does not implement {} {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Refuses a request not signed with the lab's access key id, in the protocol of the service
/// it is for (the SDKs read only their own error shape).
async fn require_lab_credentials(request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let key_id = header
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .and_then(|rest| rest.split('/').next());
    if key_id == Some(ACCESS_KEY_ID) {
        return next.run(request).await;
    }
    let message = format!(
        "requests to the fleetid lab must be SigV4-signed with access key id {ACCESS_KEY_ID}"
    );
    let path = request.uri().path();
    if path.starts_with(cloudwatch::PATH_PREFIX) {
        cloudwatch::invalid_client_token(message).into_response()
    } else if path == "/" && request.method() == axum::http::Method::POST {
        sts::invalid_client_token(&message)
    } else {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            message,
        )
        .into_response()
    }
}

/// Lets handlers take `State<ApiState>` pieces directly.
pub(crate) type Api = State<ApiState>;
