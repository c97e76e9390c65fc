//! The demo scenario with its devices in a second process (the scale binary's `devices`
//! mode, `fleet::process::run_child`): every registration is decided and the things that
//! share a certificate end up holding it, as in one process — the lab attaches the shared
//! certificate from its registry, wherever the devices run.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::time::Duration;

use fleetid_lab::fleet::process::DeviceCommand;
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::{DeviceHost, Lab, LabOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_scenario_boots_in_a_device_process_and_its_shared_certificate_is_shared() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: 60,
        seed: 5,
        scenario: Scenario::Demo,
        state_dir: Some(dir.path().to_owned()),
        device_host: DeviceHost::Process(DeviceCommand {
            program: env!("CARGO_BIN_EXE_fleetid-lab-scale").into(),
            args: vec!["devices".into()],
        }),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let (sharer, owner) = lab
        .plan
        .iter()
        .find_map(|d| match &d.role {
            Role::SharesCertificateOf(owner) => Some((d.name.clone(), owner.clone())),
            _ => None,
        })
        .expect("the demo plan has a shared certificate");
    let registrations = lab
        .plan
        .iter()
        .filter(|d| !matches!(d.role, Role::SharesCertificateOf(_)))
        .count();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(!lab.device_process_ended(), "the device process ended");
        let progress = *lab.progress.borrow();
        let shared = lab.registry.thing(&sharer).unwrap().principals;
        if progress.provisioned + progress.rejected >= registrations && !shared.is_empty() {
            let owned = lab.registry.thing(&owner).unwrap().principals;
            assert!(shared.is_subset(&owned), "{shared:?} not among {owned:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not booted: {progress:?}, {sharer} holds {shared:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    lab.shutdown().await;
}
