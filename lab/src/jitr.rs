//! The lab's JITR step: after `$aws/events/certificates/registered/<caId>`, fleetid-jitr's
//! `handle_registration` (decide, then apply idempotently) runs against the lab registry
//! through [`RegistryControlPlane`], with the lab's manifest: every device is sold on current
//! terms unless it is on the recall list. Rejected certificates become REVOKED.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use fleetid_jitr::{
    CaCertificateRecord, CertificateRecord, CertificateStatus, Change, ControlPlane,
    ControlPlaneError, ControlPlaneErrorKind, ControlPlaneResult, Decision, FirmwareVersion,
    JitrConfig, ManifestEntry, ManifestError, ManifestSource, RejectStatus, SaleStatus,
    handle_registration,
};
use tokio::sync::mpsc;

use crate::gateway::{DEVICE_POLICY, RegisteredEvent};
use crate::registry::{CertStatus, Registry, RegistryError};

/// The outcome of one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitrOutcome {
    /// The certificate.
    pub certificate_id: String,
    /// The thing it was given.
    pub thing_name: Option<String>,
    /// `None` when accepted; `REASON: detail` when rejected.
    pub rejected: Option<String>,
}

/// Decisions taken so far, in order.
#[derive(Clone, Default)]
pub struct JitrLog {
    outcomes: Arc<Mutex<Vec<JitrOutcome>>>,
}

impl JitrLog {
    /// Every outcome so far.
    #[must_use]
    pub fn outcomes(&self) -> Vec<JitrOutcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// (accepted, rejected) so far.
    #[must_use]
    pub fn counts(&self) -> (usize, usize) {
        let outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        let rejected = outcomes.iter().filter(|o| o.rejected.is_some()).count();
        (outcomes.len() - rejected, rejected)
    }

    fn push(&self, outcome: JitrOutcome) {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(outcome);
    }
}

/// fleetid-jitr's control plane over the lab registry.
pub struct RegistryControlPlane(pub Registry);

fn cp_error(operation: &'static str, resource: &str, e: &RegistryError) -> ControlPlaneError {
    let kind = match e {
        RegistryError::NotFound { .. } => ControlPlaneErrorKind::NotFound,
        _ => ControlPlaneErrorKind::Permanent,
    };
    ControlPlaneError::new(operation, resource, kind, e.to_string())
}

fn changed(made: bool) -> Change {
    if made {
        Change::Made
    } else {
        Change::Unchanged
    }
}

impl ControlPlane for RegistryControlPlane {
    async fn describe_certificate(&self, id: &str) -> ControlPlaneResult<CertificateRecord> {
        let c = self
            .0
            .certificate(id)
            .map_err(|e| cp_error("DescribeCertificate", id, &e))?;
        Ok(CertificateRecord {
            certificate_id: c.id().to_owned(),
            arn: c.arn.clone(),
            status: CertificateStatus::parse(c.status.as_str()),
            pem: c.pem.clone(),
            ca_certificate_id: c.ca_id.clone(),
        })
    }

    async fn describe_ca_certificate(&self, id: &str) -> ControlPlaneResult<CaCertificateRecord> {
        let ca = self
            .0
            .ca(id)
            .map_err(|e| cp_error("DescribeCACertificate", id, &e))?;
        Ok(CaCertificateRecord {
            certificate_id: ca.id().to_owned(),
            status: if ca.active { "ACTIVE" } else { "INACTIVE" }.to_owned(),
            pem: ca.pem.clone(),
        })
    }

    async fn create_thing(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> ControlPlaneResult<Change> {
        if self.0.thing(name).is_ok() {
            return Ok(Change::Unchanged);
        }
        self.0
            .create_thing(name, None, attributes.clone())
            .map(|_| Change::Made)
            .map_err(|e| cp_error("CreateThing", name, &e))
    }

    async fn attach_thing_principal(
        &self,
        thing: &str,
        principal: &str,
    ) -> ControlPlaneResult<Change> {
        let before = self
            .0
            .thing(thing)
            .map_err(|e| cp_error("AttachThingPrincipal", thing, &e))?;
        self.0
            .attach_thing_principal(thing, principal)
            .map_err(|e| cp_error("AttachThingPrincipal", thing, &e))?;
        Ok(changed(!before.principals.contains(principal)))
    }

    async fn create_policy_if_missing(
        &self,
        name: &str,
        document: &str,
    ) -> ControlPlaneResult<Change> {
        if self.0.policy(name).is_ok() {
            return Ok(Change::Unchanged);
        }
        self.0
            .create_policy(name, document)
            .map(|_| Change::Made)
            .map_err(|e| cp_error("CreatePolicy", name, &e))
    }

    async fn attach_policy(&self, name: &str, target: &str) -> ControlPlaneResult<Change> {
        let before = self
            .0
            .attached_policies(target)
            .iter()
            .any(|p| p.name == name);
        self.0
            .attach_policy(name, target)
            .map_err(|e| cp_error("AttachPolicy", name, &e))?;
        Ok(changed(!before))
    }

    async fn update_certificate(
        &self,
        id: &str,
        status: CertificateStatus,
    ) -> ControlPlaneResult<()> {
        let status = CertStatus::parse(status.as_str())
            .map_err(|e| cp_error("UpdateCertificate", id, &e))?;
        self.0
            .update_certificate(id, status)
            .map_err(|e| cp_error("UpdateCertificate", id, &e))
    }

    async fn add_thing_to_group(&self, thing: &str, group: &str) -> ControlPlaneResult<Change> {
        let before = self
            .0
            .thing(thing)
            .map_err(|e| cp_error("AddThingToThingGroup", thing, &e))?;
        self.0
            .set_group_membership(group, thing, true)
            .map_err(|e| cp_error("AddThingToThingGroup", group, &e))?;
        Ok(changed(!before.groups.contains(group)))
    }
}

/// The lab's manifest: every device id is sold with current firmware, except the recalled.
#[derive(Debug, Clone, Default)]
pub struct LabManifest {
    recalled: BTreeSet<String>,
}

impl LabManifest {
    /// A manifest with these recalled device ids.
    #[must_use]
    pub fn new(recalled: BTreeSet<String>) -> Self {
        Self { recalled }
    }

    /// The entry of a device id (every id has one).
    ///
    /// # Errors
    /// Only if the lab's own firmware version does not parse.
    pub fn entry(&self, device_id: &str) -> Result<ManifestEntry, ManifestError> {
        let firmware: FirmwareVersion = crate::fleet::scenario::CURRENT_FIRMWARE.parse().map_err(
            |e: fleetid_jitr::manifest::FirmwareVersionError| ManifestError::InvalidEntry {
                device_id: device_id.to_owned(),
                message: e.to_string(),
            },
        )?;
        let recalled = self.recalled.contains(device_id);
        Ok(ManifestEntry {
            device_id: device_id.to_owned(),
            model: "lab-sensor".into(),
            status: SaleStatus::Sold,
            recalled,
            firmware,
            batch: Some(if recalled { "B7" } else { "B1" }.into()),
            groups: Vec::new(),
        })
    }
}

impl ManifestSource for LabManifest {
    async fn lookup(&self, device_id: &str) -> Result<Option<ManifestEntry>, ManifestError> {
        self.entry(device_id).map(Some)
    }
}

/// The JITR configuration the lab uses: the thing is the common name, the lab's device
/// policy, rejected certificates REVOKED.
#[must_use]
pub fn lab_config(device_policy_document: &str) -> JitrConfig {
    JitrConfig {
        policy_name: DEVICE_POLICY.into(),
        policy_document: device_policy_document.into(),
        reject_status: RejectStatus::Revoked,
        ..JitrConfig::default()
    }
}

/// Runs registrations until the channel closes.
pub async fn run(
    registry: Registry,
    recalled: BTreeSet<String>,
    config: JitrConfig,
    log: JitrLog,
    mut events: mpsc::Receiver<RegisteredEvent>,
) {
    let control_plane = RegistryControlPlane(registry);
    let manifest = LabManifest::new(recalled);
    while let Some(event) = events.recv().await {
        let now_ms = u64::try_from(event.timestamp_ms).unwrap_or(0);
        let handled =
            handle_registration(&event.to_json(), &control_plane, &manifest, &config, now_ms).await;
        let outcome = match (&handled.decision, &handled.retryable_error) {
            (_, Some(error)) => JitrOutcome {
                certificate_id: event.certificate_id.clone(),
                thing_name: None,
                rejected: Some(format!("registration failed: {error}")),
            },
            (Some(Decision::Activate { thing, .. }), None) => JitrOutcome {
                certificate_id: event.certificate_id.clone(),
                thing_name: Some(thing.clone()),
                rejected: None,
            },
            (Some(Decision::Reject { reason, detail }), None) => JitrOutcome {
                certificate_id: event.certificate_id.clone(),
                thing_name: None,
                rejected: Some(format!("{reason}: {detail}")),
            },
            (None, None) => JitrOutcome {
                certificate_id: event.certificate_id.clone(),
                thing_name: None,
                rejected: Some(handled.log_line.to_string()),
            },
        };
        log.push(outcome);
    }
}
