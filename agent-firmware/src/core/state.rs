//! The agent's persistent state: one struct, saved whole after every transition.

use serde::{Deserialize, Serialize};

use super::cert::certificate_facts;
use crate::wire::{CertificateInfo, JobStatus, RotationStep, StatusDetails};

/// Version of [`PersistedState`]'s JSON.
pub const STATE_VERSION: u32 = 1;

/// The persistent phase of the agent (Rotating is a rotation in progress on top of Active).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No certificate yet.
    Unprovisioned,
    /// A certificate that has not yet been verified by a round trip.
    Registering,
    /// A verified certificate.
    Active,
    /// The certificate is refused.
    Revoked,
    /// Getting a certificate to work failed too often.
    Fallback,
    /// A local fault.
    Error,
}

/// A certificate and the slot of its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Secure element slot of the key.
    pub slot: u32,
    /// The certificate.
    pub certificate_pem: String,
    /// SHA-256 of its DER (the AWS IoT certificate id).
    pub fingerprint: String,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

impl Credential {
    /// A credential from a PEM certificate.
    ///
    /// # Errors
    /// What is wrong with the certificate.
    pub fn from_pem(slot: u32, certificate_pem: &str) -> Result<Self, String> {
        let facts = certificate_facts(certificate_pem)?;
        Ok(Self {
            slot,
            certificate_pem: certificate_pem.to_owned(),
            fingerprint: facts.fingerprint,
            not_after: facts.not_after,
        })
    }

    /// As the status message shows it.
    #[must_use]
    pub fn info(&self) -> CertificateInfo {
        CertificateInfo {
            fingerprint: self.fingerprint.clone(),
            not_after: self.not_after,
            slot: self.slot,
        }
    }
}

/// A server trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// SHA-256 of the DER.
    pub fingerprint: String,
    /// The CA certificate.
    pub pem: String,
}

/// The current and next server trust anchors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchors {
    /// In use.
    pub current: Anchor,
    /// Installed for the next server CA change.
    pub next: Option<Anchor>,
}

/// Why a new certificate is being obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// First certificate, over the claim certificate.
    Provision,
    /// Rotation job.
    Rotate,
}

/// A rotation (or first provisioning) in progress or last finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// Provision or rotate.
    pub purpose: Purpose,
    /// The job id (empty when provisioning).
    pub job_id: String,
    /// Where it is.
    pub step: RotationStep,
    /// The slot of the new key.
    pub slot: u32,
    /// The provisioning template.
    pub template: String,
    /// How long the new certificate has to be verified.
    pub deadline_ms: u64,
    /// The CSR, once signed.
    pub csr_pem: Option<String>,
    /// From create-from-csr, for provision.
    pub ownership_token: Option<String>,
    /// The new certificate, once created.
    pub pending: Option<Credential>,
    /// When verification gives up (set when the pending certificate is first used).
    pub verify_by: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Rotation {
    /// Whether the rotation still has work to do.
    #[must_use]
    pub fn in_progress(&self) -> bool {
        !matches!(
            self.step,
            RotationStep::Committed | RotationStep::RolledBack | RotationStep::Unknown
        )
    }
}

/// A job execution update that must reach the cloud; resent on every connection until
/// accepted (or rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReport {
    /// The job.
    pub job_id: String,
    /// Final status.
    pub status: JobStatus,
    /// Details.
    pub details: StatusDetails,
}

/// Everything the agent must remember across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The thing this state belongs to.
    pub thing: String,
    /// Phase.
    pub phase: Phase,
    /// Starts so far.
    pub boot_count: u64,
    /// The certificate the agent connects with. Once set it is only ever replaced by a
    /// verified certificate.
    pub active: Option<Credential>,
    /// The certificate before the last committed rotation, kept until a finalize job.
    pub previous: Option<Credential>,
    /// Current or last rotation.
    pub rotation: Option<Rotation>,
    /// A job update to deliver.
    pub report: Option<JobReport>,
    /// Server trust anchors.
    pub anchors: Anchors,
    /// Successful connections.
    pub connects: u64,
    /// Lost or refused connections.
    pub disconnects: u64,
    /// Why the last connection ended.
    pub last_disconnect: Option<String>,
    /// Consecutive failures to get a certificate working (for Fallback).
    pub failures: u32,
    /// Why the agent is in Error.
    pub fault: Option<String>,
}

impl PersistedState {
    /// The state of a device that has never run.
    #[must_use]
    pub fn fresh(thing: &str, anchor: Anchor) -> Self {
        Self {
            version: STATE_VERSION,
            thing: thing.to_owned(),
            phase: Phase::Unprovisioned,
            boot_count: 0,
            active: None,
            previous: None,
            rotation: None,
            report: None,
            anchors: Anchors {
                current: anchor,
                next: None,
            },
            connects: 0,
            disconnects: 0,
            last_disconnect: None,
            failures: 0,
            fault: None,
        }
    }

    /// Serializes for storage.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers, options and unit enums always serialize.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads stored state.
    ///
    /// # Errors
    /// Malformed JSON or a version this agent does not know.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let state: Self = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if state.version != STATE_VERSION {
            return Err(format!("unsupported state version {}", state.version));
        }
        Ok(state)
    }
}
