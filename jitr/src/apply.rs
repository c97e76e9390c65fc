//! Carrying out a [`Decision`] on a [`ControlPlane`], idempotently.
//!
//! Activation order: policy (create if missing) -> attach it to the certificate -> thing ->
//! attach the certificate to the thing -> thing groups -> certificate `ACTIVE` last, so a
//! device can only connect once everything it needs is in place. Every step checks before it
//! writes, so re-running the same decision changes nothing, and a run that failed half-way
//! resumes where it stopped.

use serde::Serialize;

use crate::config::{JitrConfig, RejectStatus};
use crate::control_plane::{CertificateStatus, Change, ControlPlane, ControlPlaneError};
use crate::decision::Decision;

/// One step of [`apply`] and whether it changed anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    /// What was done, e.g. `attach_policy`.
    pub action: &'static str,
    /// To what: a name, ARN or status.
    pub target: String,
    /// Made or unchanged.
    pub change: Change,
}

/// Everything [`apply`] did, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The steps, in order.
    pub steps: Vec<AppliedStep>,
}

impl ApplyReport {
    /// Whether any step changed the registry.
    pub fn changed(&self) -> bool {
        self.steps.iter().any(|s| s.change == Change::Made)
    }

    fn record(&mut self, action: &'static str, target: impl Into<String>, change: Change) {
        self.steps.push(AppliedStep {
            action,
            target: target.into(),
            change,
        });
    }
}

/// Why [`apply`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A control-plane call failed (see [`ControlPlaneError::is_retryable`]). The steps done
    /// before it are in `done`.
    #[error("applying the decision for certificate {certificate_id}: {source}")]
    ControlPlane {
        /// The certificate.
        certificate_id: String,
        /// Steps completed before the failure.
        done: ApplyReport,
        /// The failed call.
        #[source]
        source: ControlPlaneError,
    },
    /// The certificate is in a status activation must not override.
    #[error(
        "certificate {certificate_id} is {status}: JITR only activates PENDING_ACTIVATION certificates"
    )]
    NotPending {
        /// The certificate.
        certificate_id: String,
        /// Its current status.
        status: CertificateStatus,
    },
}

impl ApplyError {
    /// Whether running [`apply`] again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::ControlPlane { source, .. } if source.is_retryable())
    }
}

/// Applies `decision` to certificate `certificate_id`. Idempotent; resumable after a failure.
pub async fn apply<C: ControlPlane>(
    control_plane: &C,
    certificate_id: &str,
    decision: &Decision,
    config: &JitrConfig,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    let result = apply_steps(control_plane, certificate_id, decision, config, &mut report).await;
    match result {
        Ok(()) => Ok(report),
        Err(StepError::ControlPlane(source)) => Err(ApplyError::ControlPlane {
            certificate_id: certificate_id.to_owned(),
            done: report,
            source,
        }),
        Err(StepError::NotPending(status)) => Err(ApplyError::NotPending {
            certificate_id: certificate_id.to_owned(),
            status,
        }),
    }
}

enum StepError {
    ControlPlane(ControlPlaneError),
    NotPending(CertificateStatus),
}

impl From<ControlPlaneError> for StepError {
    fn from(e: ControlPlaneError) -> Self {
        Self::ControlPlane(e)
    }
}

async fn apply_steps<C: ControlPlane>(
    cp: &C,
    certificate_id: &str,
    decision: &Decision,
    config: &JitrConfig,
    report: &mut ApplyReport,
) -> Result<(), StepError> {
    let certificate = cp.describe_certificate(certificate_id).await?;
    match decision {
        Decision::Activate {
            thing,
            policy,
            groups,
            attributes,
        } => {
            if !matches!(
                certificate.status,
                CertificateStatus::PendingActivation | CertificateStatus::Active
            ) {
                return Err(StepError::NotPending(certificate.status));
            }
            let arn = certificate.arn.as_str();
            let change = cp
                .create_policy_if_missing(&policy.name, &policy.document)
                .await?;
            report.record("create_policy", &policy.name, change);
            let change = cp.attach_policy(&policy.name, arn).await?;
            report.record("attach_policy", &policy.name, change);
            let change = cp.create_thing(thing, attributes).await?;
            report.record("create_thing", thing, change);
            let change = cp.attach_thing_principal(thing, arn).await?;
            report.record("attach_thing_principal", thing, change);
            for group in groups {
                let change = cp.add_thing_to_group(thing, group).await?;
                report.record("add_thing_to_group", group, change);
            }
            set_status(
                cp,
                certificate_id,
                &certificate.status,
                CertificateStatus::Active,
                report,
            )
            .await?;
        }
        Decision::Reject { .. } => {
            let target = match config.reject_status {
                RejectStatus::Inactive => CertificateStatus::Inactive,
                RejectStatus::Revoked => CertificateStatus::Revoked,
            };
            // REVOKED is final: nothing to do, whatever the configured status.
            if certificate.status == CertificateStatus::Revoked {
                report.record("update_certificate", "REVOKED", Change::Unchanged);
            } else {
                set_status(cp, certificate_id, &certificate.status, target, report).await?;
            }
        }
    }
    Ok(())
}

async fn set_status<C: ControlPlane>(
    cp: &C,
    certificate_id: &str,
    current: &CertificateStatus,
    wanted: CertificateStatus,
    report: &mut ApplyReport,
) -> Result<(), ControlPlaneError> {
    let target = wanted.as_str().to_owned();
    if *current == wanted {
        report.record("update_certificate", target, Change::Unchanged);
    } else {
        cp.update_certificate(certificate_id, wanted).await?;
        report.record("update_certificate", target, Change::Made);
    }
    Ok(())
}
