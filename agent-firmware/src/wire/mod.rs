//! Versioned messages on the wire between agents, the cloud and the console.
//!
//! Everything here needs only serde: the console uses this module with the crate's default
//! features off. Parsing is total: unknown fields are ignored, unknown enum values map to an
//! `Unknown` variant, and unknown schema versions or job operations are typed errors.
//! The protocol is described with examples in `docs/protocol.md`.

mod aws;
mod jobs;
mod status;

pub use aws::{
    CreateFromCsrAccepted, CreateFromCsrRequest, JobExecution, JobStatus, JobUpdateRequest,
    ProvisionAccepted, ProvisionRequest, StartNextAccepted, StartNextRequest, jobs_topic,
};
#[cfg(feature = "driver")]
pub(crate) use jobs::is_template_name;
pub use jobs::{
    ANCHOR_OPERATION, AnchorAction, AnchorJob, JobDocument, ROTATE_OPERATION, RotateAction,
    RotateJob, STATUS_DETAIL_KEY_MAX, STATUS_DETAIL_VALUE_MAX, StatusDetails,
};
pub use status::{
    AgentState, AnchorFingerprints, CertificateInfo, RotationStatus, RotationStep,
    STATUS_MAX_BYTES, STATUS_SCHEMA_VERSION, StatusMessage, status_topic,
};

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The bytes are not the JSON the message type expects.
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A schema version this reader does not know.
    #[error("unsupported status schema version {0}")]
    UnsupportedVersion(u32),
    /// The message is larger than the protocol allows.
    #[error("{what} is {len} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Which message or field.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// A job document whose `operation` names a version this agent does not know.
    #[error("unsupported job operation {0:?}")]
    UnsupportedOperation(String),
    /// A job document that is well-formed JSON but not a valid document of its operation.
    #[error("invalid {operation} job document: {reason}")]
    InvalidJob {
        /// The operation of the document.
        operation: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A statusDetails key outside `[a-zA-Z0-9:_-]{1,128}`.
    #[error("statusDetails key {0:?} is not 1-128 characters of [a-zA-Z0-9:_-]")]
    InvalidDetailKey(String),
}

/// Truncates `text` to at most `max` bytes on a character boundary.
pub(crate) fn clamp(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::clamp;

    #[test]
    fn clamp_cuts_on_char_boundaries() {
        let mut text = "aé".repeat(3);
        clamp(&mut text, 4);
        assert_eq!(text, "aéa");
        let mut short = String::from("ok");
        clamp(&mut short, 10);
        assert_eq!(short, "ok");
    }
}
