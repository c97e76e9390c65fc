//! The status enums of jobs and job executions, with their wire spellings.

use super::RegistryError;

/// `JobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Running.
    InProgress,
    /// Cancelled by a call or an abort criterion.
    Canceled,
    /// Every execution ended.
    Completed,
}

impl JobStatus {
    /// The wire spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Canceled => "CANCELED",
            Self::Completed => "COMPLETED",
        }
    }
}

/// `JobExecutionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    /// Waiting for the device.
    Queued,
    /// The device started it.
    InProgress,
    /// Done.
    Succeeded,
    /// The device failed it.
    Failed,
    /// Timed out.
    TimedOut,
    /// The device refused it.
    Rejected,
    /// Removed from the job.
    Removed,
    /// Cancelled.
    Canceled,
}

impl ExecutionStatus {
    /// The wire spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Rejected => "REJECTED",
            Self::Removed => "REMOVED",
            Self::Canceled => "CANCELED",
        }
    }

    /// Parses the wire spelling.
    ///
    /// # Errors
    /// `InvalidRequest` for anything else.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        Ok(match text {
            "QUEUED" => Self::Queued,
            "IN_PROGRESS" => Self::InProgress,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "REJECTED" => Self::Rejected,
            "REMOVED" => Self::Removed,
            "CANCELED" => Self::Canceled,
            other => {
                return Err(RegistryError::InvalidRequest(format!(
                    "unknown job execution status {other:?}"
                )));
            }
        })
    }

    /// Whether the execution has ended.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Queued | Self::InProgress)
    }
}
