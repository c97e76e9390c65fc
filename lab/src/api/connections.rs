//! The IoT data plane's DeleteConnection: closes a connected MQTT client's session at the
//! gateway, which publishes its disconnected lifecycle event with
//! `API_INITIATED_DISCONNECT`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;

use super::wire::{Query, boolean};
use super::{Api, ApiError, ApiState};
use crate::gateway::{API_INITIATED_DISCONNECT, Disconnect};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/connections/{client_id}", delete(delete_connection))
}

/// `DELETE /connections/{clientId}?cleanSession=&preventWillMessage=`. The lab keeps no
/// persistent sessions and no will messages, so both flags are checked and have nothing to
/// act on. The client id arrives percent-encoded; the path extractor decodes it.
async fn delete_connection(
    State(api): Api,
    Path(client_id): Path<String>,
    query: Query,
) -> Result<StatusCode, ApiError> {
    if client_id.is_empty() || client_id.chars().count() > 128 {
        return Err(ApiError::invalid(
            "clientId must be 1 to 128 characters long",
        ));
    }
    if client_id.starts_with('$') {
        return Err(ApiError::invalid(
            "clientId can't start with a dollar sign ($)",
        ));
    }
    boolean(&query, "cleanSession")?;
    boolean(&query, "preventWillMessage")?;
    match api
        .connections
        .disconnect(&client_id, API_INITIATED_DISCONNECT)
        .await
    {
        Disconnect::Closed => Ok(StatusCode::OK),
        Disconnect::NotConnected => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("no client with client id {client_id} is connected"),
        )),
        Disconnect::Busy => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            format!("the connection of {client_id} did not close in time; try again"),
        )),
    }
}
