//! Versioned messages on the wire between agents and the console.

use serde::{Deserialize, Serialize};

/// Schema version of [`StatusMessage`] written by this agent.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// The MQTT topic an agent publishes its status on.
#[must_use]
pub fn status_topic(thing: &str) -> String {
    format!("fleetid/v1/{thing}/status")
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
    /// Firmware version string, as the device reports it.
    pub firmware: String,
}

/// Why a status message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The bytes are not the JSON of a status message.
    #[error("malformed status message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A schema version this reader does not know.
    #[error("unsupported status schema version {0}")]
    UnsupportedVersion(u32),
}

impl StatusMessage {
    /// Parses a status message, refusing unknown schema versions.
    ///
    /// # Errors
    /// [`WireError::Malformed`] for bad JSON, [`WireError::UnsupportedVersion`] for a newer schema.
    pub fn from_json(bytes: &[u8]) -> Result<Self, WireError> {
        let message: Self = serde_json::from_slice(bytes)?;
        if message.schema != STATUS_SCHEMA_VERSION {
            return Err(WireError::UnsupportedVersion(message.schema));
        }
        Ok(message)
    }

    /// Serializes the message as compact JSON.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and integers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StatusMessage {
        StatusMessage {
            schema: STATUS_SCHEMA_VERSION,
            thing: "dev-0001".into(),
            sequence: 42,
            firmware: "1.4.2".into(),
        }
    }

    #[test]
    fn status_message_round_trips() {
        let message = sample();
        let parsed = StatusMessage::from_json(&message.to_json()).unwrap();
        assert_eq!(parsed, message);
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_versions_refused() {
        let newer = br#"{"schema":1,"thing":"t","sequence":1,"firmware":"f","extra":true}"#;
        assert_eq!(StatusMessage::from_json(newer).unwrap().thing, "t");
        let future = br#"{"schema":9,"thing":"t","sequence":1,"firmware":"f"}"#;
        assert!(matches!(
            StatusMessage::from_json(future),
            Err(WireError::UnsupportedVersion(9))
        ));
    }

    #[test]
    fn topic_names_the_thing() {
        assert_eq!(status_topic("dev-7"), "fleetid/v1/dev-7/status");
    }
}
