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

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetid_agent::core::Phase;
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::{Lab, LabHandle, LabOptions};
use lab_support::lab_environment;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use tokio::sync::mpsc;

const DEVICES: usize = 20;
/// Generous for a loaded 2-core machine; every wait ends as soon as its condition holds.
const BOOT_DEADLINE: Duration = Duration::from_secs(90);
/// One `fleetid` run: refresh, plan, apply, verify (the disconnect wait is 10 s at most).
const COMMAND_DEADLINE: Duration = Duration::from_secs(120);
/// The revoked agent retries every 5-10 s and decides it is revoked after a few refusals.
const REVOKED_DEADLINE: Duration = Duration::from_secs(45);
/// The restored agent's next slow retry gets in.
const RECONNECT_DEADLINE: Duration = Duration::from_secs(60);
/// The console's MQTT client id: the operator's policy allows any.
const CLI_CLIENT_ID: &str = "fleetid-ops-lab-cli";
/// The test's own lifecycle-event watcher.
const WATCH_CLIENT_ID: &str = "fleetid-ops-lab-watch";

/// A lifecycle or status message the watcher received: topic and JSON body.
type Message = (String, Value);

/// Subscribes with the operator certificate to `$aws/events/presence/+/<thing>` and forwards
/// every publish; returns once the subscription is acknowledged.
async fn watch_presence(lab: &LabHandle, thing: &str) -> mpsc::UnboundedReceiver<Message> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&lab.operator.ca_pem).unwrap())
        .unwrap();
    let chain = vec![CertificateDer::from_pem_file(&lab.operator.cert_pem).unwrap()];
    let key = PrivateKeyDer::from_pem_file(&lab.operator.key_pem).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let mut options = MqttOptions::new(WATCH_CLIENT_ID, "127.0.0.1", lab.mqtt_addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )));
    let (client, mut events) = AsyncClient::new(options, 64);
    client
        .subscribe(format!("$aws/events/presence/+/{thing}"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _client = client; // the event loop ends when every client handle is gone
        let mut ready = Some(ready_tx);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let body = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                    if tx.send((p.topic, body)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("the watcher's subscription was not acknowledged within 10 s")
        .unwrap();
    rx
}

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

/// Waits until the lab's fleet is connected.
async fn booted(lab: &LabHandle) {
    let mut progress = lab.progress.clone();
    let started = Instant::now();
    loop {
        let p = *progress.borrow_and_update();
        if p.connected >= DEVICES {
            return;
        }
        assert!(
            started.elapsed() < BOOT_DEADLINE,
            "the lab's fleet did not boot: {p:?}"
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), progress.changed()).await;
    }
}

/// How to run the binary against this lab.
#[derive(Clone)]
struct Cli {
    endpoint_url: String,
    mqtt_endpoint: String,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    dir: PathBuf,
}

/// One finished run.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Cli {
    fn new(lab: &LabHandle, dir: &Path) -> Self {
        Self {
            endpoint_url: lab.endpoint_url.clone(),
            mqtt_endpoint: lab.mqtt_addr.to_string(),
            ca: lab.operator.ca_pem.clone(),
            cert: lab.operator.cert_pem.clone(),
            key: lab.operator.key_pem.clone(),
            dir: dir.to_owned(),
        }
    }

    /// Runs `fleetid <global flags> ARGS` on a blocking thread (the lab's runtime keeps
    /// serving); killed after [`COMMAND_DEADLINE`].
    async fn run(&self, name: &str, args: &[&str]) -> Run {
        let cli = self.clone();
        let name = name.to_owned();
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        tokio::task::spawn_blocking(move || cli.run_blocking(&name, &args))
            .await
            .unwrap()
    }

    fn run_blocking(&self, name: &str, args: &[String]) -> Run {
        let out_path = self.dir.join(format!("{name}.stdout"));
        let err_path = self.dir.join(format!("{name}.stderr"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
        command
            .arg("--endpoint-url")
            .arg(&self.endpoint_url)
            .args(["--region", fleetid_lab::registry::REGION])
            .arg("--mqtt-endpoint")
            .arg(&self.mqtt_endpoint)
            .arg("--mqtt-ca")
            .arg(&self.ca)
            .arg("--mqtt-cert")
            .arg(&self.cert)
            .arg("--mqtt-key")
            .arg(&self.key)
            .args(["--mqtt-client-id", CLI_CLIENT_ID])
            .args(args);
        let mut child = lab_environment(&mut command, &self.dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .expect("the binary runs");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > COMMAND_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "fleetid {args:?} did not finish within {COMMAND_DEADLINE:?}; stderr:\n{}",
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run {
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap(),
            stderr: std::fs::read_to_string(&err_path).unwrap(),
        }
    }
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
    booted(&lab).await;

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
    let mut presence = watch_presence(&lab, &thing).await;
    let connected_topic = format!("$aws/events/presence/connected/{thing}");
    let disconnected_topic = format!("$aws/events/presence/disconnected/{thing}");

    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir);

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
