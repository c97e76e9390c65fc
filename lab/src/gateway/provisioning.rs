//! Fleet-provisioning MQTT API: `$aws/certificates/create-from-csr/json` (a new certificate
//! signed by the lab's issuing CA — or by the CA of the lab's certificate provider when one is
//! set, as an AWS IoT certificate provider signs every such request of the account —
//! registered INACTIVE until a template provisions it) and
//! `$aws/provisioning-templates/<name>/provision/json` (attach it to the thing named in the
//! parameters, attach the template's policy, activate it) after fleetid-jitr's
//! pre-provisioning hook allowed it (key quality, validity, device id, manifest). As in AWS IoT,
//! a template must exist: the lab has the rotation template and the claim template.

use serde_json::{Value, json};

use fleetid_jitr::hook::hook_device_id;
use fleetid_jitr::{Decision, PreProvisioningRequest, pre_provisioning_hook};

use super::Shared;
use crate::metrics::{self, MetricId};
use crate::registry::{CertStatus, now};

/// The provisioning template rotated certificates register with (fleetid's default).
pub const ROTATION_TEMPLATE: &str = "fleetid-rotate";
/// The templates the lab has; `provision` with another name is refused.
pub const TEMPLATES: [&str; 2] = [ROTATION_TEMPLATE, crate::fleet::claim::CLAIM_TEMPLATE];

/// Validity of certificates made from a device CSR.
const VALIDITY_DAYS: i64 = 365;
/// The prefix of an ownership token; the rest is the certificate id.
const TOKEN_PREFIX: &str = "fleetid-lab-ownership-";

fn rejected(topic: &str, status: u16, code: &str, message: &str) -> Vec<(String, Value)> {
    vec![(
        format!("{topic}/rejected"),
        json!({ "statusCode": status, "errorCode": code, "errorMessage": message }),
    )]
}

/// Whether an answer is the `/accepted` one.
fn accepted(answer: &[(String, Value)]) -> bool {
    answer
        .first()
        .is_some_and(|(topic, _)| topic.ends_with("/accepted"))
}

/// `create-from-csr`, counted in `CreateCertificateFromCsrFailed` (0 or 1).
pub(super) fn create_from_csr(
    shared: &Shared,
    topic: &str,
    payload: &[u8],
) -> Vec<(String, Value)> {
    let answer = create_from_csr_answer(shared, topic, payload);
    let failed = if accepted(&answer) { 0.0 } else { 1.0 };
    shared.metrics.record(
        &MetricId::new(metrics::CREATE_CERTIFICATE_FROM_CSR_FAILED, &[]),
        failed,
    );
    answer
}

fn create_from_csr_answer(shared: &Shared, topic: &str, payload: &[u8]) -> Vec<(String, Value)> {
    if !topic.ends_with("/json") {
        return rejected(
            topic,
            400,
            "InvalidPayload",
            "the lab speaks the json variant only",
        );
    }
    let request: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let Some(csr) = request
        .get("certificateSigningRequest")
        .and_then(Value::as_str)
    else {
        return rejected(
            topic,
            400,
            "InvalidPayload",
            "certificateSigningRequest is required",
        );
    };
    let pem = match shared
        .certificate_provider
        .signer()
        .sign_csr(csr, VALIDITY_DAYS)
    {
        Ok(pem) => pem,
        Err(e) => return rejected(topic, 400, "InvalidCSR", &e.to_string()),
    };
    match shared
        .registry
        .insert_certificate(&pem, CertStatus::Inactive)
    {
        Ok(cert) => vec![(
            format!("{topic}/accepted"),
            json!({
                "certificateId": cert.id(),
                "certificatePem": cert.pem,
                "certificateOwnershipToken": format!("{TOKEN_PREFIX}{}", cert.id()),
            }),
        )],
        Err(e) => rejected(topic, 400, "InvalidCSR", &e.to_string()),
    }
}

/// `provision` with a template: the `ThingName` parameter names the thing. The connection's
/// certificate is the claim: each attempt counts in `RegisterThingFailed` (0 or 1, dimension
/// `TemplateName`), each thing registered in `ApproximateNumberOfThingsRegistered`
/// (dimension `ClaimCertificateId`).
pub(super) fn provision(
    shared: &Shared,
    client_id: &str,
    claim_certificate_id: &str,
    topic: &str,
    payload: &[u8],
) -> Vec<(String, Value)> {
    let answer = provision_answer(shared, client_id, claim_certificate_id, topic, payload);
    let template = template_name(topic);
    let ok = accepted(&answer);
    shared.metrics.record(
        &MetricId::new(
            metrics::REGISTER_THING_FAILED,
            &[("TemplateName", template)],
        ),
        if ok { 0.0 } else { 1.0 },
    );
    if ok {
        shared.metrics.record(
            &MetricId::new(
                metrics::THINGS_REGISTERED,
                &[("ClaimCertificateId", claim_certificate_id)],
            ),
            1.0,
        );
    }
    answer
}

/// `$aws/provisioning-templates/<name>/provision/json` → `<name>`.
fn template_name(topic: &str) -> &str {
    topic
        .strip_prefix("$aws/provisioning-templates/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
}

fn provision_answer(
    shared: &Shared,
    client_id: &str,
    claim_certificate_id: &str,
    topic: &str,
    payload: &[u8],
) -> Vec<(String, Value)> {
    let template = template_name(topic);
    if !TEMPLATES.contains(&template) {
        return rejected(
            topic,
            404,
            "ResourceNotFound",
            &format!("no provisioning template {template}"),
        );
    }
    let request: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let Some(cert_id) = request
        .get("certificateOwnershipToken")
        .and_then(Value::as_str)
        .and_then(|t| t.strip_prefix(TOKEN_PREFIX))
    else {
        return rejected(
            topic,
            400,
            "InvalidCertificateOwnershipToken",
            "unknown ownership token",
        );
    };
    let Some(thing) = request
        .pointer("/parameters/ThingName")
        .and_then(Value::as_str)
    else {
        return rejected(
            topic,
            400,
            "InvalidParameters",
            "parameters.ThingName is required",
        );
    };
    let registry = &shared.registry;
    let Ok(cert) = registry.certificate(cert_id) else {
        return rejected(
            topic,
            400,
            "InvalidCertificateOwnershipToken",
            "unknown ownership token",
        );
    };
    let who = HookCaller {
        client_id,
        claim_certificate_id,
    };
    if let Some(refusal) = hook_refusal(shared, &who, topic, &request, &cert.pem) {
        return rejected(topic, 403, "AccessDenied", &refusal);
    }
    let cert_arn = crate::registry::cert_arn(cert_id);
    let steps = registry
        .certificate(cert_id)
        .and_then(|_| {
            registry
                .create_thing(thing, None, Default::default())
                .or_else(|_| registry.thing(thing))
        })
        .and_then(|_| registry.attach_thing_principal(thing, &cert_arn))
        .and_then(|()| registry.attach_policy(super::DEVICE_POLICY, &cert_arn))
        .and_then(|()| registry.update_certificate(cert_id, CertStatus::Active));
    match steps {
        Ok(()) => vec![(
            format!("{topic}/accepted"),
            json!({ "thingName": thing, "deviceConfiguration": {} }),
        )],
        Err(e) => rejected(topic, 400, "ProvisioningFailed", &e.to_string()),
    }
}

/// Who asks to provision: the connection's client id and certificate (the claim).
struct HookCaller<'a> {
    client_id: &'a str,
    claim_certificate_id: &'a str,
}

/// Runs fleetid-jitr's pre-provisioning hook; `Some(reason)` when it refuses.
fn hook_refusal(
    shared: &Shared,
    who: &HookCaller<'_>,
    topic: &str,
    request: &Value,
    certificate_pem: &str,
) -> Option<String> {
    let template = template_name(topic);
    let parameters = request
        .get("parameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let hook_request = PreProvisioningRequest {
        claim_certificate_id: who.claim_certificate_id.to_owned(),
        certificate_id: crate::cert_facts::CertFacts::from_pem(certificate_pem)
            .map(|f| f.id)
            .unwrap_or_default(),
        certificate_pem: certificate_pem.to_owned(),
        template_arn: crate::registry::arn(&format!("provisioningtemplate/{template}")),
        client_id: who.client_id.to_owned(),
        parameters,
    };
    let config = &shared.provisioning.config;
    let entry = hook_device_id(&hook_request, config)
        .ok()
        .and_then(|id| shared.provisioning.manifest.entry(&id).ok());
    let (response, decision) = pre_provisioning_hook(&hook_request, entry.as_ref(), config, now());
    match decision {
        _ if response.allow_provisioning => None,
        Decision::Reject { reason, detail } => Some(format!("{reason}: {detail}")),
        Decision::Activate { .. } => Some("the pre-provisioning hook refused".into()),
    }
}
