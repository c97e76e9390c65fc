//! fleetid's AWS IoT job documents and the `statusDetails` map of job updates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::WireError;

/// `operation` of a certificate rotation job document.
pub const ROTATE_OPERATION: &str = "fleetid.rotate.v1";
/// `operation` of a trust anchor job document.
pub const ANCHOR_OPERATION: &str = "fleetid.anchor.v1";
/// AWS IoT Jobs: a statusDetails value is at most this many characters.
pub const STATUS_DETAIL_VALUE_MAX: usize = 1024;
/// AWS IoT Jobs: a statusDetails key is 1 to this many characters of `[a-zA-Z0-9:_-]`.
pub const STATUS_DETAIL_KEY_MAX: usize = 128;

const DEFAULT_DEADLINE_SECONDS: u32 = 30;

/// A job document fleetid's agent understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobDocument {
    /// `fleetid.rotate.v1`.
    Rotate(RotateJob),
    /// `fleetid.anchor.v1`.
    Anchor(AnchorJob),
}

/// What a rotation job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotateAction {
    /// Create a new key and certificate, switch to it, verify it, commit or roll back.
    Rotate,
    /// Delete the previous key, kept since the last committed rotation.
    Finalize,
}

/// A `fleetid.rotate.v1` job document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateJob {
    /// Rotate or finalize.
    pub action: RotateAction,
    /// The fleet provisioning template that registers the new certificate (rotate only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Seconds the new certificate has to be verified before the agent rolls back.
    #[serde(default = "default_deadline")]
    pub deadline_seconds: u32,
}

fn default_deadline() -> u32 {
    DEFAULT_DEADLINE_SECONDS
}

/// What an anchor job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorAction {
    /// Install `anchorPem` as the next anchor.
    Install,
    /// Make the next anchor (whose fingerprint is given) the current one.
    Promote,
}

/// A `fleetid.anchor.v1` job document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorJob {
    /// Install or promote.
    pub action: AnchorAction,
    /// The CA certificate to install (install only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_pem: Option<String>,
    /// SHA-256 fingerprint of the anchor to promote (promote only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl JobDocument {
    /// Reads a job document from the `jobDocument` JSON object of a job execution.
    ///
    /// # Errors
    /// [`WireError::UnsupportedOperation`] for an operation this agent does not know,
    /// [`WireError::InvalidJob`] for a document that misses what its action needs,
    /// [`WireError::Malformed`] when the fields have the wrong types.
    pub fn from_value(document: &Value) -> Result<Self, WireError> {
        let operation = document
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match operation {
            ROTATE_OPERATION => {
                let job = RotateJob::deserialize(document)?;
                if job.action == RotateAction::Rotate && job.template.is_none() {
                    return Err(invalid(ROTATE_OPERATION, "rotate needs a template"));
                }
                if job
                    .template
                    .as_deref()
                    .is_some_and(|t| !is_template_name(t))
                {
                    return Err(invalid(
                        ROTATE_OPERATION,
                        "template must be 1-36 characters of [a-zA-Z0-9_-]",
                    ));
                }
                if job.deadline_seconds == 0 {
                    return Err(invalid(
                        ROTATE_OPERATION,
                        "deadlineSeconds must be positive",
                    ));
                }
                Ok(Self::Rotate(job))
            }
            ANCHOR_OPERATION => {
                let job = AnchorJob::deserialize(document)?;
                match job.action {
                    AnchorAction::Install if job.anchor_pem.is_none() => {
                        Err(invalid(ANCHOR_OPERATION, "install needs anchorPem"))
                    }
                    AnchorAction::Promote if job.fingerprint.is_none() => {
                        Err(invalid(ANCHOR_OPERATION, "promote needs fingerprint"))
                    }
                    _ => Ok(Self::Anchor(job)),
                }
            }
            other => Err(WireError::UnsupportedOperation(other.to_owned())),
        }
    }

    /// The JSON object of this document, with its `operation`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let (operation, body) = match self {
            Self::Rotate(job) => (ROTATE_OPERATION, serde_json::to_value(job)),
            Self::Anchor(job) => (ANCHOR_OPERATION, serde_json::to_value(job)),
        };
        let mut body = body.unwrap_or_default();
        if let Value::Object(map) = &mut body {
            map.insert("operation".into(), Value::String(operation.into()));
        }
        body
    }
}

/// Whether `name` can be a fleet provisioning template name (AWS: 1-36 characters of
/// `[a-zA-Z0-9_-]`). It becomes a topic level, so `/`, `+` and `#` must never get through.
pub(crate) fn is_template_name(name: &str) -> bool {
    (1..=36).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

fn invalid(operation: &'static str, reason: &str) -> WireError {
    WireError::InvalidJob {
        operation,
        reason: reason.into(),
    }
}

/// The `statusDetails` map of a job execution update, within the AWS limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusDetails(BTreeMap<String, String>);

impl StatusDetails {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry: keys must be 1-128 characters of `[a-zA-Z0-9:_-]`; values are stripped
    /// of control characters (AWS refuses them) and truncated to 1024 characters.
    ///
    /// # Errors
    /// [`WireError::InvalidDetailKey`] for a key AWS would refuse.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), WireError> {
        let valid_key = (1..=STATUS_DETAIL_KEY_MAX).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !valid_key {
            return Err(WireError::InvalidDetailKey(key.to_owned()));
        }
        let mut clean: String = value
            .chars()
            .filter(|c| !c.is_control())
            .take(STATUS_DETAIL_VALUE_MAX)
            .collect();
        if clean.is_empty() {
            // AWS wants at least one character.
            clean.push('-');
        }
        self.0.insert(key.to_owned(), clean);
        Ok(())
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether the map is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rotate_and_anchor_documents_round_trip() {
        let rotate = JobDocument::Rotate(RotateJob {
            action: RotateAction::Rotate,
            template: Some("fleetid-rotate".into()),
            deadline_seconds: 45,
        });
        let anchor = JobDocument::Anchor(AnchorJob {
            action: AnchorAction::Install,
            anchor_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            fingerprint: None,
        });
        for document in [rotate, anchor] {
            assert_eq!(
                JobDocument::from_value(&document.to_value()).unwrap(),
                document
            );
        }
    }

    #[test]
    fn defaults_and_unknown_fields() {
        let document = json!({"operation": "fleetid.rotate.v1", "action": "finalize", "x": 1});
        let JobDocument::Rotate(job) = JobDocument::from_value(&document).unwrap() else {
            panic!("not a rotate job");
        };
        assert_eq!(job.action, RotateAction::Finalize);
        assert_eq!(job.deadline_seconds, DEFAULT_DEADLINE_SECONDS);
    }

    #[test]
    fn unknown_operations_and_incomplete_documents_are_typed_errors() {
        let newer = json!({"operation": "fleetid.rotate.v2", "action": "rotate"});
        assert!(matches!(
            JobDocument::from_value(&newer),
            Err(WireError::UnsupportedOperation(op)) if op == "fleetid.rotate.v2"
        ));
        assert!(matches!(
            JobDocument::from_value(&json!({"firmware": "2.0"})),
            Err(WireError::UnsupportedOperation(op)) if op.is_empty()
        ));
        let no_template = json!({"operation": "fleetid.rotate.v1", "action": "rotate"});
        assert!(matches!(
            JobDocument::from_value(&no_template),
            Err(WireError::InvalidJob { .. })
        ));
        for template in ["", "a/b", "+", "#", "t\u{0}", &"x".repeat(37)] {
            let document = json!({"operation": "fleetid.rotate.v1", "action": "rotate",
                "template": template});
            assert!(
                matches!(
                    JobDocument::from_value(&document),
                    Err(WireError::InvalidJob { .. })
                ),
                "{template:?}"
            );
        }
        let no_pem = json!({"operation": "fleetid.anchor.v1", "action": "install"});
        assert!(matches!(
            JobDocument::from_value(&no_pem),
            Err(WireError::InvalidJob { .. })
        ));
        let bad_action = json!({"operation": "fleetid.anchor.v1", "action": "explode"});
        assert!(matches!(
            JobDocument::from_value(&bad_action),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn status_details_enforce_the_aws_limits() {
        let mut details = StatusDetails::new();
        details.insert("reason", &"x".repeat(3000)).unwrap();
        assert_eq!(details.get("reason").unwrap().chars().count(), 1024);
        details.insert("step", "bad\u{1b}[31mvalue\n").unwrap();
        assert_eq!(details.get("step"), Some("bad[31mvalue"));
        details.insert("empty", "").unwrap();
        assert_eq!(details.get("empty"), Some("-"));
        assert!(details.insert("", "v").is_err());
        assert!(details.insert("has space", "v").is_err());
        assert!(details.insert(&"k".repeat(129), "v").is_err());
        let json = serde_json::to_string(&details).unwrap();
        assert!(json.starts_with("{\"empty\":\"-\""), "{json}");
    }
}
