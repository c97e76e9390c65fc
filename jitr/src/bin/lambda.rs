//! The JITR Lambda (features `aws` + `lambda`): thin wiring of the library to
//! `lambda_runtime`, aws-sdk-iot and the DynamoDB manifest.
//!
//! Handles two event shapes: the `$aws/events/certificates/registered/<caId>` event (from an
//! IoT topic rule) and the Fleet Provisioning pre-provisioning hook request (it has
//! `certificatePem`). Configuration: `FLEETID_JITR_CONFIG` (JSON, see docs/jitr.md; optional)
//! and `FLEETID_JITR_MANIFEST_TABLE` (the DynamoDB table, required).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use fleetid_jitr::hook::hook_device_id;
use fleetid_jitr::log::{DecisionLogInput, decision_line};
use fleetid_jitr::manifest::DynamoDbManifest;
use fleetid_jitr::{
    AwsControlPlane, Decision, JitrConfig, ManifestSource, PreProvisioningRequest,
    PreProvisioningResponse, handle_registration, pre_provisioning_hook,
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = match std::env::var("FLEETID_JITR_CONFIG") {
        Ok(text) => {
            JitrConfig::from_json(&text).map_err(|e| format!("reading FLEETID_JITR_CONFIG: {e}"))?
        }
        Err(_) => JitrConfig::default(),
    };
    let table = std::env::var("FLEETID_JITR_MANIFEST_TABLE")
        .map_err(|_| "FLEETID_JITR_MANIFEST_TABLE is not set: name the manifest table")?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let control_plane = AwsControlPlane::from_conf(&aws);
    let manifest = DynamoDbManifest::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let (control_plane, manifest, config) = (&control_plane, &manifest, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if event.payload.get("certificatePem").is_some() {
            Ok(provisioning_hook(&event.payload, manifest, config).await)
        } else {
            let handled =
                handle_registration(&event.payload, control_plane, manifest, config, now_ms())
                    .await;
            println!("{}", handled.log_line);
            handled.into_result().map_err(Error::from)
        }
    }))
    .await
}

/// Answers a pre-provisioning hook request. Never fails: a request that cannot be decided is
/// refused (`allowProvisioning: false`), which is what AWS IoT does with an error anyway.
async fn provisioning_hook(
    payload: &Value,
    manifest: &DynamoDbManifest,
    config: &JitrConfig,
) -> Value {
    let refuse = PreProvisioningResponse {
        allow_provisioning: false,
        parameter_overrides: Default::default(),
    };
    let Ok(request) = serde_json::from_value::<PreProvisioningRequest>(payload.clone()) else {
        println!(
            "{}",
            serde_json::json!({"event": "jitr_hook_error", "error": "malformed request"})
        );
        return serde_json::to_value(refuse).unwrap_or_default();
    };
    let device_id = hook_device_id(&request, config).ok();
    let entry = match &device_id {
        Some(id) => match manifest.lookup(id).await {
            Ok(entry) => entry,
            Err(e) => {
                let error = fleetid_jitr::log::sanitize(&e.to_string());
                println!(
                    "{}",
                    serde_json::json!({"event": "jitr_hook_error", "error": error})
                );
                return serde_json::to_value(refuse).unwrap_or_default();
            }
        },
        None => None,
    };
    let (response, decision): (PreProvisioningResponse, Decision) =
        pre_provisioning_hook(&request, entry.as_ref(), config, OffsetDateTime::now_utc());
    let line = decision_line(&DecisionLogInput {
        now_ms: now_ms(),
        certificate_id: Some(&request.certificate_id),
        ca_certificate_id: None,
        device_id: device_id.as_deref(),
        decision: &decision,
        report: None,
        apply_error: None,
    });
    println!("{line}");
    serde_json::to_value(response).unwrap_or_default()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
