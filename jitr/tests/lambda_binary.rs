//! The real `fleetid-jitr-lambda` binary under a loopback Lambda Runtime API, against moto:
//! a registration event, a pre-provisioning hook request, an unknown certificate, and a
//! retryable failure that must come back as an invocation error.
//! Needs `FLEETID_MOTO_URL` (scripts/test sets it).
#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fleetid_jitr::ManifestEntry;
use support::moto::{MotoFleet, manifest_table};
use support::pki::DeviceSpec;
use support::runtime_api::{Answer, RuntimeApi};
use support::{sold, unique};
use time::OffsetDateTime;

/// How long a test waits for the function's answers. Generous: the wait polls and returns as
/// soon as they arrive, and CI runs every crate's tests (and moto) at once on two cores.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// Kills the function process when the test ends, however it ends.
struct Function(Option<Child>);

impl Function {
    fn start(api: &RuntimeApi, table: &str) -> Self {
        let moto = std::env::var("FLEETID_MOTO_URL").unwrap();
        let config = serde_json::json!({ "policy_name": unique("fleetid-device") }).to_string();
        let child = Command::new(env!("CARGO_BIN_EXE_fleetid-jitr-lambda"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "fleetid-jitr")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_ENDPOINT_URL", moto)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent/fleetid-test")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/fleetid-test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("FLEETID_JITR_MANIFEST_TABLE", table)
            .env("FLEETID_JITR_CONFIG", config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fleetid-jitr-lambda");
        Self(Some(child))
    }

    /// Stops the function and returns what it printed.
    fn stop(mut self) -> String {
        let mut child = self.0.take().unwrap();
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8(output.stdout).unwrap()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn registered(certificate_id: &str, ca_id: &str, at: OffsetDateTime) -> serde_json::Value {
    serde_json::json!({
        "certificateId": certificate_id,
        "caCertificateId": ca_id,
        "timestamp": at.unix_timestamp() * 1000,
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012",
        "certificateRegistrationTimestamp": (at.unix_timestamp() * 1000).to_string()
    })
}

#[tokio::test]
async fn the_binary_handles_registrations_and_provisioning_hooks() {
    let fleet = MotoFleet::new().await;
    let manifest = manifest_table().await;
    let now = OffsetDateTime::now_utc();

    let device = unique("dev");
    manifest
        .put(&ManifestEntry {
            device_id: device.clone(),
            ..sold("x")
        })
        .await
        .unwrap();
    let certificate_id = fleet
        .register_pending(&fleet.ca.issue(&DeviceSpec::new(&device, now)))
        .await;

    let provisioned = unique("dev");
    manifest
        .put(&ManifestEntry {
            device_id: provisioned.clone(),
            ..sold("x")
        })
        .await
        .unwrap();
    let hook_request = serde_json::json!({
        "claimCertificateId": "claim", "certificateId": "new",
        "certificatePem": fleet.ca.issue(&DeviceSpec::new("AWS-IoT-Certificate", now)),
        "templateArn": "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/fleet",
        "clientId": provisioned, "parameters": { "SerialNumber": provisioned }
    });

    let api = RuntimeApi::start(vec![
        (
            "req-register".into(),
            registered(&certificate_id, &fleet.ca_id, now),
        ),
        ("req-hook".into(), hook_request),
        (
            "req-unknown".into(),
            registered(&"0".repeat(64), &fleet.ca_id, now),
        ),
    ])
    .await;
    let function = Function::start(&api, manifest.table());
    let answers = api.answers(3, ANSWER_LIMIT).await;
    let stdout = function.stop();

    let Answer::Response(line) = &answers[0].1 else {
        panic!("registration: {answers:?}")
    };
    assert_eq!(answers[0].0, "req-register");
    assert_eq!(line["outcome"], "activate", "{line}");
    assert_eq!(fleet.status(&certificate_id).await, "ACTIVE");

    assert_eq!(answers[1].0, "req-hook");
    let Answer::Response(hook) = &answers[1].1 else {
        panic!("hook: {answers:?}")
    };
    assert_eq!(hook["allowProvisioning"], true, "{hook}");
    assert_eq!(
        hook["parameterOverrides"]["ThingName"],
        provisioned.as_str()
    );

    // An unknown certificate is logged, not retried.
    assert_eq!(answers[2].0, "req-unknown");
    let Answer::Response(error) = &answers[2].1 else {
        panic!("unknown: {answers:?}")
    };
    assert_eq!(error["event"], "jitr_error", "{error}");

    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(lines.len(), 3, "one JSON line per invocation:\n{stdout}");
    assert!(
        lines
            .iter()
            .all(|l| l["_aws"]["CloudWatchMetrics"].is_array()),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_retryable_failure_is_an_invocation_error() {
    let fleet = MotoFleet::new().await;
    let now = OffsetDateTime::now_utc();
    let certificate_id = fleet
        .register_pending(&fleet.ca.issue(&DeviceSpec::new(&unique("dev"), now)))
        .await;
    let api = RuntimeApi::start(vec![(
        "req-1".into(),
        registered(&certificate_id, &fleet.ca_id, now),
    )])
    .await;
    // The manifest table does not exist: the lookup fails and the event must be retried.
    let function = Function::start(&api, &unique("no-such-table"));
    let answers = api.answers(1, ANSWER_LIMIT).await;
    drop(function);
    assert!(
        matches!(&answers[0], (id, Answer::Error(_)) if id == "req-1"),
        "{answers:?}"
    );
    assert_eq!(fleet.status(&certificate_id).await, "PENDING_ACTIVATION");
}
