//! The lab's JITR step: what happens after `$aws/events/certificates/registered/<caId>`.
//! The decision is the lab's own stand-in until fleetid-jitr's `decide`/`apply` are wired
//! here: a certificate whose common name is on the recall list is REVOKED with a reason;
//! any other becomes ACTIVE with its thing (named after the common name), the device policy
//! and the principal attachment, as the JITR Lambda does.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::gateway::{DEVICE_POLICY, RegisteredEvent};
use crate::registry::{CertStatus, Registry, RegistryError};

/// The outcome of one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitrOutcome {
    /// The certificate.
    pub certificate_id: String,
    /// The thing it was given (the subject common name).
    pub thing_name: Option<String>,
    /// `None` when accepted; the reason when rejected.
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

/// Runs registrations until the channel closes.
pub async fn run(
    registry: Registry,
    recalled: BTreeSet<String>,
    log: JitrLog,
    mut events: mpsc::Receiver<RegisteredEvent>,
) {
    while let Some(event) = events.recv().await {
        let outcome =
            decide_and_apply(&registry, &recalled, &event).unwrap_or_else(|e| JitrOutcome {
                certificate_id: event.certificate_id.clone(),
                thing_name: None,
                rejected: Some(format!("registration failed: {e}")),
            });
        log.push(outcome);
    }
}

fn decide_and_apply(
    registry: &Registry,
    recalled: &BTreeSet<String>,
    event: &RegisteredEvent,
) -> Result<JitrOutcome, RegistryError> {
    let cert = registry.certificate(&event.certificate_id)?;
    let Some(name) = cert.facts.common_name.clone() else {
        registry.update_certificate(cert.id(), CertStatus::Revoked)?;
        return Ok(JitrOutcome {
            certificate_id: cert.id().to_owned(),
            thing_name: None,
            rejected: Some("the certificate subject has no common name".into()),
        });
    };
    if recalled.contains(&name) {
        registry.update_certificate(cert.id(), CertStatus::Revoked)?;
        return Ok(JitrOutcome {
            certificate_id: cert.id().to_owned(),
            thing_name: Some(name.clone()),
            rejected: Some(format!("device {name} is on the recall list")),
        });
    }
    if registry.thing(&name).is_err() {
        registry.create_thing(&name, None, Default::default())?;
    }
    registry.attach_policy(DEVICE_POLICY, &cert.arn)?;
    registry.attach_thing_principal(&name, &cert.arn)?;
    registry.update_certificate(cert.id(), CertStatus::Active)?;
    Ok(JitrOutcome {
        certificate_id: cert.id().to_owned(),
        thing_name: Some(name),
        rejected: None,
    })
}
