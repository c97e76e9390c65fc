//! The SigV4-presigned websocket URL AWS IoT accepts for MQTT:
//! `wss://<endpoint>/mqtt?X-Amz-Algorithm=...&X-Amz-Signature=...`, signed for the service
//! `iotdevicegateway` with the query-string method. AWS IoT wants the session token appended
//! after signing, not signed (`SessionTokenMode::Exclude` does exactly that).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;

/// The SigV4 service name of the AWS IoT device gateway.
pub const SERVICE: &str = "iotdevicegateway";
/// How long a signed URL may be used to open a connection (it is signed again for every one).
const VALID_FOR: Duration = Duration::from_secs(300);

/// Why a URL could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("signing the MQTT websocket URL for {host}: {detail}")]
pub struct SigningFailed {
    host: String,
    detail: String,
}

/// Returns `wss://{host}/mqtt?...` signed with `credentials` for `region` at `time`.
/// `host` may carry a port (`host:443`).
///
/// # Errors
/// [`SigningFailed`] when the host makes no valid URL or the signer refuses the input.
pub fn presigned_url(
    host: &str,
    region: &str,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<String, SigningFailed> {
    let failed = |detail: String| SigningFailed {
        host: host.to_owned(),
        detail,
    };
    let url = format!("wss://{host}/mqtt");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(VALID_FOR);
    settings.session_token_mode = SessionTokenMode::Exclude;
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| failed(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once(("host", host)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| failed(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(e.to_string()))?
        .into_parts();
    let mut request = http::Request::builder()
        .uri(url.as_str())
        .body(())
        .map_err(|e| failed(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_value<'a>(url: &'a str, name: &str) -> Option<&'a str> {
        url.split_once('?')?
            .1
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    #[test]
    fn url_is_signed_for_the_device_gateway() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let url = presigned_url(
            "a1b2-ats.iot.eu-west-1.amazonaws.com",
            "eu-west-1",
            &credentials,
            time,
        )
        .unwrap();
        assert!(
            url.starts_with("wss://a1b2-ats.iot.eu-west-1.amazonaws.com/mqtt?"),
            "{url}"
        );
        assert_eq!(
            query_value(&url, "X-Amz-Algorithm"),
            Some("AWS4-HMAC-SHA256")
        );
        assert_eq!(
            query_value(&url, "X-Amz-Credential"),
            Some("AKIDEXAMPLE%2F20231114%2Feu-west-1%2Fiotdevicegateway%2Faws4_request")
        );
        assert_eq!(query_value(&url, "X-Amz-Date"), Some("20231114T221320Z"));
        assert_eq!(query_value(&url, "X-Amz-SignedHeaders"), Some("host"));
        let signature = query_value(&url, "X-Amz-Signature").unwrap();
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(query_value(&url, "X-Amz-Security-Token"), None);
    }

    #[test]
    fn session_token_is_appended_but_not_signed() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let host = "example-ats.iot.us-east-1.amazonaws.com";
        let plain = Credentials::new("AKID", "secret", None, None, "test");
        let session = Credentials::new("AKID", "secret", Some("tok/en+1".into()), None, "test");
        let url_plain = presigned_url(host, "us-east-1", &plain, time).unwrap();
        let url_session = presigned_url(host, "us-east-1", &session, time).unwrap();
        assert_eq!(
            query_value(&url_plain, "X-Amz-Signature"),
            query_value(&url_session, "X-Amz-Signature")
        );
        assert_eq!(
            query_value(&url_session, "X-Amz-Security-Token"),
            Some("tok%2Fen%2B1")
        );
        let other_time =
            presigned_url(host, "us-east-1", &plain, time + Duration::from_secs(1)).unwrap();
        assert_ne!(
            query_value(&url_plain, "X-Amz-Signature"),
            query_value(&other_time, "X-Amz-Signature")
        );
    }
}
