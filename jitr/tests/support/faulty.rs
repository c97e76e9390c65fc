//! A [`ControlPlane`] wrapper that fails its Nth write call with a retryable error, to test
//! that `apply` resumes after a failure half-way.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use fleetid_jitr::{
    CaCertificateRecord, CertificateRecord, CertificateStatus, Change, ControlPlane,
    ControlPlaneError, ControlPlaneErrorKind, ControlPlaneResult,
};

/// Passes calls through, except that write call number `fail_at` (0-based) fails.
pub struct FaultyControlPlane<'a, C> {
    inner: &'a C,
    fail_at: usize,
    writes: AtomicUsize,
}

impl<'a, C> FaultyControlPlane<'a, C> {
    pub fn new(inner: &'a C, fail_at: usize) -> Self {
        Self {
            inner,
            fail_at,
            writes: AtomicUsize::new(0),
        }
    }

    fn check(&self, operation: &'static str, resource: &str) -> ControlPlaneResult<()> {
        if self.writes.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            return Err(ControlPlaneError::new(
                operation,
                resource,
                ControlPlaneErrorKind::Retryable,
                "injected fault: connection reset",
            ));
        }
        Ok(())
    }
}

impl<C: ControlPlane + Sync> ControlPlane for FaultyControlPlane<'_, C> {
    async fn describe_certificate(&self, id: &str) -> ControlPlaneResult<CertificateRecord> {
        self.inner.describe_certificate(id).await
    }

    async fn describe_ca_certificate(&self, id: &str) -> ControlPlaneResult<CaCertificateRecord> {
        self.inner.describe_ca_certificate(id).await
    }

    async fn create_thing(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> ControlPlaneResult<Change> {
        self.check("CreateThing", name)?;
        self.inner.create_thing(name, attributes).await
    }

    async fn attach_thing_principal(
        &self,
        thing: &str,
        principal: &str,
    ) -> ControlPlaneResult<Change> {
        self.check("AttachThingPrincipal", thing)?;
        self.inner.attach_thing_principal(thing, principal).await
    }

    async fn create_policy_if_missing(
        &self,
        name: &str,
        document: &str,
    ) -> ControlPlaneResult<Change> {
        self.check("CreatePolicy", name)?;
        self.inner.create_policy_if_missing(name, document).await
    }

    async fn attach_policy(&self, name: &str, target: &str) -> ControlPlaneResult<Change> {
        self.check("AttachPolicy", name)?;
        self.inner.attach_policy(name, target).await
    }

    async fn update_certificate(
        &self,
        id: &str,
        status: CertificateStatus,
    ) -> ControlPlaneResult<()> {
        self.check("UpdateCertificate", id)?;
        self.inner.update_certificate(id, status).await
    }

    async fn add_thing_to_group(&self, thing: &str, group: &str) -> ControlPlaneResult<Change> {
        self.check("AddThingToThingGroup", group)?;
        self.inner.add_thing_to_group(thing, group).await
    }
}
