//! Where the fleet picture comes from: the [`FleetBackend`] trait and its one production
//! implementation, [`aws::AwsBackend`] (AWS IoT, Device Defender, CloudWatch, live MQTT).
//!
//! A snapshot is loaded source by source and sent, page by page, through a bounded channel of
//! [`BackendUpdate`]s; a source that cannot be read (not enabled, no permission, not answered
//! by the endpoint) is reported as unavailable with the reason while the others carry on.
//! Live events go through the same kind of channel. The mutations (methods of
//! [`aws::AwsBackend`]) are the calls the ops code plans, confirms and journals; each needs a
//! [`crate::context::MutationPermit`], which a read-only session never gets.

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
pub use mutations::{
    CaReadBack, CertificateReadBack, JobProgress, JobRequest, PolicyCreated, Receipt, SessionCut,
};
pub use update::{
    BackendUpdate, KnownCertificate, Progress, SnapshotRequest, SnapshotSummary, Source,
    SourceOutage, SourceState,
};

/// A source of fleet data.
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
}
