//! Just-in-time registration: decide whether a newly registered device certificate may join
//! the fleet, then apply that decision idempotently.
//!
//! # Public API
//!
//! - [`decide`]`(event, cert_pem, ca_pem, manifest_entry, config) -> `[`Decision`]: pure and
//!   synchronous. Checks that the registered CA issued the certificate (issuer name, key
//!   identifiers, signature verified with aws-lc-rs), the key (EC P-256/P-384 or RSA >= 2048),
//!   validity at the event time with a skew allowance, the device id (subject CN or serial),
//!   and the manifest (known, sold, not recalled, firmware at least the model's minimum).
//!   [`device_id_of`] gives the id to look the manifest entry up with. Rejections carry a
//!   stable [`RejectReason`] code.
//! - [`JitrConfig`]: device id source, skew, minimum firmware per model, thing name prefix,
//!   policy name and document, thing groups, reject status (INACTIVE or REVOKED).
//! - [`manifest`]: [`ManifestEntry`], the [`ManifestSource`] trait, [`FileManifest`] (JSON or
//!   CSV) and, with feature `aws`, `DynamoDbManifest`.
//! - [`ControlPlane`]: the registry operations (describe certificate and CA, create thing,
//!   attach thing principal, create policy if missing, attach policy, update certificate, add
//!   to thing group) as an async trait over plain types; every write is idempotent and returns
//!   a [`Change`]. With feature `aws`, `AwsControlPlane` implements it on aws-sdk-iot.
//! - [`apply`]`(control_plane, certificate_id, decision, config)`: carries a decision out
//!   idempotently (re-running changes nothing; a failure half-way resumes). Rejected
//!   certificates become INACTIVE or REVOKED as configured.
//! - [`handle_registration`]: the Lambda handler, generic over [`ControlPlane`] and
//!   [`ManifestSource`]: event JSON in, one decision log line out ([`log::decision_line`],
//!   with CloudWatch embedded metrics); an error only for retryable failures.
//! - [`hook`]: the same decision as a Fleet Provisioning pre-provisioning hook
//!   ([`pre_provisioning_hook`]).
//!
//! Features: `aws` (default) adds the aws-sdk-iot control plane and the DynamoDB manifest;
//! `lambda` (default) adds the `fleetid-jitr-lambda` binary. With `default-features = false`
//! no AWS SDK is compiled.

mod activation;
mod apply;
mod certificate;
mod config;
mod control_plane;
mod decision;
pub mod event;
mod handler;
pub mod hook;
mod issuer;
pub mod log;
pub mod manifest;
mod reason;
mod strict;

#[cfg(feature = "aws")]
mod aws;

pub use apply::{AppliedStep, ApplyError, ApplyReport, apply};
#[cfg(feature = "aws")]
pub use aws::AwsControlPlane;
pub use certificate::{MAX_THING_NAME_LEN, Rejection};
pub use config::{DEFAULT_POLICY_DOCUMENT, DeviceIdSource, JitrConfig, RejectStatus};
pub use control_plane::{
    CaCertificateRecord, CertificateRecord, CertificateStatus, Change, ControlPlane,
    ControlPlaneError, ControlPlaneErrorKind, ControlPlaneResult,
};
pub use decision::{Decision, PolicySpec, decide, device_id_of, event_time};
pub use event::RegisteredEvent;
pub use handler::{Handled, handle_registration};
pub use hook::{PreProvisioningRequest, PreProvisioningResponse, pre_provisioning_hook};
pub use manifest::{
    FileManifest, FirmwareVersion, ManifestEntry, ManifestError, ManifestSource, SaleStatus,
};
pub use reason::RejectReason;
