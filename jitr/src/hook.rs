//! The JITR decision as an AWS IoT Fleet Provisioning pre-provisioning hook: the device's new
//! certificate was issued by AWS IoT (CreateCertificateFromCsr), so the issuer is not checked;
//! key quality, validity, the device id and the manifest are, exactly as for JITR.
//!
//! Used by certificate rotation's RegisterThing step and by the lab's fleet provisioning
//! emulation. Pure: the caller supplies the manifest entry (see [`hook_device_id`]) and the
//! time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::certificate::{self, Rejection};
use crate::config::JitrConfig;
use crate::decision::{Decision, IssuerCheck, ManifestLookup, evaluate};
use crate::manifest::ManifestEntry;

/// What AWS IoT sends the hook Lambda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreProvisioningRequest {
    /// The claim certificate the device connected with.
    #[serde(default)]
    pub claim_certificate_id: String,
    /// The new certificate to provision.
    pub certificate_id: String,
    /// The new certificate, PEM.
    pub certificate_pem: String,
    /// The provisioning template.
    #[serde(default)]
    pub template_arn: String,
    /// The MQTT client id of the device.
    #[serde(default)]
    pub client_id: String,
    /// Template parameters the device sent.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// What the hook answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreProvisioningResponse {
    /// Whether provisioning may go on.
    pub allow_provisioning: bool,
    /// Parameters replacing the device's: `ThingName`, `Model`, `Firmware` when allowed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameter_overrides: BTreeMap<String, String>,
}

/// The device id of a provisioning request: the template parameter named by
/// `config.hook_device_id_parameter` when the device sent it, else from the certificate.
pub fn hook_device_id(
    request: &PreProvisioningRequest,
    config: &JitrConfig,
) -> Result<String, Rejection> {
    match request.parameters.get(&config.hook_device_id_parameter) {
        Some(id) => {
            certificate::validate_device_id(id, &config.thing_name_prefix)?;
            Ok(id.clone())
        }
        None => crate::decision::device_id_of(&request.certificate_pem, config),
    }
}

/// Decides a provisioning request at time `now`. `manifest` is the entry for
/// [`hook_device_id`]. Returns the hook's answer and the decision behind it (for the log).
pub fn pre_provisioning_hook(
    request: &PreProvisioningRequest,
    manifest: Option<&ManifestEntry>,
    config: &JitrConfig,
    now: OffsetDateTime,
) -> (PreProvisioningResponse, Decision) {
    // A device id sent as a parameter is judged at the device id's place in the rule order,
    // after the certificate's own checks.
    let given_id = request
        .parameters
        .get(&config.hook_device_id_parameter)
        .map(|id| {
            certificate::validate_device_id(id, &config.thing_name_prefix).map(|()| id.clone())
        });
    let decision = evaluate(
        &request.certificate_pem,
        IssuerCheck::Skip,
        given_id,
        ManifestLookup::Found(manifest),
        config,
        now,
    );
    let response = match &decision {
        Decision::Activate {
            thing, attributes, ..
        } => {
            let mut overrides = BTreeMap::from([("ThingName".to_owned(), thing.clone())]);
            if let Some(model) = attributes.get("model") {
                overrides.insert("Model".into(), model.clone());
            }
            if let Some(firmware) = attributes.get("firmware") {
                overrides.insert("Firmware".into(), firmware.clone());
            }
            PreProvisioningResponse {
                allow_provisioning: true,
                parameter_overrides: overrides,
            }
        }
        Decision::Reject { .. } => PreProvisioningResponse {
            allow_provisioning: false,
            parameter_overrides: BTreeMap::new(),
        },
    };
    (response, decision)
}
