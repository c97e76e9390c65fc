//! The lab with a simulated fleet of 200 devices over real mTLS: JITR provisions everyone
//! but the recalled batch, status reaches an operator subscription, the HTTP API sees exactly
//! the lab's certificates, and the detector notices the scenario's misbehaving devices.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

mod support;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_iot::config::{Credentials, Region};
use fleetid_agent::wire::{AgentState, StatusMessage};
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::registry::CertStatus;
use fleetid_lab::{Lab, LabOptions};
use rumqttc::QoS;
use support::{connected, message, operator, subscribed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_fleet_of_200_boots_through_jitr() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: 200,
        seed: 42,
        scenario: Scenario::Demo,
        state_dir: Some(dir.path().to_owned()),
        status_interval: Duration::from_secs(1),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let recalled: Vec<&str> = lab
        .plan
        .iter()
        .filter(|s| s.role == Role::Recalled)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(recalled.len(), 4);

    let mut progress = lab.progress.clone();
    let booted = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let p = *progress.borrow_and_update();
            if p.connected >= 195 && p.provisioned + p.rejected >= 199 {
                return p;
            }
            progress.changed().await.unwrap();
        }
    })
    .await
    .expect("the fleet did not boot within 30 s");
    assert_eq!(booted.total, 200);
    assert_eq!(booted.rejected, 4);

    let outcomes = lab.jitr.outcomes();
    let mut rejected_names: Vec<String> = Vec::new();
    for o in outcomes.iter().filter(|o| o.rejected.is_some()) {
        let reason = o.rejected.as_deref().unwrap();
        assert!(reason.starts_with("RECALLED"), "{reason}");
        let cert = lab.registry.certificate(&o.certificate_id).unwrap();
        rejected_names.push(cert.facts.common_name.unwrap());
    }
    rejected_names.sort();
    assert_eq!(rejected_names, recalled);
    for o in outcomes.iter().filter(|o| o.rejected.is_some()) {
        assert_eq!(
            lab.registry.certificate(&o.certificate_id).unwrap().status,
            CertStatus::Revoked
        );
    }

    // The HTTP API lists exactly the lab's certificates: 199 device certificates (two devices
    // share one), the operator's, and those of the misused provisioning claim, once its
    // attempts are over.
    let expected = 200 + fleetid_lab::fleet::claim::CERTIFICATES;
    for _ in 0..100 {
        if lab.registry.certificate_count() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            fleetid_lab::api::ACCESS_KEY_ID,
            fleetid_lab::api::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .endpoint_url(&lab.endpoint_url)
        .load()
        .await;
    let iot = aws_sdk_iot::Client::new(&config);
    let listed = iot
        .list_certificates()
        .page_size(250)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(listed.len(), expected);
    assert_eq!(listed.len(), lab.registry.certificate_count());

    // Status messages in the agent's wire format reach the operator's subscription.
    let (op, mut events) = operator(&lab);
    connected(&mut events).await.unwrap();
    op.subscribe("fleetid/v1/+/status", QoS::AtMostOnce)
        .await
        .unwrap();
    subscribed(&mut events).await;
    // dev-00010 is a real fleetid-agent (only the debug and flapping devices are scripted).
    let agent = &lab.plan[9];
    assert_eq!(agent.role, Role::Normal);
    let wanted = format!("fleetid/v1/{}/status", agent.name);
    let (_, body) = message(&mut events, |t| t == wanted).await;
    let status = StatusMessage::from_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(status.thing, agent.name);
    assert_eq!(status.firmware, agent.firmware);
    assert_eq!(status.state, AgentState::Active);
    let active = status
        .active
        .expect("an active agent reports its certificate");
    let cert_id = lab
        .registry
        .principal_things(&fleetid_lab::registry::cert_arn(&active.fingerprint));
    assert_eq!(
        cert_id,
        std::slice::from_ref(&agent.name),
        "the reported fingerprint is the certificate id"
    );

    // The detector: the debug-topic device, the shared certificate, then the flapping device.
    let debug = &lab.plan[0].name;
    assert!(
        lab.detector
            .violations()
            .iter()
            .any(|v| &v.thing_name == debug && v.behavior == "DebugTopicPublish")
    );
    let flapping = lab.plan[1].name.clone();
    let flagged = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let findings = lab.detector.findings();
            let shared = findings
                .iter()
                .any(|f| f.check_name == "DEVICE_CERTIFICATE_SHARED_CHECK");
            let flaps = lab
                .detector
                .violations()
                .iter()
                .any(|v| v.thing_name == flapping && v.behavior == "Flapping");
            if shared && flaps {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        flagged.is_ok(),
        "violations {:?} findings {:?}",
        lab.detector.violations(),
        lab.detector.findings()
    );

    lab.shutdown().await;
}
