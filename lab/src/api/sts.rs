//! STS's GetCallerIdentity in the AWS query protocol aws-sdk-sts speaks (`POST /` with a
//! form body `Action=GetCallerIdentity&Version=2011-06-15`, an XML answer): the lab's one
//! identity, an IAM user of the lab account, so `fleetid doctor` and the account guard work
//! against the lab.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::ApiState;
use crate::registry::ACCOUNT_ID;

/// The ARN the lab's credentials belong to.
pub const CALLER_ARN: &str = "arn:aws:iam::123456789012:user/fleetid-lab-operator";
/// The unique id of that user.
pub const CALLER_USER_ID: &str = "AIDAFLEETIDLAB0000001";

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/", post(query))
}

async fn query(body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body);
    let action = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "Action")
        .map(|(_, value)| value);
    let request_id = hex::encode(crate::pki::random_bytes::<16>());
    match action {
        Some("GetCallerIdentity") => xml(
            StatusCode::OK,
            format!(
                "<GetCallerIdentityResponse xmlns=\"{XMLNS}\"><GetCallerIdentityResult>\
                 <Arn>{CALLER_ARN}</Arn><UserId>{CALLER_USER_ID}</UserId>\
                 <Account>{ACCOUNT_ID}</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
                 </GetCallerIdentityResponse>"
            ),
        ),
        other => xml(
            StatusCode::BAD_REQUEST,
            format!(
                "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type>\
                 <Code>InvalidAction</Code><Message>the fleetid lab answers GetCallerIdentity \
                 only, not {}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                escape(other.unwrap_or("a request without Action"))
            ),
        ),
    }
}

/// `InvalidClientTokenId` (403), as STS answers credentials it does not know.
pub(super) fn invalid_client_token(message: &str) -> Response {
    let request_id = hex::encode(crate::pki::random_bytes::<16>());
    xml(
        StatusCode::FORBIDDEN,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type>\
             <Code>InvalidClientTokenId</Code><Message>{}</Message></Error>\
             <RequestId>{request_id}</RequestId></ErrorResponse>",
            escape(message)
        ),
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
