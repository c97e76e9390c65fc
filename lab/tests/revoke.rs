//! The console's revoke and restore, end to end against a started lab with a small fleet of
//! real agents, through aws-sdk-iot and aws-sdk-iotdataplane exactly as against AWS IoT:
//! deny-all policy, UpdateCertificate INACTIVE, quarantine group, DeleteConnection, the
//! disconnected lifecycle event seen by the operator; then restore, and the device is back.
//!
//! The lab runs with an enforcement delay, as AWS IoT drops sessions of a deactivated
//! certificate only "within a few minutes": the device stays connected until DeleteConnection
//! cuts it off.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

mod support;

use std::time::{Duration, Instant};

use aws_sdk_iot::types::CertificateStatus;
use fleetid_agent::core::Phase;
use fleetid_agent::wire::{AgentState, StatusMessage};
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::{Lab, LabOptions};
use rumqttc::QoS;
use support::{connected, message_within, operator, sdk_config, subscribed, watch_for};

const DEVICES: usize = 5;
const DENY_ALL: &str = "fleetid-deny-all";
const QUARANTINE: &str = "fleetid-quarantine";
const DENY_ALL_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_cuts_a_device_off_and_restore_lets_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 3,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().to_owned()),
        status_interval: Duration::from_secs(1),
        // Longer than this test: only DeleteConnection can end the session.
        enforcement_delay: Duration::from_secs(600),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let mut progress = lab.progress.clone();
    tokio::time::timeout(Duration::from_secs(30), async {
        while progress.borrow_and_update().connected < DEVICES {
            progress.changed().await.unwrap();
        }
    })
    .await
    .expect("the fleet did not connect within 30 s");

    // A connected device: a real agent, whose MQTT client id is its thing name.
    let spec = &lab.plan[2];
    assert_eq!(spec.role, Role::Normal);
    let thing = spec.name.clone();
    let connectivity = lab.registry.connectivity(&thing).unwrap();
    assert!(connectivity.connected);
    assert_eq!(connectivity.client_id, thing);

    // The operator watches the device's lifecycle events and status.
    let (op, mut events) = operator(&lab);
    connected(&mut events).await.unwrap();
    for filter in [
        format!("$aws/events/presence/+/{thing}"),
        format!("fleetid/v1/{thing}/status"),
    ] {
        op.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        subscribed(&mut events).await;
    }
    let connected_topic = format!("$aws/events/presence/connected/{thing}");
    let disconnected_topic = format!("$aws/events/presence/disconnected/{thing}");

    let config = sdk_config(&lab.endpoint_url).await;
    let iot = aws_sdk_iot::Client::new(&config);
    let data = aws_sdk_iotdataplane::Client::new(&config);

    let principals = iot
        .list_thing_principals()
        .thing_name(&thing)
        .send()
        .await
        .unwrap();
    let [cert_arn] = principals.principals() else {
        panic!("{thing} has {:?}", principals.principals());
    };
    let cert_id = cert_arn.rsplit_once("cert/").unwrap().1.to_owned();

    // (1) The deny-all policy, when missing.
    let missing = iot
        .get_policy()
        .policy_name(DENY_ALL)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");
    iot.create_policy()
        .policy_name(DENY_ALL)
        .policy_document(DENY_ALL_DOCUMENT)
        .send()
        .await
        .unwrap();
    // (2) Attached to the certificate.
    iot.attach_policy()
        .policy_name(DENY_ALL)
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    // (3) The certificate made INACTIVE.
    iot.update_certificate()
        .certificate_id(&cert_id)
        .new_status(CertificateStatus::Inactive)
        .send()
        .await
        .unwrap();
    // (4) The quarantine group, when missing, and the thing in it.
    let missing = iot
        .describe_thing_group()
        .thing_group_name(QUARANTINE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");
    iot.create_thing_group()
        .thing_group_name(QUARANTINE)
        .send()
        .await
        .unwrap();
    iot.add_thing_to_thing_group()
        .thing_group_name(QUARANTINE)
        .thing_name(&thing)
        .send()
        .await
        .unwrap();

    // Still connected: like AWS IoT, the lab has not dropped the session yet.
    assert!(lab.registry.connectivity(&thing).unwrap().connected);

    // (5) DeleteConnection for the thing name, and the disconnect seen by the operator.
    data.delete_connection()
        .client_id(&thing)
        .send()
        .await
        .unwrap();
    let (_, event) = message_within(
        &mut events,
        |t| t == disconnected_topic,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(event["clientId"], thing.as_str());
    assert_eq!(event["disconnectReason"], "API_INITIATED_DISCONNECT");
    assert_eq!(event["clientInitiatedDisconnect"], false);
    assert_eq!(event["principalIdentifier"], cert_id.as_str());

    // The device does not come back while INACTIVE: its agent retries, is refused, and
    // decides it is revoked.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let back = watch_for(
            &mut events,
            |t| t == connected_topic,
            Duration::from_millis(250),
        )
        .await;
        assert!(
            back.is_none(),
            "{thing} reconnected while INACTIVE: {back:?}"
        );
        let state = lab.agent_state(&thing).unwrap();
        if state.phase == Phase::Revoked {
            assert!(state.last_disconnect.is_some());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent is still {:?} after 30 s",
            state.phase
        );
    }
    // And it stays out for a while longer (the revoked agent retries every 5-10 s).
    let back = watch_for(
        &mut events,
        |t| t == connected_topic,
        Duration::from_secs(3),
    )
    .await;
    assert!(
        back.is_none(),
        "{thing} reconnected while INACTIVE: {back:?}"
    );
    assert!(!lab.registry.connectivity(&thing).unwrap().connected);
    let gone = data
        .delete_connection()
        .client_id(&thing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");

    // Restore: ACTIVE, deny-all detached, out of quarantine.
    iot.update_certificate()
        .certificate_id(&cert_id)
        .new_status(CertificateStatus::Active)
        .send()
        .await
        .unwrap();
    iot.detach_policy()
        .policy_name(DENY_ALL)
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    iot.remove_thing_from_thing_group()
        .thing_group_name(QUARANTINE)
        .thing_name(&thing)
        .send()
        .await
        .unwrap();

    // The agent's next slow retry gets in.
    let (_, event) = message_within(
        &mut events,
        |t| t == connected_topic,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(event["clientId"], thing.as_str());
    assert_eq!(event["principalIdentifier"], cert_id.as_str());
    // Back to active, and reporting again (it reports nothing while revoked).
    let status_topic = format!("fleetid/v1/{thing}/status");
    let (_, body) =
        message_within(&mut events, |t| t == status_topic, Duration::from_secs(10)).await;
    let status = StatusMessage::from_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(status.state, AgentState::Active);
    assert!(status.last_disconnect.is_some());
    assert_eq!(lab.agent_state(&thing).unwrap().phase, Phase::Active);
    assert!(lab.registry.connectivity(&thing).unwrap().connected);

    lab.shutdown().await;
}
