//! What an operator configures: where the device id comes from, the clock skew allowed,
//! minimum firmware per model, the thing name, policy and groups given to activated devices,
//! and what happens to rejected certificates.
//!
//! The Lambda reads it as JSON from `FLEETID_JITR_CONFIG`; every field has a default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manifest::FirmwareVersion;

/// Where in the certificate the device id is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceIdSource {
    /// The first subject common name (CN).
    #[default]
    CommonName,
    /// The certificate serial number as lowercase hex, without leading zero bytes.
    SerialNumber,
}

/// The status a rejected certificate is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectStatus {
    /// Can be activated later by an operator (e.g. after fixing the manifest).
    #[default]
    Inactive,
    /// Final: the certificate can never be used again.
    Revoked,
}

/// Everything [`crate::decide`] and [`crate::apply`] need besides the event and the
/// certificates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitrConfig {
    /// Where the device id comes from.
    pub device_id_source: DeviceIdSource,
    /// Clock skew allowed on both ends of the validity period, in seconds.
    pub clock_skew_seconds: u32,
    /// Minimum firmware version per model; models not listed have no minimum.
    pub min_firmware: BTreeMap<String, FirmwareVersion>,
    /// Prepended to the device id to form the thing name.
    pub thing_name_prefix: String,
    /// Name of the policy attached to the certificate; `{thing}` is replaced by the thing name
    /// (for a policy per thing).
    pub policy_name: String,
    /// Policy document; `{thing}` is replaced by the thing name. The default uses the
    /// `${iot:Connection.Thing.ThingName}` policy variable, so one shared policy scopes every
    /// device to its own thing.
    pub policy_document: String,
    /// Static thing groups every activated device joins (they must exist).
    pub thing_groups: Vec<String>,
    /// What rejected certificates become.
    pub reject_status: RejectStatus,
    /// CA certificate ids allowed to auto-register; empty allows every registered CA.
    pub allowed_ca_ids: Vec<String>,
    /// Fleet provisioning hook: the template parameter holding the device id (falls back to
    /// the certificate when absent).
    pub hook_device_id_parameter: String,
}

/// The default device policy: connect as its own thing, publish and subscribe under its own
/// `fleetid/v1/<thing>/` topics, jobs and shadow topics of its own thing.
pub const DEFAULT_POLICY_DOCUMENT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "iot:Connect",
      "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}",
      "Condition": { "Bool": { "iot:Connection.Thing.IsAttached": "true" } }
    },
    {
      "Effect": "Allow",
      "Action": ["iot:Publish", "iot:Receive"],
      "Resource": [
        "arn:aws:iot:*:*:topic/fleetid/v1/${iot:Connection.Thing.ThingName}/*",
        "arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/*"
      ]
    },
    {
      "Effect": "Allow",
      "Action": "iot:Subscribe",
      "Resource": [
        "arn:aws:iot:*:*:topicfilter/fleetid/v1/${iot:Connection.Thing.ThingName}/*",
        "arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*"
      ]
    }
  ]
}"#;

impl Default for JitrConfig {
    fn default() -> Self {
        Self {
            device_id_source: DeviceIdSource::CommonName,
            clock_skew_seconds: 300,
            min_firmware: BTreeMap::new(),
            thing_name_prefix: String::new(),
            policy_name: "fleetid-device".into(),
            policy_document: DEFAULT_POLICY_DOCUMENT.into(),
            thing_groups: Vec::new(),
            reject_status: RejectStatus::Inactive,
            allowed_ca_ids: Vec::new(),
            hook_device_id_parameter: "SerialNumber".into(),
        }
    }
}

impl JitrConfig {
    /// Reads the JSON form (unknown fields are an error, missing ones take defaults).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fills_defaults_and_rejects_unknown_fields() {
        let config = JitrConfig::from_json(
            r#"{"device_id_source":"serial_number","min_firmware":{"sensor-a":"1.4"},
                "reject_status":"REVOKED"}"#,
        )
        .unwrap();
        assert_eq!(config.device_id_source, DeviceIdSource::SerialNumber);
        assert_eq!(config.reject_status, RejectStatus::Revoked);
        assert_eq!(config.clock_skew_seconds, 300);
        assert_eq!(config.min_firmware["sensor-a"], "1.4.0".parse().unwrap());
        assert!(JitrConfig::from_json(r#"{"clock_skew":5}"#).is_err());
    }

    #[test]
    fn default_policy_is_valid_json_and_short_enough() {
        let value: serde_json::Value = serde_json::from_str(DEFAULT_POLICY_DOCUMENT).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        assert!(compact.len() <= 2048, "{} characters", compact.len());
    }
}
