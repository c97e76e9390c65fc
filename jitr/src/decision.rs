//! The pure decision: may this certificate's device join the fleet, and as what thing?
//!
//! [`decide`] is synchronous and has no side effects or clock: the time comes from the event.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::activation;
use crate::certificate::{self, Rejection};
use crate::config::JitrConfig;
use crate::event::RegisteredEvent;
use crate::issuer;
use crate::manifest::ManifestEntry;
use crate::reason::RejectReason;

/// The policy an activated certificate gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySpec {
    /// Policy name (created when missing).
    pub name: String,
    /// Policy document, used only when the policy is created.
    pub document: String,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Activate the certificate, attached to this thing with this policy.
    Activate {
        /// Thing name (prefix + device id).
        thing: String,
        /// Policy attached to the certificate.
        #[serde(skip_serializing)]
        policy: PolicySpec,
        /// Static thing groups the thing joins.
        groups: Vec<String>,
        /// Thing attributes (model, firmware, batch).
        attributes: BTreeMap<String, String>,
    },
    /// Do not activate; the certificate becomes INACTIVE or REVOKED as configured.
    Reject {
        /// Stable reason code.
        reason: RejectReason,
        /// Human-readable detail.
        detail: String,
    },
}

impl Decision {
    /// The reason, when rejected.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            Self::Activate { .. } => None,
            Self::Reject { reason, .. } => Some(*reason),
        }
    }

    pub(crate) fn reject(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self::Reject {
            reason,
            detail: detail.into(),
        }
    }
}

impl From<Rejection> for Decision {
    fn from(rejection: Rejection) -> Self {
        Self::Reject {
            reason: rejection.reason,
            detail: rejection.detail,
        }
    }
}

/// The time of a registration event: `timestamp`, else `certificateRegistrationTimestamp`.
pub fn event_time(event: &RegisteredEvent) -> Option<OffsetDateTime> {
    let millis = event.timestamp.map(i128::from).or_else(|| {
        event
            .certificate_registration_timestamp
            .as_deref()
            .and_then(|s| s.trim().parse::<i128>().ok())
    })?;
    OffsetDateTime::from_unix_timestamp_nanos(millis.checked_mul(1_000_000)?).ok()
}

/// The device id a certificate carries (where `config` says to look), so the caller can look
/// up its manifest entry before calling [`decide`].
pub fn device_id_of(cert_pem: &str, config: &JitrConfig) -> Result<String, Rejection> {
    let der = certificate::device_der(cert_pem)?;
    let cert = certificate::parse_device(&der)?;
    certificate::device_id(&cert, config.device_id_source, &config.thing_name_prefix)
}

/// Decides whether the certificate registered by `event` may be activated.
///
/// `ca_pem` is the PEM of the CA certificate named by the event (`None` when that CA is not
/// registered); `manifest` is the entry for the certificate's device id (see
/// [`device_id_of`]), `None` when the device is unknown. Never panics on bad input: every
/// problem becomes a [`Decision::Reject`] with a stable reason.
pub fn decide(
    event: &RegisteredEvent,
    cert_pem: &str,
    ca_pem: Option<&str>,
    manifest: Option<&ManifestEntry>,
    config: &JitrConfig,
) -> Decision {
    let ca = ca_pem.map_or(CaRecord::Missing, CaRecord::Active);
    decide_registration(
        &Registration {
            event,
            cert_pem,
            ca,
            registered_ca: None,
            manifest: ManifestLookup::Found(manifest),
        },
        config,
    )
}

/// What the registry said about the CA the event names.
#[derive(Clone, Copy)]
pub(crate) enum CaRecord<'a> {
    /// Not registered.
    Missing,
    /// Registered with this status, which is not `ACTIVE`.
    NotActive(&'a str),
    /// Registered and active, with this PEM.
    Active(&'a str),
}

/// What the manifest said about the certificate's device id.
#[derive(Clone, Copy)]
pub(crate) enum ManifestLookup<'a> {
    /// The entry, `None` when the device is unknown.
    Found(Option<&'a ManifestEntry>),
    /// An entry exists but does not read; the detail says why.
    Invalid(&'a str),
}

/// Everything the handler gathered about one registration.
pub(crate) struct Registration<'a> {
    pub(crate) event: &'a RegisteredEvent,
    pub(crate) cert_pem: &'a str,
    pub(crate) ca: CaRecord<'a>,
    /// The CA the registry holds the certificate under, when it says.
    pub(crate) registered_ca: Option<&'a str>,
    pub(crate) manifest: ManifestLookup<'a>,
}

/// [`decide`] with all the registry's facts, each judged at its place in the rule order.
pub(crate) fn decide_registration(
    registration: &Registration<'_>,
    config: &JitrConfig,
) -> Decision {
    let event = registration.event;
    let Some(at) = event_time(event) else {
        return Decision::reject(
            RejectReason::MalformedEvent,
            "event has no usable timestamp",
        );
    };
    if !config.allowed_ca_ids.is_empty()
        && !config.allowed_ca_ids.contains(&event.ca_certificate_id)
    {
        return Decision::reject(
            RejectReason::UnknownCa,
            format!("CA {} is not in allowed_ca_ids", event.ca_certificate_id),
        );
    }
    let ca_pem = match registration.ca {
        CaRecord::Missing => {
            return Decision::reject(
                RejectReason::UnknownCa,
                format!("CA {} is not registered", event.ca_certificate_id),
            );
        }
        CaRecord::NotActive(status) => {
            return Decision::reject(
                RejectReason::UnknownCa,
                format!("CA {} is {status}", event.ca_certificate_id),
            );
        }
        CaRecord::Active(pem) => pem,
    };
    evaluate(
        registration.cert_pem,
        IssuerCheck::By {
            ca_pem,
            event_ca: &event.ca_certificate_id,
            registered_ca: registration.registered_ca.filter(|c| !c.is_empty()),
        },
        None,
        registration.manifest,
        config,
        at,
    )
}

/// Whether [`evaluate`] checks the issuer.
#[derive(Clone, Copy)]
pub(crate) enum IssuerCheck<'a> {
    /// The certificate must be issued by this CA, and be registered under the CA the event
    /// names when the registry says under which.
    By {
        ca_pem: &'a str,
        event_ca: &'a str,
        registered_ca: Option<&'a str>,
    },
    /// Issued by AWS IoT itself (fleet provisioning): not checked here.
    Skip,
}

/// The checks shared by JITR and the fleet provisioning hook, in the order of docs/jitr.md.
/// `device_id`, when given, was found elsewhere (a provisioning parameter) and checked there;
/// it is judged at the device id's place in the order. Else the id is read from the
/// certificate.
pub(crate) fn evaluate(
    cert_pem: &str,
    issuer: IssuerCheck<'_>,
    device_id: Option<Result<String, Rejection>>,
    manifest: ManifestLookup<'_>,
    config: &JitrConfig,
    at: OffsetDateTime,
) -> Decision {
    match evaluate_inner(cert_pem, issuer, device_id, manifest, config, at) {
        Ok(decision) => decision,
        Err(rejection) => rejection.into(),
    }
}

fn ca_rejection(e: &str) -> Rejection {
    Rejection::new(RejectReason::UnknownCa, format!("CA certificate: {e}"))
}

fn evaluate_inner(
    cert_pem: &str,
    issuer: IssuerCheck<'_>,
    device_id: Option<Result<String, Rejection>>,
    manifest: ManifestLookup<'_>,
    config: &JitrConfig,
    at: OffsetDateTime,
) -> Result<Decision, Rejection> {
    // The CA is judged before the certificate it issued.
    let ca_der = match issuer {
        IssuerCheck::By { ca_pem, .. } => {
            Some(certificate::pem_to_der(ca_pem).map_err(|e| ca_rejection(&e))?)
        }
        IssuerCheck::Skip => None,
    };
    let ca = match &ca_der {
        Some(ca_der) => {
            let ca = certificate::parse_der(ca_der).map_err(|e| ca_rejection(&e))?;
            issuer::check_ca_key(&ca)?;
            Some(ca)
        }
        None => None,
    };
    let der = certificate::device_der(cert_pem)?;
    let cert = certificate::parse_device(&der)?;
    if let IssuerCheck::By {
        event_ca,
        registered_ca: Some(registered_ca),
        ..
    } = issuer
        && registered_ca != event_ca
    {
        return Err(Rejection::new(
            RejectReason::IssuerMismatch,
            format!(
                "event names CA {event_ca} but the certificate is registered under CA {registered_ca}"
            ),
        ));
    }
    if let Some(ca) = &ca {
        issuer::check_issued_by(&cert, ca)?;
    }
    certificate::check_key(&cert)?;
    certificate::check_validity(&cert, at, config.clock_skew_seconds)?;
    let device_id = match device_id {
        Some(id) => id?,
        None => certificate::device_id(&cert, config.device_id_source, &config.thing_name_prefix)?,
    };
    let entry = match manifest {
        ManifestLookup::Found(entry) => entry,
        ManifestLookup::Invalid(detail) => {
            return Err(Rejection::new(RejectReason::InvalidManifestEntry, detail));
        }
    };
    activation::check_manifest(&device_id, entry, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: Option<u64>, registration: Option<&str>) -> RegisteredEvent {
        RegisteredEvent {
            certificate_id: "c".into(),
            ca_certificate_id: "ca".into(),
            certificate_status: "PENDING_ACTIVATION".into(),
            aws_account_id: "1".into(),
            timestamp,
            certificate_registration_timestamp: registration.map(str::to_owned),
        }
    }

    #[test]
    fn event_time_prefers_timestamp_then_registration_time() {
        let t = event_time(&event(Some(1_623_724_243_659), Some("1"))).unwrap();
        assert_eq!(t.unix_timestamp(), 1_623_724_243);
        let t = event_time(&event(None, Some("1623723165331"))).unwrap();
        assert_eq!(t.unix_timestamp(), 1_623_723_165);
        assert!(event_time(&event(None, Some("soon"))).is_none());
        assert!(event_time(&event(None, None)).is_none());
    }

    #[test]
    fn no_event_time_and_unknown_ca_are_rejected_before_parsing() {
        let config = JitrConfig::default();
        let d = decide(&event(None, None), "junk", Some("junk"), None, &config);
        assert_eq!(d.reject_reason(), Some(RejectReason::MalformedEvent));
        let d = decide(&event(Some(1), None), "junk", None, None, &config);
        assert_eq!(d.reject_reason(), Some(RejectReason::UnknownCa));
        let allow = JitrConfig {
            allowed_ca_ids: vec!["other".into()],
            ..JitrConfig::default()
        };
        let d = decide(&event(Some(1), None), "junk", Some("junk"), None, &allow);
        assert_eq!(d.reject_reason(), Some(RejectReason::UnknownCa));
        // The CA is judged before the certificate it issued.
        let d = decide(&event(Some(1), None), "junk", Some("junk"), None, &config);
        assert_eq!(d.reject_reason(), Some(RejectReason::UnknownCa));
    }
}
