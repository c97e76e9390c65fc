//! The AWS IoT operations JITR needs, as a trait over plain Rust types, so the same [`apply`]
//! runs against aws-sdk-iot ([`crate::AwsControlPlane`], feature `aws`) and against the lab's
//! in-memory registry.
//!
//! Every write method is idempotent and says whether it changed anything: an implementation
//! checks first (or treats "already exists" as [`Change::Unchanged`]).
//!
//! [`apply`]: crate::apply

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use serde::Serialize;

/// Status of a device certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateStatus {
    /// In use.
    Active,
    /// Disabled; can be activated again.
    Inactive,
    /// Disabled for good.
    Revoked,
    /// Registered by JITR, waiting for a decision.
    PendingActivation,
    /// Any other status, by its AWS name.
    Other(String),
}

impl CertificateStatus {
    /// The AWS name, e.g. `PENDING_ACTIVATION`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Other(other) => other,
        }
    }

    /// Reads the AWS name.
    pub fn parse(text: &str) -> Self {
        match text {
            "ACTIVE" => Self::Active,
            "INACTIVE" => Self::Inactive,
            "REVOKED" => Self::Revoked,
            "PENDING_ACTIVATION" => Self::PendingActivation,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for CertificateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device certificate as the registry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// 64 hex characters.
    pub certificate_id: String,
    /// `arn:aws:iot:REGION:ACCOUNT:cert/ID`; the principal policies and things attach to.
    pub arn: String,
    /// Current status.
    pub status: CertificateStatus,
    /// The certificate, PEM.
    pub pem: String,
    /// The CA it was registered under, when the registry says (moto may leave it empty).
    pub ca_certificate_id: Option<String>,
}

/// A registered CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaCertificateRecord {
    /// 64 hex characters.
    pub certificate_id: String,
    /// `ACTIVE` or `INACTIVE` (AWS names).
    pub status: String,
    /// The CA certificate, PEM.
    pub pem: String,
}

/// Whether a write changed the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The write was needed and made.
    Made,
    /// Already as wanted; nothing written.
    Unchanged,
}

/// What kind of failure a control-plane call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlPlaneErrorKind {
    /// The resource does not exist.
    NotFound,
    /// Throttling, timeouts, 5xx, network: the same call may succeed later.
    Retryable,
    /// Anything else (access denied, invalid request): retrying will not help.
    Permanent,
}

/// A failed control-plane call: which operation, on what, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} {resource}: {message}")]
pub struct ControlPlaneError {
    /// The operation, e.g. `AttachPolicy`.
    pub operation: &'static str,
    /// What it was applied to (id, name or ARN).
    pub resource: String,
    /// Whether to retry.
    pub kind: ControlPlaneErrorKind,
    /// What the service said.
    pub message: String,
}

impl ControlPlaneError {
    /// A new error.
    pub fn new(
        operation: &'static str,
        resource: impl Into<String>,
        kind: ControlPlaneErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            resource: resource.into(),
            kind,
            message: message.into(),
        }
    }

    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.kind == ControlPlaneErrorKind::Retryable
    }
}

/// Result of a control-plane call.
pub type ControlPlaneResult<T> = Result<T, ControlPlaneError>;

/// The registry operations JITR performs. Futures are `Send` so implementations can be used
/// from multi-threaded runtimes; write `async fn` in the impl.
pub trait ControlPlane {
    /// `DescribeCertificate`.
    fn describe_certificate(
        &self,
        certificate_id: &str,
    ) -> impl Future<Output = ControlPlaneResult<CertificateRecord>> + Send;

    /// `DescribeCACertificate`.
    fn describe_ca_certificate(
        &self,
        ca_certificate_id: &str,
    ) -> impl Future<Output = ControlPlaneResult<CaCertificateRecord>> + Send;

    /// `CreateThing` with attributes, unless a thing of that name exists.
    fn create_thing(
        &self,
        thing_name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> impl Future<Output = ControlPlaneResult<Change>> + Send;

    /// `AttachThingPrincipal`, unless already attached.
    fn attach_thing_principal(
        &self,
        thing_name: &str,
        principal_arn: &str,
    ) -> impl Future<Output = ControlPlaneResult<Change>> + Send;

    /// `CreatePolicy`, unless a policy of that name exists (its document is then left alone).
    fn create_policy_if_missing(
        &self,
        policy_name: &str,
        document: &str,
    ) -> impl Future<Output = ControlPlaneResult<Change>> + Send;

    /// `AttachPolicy` to a target (certificate ARN), unless already attached.
    fn attach_policy(
        &self,
        policy_name: &str,
        target_arn: &str,
    ) -> impl Future<Output = ControlPlaneResult<Change>> + Send;

    /// `UpdateCertificate` to `ACTIVE`, `INACTIVE` or `REVOKED`.
    fn update_certificate(
        &self,
        certificate_id: &str,
        status: CertificateStatus,
    ) -> impl Future<Output = ControlPlaneResult<()>> + Send;

    /// `AddThingToThingGroup` (static group, which must exist), unless already a member.
    fn add_thing_to_group(
        &self,
        thing_name: &str,
        group_name: &str,
    ) -> impl Future<Output = ControlPlaneResult<Change>> + Send;
}
