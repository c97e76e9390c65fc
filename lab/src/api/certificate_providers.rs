//! CreateCertificateProvider, ListCertificateProviders, DescribeCertificateProvider and
//! DeleteCertificateProvider: the account's one certificate provider, which signs every fleet
//! provisioning `create-from-csr` while it exists (see [`crate::certificate_provider`] for how
//! the lab picks the CA).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{answer, body, epoch, required};
use super::{Api, ApiError, ApiState};
use crate::certificate_provider::{CertificateProvider, ProviderError};

/// The only operation a provider serves (AWS: exactly one item).
const OPERATION: &str = "CreateCertificateFromCsr";

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/certificate-providers", get(list))
        .route(
            "/certificate-providers/{name}",
            post(create).get(describe).delete(delete),
        )
}

/// `GET /certificate-providers`: one page holds them all (one per account).
async fn list(State(api): Api) -> Json<Value> {
    let providers: Vec<Value> = api
        .certificate_provider
        .list()
        .iter()
        .map(|p| {
            json!({
                "certificateProviderName": p.name,
                "certificateProviderArn": CertificateProvider::arn(&p.name),
            })
        })
        .collect();
    answer(json!({ "certificateProviders": providers }))
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '=' | ',' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "certificateProviderName must be 1 to 128 characters of [\\w=,@-]",
        ))
    }
}

async fn create(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    valid_name(&name)?;
    let request = body(&bytes)?;
    let lambda = required(&request, "lambdaFunctionArn")?;
    let operations = request
        .get("accountDefaultForOperations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if operations.len() != 1 || operations[0].as_str() != Some(OPERATION) {
        return Err(ApiError::invalid(
            "accountDefaultForOperations must be [\"CreateCertificateFromCsr\"]",
        ));
    }
    match api.certificate_provider.create(&name, &lambda) {
        Ok(p) => Ok(answer(json!({
            "certificateProviderName": p.name,
            "certificateProviderArn": CertificateProvider::arn(&p.name),
        }))),
        Err(e @ ProviderError::Exists(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ResourceAlreadyExistsException",
            e.to_string(),
        )),
        Err(e @ ProviderError::OneAlready(_)) => Err(ApiError::new(
            StatusCode::GONE,
            "LimitExceededException",
            e.to_string(),
        )),
        Err(e @ ProviderError::UnknownFunction(_)) => Err(ApiError::invalid(e.to_string())),
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("no certificate provider {name}"),
    )
}

async fn describe(State(api): Api, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let p = api
        .certificate_provider
        .describe(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(answer(json!({
        "certificateProviderName": p.name,
        "certificateProviderArn": CertificateProvider::arn(&p.name),
        "lambdaFunctionArn": p.lambda_function_arn,
        "accountDefaultForOperations": [OPERATION],
        "creationDate": epoch(p.created),
        "lastModifiedDate": epoch(p.created),
    })))
}

async fn delete(State(api): Api, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    if api.certificate_provider.delete(&name) {
        Ok(answer(json!({})))
    } else {
        Err(not_found(&name))
    }
}
