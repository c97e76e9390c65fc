//! The identity gateway end to end: real mTLS, real MQTT clients (rumqttc), the lab's JITR,
//! policies, revocation, lifecycle events, the detector and the Jobs MQTT API.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use fleetid_lab::registry::{CertStatus, NewJob, arn, cert_arn};
use fleetid_lab::{Lab, LabHandle, LabOptions};
use rumqttc::QoS;
use serde_json::json;
use support::{client, connected, disconnected, drive, message, operator, subscribed};

async fn lab(recalled: &[&str]) -> (LabHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        state_dir: Some(dir.path().to_owned()),
        recalled: recalled
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>(),
        devices: 0,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    (lab, dir)
}

/// Waits until the registry shows `status` for the certificate in `pem`.
async fn wait_status(lab: &LabHandle, pem: &str, status: CertStatus) -> String {
    let id = fleetid_lab::cert_facts::CertFacts::from_pem(pem)
        .unwrap()
        .id;
    for _ in 0..100 {
        if lab
            .registry
            .certificate(&id)
            .is_ok_and(|c| c.status == status)
        {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("certificate {id} never became {status:?}");
}

/// A device that went through JITR: its first connection is dropped, the second works.
async fn provisioned(lab: &LabHandle, name: &str) -> (String, String, String) {
    let leaf = lab.issuing_ca.issue_device(name, 90).unwrap();
    let (_c, mut events) = client(lab, name, &leaf.certificate_pem, &leaf.key_pem);
    assert!(
        connected(&mut events).await.is_err(),
        "JITR drops the first connection"
    );
    let id = wait_status(lab, &leaf.certificate_pem, CertStatus::Active).await;
    (id, leaf.certificate_pem, leaf.key_pem)
}

#[tokio::test]
async fn jitr_status_stream_and_revocation() {
    let (lab, _dir) = lab(&["dev-recalled"]).await;
    let (op, mut op_events) = operator(&lab);
    connected(&mut op_events).await.unwrap();
    op.subscribe("$aws/events/#", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut op_events).await;
    op.subscribe("fleetid/v1/+/status", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut op_events).await;

    let leaf = lab.issuing_ca.issue_device("dev-1", 90).unwrap();
    let (_c, mut events) = client(&lab, "dev-1", &leaf.certificate_pem, &leaf.key_pem);
    assert!(
        connected(&mut events).await.is_err(),
        "JITR drops the first connection"
    );
    let (topic, event) = message(&mut op_events, |t| {
        t.starts_with("$aws/events/certificates/registered/")
    })
    .await;
    assert_eq!(event["certificateStatus"], "PENDING_ACTIVATION");
    assert!(topic.ends_with(event["caCertificateId"].as_str().unwrap()));
    let id = wait_status(&lab, &leaf.certificate_pem, CertStatus::Active).await;
    assert_eq!(event["certificateId"], id.as_str());

    let (device, mut events) = client(&lab, "dev-1", &leaf.certificate_pem, &leaf.key_pem);
    connected(&mut events).await.unwrap();
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/connected/dev-1"
    })
    .await;
    assert_eq!(event["thingName"], "dev-1");
    assert_eq!(event["principalIdentifier"], id.as_str());
    assert!(lab.registry.connectivity("dev-1").unwrap().connected);

    device
        .publish(
            "fleetid/v1/dev-1/status",
            QoS::AtLeastOnce,
            false,
            r#"{"state":"active"}"#,
        )
        .await
        .unwrap();
    let pump = drive(events);
    let (_, status) = message(&mut op_events, |t| t == "fleetid/v1/dev-1/status").await;
    assert_eq!(status["state"], "active");

    lab.registry
        .update_certificate(&id, CertStatus::Inactive)
        .unwrap();
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/disconnected/dev-1"
    })
    .await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");
    assert_eq!(event["clientInitiatedDisconnect"], false);
    tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .unwrap()
        .unwrap();
    assert!(!lab.registry.connectivity("dev-1").unwrap().connected);
    let (_c, mut events) = client(&lab, "dev-1", &leaf.certificate_pem, &leaf.key_pem);
    assert!(
        connected(&mut events).await.is_err(),
        "an INACTIVE certificate cannot connect"
    );

    let bad = lab.issuing_ca.issue_device("dev-recalled", 90).unwrap();
    let (_c, mut events) = client(&lab, "dev-recalled", &bad.certificate_pem, &bad.key_pem);
    assert!(connected(&mut events).await.is_err());
    let bad_id = wait_status(&lab, &bad.certificate_pem, CertStatus::Revoked).await;
    let outcome = lab
        .jitr
        .outcomes()
        .into_iter()
        .find(|o| o.certificate_id == bad_id)
        .unwrap();
    let reason = outcome.rejected.unwrap();
    assert!(reason.starts_with("RECALLED"), "{reason}");
    let (_c, mut events) = client(&lab, "dev-recalled", &bad.certificate_pem, &bad.key_pem);
    assert!(
        connected(&mut events).await.is_err(),
        "a REVOKED certificate cannot connect"
    );

    let stranger = fleetid_lab::pki::CertificateAuthority::new_root("stranger").unwrap();
    let leaf = stranger.issue_device("dev-9", 90).unwrap();
    let (_c, mut events) = client(&lab, "dev-9", &leaf.certificate_pem, &leaf.key_pem);
    assert!(
        connected(&mut events).await.is_err(),
        "an unknown CA fails the handshake"
    );
    assert_eq!(
        lab.registry.certificate_count(),
        3,
        "operator, dev-1, dev-recalled"
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn policies_are_enforced_and_the_detector_notices() {
    let (lab, _dir) = lab(&[]).await;
    let (id, cert, key) = provisioned(&lab, "dev-2").await;

    let (device, mut events) = client(&lab, "dev-2", &cert, &key);
    connected(&mut events).await.unwrap();
    device
        .publish("fleetid/v1/dev-2/debug", QoS::AtLeastOnce, false, "{}")
        .await
        .unwrap();
    device
        .publish("fleetid/v1/dev-3/status", QoS::AtLeastOnce, false, "{}")
        .await
        .unwrap();
    let error = disconnected(&mut events).await;
    assert!(!error.is_empty());
    let behaviors: Vec<String> = lab
        .detector
        .violations()
        .into_iter()
        .map(|v| v.behavior)
        .collect();
    assert_eq!(behaviors, ["DebugTopicPublish"]);

    // Another thing's client id is not allowed by the device policy.
    let (_c, mut events) = client(&lab, "dev-3", &cert, &key);
    assert!(connected(&mut events).await.is_err());

    // A second connection with the same client id kicks the first.
    let (_a, mut first) = client(&lab, "dev-2", &cert, &key);
    connected(&mut first).await.unwrap();
    let (_b, mut second) = client(&lab, "dev-2", &cert, &key);
    connected(&mut second).await.unwrap();
    disconnected(&mut first).await;
    let checks: Vec<String> = lab
        .detector
        .findings()
        .into_iter()
        .map(|f| f.check_name)
        .collect();
    assert_eq!(checks, ["CONFLICTING_CLIENT_IDS_CHECK"]);

    // Deny-all on the certificate: disconnected at once, and it cannot come back.
    lab.registry
        .create_policy("fleetid-deny-all", fleetid_lab::policy::DENY_ALL)
        .unwrap();
    lab.registry
        .attach_policy("fleetid-deny-all", &cert_arn(&id))
        .unwrap();
    disconnected(&mut second).await;
    let (_c, mut events) = client(&lab, "dev-2", &cert, &key);
    assert!(connected(&mut events).await.is_err());
    lab.shutdown().await;
}

#[tokio::test]
async fn jobs_reach_devices_over_mqtt() {
    let (lab, _dir) = lab(&[]).await;
    let (_, cert, key) = provisioned(&lab, "dev-4").await;
    let (device, mut events) = client(&lab, "dev-4", &cert, &key);
    connected(&mut events).await.unwrap();
    for filter in [
        "$aws/things/dev-4/jobs/notify-next",
        "$aws/things/dev-4/jobs/+/accepted",
        "$aws/things/dev-4/jobs/+/+/accepted",
        "$aws/things/dev-4/jobs/+/+/rejected",
    ] {
        device.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        subscribed(&mut events).await;
    }
    lab.registry
        .create_job(NewJob {
            job_id: "rotate-1".into(),
            targets: vec![arn("thing/dev-4")],
            document: Some(r#"{"operation":"rotate-certificate"}"#.into()),
            ..NewJob::default()
        })
        .unwrap();
    let (_, notify) = message(&mut events, |t| t.ends_with("/notify-next")).await;
    assert_eq!(notify["execution"]["jobId"], "rotate-1");

    device
        .publish(
            "$aws/things/dev-4/jobs/start-next",
            QoS::AtLeastOnce,
            false,
            json!({"clientToken":"t1"}).to_string(),
        )
        .await
        .unwrap();
    let (_, started) = message(&mut events, |t| t.ends_with("/start-next/accepted")).await;
    assert_eq!(started["clientToken"], "t1");
    assert_eq!(started["execution"]["status"], "IN_PROGRESS");
    assert_eq!(
        started["execution"]["jobDocument"]["operation"],
        "rotate-certificate"
    );
    let version = started["execution"]["versionNumber"].as_i64().unwrap();

    let stale = json!({"status":"SUCCEEDED","expectedVersion": version - 1}).to_string();
    device
        .publish(
            "$aws/things/dev-4/jobs/rotate-1/update",
            QoS::AtLeastOnce,
            false,
            stale,
        )
        .await
        .unwrap();
    let (_, rejected) = message(&mut events, |t| t.ends_with("/update/rejected")).await;
    assert_eq!(rejected["code"], "VersionMismatch");

    let update = json!({"status":"SUCCEEDED","expectedVersion": version,"statusDetails":{"certificateId":"abc"}}).to_string();
    device
        .publish(
            "$aws/things/dev-4/jobs/rotate-1/update",
            QoS::AtLeastOnce,
            false,
            update,
        )
        .await
        .unwrap();
    let (_, accepted) = message(&mut events, |t| t.ends_with("/update/accepted")).await;
    assert_eq!(accepted["executionState"]["status"], "SUCCEEDED");
    let job = lab.registry.job("rotate-1").unwrap();
    assert_eq!(job.status.as_str(), "COMPLETED");
    assert_eq!(
        job.executions["dev-4"].status_details["certificateId"],
        "abc"
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn fleet_provisioning_over_mqtt_runs_the_pre_provisioning_hook() {
    let (lab, _dir) = lab(&["dev-recalled"]).await;
    let (_, cert, key) = provisioned(&lab, "dev-5").await;
    let (device, mut events) = client(&lab, "dev-5", &cert, &key);
    connected(&mut events).await.unwrap();
    for filter in [
        "$aws/certificates/create-from-csr/json/+",
        "$aws/provisioning-templates/+/provision/json/+",
    ] {
        device.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        subscribed(&mut events).await;
    }
    let csr_for = |cn: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.serialize_request(&key).unwrap().pem().unwrap()
    };
    let provision_topic = "$aws/provisioning-templates/fleetid-rotation/provision/json";

    let csr = json!({ "certificateSigningRequest": csr_for("dev-5") }).to_string();
    device
        .publish(
            "$aws/certificates/create-from-csr/json",
            QoS::AtLeastOnce,
            false,
            csr,
        )
        .await
        .unwrap();
    let (_, made) = message(&mut events, |t| {
        t.ends_with("create-from-csr/json/accepted")
    })
    .await;
    let new_id = made["certificateId"].as_str().unwrap().to_owned();
    assert_eq!(
        lab.registry.certificate(&new_id).unwrap().status,
        CertStatus::Inactive
    );
    let request = json!({
        "certificateOwnershipToken": made["certificateOwnershipToken"],
        "parameters": { "ThingName": "dev-5" },
    });
    device
        .publish(
            provision_topic,
            QoS::AtLeastOnce,
            false,
            request.to_string(),
        )
        .await
        .unwrap();
    let (_, accepted) = message(&mut events, |t| t.ends_with("/provision/json/accepted")).await;
    assert_eq!(accepted["thingName"], "dev-5");
    assert_eq!(
        lab.registry.certificate(&new_id).unwrap().status,
        CertStatus::Active
    );
    assert!(
        lab.registry
            .thing("dev-5")
            .unwrap()
            .principals
            .contains(&cert_arn(&new_id))
    );

    // The hook refuses a certificate whose device is recalled.
    let csr = json!({ "certificateSigningRequest": csr_for("dev-recalled") }).to_string();
    device
        .publish(
            "$aws/certificates/create-from-csr/json",
            QoS::AtLeastOnce,
            false,
            csr,
        )
        .await
        .unwrap();
    let (_, made) = message(&mut events, |t| {
        t.ends_with("create-from-csr/json/accepted")
    })
    .await;
    let refused_id = made["certificateId"].as_str().unwrap().to_owned();
    let request = json!({
        "certificateOwnershipToken": made["certificateOwnershipToken"],
        "parameters": { "ThingName": "dev-5" },
    });
    device
        .publish(
            provision_topic,
            QoS::AtLeastOnce,
            false,
            request.to_string(),
        )
        .await
        .unwrap();
    let (_, rejected) = message(&mut events, |t| t.ends_with("/provision/json/rejected")).await;
    assert_eq!(rejected["errorCode"], "AccessDenied");
    assert!(
        rejected["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("RECALLED"),
        "{rejected}"
    );
    assert_eq!(
        lab.registry.certificate(&refused_id).unwrap().status,
        CertStatus::Inactive
    );
    lab.shutdown().await;
}
