//! Inputs and outputs of the mutations the backend offers to the ops code (each takes a
//! [`crate::context::MutationPermit`]), and of the reads the ops code verifies them with.

use crate::model::{CaStatus, CertStatus};

/// A created policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCreated {
    /// Its ARN.
    pub arn: String,
    /// Its default version id (`1`).
    pub version: String,
    /// The call's request id.
    pub receipt: Receipt,
}

/// What to create an IoT job with (the subset the rotation campaigns use).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    /// Job id (`[a-zA-Z0-9_-]`), derived from the campaign so a retry does not duplicate it.
    pub job_id: String,
    /// Thing or thing-group ARNs.
    pub targets: Vec<String>,
    /// The job document (JSON text).
    pub document: String,
    /// Executions started per minute at most.
    pub max_per_minute: Option<i32>,
    /// Cancel the job when this percentage of executions failed (after `abort_min_executed`).
    pub abort_failure_percent: Option<f64>,
    /// Executions that must have finished before the abort threshold applies.
    pub abort_min_executed: i32,
    /// Minutes an execution may stay IN_PROGRESS before it times out.
    pub in_progress_timeout_minutes: Option<i64>,
}

/// The state of a job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobProgress {
    /// `IN_PROGRESS`, `CANCELED`, `COMPLETED`, ...
    pub status: String,
    /// Executions that succeeded.
    pub succeeded: i32,
    /// Executions that failed.
    pub failed: i32,
    /// Executions rejected by the device.
    pub rejected: i32,
    /// Executions timed out.
    pub timed_out: i32,
    /// Executions queued.
    pub queued: i32,
    /// Executions in progress.
    pub in_progress: i32,
    /// Executions canceled.
    pub canceled: i32,
}

/// A CA certificate's settings as read back after a mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaReadBack {
    /// `ACTIVE` or `INACTIVE`.
    pub status: CaStatus,
    /// Whether auto-registration (JITR) is enabled.
    pub auto_registration: bool,
}

/// What a successful mutating call left behind: the request id AWS gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// `x-amzn-RequestId` of the call, when the endpoint sent one.
    pub request_id: Option<String>,
}

/// How the data plane's DeleteConnection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCut {
    /// The session was closed.
    Cut(Receipt),
    /// No client with that id was connected (`ResourceNotFoundException`).
    NotConnected(Receipt),
    /// The endpoint does not answer DeleteConnection (moto).
    NotSupported(String),
}

/// A certificate as read back after a mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateReadBack {
    /// Its ARN.
    pub arn: String,
    /// Its status.
    pub status: CertStatus,
}
