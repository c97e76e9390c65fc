//! A rotation campaign end to end through the real binary against a lab of real agents
//! (in-process, on loopback), with live status over the lab's mTLS gateway: `rotate start`
//! creates stage 1, `rotate status --watch` drives it — the agents rotate (new key in their
//! secure element, certificate from their CSR through the provisioning template, verified
//! connection, commit), the gate reads the jobs' executions, the agents' reports and the
//! connects it saw, and auto-promote starts stage 2 — until the campaign is done. Every
//! device then connects with the certificate its agent reports, as an independent watcher of
//! the lifecycle events saw; `rotate finalize` sets the old certificates INACTIVE and the
//! devices stay connected. No job was created twice.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::collections::BTreeMap;
use std::time::Duration;

use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{Lab, LabOptions};
use lab_support::{Cli, Message, booted, watch_presence};
use serde_json::Value;
use tokio::sync::mpsc;

const DEVICES: usize = 8;

/// The certificate each client last connected with, from the lifecycle events received so far.
fn drain_connects(rx: &mut mpsc::UnboundedReceiver<Message>, into: &mut BTreeMap<String, String>) {
    while let Ok((topic, body)) = rx.try_recv() {
        if let Some(client) = topic.strip_prefix("$aws/events/presence/connected/")
            && let Some(cert) = body["principalIdentifier"].as_str()
        {
            into.insert(client.to_owned(), cert.to_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_rotates_every_device_through_its_gated_stages_and_finalize_retires_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 11,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().join("lab")),
        status_interval: Duration::from_secs(2),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab, DEVICES).await;
    let mut connects = watch_presence(
        &lab,
        "fleetid-rotation-lab-watch",
        "$aws/events/presence/+/+",
    )
    .await;
    let before: BTreeMap<String, String> = lab
        .plan
        .iter()
        .filter_map(|d| {
            let state = lab.agent_state(&d.name)?;
            Some((d.name.clone(), state.active?.fingerprint))
        })
        .collect();
    assert_eq!(before.len(), DEVICES, "every agent has a certificate");

    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir, "fleetid-rotation-lab-cli");
    let file = cli_dir.join("campaign.toml");
    std::fs::write(
        &file,
        "id = \"lab-rotation\"\ntarget = { query = \"status=ACTIVE\" }\nstages = [25, 100]\n\
         [gate]\nmin_success = 100.0\nmax_failure = 0.0\nsoak = \"0s\"\nauto_promote = true\n\
         [finalize]\ngrace = \"0s\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let started = cli.run("start", &["rotate", "start", file, "--yes"]).await;
    assert_eq!(started.status.code(), Some(0), "{}", started.stderr);
    let watched = cli
        .run(
            "watch",
            &[
                "rotate",
                "status",
                "lab-rotation",
                "--watch",
                "--interval",
                "1s",
                "--output",
                "json",
            ],
        )
        .await;
    assert_eq!(
        watched.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        watched.stdout,
        watched.stderr
    );
    let report: Value = serde_json::from_str(&watched.stdout).unwrap();
    assert_eq!(report[0]["state"], "done", "{report:#}");
    let counts = report[0]["counts"].as_array().unwrap();
    let staged: u64 = counts.iter().map(|c| c["devices"].as_u64().unwrap()).sum();
    let on_new: u64 = counts.iter().map(|c| c["on_new"].as_u64().unwrap()).sum();
    assert_eq!(
        (staged, on_new),
        (DEVICES as u64, DEVICES as u64),
        "{report:#}"
    );
    assert!(
        watched.stderr.contains("stage 2 started (promoted)"),
        "{}",
        watched.stderr
    );

    // Each device connects with the certificate its agent reports, a new one, ACTIVE.
    let mut seen = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        drain_connects(&mut connects, &mut seen);
        let settled = before.keys().all(|thing| {
            let reported = lab
                .agent_state(thing)
                .and_then(|s| s.active)
                .map(|a| a.fingerprint);
            reported.is_some() && seen.get(thing) == reported.as_ref()
        });
        if settled || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (thing, old) in &before {
        let now = lab.agent_state(thing).unwrap().active.unwrap().fingerprint;
        assert_ne!(&now, old, "{thing} kept its certificate");
        assert_eq!(
            seen.get(thing),
            Some(&now),
            "{thing} was not seen connecting with it"
        );
        assert_eq!(
            lab.registry.certificate(&now).unwrap().status.as_str(),
            "ACTIVE"
        );
    }
    let jobs: Vec<String> = lab
        .registry
        .jobs()
        .iter()
        .map(|j| j.spec.job_id.clone())
        .collect();
    assert_eq!(
        jobs,
        vec![
            "fleetid-rotate-lab-rotation-s1".to_owned(),
            "fleetid-rotate-lab-rotation-s2".to_owned()
        ],
        "one job per stage"
    );

    let count = DEVICES.to_string();
    let finalized = cli
        .run(
            "finalize",
            &[
                "rotate",
                "finalize",
                "lab-rotation",
                "--yes",
                "--expect-count",
                &count,
                "--output",
                "json",
            ],
        )
        .await;
    assert_eq!(
        finalized.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        finalized.stdout,
        finalized.stderr
    );
    for (thing, old) in &before {
        assert_eq!(
            lab.registry.certificate(old).unwrap().status.as_str(),
            "INACTIVE",
            "{thing}'s old certificate"
        );
        assert!(
            lab.registry
                .connectivity(thing)
                .is_some_and(|c| c.connected),
            "{thing} is still connected"
        );
    }
    let status = cli
        .run(
            "status",
            &["rotate", "status", "lab-rotation", "--output", "json"],
        )
        .await;
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(report[0]["state"], "finalized", "{report:#}");
    lab.shutdown().await;
}
