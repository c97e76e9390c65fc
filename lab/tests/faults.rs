//! The lab's fault injection against a fleet of real agents: a gateway restart drops every
//! session and the agents come back on the same address; agents whose power is cut in the
//! middle of a rotation boot again from what they persisted and end on a certificate they
//! connect with; the identity count and the jobs report say so, and the HTTP routes serve
//! the same.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::time::Duration;

use fleetid_lab::faults::{Faults, PowerCut};
use fleetid_lab::fleet::process::DeviceCommand;
use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::registry::{NewJob, arn};
use fleetid_lab::{DeviceHost, Lab, LabHandle, LabOptions};

const DEVICES: usize = 10;

async fn quiet_lab(dir: &std::path::Path) -> LabHandle {
    quiet_lab_on(dir, DeviceHost::Here).await
}

async fn quiet_lab_on(dir: &std::path::Path, device_host: DeviceHost) -> LabHandle {
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 7,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.to_owned()),
        status_interval: Duration::from_secs(2),
        device_host,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    all_working(&lab, Duration::from_secs(60), "boot").await;
    lab
}

/// Waits (bounded) until every agent connects with the certificate it reports.
async fn all_working(lab: &LabHandle, within: Duration, what: &str) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let report = lab.faults().identities();
        if report.agents == DEVICES && report.working == DEVICES {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not every agent works after {within:?}: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A rotation job over every device of the lab.
fn rotate_every_device(lab: &LabHandle, job_id: &str) {
    lab.registry
        .create_job(NewJob {
            job_id: job_id.into(),
            targets: lab.plan.iter().map(|d| arn(&format!("thing/{}", d.name))).collect(),
            document: Some(
                r#"{"operation":"fleetid.rotate.v1","action":"rotate","template":"fleetid-rotate","deadlineSeconds":60}"#
                    .into(),
            ),
            ..NewJob::default()
        })
        .unwrap();
}

/// Cuts up to `count` agents as soon as some are mid-rotation (bounded).
async fn cut_mid_rotation(faults: &Faults, count: usize) -> PowerCut {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let cut = faults.cut_power(count, Duration::from_millis(500), 1);
        if !cut.cut.is_empty() {
            assert!(
                cut.cut.len() <= count && cut.rotating >= cut.cut.len(),
                "{cut:?}"
            );
            return cut;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no agent was seen mid-rotation"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits (bounded) until every execution of `job_id` ended and every agent is on a
/// certificate it connects with; then checks that no job was created twice and that at least
/// `cut` agents booted again.
async fn settled(faults: &Faults, job_id: &str, cut: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let jobs = faults.jobs();
        let open = jobs.jobs[job_id]
            .iter()
            .filter(|(status, _)| matches!(status.as_str(), "QUEUED" | "IN_PROGRESS"))
            .map(|(_, n)| n)
            .sum::<usize>();
        let report = faults.identities();
        if open == 0 && report.working == DEVICES {
            assert_eq!(report.agents, DEVICES);
            assert_eq!(jobs.executions, DEVICES);
            assert_eq!(jobs.things_in_several_jobs, 0);
            assert_eq!(jobs.create_refused_as_existing, 0);
            assert!(report.rebooted >= cut, "{report:?}");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not settled: {jobs:?} {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_restart_drops_every_session_and_the_agents_come_back_on_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab(dir.path()).await;
    let faults = lab.faults();
    assert_eq!(faults.gateway_restarts(), 0);

    assert_eq!(faults.restart_gateway(Duration::from_millis(1500)), 0);
    // While it is down nobody is connected, and nobody can connect.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while lab.connected() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lab.connected(), 0, "sessions survived the restart");
    assert_eq!(faults.gateway_restarts(), 1);
    assert_eq!(faults.identities().working, 0);
    assert!(
        tokio::net::TcpStream::connect(lab.mqtt_addr).await.is_err(),
        "the gateway listened while down"
    );

    all_working(&lab, Duration::from_secs(30), "after the restart").await;
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_whose_power_is_cut_mid_rotation_boot_again_and_end_on_a_working_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab(dir.path()).await;
    let faults = lab.faults();
    let before: Vec<String> = lab
        .plan
        .iter()
        .map(|d| {
            lab.agent_state(&d.name)
                .unwrap()
                .active
                .unwrap()
                .fingerprint
        })
        .collect();

    rotate_every_device(&lab, "rotate-under-faults");
    let cut = cut_mid_rotation(&faults, 3).await;
    // The agents cut are off: another cut at once picks none of them again.
    let again = faults.cut_power(DEVICES, Duration::from_millis(500), 2);
    assert!(
        again.cut.iter().all(|thing| !cut.cut.contains(thing)),
        "{cut:?} then {again:?}"
    );
    // Every execution ends, every agent is on a certificate it connects with, and the cut
    // ones booted again.
    settled(
        &faults,
        "rotate-under-faults",
        cut.cut.len() + again.cut.len(),
    )
    .await;
    for thing in cut.cut.iter().chain(&again.cut) {
        let state = lab.agent_state(thing).unwrap();
        assert!(state.boot_count > 1, "{thing} did not boot again");
    }
    let rotated = lab
        .plan
        .iter()
        .zip(&before)
        .filter(|(d, old)| {
            lab.agent_state(&d.name)
                .unwrap()
                .active
                .unwrap()
                .fingerprint
                != **old
        })
        .count();
    assert!(rotated > 0, "no agent rotated");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_in_a_device_process_are_cut_mid_rotation_over_its_pipe_and_end_working() {
    // The scale binary's `devices` mode is a device process (`fleet::process::run_child`).
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab_on(
        dir.path(),
        DeviceHost::Process(DeviceCommand {
            program: env!("CARGO_BIN_EXE_fleetid-lab-scale").into(),
            args: vec!["devices".into()],
        }),
    )
    .await;
    let child = lab.device_process_id().expect("a device process");
    assert_ne!(child, std::process::id());
    // Its agents are not this process's.
    assert!(lab.agent_state(&lab.plan[0].name).is_none());
    let faults = lab.faults();
    rotate_every_device(&lab, "rotate-elsewhere");
    let cut = cut_mid_rotation(&faults, 2).await;
    settled(&faults, "rotate-elsewhere", cut.cut.len()).await;
    lab.shutdown().await;
    // The device process ended with the lab.
    assert!(
        !std::path::Path::new(&format!("/proc/{child}")).exists()
            || std::fs::read_to_string(format!("/proc/{child}/stat"))
                .is_ok_and(|s| s.contains(") Z")),
        "the device process outlived the lab"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_routes_answer_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fleetid_lab::faults::serve(listener, lab.faults(), async {
        let _ = stopped.await;
    }));

    let identities = http(addr, "GET", "/faults/identities").await;
    assert!(
        identities.contains(&format!("\"working\":{DEVICES}")),
        "{identities}"
    );
    let jobs = http(addr, "GET", "/faults/jobs").await;
    assert!(jobs.contains("\"executions\":0"), "{jobs}");
    // Nobody is rotating: nothing to cut.
    let cut = http(addr, "POST", "/faults/power-cut?count=5&down_ms=10").await;
    assert!(
        cut.contains("\"cut\":[]") && cut.contains("\"rotating\":0"),
        "{cut}"
    );
    let restart = http(addr, "POST", "/faults/gateway-restart?down_ms=200").await;
    assert!(restart.contains("\"restarts_before\":0"), "{restart}");
    all_working(&lab, Duration::from_secs(30), "after the restart").await;

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    lab.shutdown().await;
}

/// One HTTP/1.1 request without a body; the answer's body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: lab\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer.split_once("\r\n\r\n").unwrap().1.to_owned()
}
