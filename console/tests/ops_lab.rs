//! `fleetid revoke` and `fleetid restore` through the real binary against a lab of real agents
//! (in-process, on loopback), with live status over the lab's mTLS gateway: revoke of one
//! connected device exits 0 with a verified JSON report — certificate INACTIVE, deny-all
//! attached, thing quarantined, DeleteConnection "done", the disconnect observed with a
//! time to effect — and the lab agrees (the registry read back, the lifecycle event with
//! `API_INITIATED_DISCONNECT`, the agent in its Revoked phase, no reconnect while revoked).
//! Then restore exits 0 and the device connects again.
//!
//! The lab keeps sessions for 10 minutes after a certificate or policy change (as AWS IoT
//! drops them only "within a few minutes"), so only the console's DeleteConnection can have
//! cut the session within this test.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::time::{Duration, Instant};

use fleetid_agent::core::Phase;
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::{Lab, LabOptions};
use lab_support::{Cli, Message, Run, booted, watch_presence};
use serde_json::Value;
use tokio::sync::mpsc;

const DEVICES: usize = 20;
/// The revoked agent retries every 5-10 s and decides it is revoked after a few refusals.
const REVOKED_DEADLINE: Duration = Duration::from_secs(45);
/// The restored agent's next slow retry gets in.
const RECONNECT_DEADLINE: Duration = Duration::from_secs(60);
/// The console's MQTT client id: the operator's policy allows any.
const CLI_CLIENT_ID: &str = "fleetid-ops-lab-cli";
/// The test's own lifecycle-event watcher.
const WATCH_CLIENT_ID: &str = "fleetid-ops-lab-watch";

/// The first message on `topic` within `wait`, skipping others.
async fn next_on(
    rx: &mut mpsc::UnboundedReceiver<Message>,
    topic: &str,
    wait: Duration,
) -> Option<Value> {
    tokio::time::timeout(wait, async {
        while let Some((t, body)) = rx.recv().await {
            if t == topic {
                return Some(body);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

/// Exit 0 and the report's one target, from `--output json`.
fn verified_report(run: &Run, what: &str) -> (Value, Value) {
    assert_eq!(
        run.status.code(),
        Some(0),
        "{what} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{}", run.stdout));
    assert_eq!(report["applied"], true, "{what}: {report:#}");
    assert_eq!(report["verified"], true, "{what}: {report:#}");
    assert!(
        report["op_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("op-")),
        "{what}: {report:#}"
    );
    let target = match report["targets"].as_array().map(Vec::as_slice) {
        Some([target]) => target.clone(),
        other => panic!("{what}: one target expected, got {other:?}"),
    };
    (report, target)
}

/// The calls of a target, by operation: its result.
fn call_result<'a>(target: &'a Value, operation: &str) -> &'a Value {
    let calls = target["calls"].as_array().unwrap();
    let found: Vec<&Value> = calls
        .iter()
        .filter(|c| c["operation"] == operation)
        .collect();
    match found.as_slice() {
        [call] => call,
        other => panic!("one {operation} call expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_cuts_a_connected_device_off_and_restore_lets_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 5,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().join("lab")),
        status_interval: Duration::from_secs(1),
        // Longer than this test: only DeleteConnection can end the session.
        enforcement_delay: Duration::from_secs(600),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab, DEVICES).await;

    // A connected device, a real agent whose MQTT client id is its thing name.
    let thing = lab
        .plan
        .iter()
        .filter(|d| d.role == Role::Normal)
        .map(|d| d.name.clone())
        .find(|name| {
            lab.registry
                .connectivity(name)
                .is_some_and(|c| c.connected && c.client_id == *name)
        })
        .expect("a connected device");
    assert_eq!(
        lab.agent_state(&thing).map(|s| s.phase),
        Some(Phase::Active)
    );
    let mut presence = watch_presence(
        &lab,
        WATCH_CLIENT_ID,
        &format!("$aws/events/presence/+/{thing}"),
    )
    .await;
    let connected_topic = format!("$aws/events/presence/connected/{thing}");
    let disconnected_topic = format!("$aws/events/presence/disconnected/{thing}");

    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir, CLI_CLIENT_ID);

    // Revoke, through the binary.
    let run = cli
        .run(
            "revoke",
            &[
                "revoke",
                "--thing",
                &thing,
                "--yes",
                "--expect-count",
                "1",
                "--output",
                "json",
            ],
        )
        .await;
    let (report, target) = verified_report(&run, "revoke");
    assert_eq!(report["kind"], "revoke", "{report:#}");
    assert!(
        report.get("session_cut").is_none_or(Value::is_null),
        "the lab cuts sessions: {report:#}"
    );
    assert_eq!(target["things"], serde_json::json!([thing]), "{target:#}");
    assert_eq!(target["status_after"], "INACTIVE", "{target:#}");
    assert_eq!(target["deny_all_attached"], true, "{target:#}");
    assert_eq!(target["quarantined"], true, "{target:#}");
    assert_eq!(target["disconnected"], true, "{target:#}");
    assert!(target["time_to_effect_ms"].is_u64(), "{target:#}");
    assert_eq!(target["verified"], true, "{target:#}");
    for call in target["calls"].as_array().unwrap() {
        assert_eq!(call["result"], "done", "{call:#}");
        // The key is always there; the lab's API sends no x-amzn-RequestId, so it is null.
        let id = call.get("request_id").unwrap();
        assert!(id.is_string() || id.is_null(), "{call:#}");
    }
    for operation in [
        "iot:AttachPolicy",
        "iot:UpdateCertificate",
        "iot:AddThingToThingGroup",
    ] {
        assert_eq!(call_result(&target, operation)["result"], "done");
    }
    let cut = call_result(&target, "iot:DeleteConnection");
    assert_eq!(cut["result"], "done", "{target:#}");

    // The lab agrees: the report's certificate is the thing's, and reads back revoked.
    let cert_id = target["certificate_id"].as_str().unwrap().to_owned();
    let cert_arn = fleetid_lab::registry::cert_arn(&cert_id);
    assert_eq!(
        lab.registry.principal_things(&cert_arn),
        vec![thing.clone()]
    );
    assert_eq!(
        lab.registry.certificate(&cert_id).unwrap().status.as_str(),
        "INACTIVE"
    );
    let policies: Vec<String> = lab
        .registry
        .attached_policies(&cert_arn)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(
        policies.iter().any(|p| p == fleetid::ops::DENY_ALL_POLICY),
        "{policies:?}"
    );
    assert!(
        lab.registry
            .groups_with_ancestors(&thing)
            .iter()
            .any(|g| g.name == fleetid::ops::QUARANTINE_GROUP)
    );
    // The session was cut by the API (not by the lab's delayed enforcement).
    let event = next_on(&mut presence, &disconnected_topic, Duration::from_secs(5))
        .await
        .expect("the watcher saw no disconnect");
    assert_eq!(event["clientId"], thing.as_str());
    assert_eq!(event["disconnectReason"], "API_INITIATED_DISCONNECT");
    assert_eq!(event["principalIdentifier"], cert_id.as_str());
    assert!(!lab.registry.connectivity(&thing).unwrap().connected);

    // The agent is refused, decides it is revoked, and does not get back in meanwhile.
    let started = Instant::now();
    loop {
        let back = next_on(&mut presence, &connected_topic, Duration::from_millis(250)).await;
        assert!(
            back.is_none(),
            "{thing} reconnected while revoked: {back:?}"
        );
        let phase = lab.agent_state(&thing).unwrap().phase;
        if phase == Phase::Revoked {
            break;
        }
        assert!(
            started.elapsed() < REVOKED_DEADLINE,
            "the agent is still {phase:?} after {REVOKED_DEADLINE:?}"
        );
    }
    let back = next_on(&mut presence, &connected_topic, Duration::from_secs(5)).await;
    assert!(
        back.is_none(),
        "{thing} reconnected while revoked: {back:?}"
    );
    assert!(!lab.registry.connectivity(&thing).unwrap().connected);

    // Restore, through the binary.
    let run = cli
        .run(
            "restore",
            &[
                "restore",
                "--thing",
                &thing,
                "--yes",
                "--expect-count",
                "1",
                "--output",
                "json",
            ],
        )
        .await;
    let (report, target) = verified_report(&run, "restore");
    assert_eq!(report["kind"], "restore", "{report:#}");
    assert_eq!(target["certificate_id"], cert_id.as_str(), "{target:#}");
    assert_eq!(target["status_after"], "ACTIVE", "{target:#}");
    assert_eq!(target["deny_all_attached"], false, "{target:#}");
    assert_eq!(target["quarantined"], false, "{target:#}");
    for call in target["calls"].as_array().unwrap() {
        assert_eq!(call["result"], "done", "{call:#}");
    }
    assert_eq!(
        lab.registry.certificate(&cert_id).unwrap().status.as_str(),
        "ACTIVE"
    );

    // The agent's next retry gets in, with the same certificate.
    let event = next_on(&mut presence, &connected_topic, RECONNECT_DEADLINE)
        .await
        .unwrap_or_else(|| panic!("{thing} did not reconnect within {RECONNECT_DEADLINE:?}"));
    assert_eq!(event["clientId"], thing.as_str());
    assert_eq!(event["principalIdentifier"], cert_id.as_str());
    assert!(lab.registry.connectivity(&thing).unwrap().connected);
    let started = Instant::now();
    while lab.agent_state(&thing).unwrap().phase != Phase::Active {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the reconnected agent is still {:?}",
            lab.agent_state(&thing).unwrap().phase
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    lab.shutdown().await;
}
