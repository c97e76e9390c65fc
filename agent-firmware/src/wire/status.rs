//! The status message an agent publishes on `fleetid/v1/<thing>/status`.

use serde::{Deserialize, Serialize};

use super::{WireError, clamp};

/// Schema version of [`StatusMessage`] written by this agent.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// A status message is at most this many bytes of JSON, in both directions.
pub const STATUS_MAX_BYTES: usize = 2048;

// Bounds of the free-form fields; with them a serialized message always fits STATUS_MAX_BYTES.
const THING_MAX: usize = 128;
const FIRMWARE_MAX: usize = 64;
const FINGERPRINT_MAX: usize = 64;
const REASON_MAX: usize = 128;
const JOB_ID_MAX: usize = 64;
const ERROR_MAX: usize = 256;

/// The MQTT topic an agent publishes its status on.
#[must_use]
pub fn status_topic(thing: &str) -> String {
    format!("fleetid/v1/{thing}/status")
}

/// The identity state of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// No certificate yet.
    Unprovisioned,
    /// A certificate that has not yet completed a verified connection (JITR drops the first).
    Registering,
    /// Connected or reconnecting with a verified certificate.
    Active,
    /// A certificate rotation is in progress; see [`StatusMessage::rotation`].
    Rotating,
    /// The cloud refuses the certificate: the agent stopped publishing and retries slowly.
    Revoked,
    /// Provisioning failed too often: the agent retries slowly.
    Fallback,
    /// A local fault (secure element, storage) stops the agent.
    Error,
    /// A state this reader does not know (written by a newer agent).
    #[serde(other)]
    Unknown,
}

/// A certificate as the status message describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// SHA-256 of the DER certificate, lowercase hex (the AWS IoT certificate id).
    pub fingerprint: String,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// The secure element slot that holds the private key.
    pub slot: u32,
}

/// Fingerprints of the trust anchors the agent accepts for the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorFingerprints {
    /// The anchor in use.
    pub current: String,
    /// The anchor installed for the next server CA change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The steps of a certificate rotation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationStep {
    /// Generating the new key pair in the spare slot.
    GeneratingKey,
    /// Signing the CSR with the new key.
    SigningCsr,
    /// Waiting for `create-from-csr`.
    CreatingCertificate,
    /// Waiting for the provisioning template.
    Provisioning,
    /// The new certificate is persisted as pending; connecting with it.
    Verifying,
    /// Verified and committed; reporting SUCCEEDED.
    Committed,
    /// Not verified in time; back on the previous certificate, reporting FAILED.
    RolledBack,
    /// Deleting the previous key after a finalize job.
    Finalizing,
    /// A step this reader does not know.
    #[serde(other)]
    Unknown,
}

/// The rotation an agent is in, or last finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationStatus {
    /// The AWS IoT job id.
    pub job_id: String,
    /// Where the rotation is.
    pub step: RotationStep,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What an agent reports about its identity, periodically and on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMessage {
    /// Schema version; readers refuse versions they do not know.
    pub schema: u32,
    /// The thing name the agent is provisioned as.
    pub thing: String,
    /// Increases by one with every message an agent sends.
    pub sequence: u64,
    /// When the message was written, Unix seconds of the device clock.
    #[serde(default)]
    pub time: i64,
    /// The identity state.
    #[serde(default = "unknown_state")]
    pub state: AgentState,
    /// The certificate the agent connects with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<CertificateInfo>,
    /// A new certificate being verified during a rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<CertificateInfo>,
    /// Server trust anchors.
    #[serde(default)]
    pub anchors: AnchorFingerprints,
    /// Firmware version string, as the device reports it.
    pub firmware: String,
    /// How often the agent has started.
    #[serde(default)]
    pub boot_count: u64,
    /// Successful connections since the state was created.
    #[serde(default)]
    pub connects: u64,
    /// Lost or refused connections since the state was created.
    #[serde(default)]
    pub disconnects: u64,
    /// Why the last connection ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_disconnect: Option<String>,
    /// The current or last rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationStatus>,
}

fn unknown_state() -> AgentState {
    AgentState::Unknown
}

impl StatusMessage {
    /// A message with the required fields set and everything else empty.
    #[must_use]
    pub fn new(thing: impl Into<String>, sequence: u64, firmware: impl Into<String>) -> Self {
        Self {
            schema: STATUS_SCHEMA_VERSION,
            thing: thing.into(),
            sequence,
            time: 0,
            state: AgentState::Unknown,
            active: None,
            pending: None,
            anchors: AnchorFingerprints::default(),
            firmware: firmware.into(),
            boot_count: 0,
            connects: 0,
            disconnects: 0,
            last_disconnect: None,
            rotation: None,
        }
    }

    /// Parses a status message, refusing oversized input and unknown schema versions.
    ///
    /// # Errors
    /// [`WireError::TooLarge`] over [`STATUS_MAX_BYTES`], [`WireError::Malformed`] for bad JSON,
    /// [`WireError::UnsupportedVersion`] for a schema this reader does not know.
    pub fn from_json(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > STATUS_MAX_BYTES {
            return Err(WireError::TooLarge {
                what: "status message",
                len: bytes.len(),
                limit: STATUS_MAX_BYTES,
            });
        }
        // Check the version before the shape, so a newer schema is reported as such.
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        let version: Version = serde_json::from_slice(bytes)?;
        if version.schema != STATUS_SCHEMA_VERSION {
            return Err(WireError::UnsupportedVersion(version.schema));
        }
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Serializes the message as compact JSON, at most [`STATUS_MAX_BYTES`] long: free-form
    /// fields longer than their bounds are truncated.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut bounded = self.clone();
        bounded.clamp_fields();
        // A struct of strings, integers and unit enums always serializes.
        serde_json::to_vec(&bounded).unwrap_or_default()
    }

    fn clamp_fields(&mut self) {
        clamp(&mut self.thing, THING_MAX);
        clamp(&mut self.firmware, FIRMWARE_MAX);
        for info in [&mut self.active, &mut self.pending].into_iter().flatten() {
            clamp(&mut info.fingerprint, FINGERPRINT_MAX);
        }
        clamp(&mut self.anchors.current, FINGERPRINT_MAX);
        if let Some(next) = &mut self.anchors.next {
            clamp(next, FINGERPRINT_MAX);
        }
        if let Some(reason) = &mut self.last_disconnect {
            clamp(reason, REASON_MAX);
        }
        if let Some(rotation) = &mut self.rotation {
            clamp(&mut rotation.job_id, JOB_ID_MAX);
            if let Some(error) = &mut rotation.error {
                clamp(error, ERROR_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> StatusMessage {
        StatusMessage {
            time: 1_790_000_000,
            state: AgentState::Rotating,
            active: Some(CertificateInfo {
                fingerprint: "a".repeat(64),
                not_after: 1_800_000_000,
                slot: 0x1000_0001,
            }),
            pending: Some(CertificateInfo {
                fingerprint: "b".repeat(64),
                not_after: 1_830_000_000,
                slot: 0x1000_0002,
            }),
            anchors: AnchorFingerprints {
                current: "c".repeat(64),
                next: Some("d".repeat(64)),
            },
            boot_count: 3,
            connects: 10,
            disconnects: 9,
            last_disconnect: Some("connection lost".into()),
            rotation: Some(RotationStatus {
                job_id: "rotate-2026-11".into(),
                step: RotationStep::Verifying,
                error: None,
            }),
            ..StatusMessage::new("dev-0001", 42, "1.4.2")
        }
    }

    #[test]
    fn status_message_round_trips() {
        let message = full();
        let parsed = StatusMessage::from_json(&message.to_json()).unwrap();
        assert_eq!(parsed, message);
        let minimal = StatusMessage::new("dev-0002", 1, "1.0");
        assert_eq!(
            StatusMessage::from_json(&minimal.to_json()).unwrap(),
            minimal
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_versions_refused() {
        let newer = br#"{"schema":1,"thing":"t","sequence":1,"firmware":"f","extra":true,
            "state":"hibernating","rotation":{"job_id":"j","step":"teleporting"}}"#;
        let parsed = StatusMessage::from_json(newer).unwrap();
        assert_eq!(parsed.thing, "t");
        assert_eq!(parsed.state, AgentState::Unknown);
        assert_eq!(parsed.rotation.unwrap().step, RotationStep::Unknown);
        let future = br#"{"schema":9,"thing":"t","sequence":1,"firmware":"f"}"#;
        assert!(matches!(
            StatusMessage::from_json(future),
            Err(WireError::UnsupportedVersion(9))
        ));
        assert!(matches!(
            StatusMessage::from_json(b"{\"schema\":1}"),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn oversized_fields_are_truncated_to_fit_the_limit() {
        let mut message = full();
        message.thing = "t".repeat(5000);
        message.firmware = "é".repeat(5000);
        message.last_disconnect = Some("r".repeat(5000));
        if let Some(rotation) = &mut message.rotation {
            rotation.job_id = "j".repeat(5000);
            rotation.error = Some("e".repeat(5000));
        }
        message.sequence = u64::MAX;
        message.boot_count = u64::MAX;
        message.connects = u64::MAX;
        message.disconnects = u64::MAX;
        let json = message.to_json();
        assert!(json.len() <= STATUS_MAX_BYTES, "{} bytes", json.len());
        let parsed = StatusMessage::from_json(&json).unwrap();
        assert_eq!(parsed.thing.len(), THING_MAX);
        assert!(parsed.firmware.len() <= FIRMWARE_MAX);
    }

    #[test]
    fn oversized_input_is_refused() {
        let mut big = b"{\"schema\":1,\"thing\":\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', STATUS_MAX_BYTES));
        big.extend(b"\",\"sequence\":1,\"firmware\":\"f\"}");
        assert!(matches!(
            StatusMessage::from_json(&big),
            Err(WireError::TooLarge {
                limit: STATUS_MAX_BYTES,
                ..
            })
        ));
    }

    #[test]
    fn topic_names_the_thing() {
        assert_eq!(status_topic("dev-7"), "fleetid/v1/dev-7/status");
    }
}
