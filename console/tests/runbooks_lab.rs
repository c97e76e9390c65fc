//! The runbooks of `docs/runbooks/` run as written against the in-process lab: every ```` ```sh ````
//! block of a runbook is run by bash (`-euo pipefail`), in order, with `fleetid` on `PATH`
//! pointing at the real binary aimed at the lab, in the test's own directory, and the runbook's inputs (`$THING`, `$CERT`,
//! `$CA`, `$COUNT`, `$CLAIM_CERT`) set from the lab. Every block must exit 0, and then the lab's
//! registry must show what the runbook promises: the device cut off, the CA and its devices
//! contained, the claim disabled. The commands are taken from the markdown, so a runbook and
//! the tool cannot drift apart.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fleetid_lab::fleet::claim::CLAIM_COMMON_NAME;
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::registry::{CertStatus, cert_id_of};
use fleetid_lab::{Lab, LabHandle, LabOptions};
use lab_support::{Cli, lab_environment};

/// Generous for a loaded 2-core machine; every wait ends as soon as its condition holds.
const BOOT_DEADLINE: Duration = Duration::from_secs(120);
/// One block: a few `fleetid` runs, each a refresh and at most one verified operation.
const BLOCK_DEADLINE: Duration = Duration::from_secs(300);
const DENY_ALL: &str = "fleetid-deny-all";
const QUARANTINE: &str = "fleetid-quarantine";

fn runbook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/runbooks")
        .join(name)
}

/// The ```` ```sh ```` blocks of a markdown file, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```sh block");
    blocks
}

/// Starts a lab and waits until `ready` holds for it.
async fn lab(dir: &Path, options: LabOptions, ready: impl Fn(&LabHandle) -> bool) -> LabHandle {
    let lab = Lab::start(LabOptions {
        state_dir: Some(dir.join("lab")),
        status_interval: Duration::from_secs(1),
        ..options
    })
    .await
    .unwrap();
    let started = Instant::now();
    while !ready(&lab) {
        assert!(
            started.elapsed() < BOOT_DEADLINE,
            "the lab was not ready within {BOOT_DEADLINE:?}: {:?}",
            *lab.progress.borrow()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    lab
}

/// A directory with a `fleetid` script that runs the real binary against `lab`, as an
/// operator's shell would find it on `PATH`.
fn fleetid_on_path(lab: &LabHandle, dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let quote = |p: &Path| format!("'{}'", p.display());
    let script = format!(
        "#!/bin/sh\nexec {binary} --endpoint-url {endpoint} --region {region} \
         --mqtt-endpoint {mqtt} --mqtt-ca {ca} --mqtt-cert {cert} --mqtt-key {key} \
         --mqtt-client-id fleetid-runbook-cli \"$@\"\n",
        binary = quote(Path::new(env!("CARGO_BIN_EXE_fleetid"))),
        endpoint = lab.endpoint_url,
        region = fleetid_lab::registry::REGION,
        mqtt = lab.mqtt_addr,
        ca = quote(&lab.operator.ca_pem),
        cert = quote(&lab.operator.cert_pem),
        key = quote(&lab.operator.key_pem),
    );
    let path = bin.join("fleetid");
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Runs every ```` ```sh ```` block of the runbook `name` with `inputs` set; panics with the
/// block's output when one fails.
async fn run_runbook(lab: &LabHandle, dir: &Path, name: &str, inputs: &[(&str, String)]) {
    let markdown = std::fs::read_to_string(runbook(name)).unwrap();
    let blocks = sh_blocks(&markdown);
    assert!(!blocks.is_empty(), "{name} has no ```sh block");
    let bin = fleetid_on_path(lab, dir);
    let inputs: BTreeMap<String, String> = inputs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    for (index, block) in blocks.into_iter().enumerate() {
        let (bin, dir, inputs, name) = (bin.clone(), dir.to_owned(), inputs.clone(), name);
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || run_block(&bin, &dir, &inputs, &name, index, &block))
            .await
            .unwrap();
    }
}

fn run_block(
    bin: &Path,
    dir: &Path,
    inputs: &BTreeMap<String, String>,
    name: &str,
    index: usize,
    block: &str,
) {
    let out_path = dir.join(format!("{name}.{index}.stdout"));
    let err_path = dir.join(format!("{name}.{index}.stderr"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", block])
        .current_dir(dir)
        .envs(inputs)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    let mut child = lab_environment(&mut command, dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("bash runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BLOCK_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success() && started.elapsed() <= BLOCK_DEADLINE,
        "{name}, block {index} ({status}, {:?}):\n{block}\nstdout:\n{}\nstderr:\n{}",
        started.elapsed(),
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

fn quiet(devices: usize, seed: u64) -> LabOptions {
    LabOptions {
        devices,
        seed,
        scenario: Scenario::Quiet,
        ..LabOptions::default()
    }
}

fn all_connected(devices: usize) -> impl Fn(&LabHandle) -> bool {
    move |lab| lab.progress.borrow().connected >= devices
}

/// The certificate id of a thing's (one) certificate.
fn certificate_of(lab: &LabHandle, thing: &str) -> String {
    let principals = lab.registry.thing(thing).unwrap().principals;
    let principal = principals
        .iter()
        .next()
        .expect("the thing has a certificate");
    cert_id_of(principal).to_owned()
}

fn policies_of(lab: &LabHandle, certificate_id: &str) -> Vec<String> {
    let arn = lab.registry.certificate(certificate_id).unwrap().arn;
    lab.registry
        .attached_policies(&arn)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_device_runbook_cuts_the_device_off() {
    const DEVICES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path(), quiet(DEVICES, 11), all_connected(DEVICES)).await;
    let thing = lab
        .plan
        .iter()
        .find(|d| d.role == Role::Normal)
        .map(|d| d.name.clone())
        .expect("a normal device");
    let cert = certificate_of(&lab, &thing);

    run_runbook(
        &lab,
        dir.path(),
        "revoke-device.md",
        &[("THING", thing.clone()), ("CERT", cert.clone())],
    )
    .await;

    let record = lab.registry.certificate(&cert).unwrap();
    assert_eq!(record.status, CertStatus::Inactive);
    assert!(policies_of(&lab, &cert).iter().any(|p| p == DENY_ALL));
    assert!(
        lab.registry
            .thing(&thing)
            .unwrap()
            .groups
            .contains(QUARANTINE)
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compromised_ca_runbook_contains_the_ca_and_its_devices() {
    const DEVICES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path(), quiet(DEVICES, 12), all_connected(DEVICES)).await;
    // The CA that issued the devices' certificates: the one most certificates name.
    let issued = |ca: &str| -> Vec<(String, CertStatus)> {
        lab.registry
            .list_certificates(Some(ca), None, Some(250), true)
            .unwrap()
            .0
            .into_iter()
            .map(|c| (c.id().to_owned(), c.status))
            .collect()
    };
    let ca = lab
        .registry
        .cas()
        .iter()
        .map(|ca| ca.id().to_owned())
        .max_by_key(|ca| issued(ca).len())
        .expect("a registered CA");
    let count = issued(&ca)
        .iter()
        .filter(|(_, status)| *status != CertStatus::Revoked)
        .count();
    assert!(count >= DEVICES, "the CA signs {count} certificates");

    run_runbook(
        &lab,
        dir.path(),
        "compromised-ca.md",
        &[("CA", ca.clone()), ("COUNT", count.to_string())],
    )
    .await;

    let record = lab.registry.ca(&ca).unwrap();
    assert!(!record.active, "the CA is still ACTIVE");
    assert!(!record.auto_registration, "auto-registration is still on");
    for (id, status) in issued(&ca) {
        assert_ne!(status, CertStatus::Active, "{id} is still ACTIVE");
        assert!(policies_of(&lab, &id).iter().any(|p| p == DENY_ALL), "{id}");
    }
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_misuse_runbook_disables_the_claim() {
    let dir = tempfile::tempdir().unwrap();
    // The demo scenario registers a leaked provisioning claim and misuses it.
    let options = LabOptions {
        devices: 30,
        seed: 13,
        scenario: Scenario::Demo,
        ..LabOptions::default()
    };
    let lab = lab(dir.path(), options, |lab| claim_certificate(lab).is_some()).await;
    let claim = claim_certificate(&lab).unwrap();

    run_runbook(
        &lab,
        dir.path(),
        "claim-misuse.md",
        &[("CLAIM_CERT", claim.clone())],
    )
    .await;

    let record = lab.registry.certificate(&claim).unwrap();
    assert_eq!(record.status, CertStatus::Inactive);
    assert!(policies_of(&lab, &claim).iter().any(|p| p == DENY_ALL));
    lab.shutdown().await;
}

/// The id of the provisioning claim certificate, once the lab registered it.
fn claim_certificate(lab: &LabHandle) -> Option<String> {
    let mut marker = None;
    loop {
        let (page, next) = lab
            .registry
            .list_certificates(None, marker.as_deref(), Some(250), true)
            .unwrap();
        if let Some(claim) = page
            .iter()
            .find(|c| c.facts.common_name.as_deref() == Some(CLAIM_COMMON_NAME))
        {
            return Some(claim.id().to_owned());
        }
        marker = Some(next?);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_rotation_stage_runbook_aborts_and_a_corrected_campaign_rotates_every_device() {
    const DEVICES: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path(), quiet(DEVICES, 13), all_connected(DEVICES)).await;
    let before: BTreeMap<String, String> = lab
        .plan
        .iter()
        .filter_map(|d| {
            Some((
                d.name.clone(),
                lab.agent_state(&d.name)?.active?.fingerprint,
            ))
        })
        .collect();
    assert_eq!(before.len(), DEVICES);
    let campaign = |id: &str, template: &str| {
        format!(
            "id = \"{id}\"\ntarget = {{ query = \"status=ACTIVE\" }}\nstages = [25, 100]\n\
             [gate]\nmax_failure = 0.0\nsoak = \"0s\"\nauto_promote = true\n\
             [job]\ntemplate = \"{template}\"\n"
        )
    };
    // The incident: a campaign naming a provisioning template that does not exist.
    let bad = dir.path().join("rotate-bad.toml");
    std::fs::write(&bad, campaign("rotate-bad", "fleetid-rotate-v2")).unwrap();
    let fixed = dir.path().join("rotate-fixed.toml");
    std::fs::write(&fixed, campaign("rotate-fixed", "fleetid-rotate")).unwrap();
    let cli = Cli::new(&lab, dir.path(), "fleetid-runbook-cli");
    let started = cli
        .run(
            "bad-start",
            &["rotate", "start", bad.to_str().unwrap(), "--yes"],
        )
        .await;
    assert_eq!(started.status.code(), Some(0), "{}", started.stderr);
    let halted = cli
        .run(
            "bad-watch",
            &[
                "rotate",
                "status",
                "rotate-bad",
                "--watch",
                "--interval",
                "1s",
            ],
        )
        .await;
    assert_eq!(
        halted.status.code(),
        Some(10),
        "{}\n{}",
        halted.stdout,
        halted.stderr
    );
    assert!(
        halted
            .stdout
            .contains("no provisioning template fleetid-rotate-v2"),
        "{}",
        halted.stdout
    );

    run_runbook(
        &lab,
        dir.path(),
        "failed-rotation-stage.md",
        &[
            ("CAMPAIGN", "rotate-bad".to_owned()),
            ("FIXED_FILE", fixed.display().to_string()),
            ("NEW_CAMPAIGN", "rotate-fixed".to_owned()),
        ],
    )
    .await;

    let record = std::fs::read_to_string(dir.path().join("rotation-rotate-bad.json")).unwrap();
    assert!(record.contains("no provisioning template"), "{record}");
    let status = cli
        .run("status", &["rotate", "status", "--output", "json"])
        .await;
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let states: Vec<(&str, &str)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("rotate-bad", "aborted"), ("rotate-fixed", "done")]
    );
    for (thing, old) in &before {
        let now = lab.agent_state(thing).unwrap().active.unwrap().fingerprint;
        assert_ne!(&now, old, "{thing} was not rotated");
        assert_eq!(
            lab.registry.certificate(&now).unwrap().status,
            CertStatus::Active
        );
    }
    lab.shutdown().await;
}

/// The runbooks the lab tests above run.
const RUN_HERE: [&str; 4] = [
    "claim-misuse.md",
    "compromised-ca.md",
    "failed-rotation-stage.md",
    "revoke-device.md",
];

#[test]
fn every_runbook_is_run_here_and_holds_only_fleetid_commands() {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(runbook("")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        found.push(name);
        let blocks = sh_blocks(&std::fs::read_to_string(&path).unwrap());
        assert!(!blocks.is_empty(), "{}: no ```sh block", path.display());
        for line in blocks.iter().flat_map(|b| b.lines()) {
            let command = line.trim();
            assert!(
                command.is_empty() || command.starts_with('#') || command.starts_with("fleetid "),
                "{}: {command:?} is not a fleetid command",
                path.display()
            );
        }
    }
    found.sort();
    assert_eq!(found, RUN_HERE, "a runbook without a lab test here");
}
