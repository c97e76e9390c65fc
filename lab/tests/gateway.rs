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
use support::{
    client, connected, disconnected, drive, message, operator, sdk_config, subscribed, watch_for,
};

async fn lab(recalled: &[&str]) -> (LabHandle, tempfile::TempDir) {
    lab_with(recalled, Duration::ZERO).await
}

async fn lab_with(
    recalled: &[&str],
    enforcement_delay: Duration,
) -> (LabHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        state_dir: Some(dir.path().to_owned()),
        recalled: recalled
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>(),
        devices: 0,
        enforcement_delay,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    (lab, dir)
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;

/// A registered ACTIVE certificate (no thing) with an allow-all policy: any client id.
fn allowed_everything(lab: &LabHandle, name: &str) -> (String, String, String) {
    let leaf = lab.issuing_ca.issue_device(name, 30).unwrap();
    let cert = lab
        .registry
        .insert_certificate(&leaf.certificate_pem, CertStatus::Active)
        .unwrap();
    if lab.registry.policy("allow-all").is_err() {
        lab.registry.create_policy("allow-all", ALLOW_ALL).unwrap();
    }
    lab.registry.attach_policy("allow-all", &cert.arn).unwrap();
    (cert.id().to_owned(), leaf.certificate_pem, leaf.key_pem)
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
    // ACTIVE again: accepted again.
    lab.registry
        .update_certificate(&id, CertStatus::Active)
        .unwrap();
    let (_c, mut events) = client(&lab, "dev-1", &leaf.certificate_pem, &leaf.key_pem);
    connected(&mut events).await.unwrap();
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/connected/dev-1"
    })
    .await;
    assert_eq!(event["principalIdentifier"], id.as_str());
    let pump = drive(events);
    // REVOKED: disconnected, refused for good.
    lab.registry
        .update_certificate(&id, CertStatus::Revoked)
        .unwrap();
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/disconnected/dev-1"
    })
    .await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");
    tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .unwrap()
        .unwrap();
    assert!(
        lab.registry
            .update_certificate(&id, CertStatus::Active)
            .is_err()
    );
    let (_c, mut events) = client(&lab, "dev-1", &leaf.certificate_pem, &leaf.key_pem);
    assert!(connected(&mut events).await.is_err());

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
    let provision_topic = "$aws/provisioning-templates/fleetid-rotate/provision/json";

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

    // A template the lab does not have is refused, as AWS IoT refuses one that does not exist.
    device
        .publish(
            "$aws/provisioning-templates/no-such-template/provision/json",
            QoS::AtLeastOnce,
            false,
            request.to_string(),
        )
        .await
        .unwrap();
    let (_, unknown) = message(&mut events, |t| t.ends_with("/provision/json/rejected")).await;
    assert_eq!(unknown["errorCode"], "ResourceNotFound", "{unknown}");
    lab.shutdown().await;
}

#[tokio::test]
async fn a_provisioning_answer_reaches_only_the_connection_that_asked() {
    let (lab, _dir) = lab(&[]).await;
    let mut devices = Vec::new();
    for name in ["dev-6", "dev-7"] {
        let (_, cert, key) = provisioned(&lab, name).await;
        let (device, mut events) = client(&lab, name, &cert, &key);
        connected(&mut events).await.unwrap();
        device
            .subscribe("$aws/certificates/create-from-csr/json/+", QoS::AtLeastOnce)
            .await
            .unwrap();
        subscribed(&mut events).await;
        devices.push((device, events));
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "dev-6");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    devices[0]
        .0
        .publish(
            "$aws/certificates/create-from-csr/json",
            QoS::AtLeastOnce,
            false,
            json!({ "certificateSigningRequest": csr }).to_string(),
        )
        .await
        .unwrap();
    let (_, made) = message(&mut devices[0].1, |t| {
        t.ends_with("create-from-csr/json/accepted")
    })
    .await;
    assert!(made["certificateId"].is_string());
    // The other device, subscribed to the same topic, is not sent dev-6's certificate.
    let leaked = watch_for(
        &mut devices[1].1,
        |t| t.starts_with("$aws/certificates/create-from-csr/"),
        Duration::from_secs(2),
    )
    .await;
    assert!(leaked.is_none(), "{leaked:?}");
    lab.shutdown().await;
}

#[tokio::test]
async fn an_explicit_deny_beats_every_allow() {
    let (lab, _dir) = lab(&[]).await;
    let (id, cert, key) = allowed_everything(&lab, "tester");
    let (op, mut op_events) = operator(&lab);
    connected(&mut op_events).await.unwrap();
    op.subscribe("$aws/events/presence/#", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut op_events).await;
    let deny = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/blocked-*"},
        {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/secret/*"},
        {"Effect":"Deny","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/secret/*"}]}"#;
    lab.registry.create_policy("deny-secrets", deny).unwrap();
    lab.registry
        .attach_policy("deny-secrets", &cert_arn(&id))
        .unwrap();

    // Connect: refused for the denied client ids only.
    let (_c, mut events) = client(&lab, "blocked-1", &cert, &key);
    let refused = connected(&mut events).await.unwrap_err();
    assert!(refused.contains("NotAuthorized"), "{refused}");
    let (device, mut events) = client(&lab, "tester-1", &cert, &key);
    connected(&mut events).await.unwrap();

    // Allowed traffic flows; a denied subscribe closes the connection.
    device.subscribe("open/#", QoS::AtLeastOnce).await.unwrap();
    subscribed(&mut events).await;
    device
        .publish("open/x", QoS::AtLeastOnce, false, r#"{"n":1}"#)
        .await
        .unwrap();
    let (_, body) = message(&mut events, |t| t == "open/x").await;
    assert_eq!(body["n"], 1);
    device
        .subscribe("secret/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    disconnected(&mut events).await;
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/disconnected/tester-1"
    })
    .await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");

    // A denied publish closes it too.
    let (device, mut events) = client(&lab, "tester-1", &cert, &key);
    connected(&mut events).await.unwrap();
    device
        .publish("secret/x", QoS::AtLeastOnce, false, "{}")
        .await
        .unwrap();
    disconnected(&mut events).await;
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/disconnected/tester-1"
    })
    .await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");

    // A Deny on a thing group applies to the certificates of its things: joining the group
    // drops the session, leaving it lets the client back in.
    lab.registry
        .create_thing("tester-1", None, std::collections::BTreeMap::new())
        .unwrap();
    lab.registry
        .attach_thing_principal("tester-1", &cert_arn(&id))
        .unwrap();
    let group = lab.registry.create_group("quarantine", None).unwrap();
    lab.registry
        .create_policy("deny-all", fleetid_lab::policy::DENY_ALL)
        .unwrap();
    lab.registry.attach_policy("deny-all", &group.arn).unwrap();
    let (_device, mut events) = client(&lab, "tester-1", &cert, &key);
    connected(&mut events).await.unwrap();
    let pump = drive(events);
    lab.registry
        .set_group_membership("quarantine", "tester-1", true)
        .unwrap();
    let (_, event) = message(&mut op_events, |t| {
        t == "$aws/events/presence/disconnected/tester-1"
    })
    .await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");
    tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .unwrap()
        .unwrap();
    let (_c, mut events) = client(&lab, "tester-1", &cert, &key);
    assert!(connected(&mut events).await.is_err());
    lab.registry
        .set_group_membership("quarantine", "tester-1", false)
        .unwrap();
    let (_c, mut events) = client(&lab, "tester-1", &cert, &key);
    connected(&mut events).await.unwrap();
    lab.shutdown().await;
}

#[tokio::test]
async fn delete_connection_closes_a_session_as_the_data_plane_does() {
    let (lab, _dir) = lab(&[]).await;
    let (_, cert, key) = allowed_everything(&lab, "tester");
    let (op, mut op_events) = operator(&lab);
    connected(&mut op_events).await.unwrap();
    op.subscribe("$aws/events/presence/#", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut op_events).await;

    // A client id that must be percent-encoded in the path.
    let odd = "lab client/01:ü";
    let (_device, mut events) = client(&lab, odd, &cert, &key);
    connected(&mut events).await.unwrap();
    message(&mut op_events, |t| {
        t == format!("$aws/events/presence/connected/{odd}")
    })
    .await;

    let data = aws_sdk_iotdataplane::Client::new(&sdk_config(&lab.endpoint_url).await);
    data.delete_connection()
        .client_id(odd)
        .clean_session(true)
        .prevent_will_message(true)
        .send()
        .await
        .unwrap();
    // The answer comes once the session has ended.
    let connectivity = lab.registry.connectivity(odd).unwrap();
    assert!(!connectivity.connected);
    assert_eq!(
        connectivity.disconnect_reason.as_deref(),
        Some("API_INITIATED_DISCONNECT")
    );
    let (_, event) = message(&mut op_events, |t| {
        t == format!("$aws/events/presence/disconnected/{odd}")
    })
    .await;
    assert_eq!(event["clientId"], odd);
    assert_eq!(event["disconnectReason"], "API_INITIATED_DISCONNECT");
    assert_eq!(event["clientInitiatedDisconnect"], false);
    disconnected(&mut events).await;

    // Nobody with that id any more: ResourceNotFoundException (404).
    let err = data
        .delete_connection()
        .client_id(odd)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // DeleteConnection does not bar the client: it may connect again.
    let (_device, mut events) = client(&lab, odd, &cert, &key);
    connected(&mut events).await.unwrap();

    // Flags that are not booleans are refused, as restJson1 services do.
    let (status, kind) = raw_delete(
        &lab.endpoint_url,
        "/connections/lab%20client%2F01%3A%C3%BC?cleanSession=maybe",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(kind, "InvalidRequestException");
    assert!(lab.registry.connectivity(odd).unwrap().connected);
    lab.shutdown().await;
}

/// A hand-made `DELETE` (the SDK cannot send a malformed boolean): status and error type.
async fn raw_delete(endpoint_url: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = endpoint_url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "DELETE {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential={}/20260101/us-east-1/iotdevicegateway/aws4_request, SignedHeaders=host, \
         Signature=0\r\nConnection: close\r\n\r\n",
        fleetid_lab::api::ACCESS_KEY_ID
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let kind = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("x-amzn-errortype:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    (status, kind)
}

#[tokio::test]
async fn with_an_enforcement_delay_sessions_outlive_a_revocation_for_a_while() {
    let (lab, _dir) = lab_with(&[], Duration::from_millis(1500)).await;
    let (id, cert, key) = allowed_everything(&lab, "tester");
    let (op, mut op_events) = operator(&lab);
    connected(&mut op_events).await.unwrap();
    op.subscribe("$aws/events/presence/disconnected/#", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut op_events).await;
    let (_device, mut events) = client(&lab, "tester-1", &cert, &key);
    connected(&mut events).await.unwrap();
    let pump = drive(events);

    lab.registry
        .update_certificate(&id, CertStatus::Inactive)
        .unwrap();
    // New connections are refused at once...
    let (_c, mut events) = client(&lab, "tester-2", &cert, &key);
    assert!(connected(&mut events).await.is_err());
    // ... while the live session lasts until the delay is over.
    let early = watch_for(
        &mut op_events,
        |t| t.ends_with("/tester-1"),
        Duration::from_millis(700),
    )
    .await;
    assert!(early.is_none(), "dropped before the delay: {early:?}");
    assert!(lab.registry.connectivity("tester-1").unwrap().connected);
    let (_, event) = message(&mut op_events, |t| t.ends_with("/tester-1")).await;
    assert_eq!(event["disconnectReason"], "AUTH_ERROR");
    tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .unwrap()
        .unwrap();
    lab.shutdown().await;
}
