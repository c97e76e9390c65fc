//! Certificate and CA certificate operations.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{Paging, Query, answer, body, epoch, flag, number, query_page, required, string};
use super::{Api, ApiError, ApiState};
use crate::registry::{CaRecord, CertRecord, CertStatus};

/// Validity the lab gives certificates made by `CreateCertificateFromCsr`.
const CSR_VALIDITY_DAYS: i64 = 365;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/certificates",
            get(list_certificates).post(create_from_csr),
        )
        .route(
            "/certificates/{id}",
            get(describe_certificate).put(update_certificate),
        )
        .route("/certificates-by-ca/{ca}", get(list_by_ca))
        .route("/certificate/register", post(register_certificate))
        .route("/cacertificates", get(list_cas))
        .route("/cacertificate", post(register_ca))
        .route("/cacertificate/{id}", get(describe_ca).put(update_ca))
}

fn summary(c: &CertRecord) -> Value {
    json!({
        "certificateArn": c.arn,
        "certificateId": c.id(),
        "status": c.status.as_str(),
        "certificateMode": "DEFAULT",
        "creationDate": epoch(c.created),
    })
}

fn list_answer(page: (Vec<CertRecord>, Option<String>)) -> Json<Value> {
    let (items, next) = page;
    answer(json!({
        "certificates": items.iter().map(summary).collect::<Vec<_>>(),
        "nextMarker": next,
    }))
}

async fn list_certificates(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let page = api.registry.list_certificates(
        None,
        query.get("marker").map(String::as_str),
        number(&query, "pageSize")?,
        flag(&query, "isAscendingOrder", false),
    )?;
    Ok(list_answer(page))
}

async fn list_by_ca(
    State(api): Api,
    Path(ca): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let page = api.registry.list_certificates(
        Some(&ca),
        query.get("marker").map(String::as_str),
        number(&query, "pageSize")?,
        flag(&query, "isAscendingOrder", false),
    )?;
    Ok(list_answer(page))
}

async fn describe_certificate(
    State(api): Api,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = api.registry.certificate(&id)?;
    Ok(answer(json!({
        "certificateDescription": {
            "certificateArn": c.arn,
            "certificateId": c.id(),
            "caCertificateId": c.ca_id,
            "status": c.status.as_str(),
            "certificatePem": c.pem,
            "ownedBy": crate::registry::ACCOUNT_ID,
            "creationDate": epoch(c.created),
            "lastModifiedDate": epoch(c.last_modified),
            "customerVersion": c.customer_version,
            "generationId": format!("{}-{}", c.id().get(..8).unwrap_or_default(), c.customer_version),
            "validity": {
                "notBefore": epoch(c.facts.not_before),
                "notAfter": epoch(c.facts.not_after),
            },
            "certificateMode": "DEFAULT",
        }
    })))
}

async fn update_certificate(
    State(api): Api,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let status = query
        .get("newStatus")
        .ok_or_else(|| ApiError::invalid("newStatus is required"))?;
    api.registry
        .update_certificate(&id, CertStatus::parse(status)?)?;
    Ok(answer(json!({})))
}

async fn create_from_csr(
    State(api): Api,
    query: Query,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let csr = required(&request, "certificateSigningRequest")?;
    let pem = api
        .issuing_ca
        .sign_csr(&csr, CSR_VALIDITY_DAYS)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let status = if flag(&query, "setAsActive", false) {
        CertStatus::Active
    } else {
        CertStatus::Inactive
    };
    let c = api.registry.insert_certificate(&pem, status)?;
    Ok(answer(json!({
        "certificateArn": c.arn,
        "certificateId": c.id(),
        "certificatePem": c.pem,
    })))
}

async fn register_certificate(
    State(api): Api,
    query: Query,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let pem = required(&request, "certificatePem")?;
    let status = match string(&request, "status") {
        Some(s) => CertStatus::parse(&s)?,
        None if flag(&query, "setAsActive", false) => CertStatus::Active,
        None => CertStatus::Inactive,
    };
    let c = api.registry.insert_certificate(&pem, status)?;
    Ok(answer(
        json!({ "certificateArn": c.arn, "certificateId": c.id() }),
    ))
}

fn ca_summary(c: &CaRecord) -> Value {
    json!({
        "certificateArn": c.arn,
        "certificateId": c.id(),
        "status": if c.active { "ACTIVE" } else { "INACTIVE" },
        "creationDate": epoch(c.created),
    })
}

async fn list_cas(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let mut cas = api.registry.cas();
    if !flag(&query, "isAscendingOrder", false) {
        cas.reverse();
    }
    let (items, next) = query_page(&cas, &query, Paging::Marker, 25)?;
    Ok(answer(json!({
        "certificates": items.iter().map(ca_summary).collect::<Vec<_>>(),
        "nextMarker": next,
    })))
}

async fn describe_ca(State(api): Api, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let c = api.registry.ca(&id)?;
    Ok(answer(json!({
        "certificateDescription": {
            "certificateArn": c.arn,
            "certificateId": c.id(),
            "status": if c.active { "ACTIVE" } else { "INACTIVE" },
            "certificatePem": c.pem,
            "ownedBy": crate::registry::ACCOUNT_ID,
            "creationDate": epoch(c.created),
            "autoRegistrationStatus": if c.auto_registration { "ENABLE" } else { "DISABLE" },
            "lastModifiedDate": epoch(c.last_modified),
            "customerVersion": c.customer_version,
            "generationId": format!("{}-{}", c.id().get(..8).unwrap_or_default(), c.customer_version),
            "validity": {
                "notBefore": epoch(c.facts.not_before),
                "notAfter": epoch(c.facts.not_after),
            },
            "certificateMode": "DEFAULT",
        },
        "registrationConfig": c.registration_config,
    })))
}

async fn register_ca(State(api): Api, query: Query, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let pem = required(&request, "caCertificate")?;
    let c = api.registry.register_ca(
        &pem,
        flag(&query, "setAsActive", false),
        flag(&query, "allowAutoRegistration", false),
        request.get("registrationConfig").cloned(),
    )?;
    Ok(answer(
        json!({ "certificateArn": c.arn, "certificateId": c.id() }),
    ))
}

async fn update_ca(
    State(api): Api,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let active = match query.get("newStatus").map(String::as_str) {
        None => None,
        Some("ACTIVE") => Some(true),
        Some("INACTIVE") => Some(false),
        Some(other) => return Err(ApiError::invalid(format!("unknown CA status {other:?}"))),
    };
    let auto = match query.get("newAutoRegistrationStatus").map(String::as_str) {
        None => None,
        Some("ENABLE") => Some(true),
        Some("DISABLE") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown auto-registration status {other:?}"
            )));
        }
    };
    api.registry.update_ca(&id, active, auto)?;
    Ok(answer(json!({})))
}
