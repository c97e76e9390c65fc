//! Where the fleet picture comes from: the [`FleetBackend`] trait and its one production
//! implementation, [`aws::AwsBackend`] (AWS IoT, Device Defender, CloudWatch, live MQTT).
//!
//! A snapshot is loaded source by source and sent, page by page, through a bounded channel of
//! [`BackendUpdate`]s; a source that cannot be read (not enabled, no permission, not answered
//! by the endpoint) is reported as unavailable with the reason while the others carry on.
//! Live events go through the same kind of channel. The mutations are the calls the ops code
//! plans, confirms and journals; the backend itself never refuses them — `--read-only` is
//! enforced before a call reaches here.

pub mod aws;
pub mod error;
pub mod findings;
pub mod live;
pub mod mutations;
pub mod records;
pub mod update;
pub mod x509;

use std::future::Future;

use tokio::sync::mpsc;

pub use error::{BackendError, CallFailure, FailureKind};
pub use mutations::{JobProgress, JobRequest, NewCertificateStatus, PolicyCreated};
pub use update::{
    BackendUpdate, KnownCertificate, Progress, SnapshotRequest, SnapshotSummary, Source,
    SourceState,
};

/// A source of fleet data and the place mutations are sent to.
pub trait FleetBackend: Send + Sync {
    /// Loads a snapshot: every source, page by page, into `updates` (a bounded channel, so a
    /// slow model slows the load instead of growing memory). Certificates in
    /// `request.known_certificates` whose listed status is unchanged are not described again.
    /// Never fails as a whole: each source's outcome is in the summary (and in a
    /// [`BackendUpdate::SourceFinished`]). Stops early when the receiver is dropped.
    fn load_snapshot(
        &self,
        request: SnapshotRequest,
        updates: mpsc::Sender<BackendUpdate>,
    ) -> impl Future<Output = SnapshotSummary> + Send;

    /// Follows live events (agent status, presence) into `updates` until the receiver is
    /// dropped, reconnecting with backoff.
    ///
    /// # Errors
    /// [`BackendError`] when live status cannot be set up at all (no options, unreadable
    /// certificate files, no endpoint).
    fn follow_live(
        &self,
        updates: mpsc::Sender<BackendUpdate>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Sets a certificate's status (ACTIVE, INACTIVE, or the final REVOKED).
    ///
    /// # Errors
    /// [`BackendError::Call`] with the classified AWS failure.
    fn update_certificate_status(
        &self,
        certificate_id: &str,
        status: NewCertificateStatus,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Attaches a policy to a target ARN (certificate or thing group).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    fn attach_policy(
        &self,
        policy_name: &str,
        target_arn: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Detaches a policy from a target ARN.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    fn detach_policy(
        &self,
        policy_name: &str,
        target_arn: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Creates a policy (its version 1 becomes the default).
    ///
    /// # Errors
    /// [`BackendError::Call`]; an existing name is `ResourceAlreadyExistsException`.
    fn create_policy(
        &self,
        policy_name: &str,
        document: &str,
    ) -> impl Future<Output = Result<PolicyCreated, BackendError>> + Send;

    /// Adds a thing to a static thing group.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    fn add_thing_to_group(
        &self,
        thing: &str,
        group: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Creates an IoT job; returns its ARN.
    ///
    /// # Errors
    /// [`BackendError::Call`], or [`BackendError::InvalidRequest`] for a bad abort config.
    fn create_job(
        &self,
        job: &JobRequest,
    ) -> impl Future<Output = Result<String, BackendError>> + Send;

    /// Reads a job's status and per-state counts.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    fn describe_job(
        &self,
        job_id: &str,
    ) -> impl Future<Output = Result<JobProgress, BackendError>> + Send;

    /// Cancels a job; `force` also cancels executions in progress.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    fn cancel_job(
        &self,
        job_id: &str,
        comment: &str,
        force: bool,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
}
