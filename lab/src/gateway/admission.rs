//! Just-in-time registration at the gateway: an unknown certificate under a registered CA
//! with auto-registration is registered PENDING_ACTIVATION, the registered event goes out on
//! the broker and to the JITR task, and the caller drops the connection.

use super::{RegisteredEvent, Shared};
use crate::cert_facts::CertFacts;
use crate::registry::CertStatus;

/// JITR: an unknown certificate under a registered CA with auto-registration is registered
/// PENDING_ACTIVATION, the registered event goes out, and the connection is dropped.
pub(super) async fn register_just_in_time(shared: &Shared, facts: &CertFacts) {
    let Some(ca) = shared.registry.issuing_ca(facts) else {
        return;
    };
    if !ca.active || !ca.auto_registration {
        return;
    }
    let pem = crate::cert_facts::der_to_pem(&facts.der);
    let Ok(cert) = shared
        .registry
        .insert_certificate(&pem, CertStatus::PendingActivation)
    else {
        return; // a concurrent connection with the same certificate registered it
    };
    let event = RegisteredEvent {
        certificate_id: cert.id().to_owned(),
        ca_certificate_id: ca.id().to_owned(),
        timestamp_ms: now_ms(),
    };
    shared.publish_json(
        &format!("$aws/events/certificates/registered/{}", ca.id()),
        &event.to_json(),
    );
    let _ = shared.registrations.send(event).await;
}

pub(super) fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}
