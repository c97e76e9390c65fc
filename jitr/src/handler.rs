//! The JITR Lambda handler, generic over the control plane and the manifest so tests and the
//! lab run it without AWS or `lambda_runtime`.
//!
//! Flow: read the event -> describe the certificate and its CA -> read the device id and look
//! it up in the manifest -> [`decide`] -> [`apply`] -> one decision log line. Only retryable
//! failures (throttling, timeouts, an unreachable manifest) are returned as errors, so the
//! Lambda service retries those and nothing else.

use serde_json::Value;

use crate::apply::{ApplyError, ApplyReport, apply};
use crate::config::JitrConfig;
use crate::control_plane::{ControlPlane, ControlPlaneError, ControlPlaneErrorKind};
use crate::decision::{
    CaRecord, Decision, ManifestLookup, Registration, decide_registration, device_id_of,
};
use crate::event::RegisteredEvent;
use crate::log::{DecisionLogInput, decision_line, error_line};
use crate::manifest::{ManifestError, ManifestSource};
use crate::reason::RejectReason;

/// What handling one event produced.
#[derive(Debug)]
pub struct Handled {
    /// The decision taken; `None` when the facts could not be gathered.
    pub decision: Option<Decision>,
    /// What applying it did, when it was applied.
    pub report: Option<ApplyReport>,
    /// The decision (or error) log line, also an EMF record; the binary prints it.
    pub log_line: Value,
    /// Set when the failure is retryable: the Lambda must return an error.
    pub retryable_error: Option<String>,
}

impl Handled {
    /// `Err` with the message when the event should be retried, else the log line.
    pub fn into_result(self) -> Result<Value, String> {
        match self.retryable_error {
            Some(error) => Err(error),
            None => Ok(self.log_line),
        }
    }
}

/// Why no decision could be taken.
struct Problem {
    message: String,
    retryable: bool,
}

impl From<ControlPlaneError> for Problem {
    fn from(e: ControlPlaneError) -> Self {
        Self {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// Handles one `$aws/events/certificates/registered/<caId>` event.
pub async fn handle_registration<C: ControlPlane, M: ManifestSource>(
    raw_event: &Value,
    control_plane: &C,
    manifest: &M,
    config: &JitrConfig,
    now_ms: u64,
) -> Handled {
    let event = match serde_json::from_value::<RegisteredEvent>(raw_event.clone()) {
        Ok(event) => event,
        Err(e) => {
            let decision = Decision::reject(RejectReason::MalformedEvent, e.to_string());
            let log_line = decision_line(&DecisionLogInput {
                now_ms,
                certificate_id: raw_event.get("certificateId").and_then(Value::as_str),
                ca_certificate_id: raw_event.get("caCertificateId").and_then(Value::as_str),
                device_id: None,
                decision: &decision,
                report: None,
                apply_error: None,
            });
            return Handled {
                decision: Some(decision),
                report: None,
                log_line,
                retryable_error: None,
            };
        }
    };
    let (decision, device_id) = match gather(&event, control_plane, manifest, config).await {
        Ok(decided) => decided,
        Err(problem) => {
            let log_line = error_line(
                now_ms,
                &event.certificate_id,
                &event.ca_certificate_id,
                &problem.message,
                problem.retryable,
            );
            return Handled {
                decision: None,
                report: None,
                log_line,
                retryable_error: problem.retryable.then_some(problem.message),
            };
        }
    };
    let applied = apply(control_plane, &event.certificate_id, &decision, config).await;
    let (report, apply_error) = match applied {
        Ok(report) => (Some(report), None),
        Err(error) => (None, Some(error)),
    };
    let log_line = decision_line(&DecisionLogInput {
        now_ms,
        certificate_id: Some(&event.certificate_id),
        ca_certificate_id: Some(&event.ca_certificate_id),
        device_id: device_id.as_deref(),
        decision: &decision,
        report: report.as_ref().or(match &apply_error {
            Some(ApplyError::ControlPlane { done, .. }) => Some(done),
            _ => None,
        }),
        apply_error: apply_error.as_ref(),
    });
    let retryable_error = apply_error
        .as_ref()
        .filter(|e| e.is_retryable())
        .map(ToString::to_string);
    Handled {
        decision: Some(decision),
        report,
        log_line,
        retryable_error,
    }
}

async fn gather<C: ControlPlane, M: ManifestSource>(
    event: &RegisteredEvent,
    cp: &C,
    manifest: &M,
    config: &JitrConfig,
) -> Result<(Decision, Option<String>), Problem> {
    let certificate = cp.describe_certificate(&event.certificate_id).await?;
    let ca = match cp.describe_ca_certificate(&event.ca_certificate_id).await {
        Ok(ca) => Some(ca),
        Err(e) if e.kind == ControlPlaneErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let device_id = device_id_of(&certificate.pem, config).ok();
    let mut invalid_entry = None;
    let entry = match &device_id {
        None => None,
        Some(id) => match manifest.lookup(id).await {
            Ok(entry) => entry,
            Err(e @ (ManifestError::Unavailable { .. } | ManifestError::Load { .. })) => {
                return Err(Problem {
                    message: e.to_string(),
                    retryable: true,
                });
            }
            Err(e @ ManifestError::InvalidEntry { .. }) => {
                invalid_entry = Some(e.to_string());
                None
            }
        },
    };
    // Every fact gathered goes to the decision, which judges each at its place in the order.
    let registration = Registration {
        event,
        cert_pem: &certificate.pem,
        ca: match &ca {
            None => CaRecord::Missing,
            Some(ca) if ca.status == "ACTIVE" => CaRecord::Active(&ca.pem),
            Some(ca) => CaRecord::NotActive(&ca.status),
        },
        // moto leaves caCertificateId empty; AWS fills it. When present it must agree.
        registered_ca: certificate.ca_certificate_id.as_deref(),
        manifest: match &invalid_entry {
            Some(detail) => ManifestLookup::Invalid(detail),
            None => ManifestLookup::Found(entry.as_ref()),
        },
    };
    let decision = decide_registration(&registration, config);
    Ok((decision, device_id))
}
