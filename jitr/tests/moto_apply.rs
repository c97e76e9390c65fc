//! `apply` and the handler against moto (AWS IoT + DynamoDB): activation, a re-run that
//! changes nothing, a fault injected at every write followed by a resume, rejections.
//! Needs `FLEETID_MOTO_URL` (scripts/test sets it).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::{
    ApplyError, Change, ControlPlane, Decision, JitrConfig, ManifestEntry, RejectReason,
    RejectStatus, SaleStatus, apply, decide, handle_registration,
};
use support::faulty::FaultyControlPlane;
use support::moto::{MotoFleet, manifest_table};
use support::pki::DeviceSpec;
use support::{event_at, sold, unique};
use time::OffsetDateTime;

fn config(groups: Vec<String>) -> JitrConfig {
    JitrConfig {
        // A policy per test run, so parallel tests never share one.
        policy_name: unique("fleetid-device"),
        thing_groups: groups,
        min_firmware: [("sensor-a".to_owned(), "2.0".parse().unwrap())].into(),
        ..JitrConfig::default()
    }
}

/// Registers a fresh device certificate and decides on it.
async fn pending_device(
    fleet: &MotoFleet,
    config: &JitrConfig,
    entry: Option<ManifestEntry>,
) -> (String, String, Decision) {
    let device_id = unique("dev");
    let now = OffsetDateTime::now_utc();
    let pem = fleet.ca.issue(&DeviceSpec::new(&device_id, now));
    let certificate_id = fleet.register_pending(&pem).await;
    let entry = entry.map(|e| ManifestEntry {
        device_id: device_id.clone(),
        ..e
    });
    let event = event_at(&certificate_id, &fleet.ca_id, now);
    let decision = decide(&event, &pem, Some(&fleet.ca.pem), entry.as_ref(), config);
    (device_id, certificate_id, decision)
}

/// Asserts the registry holds the full activation of `thing` for `certificate_id`.
async fn assert_activated(
    fleet: &MotoFleet,
    certificate_id: &str,
    thing: &str,
    config: &JitrConfig,
) {
    assert_eq!(fleet.status(certificate_id).await, "ACTIVE");
    let arn = fleet
        .control_plane
        .describe_certificate(certificate_id)
        .await
        .unwrap()
        .arn;
    let principals = fleet
        .iot
        .list_thing_principals()
        .thing_name(thing)
        .send()
        .await
        .unwrap();
    assert_eq!(principals.principals(), std::slice::from_ref(&arn));
    let policies = fleet
        .iot
        .list_attached_policies()
        .target(&arn)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = policies
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, [config.policy_name.as_str()]);
    let described = fleet
        .iot
        .describe_thing()
        .thing_name(thing)
        .send()
        .await
        .unwrap();
    let attributes = described.attributes().unwrap();
    assert_eq!(attributes["model"], "sensor-a");
    assert_eq!(attributes["firmware"], "2.1.0");
    let groups = fleet
        .iot
        .list_thing_groups_for_thing()
        .thing_name(thing)
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = groups
        .thing_groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    names.sort_unstable();
    let mut expected: Vec<_> = config.thing_groups.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn activation_then_a_rerun_changes_nothing() {
    let fleet = MotoFleet::new().await;
    let config = config(vec![fleet.thing_group().await, fleet.thing_group().await]);
    let (device_id, certificate_id, decision) =
        pending_device(&fleet, &config, Some(sold("x"))).await;
    assert!(
        matches!(decision, Decision::Activate { .. }),
        "{decision:?}"
    );

    let first = apply(&fleet.control_plane, &certificate_id, &decision, &config)
        .await
        .unwrap();
    assert!(
        first.steps.iter().all(|s| s.change == Change::Made),
        "{first:?}"
    );
    assert_eq!(first.steps.len(), 7, "{first:?}");
    assert_activated(&fleet, &certificate_id, &device_id, &config).await;

    let again = apply(&fleet.control_plane, &certificate_id, &decision, &config)
        .await
        .unwrap();
    assert!(!again.changed(), "re-run changed something: {again:?}");
    assert_eq!(again.steps.len(), first.steps.len());
    assert_activated(&fleet, &certificate_id, &device_id, &config).await;
}

#[tokio::test]
async fn a_fault_at_any_write_resumes_to_the_same_end_state() {
    let fleet = MotoFleet::new().await;
    let config = config(vec![fleet.thing_group().await]);
    // Writes: create policy, attach policy, create thing, attach principal, add to group,
    // activate.
    for fail_at in 0..6 {
        let (device_id, certificate_id, decision) =
            pending_device(&fleet, &config, Some(sold("x"))).await;
        let faulty = FaultyControlPlane::new(&fleet.control_plane, fail_at);
        let err = apply(&faulty, &certificate_id, &decision, &config)
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "fault {fail_at}: {err}");
        let ApplyError::ControlPlane { done, .. } = &err else {
            panic!("fault {fail_at}: {err:?}")
        };
        assert_eq!(done.steps.len(), fail_at, "fault {fail_at}: {done:?}");
        assert_eq!(
            fleet.status(&certificate_id).await,
            "PENDING_ACTIVATION",
            "fault {fail_at}"
        );

        let resumed = apply(&fleet.control_plane, &certificate_id, &decision, &config)
            .await
            .unwrap();
        // Steps before the fault were done by the failed run (the shared policy was created by
        // the first device); the rest are done now.
        let changes: Vec<_> = resumed.steps.iter().map(|s| s.change).collect();
        let expected: Vec<_> = (0..resumed.steps.len())
            .map(|i| {
                if i < fail_at {
                    Change::Unchanged
                } else {
                    Change::Made
                }
            })
            .collect();
        assert_eq!(changes, expected, "fault {fail_at}: {resumed:?}");
        assert_activated(&fleet, &certificate_id, &device_id, &config).await;
    }
}

#[tokio::test]
async fn rejections_deactivate_or_revoke_and_stay_put() {
    let fleet = MotoFleet::new().await;
    let inactive = config(vec![]);
    let recalled = ManifestEntry {
        recalled: true,
        ..sold("x")
    };
    let (_, certificate_id, decision) = pending_device(&fleet, &inactive, Some(recalled)).await;
    assert_eq!(decision.reject_reason(), Some(RejectReason::Recalled));
    let report = apply(&fleet.control_plane, &certificate_id, &decision, &inactive)
        .await
        .unwrap();
    assert!(report.changed());
    assert_eq!(fleet.status(&certificate_id).await, "INACTIVE");
    let again = apply(&fleet.control_plane, &certificate_id, &decision, &inactive)
        .await
        .unwrap();
    assert!(!again.changed(), "{again:?}");

    let revoke = JitrConfig {
        reject_status: RejectStatus::Revoked,
        ..config(vec![])
    };
    let in_stock = ManifestEntry {
        status: SaleStatus::InStock,
        ..sold("x")
    };
    let (_, certificate_id, decision) = pending_device(&fleet, &revoke, Some(in_stock)).await;
    assert_eq!(decision.reject_reason(), Some(RejectReason::NotSold));
    apply(&fleet.control_plane, &certificate_id, &decision, &revoke)
        .await
        .unwrap();
    assert_eq!(fleet.status(&certificate_id).await, "REVOKED");
    // A revoked certificate is never activated, whatever a later decision says.
    let (_, _, activate) = pending_device(&fleet, &revoke, Some(sold("x"))).await;
    let err = apply(&fleet.control_plane, &certificate_id, &activate, &revoke)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyError::NotPending { .. }) && !err.is_retryable(),
        "{err}"
    );
    assert_eq!(fleet.status(&certificate_id).await, "REVOKED");
}

#[tokio::test]
async fn handler_on_a_registered_event_with_the_dynamodb_manifest() {
    let fleet = MotoFleet::new().await;
    let manifest = manifest_table().await;
    let config = config(vec![]);
    let now = OffsetDateTime::now_utc();

    let device_id = unique("dev");
    let pem = fleet.ca.issue(&DeviceSpec::new(&device_id, now));
    let certificate_id = fleet.register_pending(&pem).await;
    manifest
        .put(&ManifestEntry {
            device_id: device_id.clone(),
            ..sold("x")
        })
        .await
        .unwrap();
    // The event exactly as AWS IoT publishes it on $aws/events/certificates/registered/<caId>.
    let raw = serde_json::json!({
        "certificateId": certificate_id,
        "caCertificateId": fleet.ca_id,
        "timestamp": now.unix_timestamp() * 1000,
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012",
        "certificateRegistrationTimestamp": null
    });
    let handled = handle_registration(
        &raw,
        &fleet.control_plane,
        &manifest,
        &config,
        1_700_000_000_000,
    )
    .await;
    assert!(handled.retryable_error.is_none(), "{:?}", handled.log_line);
    assert_eq!(
        handled.log_line["outcome"], "activate",
        "{}",
        handled.log_line
    );
    assert_eq!(handled.log_line["device_id"], device_id.as_str());
    assert_eq!(handled.log_line["Activations"], 1);
    assert_eq!(handled.log_line["changed"], true);
    assert_eq!(fleet.status(&certificate_id).await, "ACTIVE");

    // The same event delivered twice: nothing changes, still not an error.
    let again = handle_registration(
        &raw,
        &fleet.control_plane,
        &manifest,
        &config,
        1_700_000_000_000,
    )
    .await;
    assert!(again.retryable_error.is_none());
    assert_eq!(again.log_line["changed"], false, "{}", again.log_line);

    // A device missing from the table is rejected and its certificate deactivated.
    let stranger = unique("dev");
    let pem = fleet.ca.issue(&DeviceSpec::new(&stranger, now));
    let certificate_id = fleet.register_pending(&pem).await;
    let raw = serde_json::json!({
        "certificateId": certificate_id, "caCertificateId": fleet.ca_id,
        "timestamp": now.unix_timestamp() * 1000, "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012"
    });
    let handled = handle_registration(&raw, &fleet.control_plane, &manifest, &config, 1).await;
    assert!(handled.retryable_error.is_none());
    assert_eq!(
        handled.log_line["reason"], "UNKNOWN_DEVICE",
        "{}",
        handled.log_line
    );
    assert_eq!(fleet.status(&certificate_id).await, "INACTIVE");
}

#[tokio::test]
async fn unknown_certificate_and_missing_table_are_classified() {
    let fleet = MotoFleet::new().await;
    let missing = "0".repeat(64);
    let err = fleet
        .control_plane
        .describe_certificate(&missing)
        .await
        .unwrap_err();
    assert_eq!(err.kind, fleet_kind_not_found(), "{err}");
    assert!(err.to_string().contains("DescribeCertificate"), "{err}");

    // A manifest table that does not exist: the handler asks for a retry.
    let now = OffsetDateTime::now_utc();
    let device_id = unique("dev");
    let certificate_id = fleet
        .register_pending(&fleet.ca.issue(&DeviceSpec::new(&device_id, now)))
        .await;
    let config = support::moto::sdk_config().await;
    let manifest = fleetid_jitr::manifest::DynamoDbManifest::new(
        aws_sdk_dynamodb::Client::new(&config),
        unique("no-such-table"),
    );
    let raw = serde_json::json!({
        "certificateId": certificate_id, "caCertificateId": fleet.ca_id,
        "timestamp": now.unix_timestamp() * 1000, "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012"
    });
    let handled = handle_registration(
        &raw,
        &fleet.control_plane,
        &manifest,
        &JitrConfig::default(),
        1,
    )
    .await;
    assert!(handled.retryable_error.is_some(), "{}", handled.log_line);
    assert_eq!(handled.log_line["event"], "jitr_error");
    assert_eq!(fleet.status(&certificate_id).await, "PENDING_ACTIVATION");
}

fn fleet_kind_not_found() -> fleetid_jitr::ControlPlaneErrorKind {
    fleetid_jitr::ControlPlaneErrorKind::NotFound
}
