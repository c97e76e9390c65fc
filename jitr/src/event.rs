//! The `$aws/events/certificates/registered/<caCertificateId>` event that starts a registration.

use serde::Deserialize;

/// A certificate registered under a CA with auto-registration enabled.
///
/// AWS samples send `timestamp` as a number of milliseconds and
/// `certificateRegistrationTimestamp` as a string that may be null, so both are optional here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredEvent {
    /// Id of the newly registered device certificate (64 hex characters).
    pub certificate_id: String,
    /// Id of the CA certificate that issued it.
    pub ca_certificate_id: String,
    /// Status at registration, normally `PENDING_ACTIVATION`.
    pub certificate_status: String,
    /// The account the certificate lives in.
    pub aws_account_id: String,
    /// Event time, milliseconds since the epoch.
    #[serde(default)]
    pub timestamp: Option<u64>,
    /// Registration time as AWS sends it (a string of milliseconds), when present.
    #[serde(default)]
    pub certificate_registration_timestamp: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_sample() {
        let sample = r#"{"certificateId":"a1b2","caCertificateId":"c3d4","timestamp":1623724243659,
            "certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012",
            "certificateRegistrationTimestamp":"1623723165331"}"#;
        let event: RegisteredEvent = serde_json::from_str(sample).unwrap();
        assert_eq!(event.certificate_id, "a1b2");
        assert_eq!(event.ca_certificate_id, "c3d4");
        assert_eq!(event.timestamp, Some(1_623_724_243_659));
        assert_eq!(
            event.certificate_registration_timestamp.as_deref(),
            Some("1623723165331")
        );
    }

    #[test]
    fn optional_timestamps_may_be_null_or_absent() {
        let sample = r#"{"certificateId":"a","caCertificateId":"c",
            "certificateStatus":"PENDING_ACTIVATION","awsAccountId":"1",
            "certificateRegistrationTimestamp":null}"#;
        let event: RegisteredEvent = serde_json::from_str(sample).unwrap();
        assert_eq!(event.timestamp, None);
        assert_eq!(event.certificate_registration_timestamp, None);
    }

    #[test]
    fn missing_certificate_id_is_an_error() {
        let sample = r#"{"caCertificateId":"c","certificateStatus":"X","awsAccountId":"1"}"#;
        assert!(serde_json::from_str::<RegisteredEvent>(sample).is_err());
    }
}
