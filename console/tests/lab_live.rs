//! The console against the lab, in one process: the lab boots a small demo fleet of real
//! agents; the console's AWS backend (endpoint URL and static credentials, as `fleetid demo`
//! uses it) loads the snapshot, then follows live status over the lab's mTLS gateway with the
//! operator certificate (broker found through DescribeEndpoint). Every admitted device's
//! status messages must reach the fleet model (last seen, reported firmware), and the device
//! that publishes to a debug topic must show as a Device Defender anomaly in the model.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fleetid::backend::live::LiveEvent;
use fleetid::backend::{BackendUpdate, FleetBackend};
use fleetid::model::{FleetState, Source, UnixTime};
use fleetid_lab::fleet::scenario::{OLD_FIRMWARE, Role, Scenario};
use fleetid_lab::{Lab, LabHandle, LabOptions};
use lab_support::lab_backend;
use tokio::sync::mpsc;

const DEVICES: usize = 60;
/// Generous for a loaded 2-core machine; the loop ends as soon as the condition holds.
const DEADLINE: Duration = Duration::from_secs(90);

/// Waits until the lab's fleet has booted: every registration decided, the admitted devices
/// connected again.
async fn booted(lab: &LabHandle) {
    let admitted = lab
        .plan
        .iter()
        .filter(|d| !matches!(d.role, Role::Recalled | Role::Flapping))
        .count();
    let mut progress = lab.progress.clone();
    let started = Instant::now();
    loop {
        let p = *progress.borrow_and_update();
        if p.connected >= admitted {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the lab's fleet did not boot: {p:?}"
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), progress.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_status_and_a_debug_topic_publisher_reach_the_console_model() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 11,
        scenario: Scenario::Demo,
        state_dir: Some(dir.path().to_owned()),
        status_interval: Duration::from_secs(1),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab).await;
    let backend = lab_backend(&lab, true);

    // The snapshot: certificates, things and the Device Defender stand-in's violations.
    let mut state = FleetState::new();
    let refreshed = fleetid::refresh::refresh(&backend, &mut state, Vec::new(), Vec::new()).await;
    assert_eq!(
        refreshed.certificate_problem, None,
        "the certificate source loaded"
    );

    // Live status over the gateway, applied to the model as the console does.
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(256);
    let follower = tokio::spawn({
        let backend = backend.clone();
        async move { backend.follow_live(tx).await }
    });
    let reporting: Vec<&str> = lab
        .plan
        .iter()
        .filter(|d| matches!(d.role, Role::Normal | Role::Debug))
        .map(|d| d.name.as_str())
        .collect();
    // Which devices' status messages came in, and what the model made of them.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let started = Instant::now();
    while !reporting.iter().all(|name| reported.contains(*name)) {
        assert!(
            started.elapsed() < DEADLINE,
            "live status reached {} of {} devices",
            reported.len(),
            reporting.len()
        );
        let Ok(Some(update)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await else {
            continue;
        };
        if let BackendUpdate::Live(LiveEvent::Status { thing, .. }) = &update {
            reported.insert(thing.as_str().to_owned());
        }
        let at = UnixTime::now();
        for change in fleetid::feed::fleet_updates(update, at) {
            state.apply(change);
        }
    }
    for name in &reporting {
        let seen = state.thing(name).and_then(|t| t.last_seen);
        assert!(seen.is_some(), "{name}: its status is not in the model");
    }
    assert!(
        state
            .sources()
            .get(&Source::Live)
            .is_some_and(|s| s.fresh_at.is_some()),
        "the live source reported its connection"
    );
    // JITR attached the device policy to every admitted certificate.
    let device_policy = &state.policies()[fleetid_lab::gateway::DEVICE_POLICY];
    for spec in lab.plan.iter().filter(|d| d.role == Role::Normal) {
        let thing = state.thing(&spec.name).unwrap();
        assert!(
            thing
                .certificates
                .iter()
                .any(|c| device_policy.certificates.contains(c)),
            "{} has no certificate with the device policy",
            spec.name
        );
    }
    // The firmware each agent reports is in the model (the old-firmware cohort included).
    for spec in lab.plan.iter().filter(|d| d.role == Role::Normal) {
        let thing = state.thing(&spec.name).unwrap();
        assert_eq!(thing.firmware, Some(spec.firmware), "{}", spec.name);
    }
    assert!(
        lab.plan
            .iter()
            .any(|d| d.role == Role::Normal && d.firmware == OLD_FIRMWARE),
        "the plan has an old-firmware cohort to report"
    );

    // The debug-topic device: a Device Defender violation, read on the next refresh.
    let debug = lab
        .plan
        .iter()
        .find(|d| d.role == Role::Debug)
        .map(|d| d.name.clone())
        .unwrap();
    let started = Instant::now();
    loop {
        let flagged = state.anomalies().values().any(|a| {
            a.source == Source::DefenderDetect
                && a.thing.as_deref() == Some(debug.as_str())
                && &*a.kind == "DebugTopicPublish"
        });
        if flagged {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "no DebugTopicPublish anomaly for {debug}: {:?}",
            state.anomalies().values().collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        fleetid::refresh::refresh(&backend, &mut state, Vec::new(), Vec::new()).await;
    }

    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(10), follower).await;
    lab.shutdown().await;
}
