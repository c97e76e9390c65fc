//! An in-memory [`ControlPlane`] for handler tests that need no server, with switchable
//! failures of the describe calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use fleetid_jitr::{
    CaCertificateRecord, CertificateRecord, CertificateStatus, Change, ControlPlane,
    ControlPlaneError, ControlPlaneErrorKind, ControlPlaneResult,
};

#[derive(Default)]
pub struct State {
    pub certificates: HashMap<String, CertificateRecord>,
    pub cas: HashMap<String, CaCertificateRecord>,
    pub things: HashMap<String, BTreeMap<String, String>>,
    pub principals: HashMap<String, Vec<String>>,
    pub policies: HashMap<String, String>,
    pub attached: HashMap<String, Vec<String>>,
    pub groups: HashMap<String, Vec<String>>,
    pub writes: usize,
    /// When set, DescribeCertificate fails with this kind.
    pub describe_fails: Option<ControlPlaneErrorKind>,
}

#[derive(Default)]
pub struct MemoryControlPlane {
    pub state: Mutex<State>,
}

impl MemoryControlPlane {
    pub fn add_ca(&self, id: &str, pem: &str, status: &str) {
        self.state.lock().unwrap().cas.insert(
            id.to_owned(),
            CaCertificateRecord {
                certificate_id: id.to_owned(),
                status: status.to_owned(),
                pem: pem.to_owned(),
            },
        );
    }

    pub fn add_certificate(&self, id: &str, pem: &str, ca: Option<&str>) {
        self.state.lock().unwrap().certificates.insert(
            id.to_owned(),
            CertificateRecord {
                certificate_id: id.to_owned(),
                arn: format!("arn:aws:iot:us-east-1:123456789012:cert/{id}"),
                status: CertificateStatus::PendingActivation,
                pem: pem.to_owned(),
                ca_certificate_id: ca.map(str::to_owned),
            },
        );
    }

    pub fn add_group(&self, name: &str) {
        self.state
            .lock()
            .unwrap()
            .groups
            .insert(name.to_owned(), Vec::new());
    }

    pub fn status(&self, id: &str) -> CertificateStatus {
        self.state.lock().unwrap().certificates[id].status.clone()
    }

    pub fn writes(&self) -> usize {
        self.state.lock().unwrap().writes
    }
}

fn not_found(operation: &'static str, resource: &str) -> ControlPlaneError {
    ControlPlaneError::new(
        operation,
        resource,
        ControlPlaneErrorKind::NotFound,
        "no such resource",
    )
}

impl ControlPlane for MemoryControlPlane {
    async fn describe_certificate(&self, id: &str) -> ControlPlaneResult<CertificateRecord> {
        let state = self.state.lock().unwrap();
        if let Some(kind) = state.describe_fails {
            return Err(ControlPlaneError::new(
                "DescribeCertificate",
                id,
                kind,
                "injected",
            ));
        }
        state
            .certificates
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("DescribeCertificate", id))
    }

    async fn describe_ca_certificate(&self, id: &str) -> ControlPlaneResult<CaCertificateRecord> {
        let state = self.state.lock().unwrap();
        state
            .cas
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("DescribeCACertificate", id))
    }

    async fn create_thing(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> ControlPlaneResult<Change> {
        let mut state = self.state.lock().unwrap();
        if state.things.contains_key(name) {
            return Ok(Change::Unchanged);
        }
        state.writes += 1;
        state.things.insert(name.to_owned(), attributes.clone());
        Ok(Change::Made)
    }

    async fn attach_thing_principal(
        &self,
        thing: &str,
        principal: &str,
    ) -> ControlPlaneResult<Change> {
        let mut state = self.state.lock().unwrap();
        if !state.things.contains_key(thing) {
            return Err(not_found("AttachThingPrincipal", thing));
        }
        let principals = state.principals.entry(thing.to_owned()).or_default();
        if principals.iter().any(|p| p == principal) {
            return Ok(Change::Unchanged);
        }
        principals.push(principal.to_owned());
        state.writes += 1;
        Ok(Change::Made)
    }

    async fn create_policy_if_missing(
        &self,
        name: &str,
        document: &str,
    ) -> ControlPlaneResult<Change> {
        let mut state = self.state.lock().unwrap();
        if state.policies.contains_key(name) {
            return Ok(Change::Unchanged);
        }
        state.writes += 1;
        state.policies.insert(name.to_owned(), document.to_owned());
        Ok(Change::Made)
    }

    async fn attach_policy(&self, name: &str, target: &str) -> ControlPlaneResult<Change> {
        let mut state = self.state.lock().unwrap();
        let attached = state.attached.entry(target.to_owned()).or_default();
        if attached.iter().any(|p| p == name) {
            return Ok(Change::Unchanged);
        }
        attached.push(name.to_owned());
        state.writes += 1;
        Ok(Change::Made)
    }

    async fn update_certificate(
        &self,
        id: &str,
        status: CertificateStatus,
    ) -> ControlPlaneResult<()> {
        let mut state = self.state.lock().unwrap();
        let certificate = state
            .certificates
            .get_mut(id)
            .ok_or_else(|| not_found("UpdateCertificate", id))?;
        certificate.status = status;
        state.writes += 1;
        Ok(())
    }

    async fn add_thing_to_group(&self, thing: &str, group: &str) -> ControlPlaneResult<Change> {
        let mut state = self.state.lock().unwrap();
        let members = state
            .groups
            .get_mut(group)
            .ok_or_else(|| not_found("AddThingToThingGroup", group))?;
        if members.iter().any(|t| t == thing) {
            return Ok(Change::Unchanged);
        }
        members.push(thing.to_owned());
        state.writes += 1;
        Ok(Change::Made)
    }
}
