//! Inputs and outputs of the mutations [`super::FleetBackend`] offers to the ops code.

/// A status a certificate can be set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewCertificateStatus {
    /// Accept connections again.
    Active,
    /// Refuse connections; reversible.
    Inactive,
    /// Refuse connections for good: AWS never lets a revoked certificate change again.
    Revoked,
}

impl NewCertificateStatus {
    /// AWS's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
        }
    }
}

/// A created policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCreated {
    /// Its ARN.
    pub arn: String,
    /// Its default version id (`1`).
    pub version: String,
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
