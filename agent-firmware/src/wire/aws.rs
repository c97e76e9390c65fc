//! Payloads of the AWS IoT device MQTT APIs the agent uses: Jobs and fleet provisioning.
//!
//! Only the fields the agent reads or writes; everything else is ignored when parsing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StatusDetails;

/// `$aws/things/<thing>/jobs/<suffix>`.
#[must_use]
pub fn jobs_topic(thing: &str, suffix: &str) -> String {
    format!("$aws/things/{thing}/jobs/{suffix}")
}

/// Status of a job execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for the device.
    Queued,
    /// Started by the device.
    InProgress,
    /// Done.
    Succeeded,
    /// Tried and failed.
    Failed,
    /// The device refused the job.
    Rejected,
    /// Any other status (TIMED_OUT, CANCELED, REMOVED ...).
    #[serde(other)]
    Other,
}

/// A job execution as `notify-next` and `start-next/accepted` carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExecution {
    /// The job id.
    pub job_id: String,
    /// Execution status.
    #[serde(default = "other_status")]
    pub status: JobStatus,
    /// The job document, a JSON object.
    #[serde(default)]
    pub job_document: Value,
    /// Version of the execution, for `expectedVersion`.
    #[serde(default)]
    pub version_number: Option<u64>,
}

fn other_status() -> JobStatus {
    JobStatus::Other
}

/// `start-next` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartNextRequest {
    /// Echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// `start-next/accepted` and `notify-next` payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartNextAccepted {
    /// The execution started, absent when no job is queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<JobExecution>,
}

/// `<jobId>/update` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobUpdateRequest {
    /// New status.
    pub status: JobStatus,
    /// Details shown to operators (within AWS limits by construction).
    #[serde(default, skip_serializing_if = "StatusDetails::is_empty")]
    pub status_details: StatusDetails,
    /// Echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// `$aws/certificates/create-from-csr/json` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFromCsrRequest {
    /// The PEM CSR.
    pub certificate_signing_request: String,
}

/// `$aws/certificates/create-from-csr/json/accepted` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFromCsrAccepted {
    /// 64 hex characters.
    pub certificate_id: String,
    /// The new certificate.
    pub certificate_pem: String,
    /// For the provision call, valid one hour.
    pub certificate_ownership_token: String,
}

/// `$aws/provisioning-templates/<template>/provision/json` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionRequest {
    /// From `create-from-csr`.
    pub certificate_ownership_token: String,
    /// Template parameters.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
}

/// `.../provision/json/accepted` payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionAccepted {
    /// The thing the template registered.
    #[serde(default)]
    pub thing_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_shapes() {
        let raw = br#"{"timestamp":1,"execution":{"jobId":"j1","status":"QUEUED",
            "jobDocument":{"operation":"fleetid.rotate.v1"},"versionNumber":1,"executionNumber":1}}"#;
        let accepted: StartNextAccepted = serde_json::from_slice(raw).unwrap();
        let execution = accepted.execution.unwrap();
        assert_eq!(execution.job_id, "j1");
        assert_eq!(execution.status, JobStatus::Queued);
        let empty: StartNextAccepted = serde_json::from_slice(br#"{"timestamp":1}"#).unwrap();
        assert!(empty.execution.is_none());
        let odd: JobExecution =
            serde_json::from_slice(br#"{"jobId":"j","status":"TIMED_OUT"}"#).unwrap();
        assert_eq!(odd.status, JobStatus::Other);
    }

    #[test]
    fn update_request_is_camel_case() {
        let mut details = StatusDetails::new();
        details.insert("newCertificateId", "abc").unwrap();
        let update = JobUpdateRequest {
            status: JobStatus::Succeeded,
            status_details: details,
            client_token: None,
        };
        assert_eq!(
            serde_json::to_string(&update).unwrap(),
            r#"{"status":"SUCCEEDED","statusDetails":{"newCertificateId":"abc"}}"#
        );
        assert_eq!(
            jobs_topic("t", "start-next"),
            "$aws/things/t/jobs/start-next"
        );
    }
}
