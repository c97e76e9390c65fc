//! A campaign onto the next CA end to end through the real binary against a lab of real
//! agents: `rotate start` pushes the next CA's certificate to every device as its next trust
//! anchor (the anchor stage: group and job `fleetid-rotate-<id>-anchor`) and starts no stage
//! before the agents report holding it; `rotate status --watch` then drives the rotation
//! stages, with the account's certificate provider (CreateCertificateProvider, which the lab
//! answers with its next CA) signing the devices' CSRs,
//! until every device is on a certificate the next CA issued. The agents' own status
//! messages report the next anchor, every device connects with a certificate the next CA
//! issued, `status` reports both shares at 100 %, and no job was created twice. Without a
//! certificate provider the start is refused; with one that signs with the wrong CA (the
//! issuing CA) stage 1's devices get certificates from it, and the gate halts the campaign
//! there, naming the issuer.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::collections::BTreeMap;
use std::time::Duration;

use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{Lab, LabOptions};
use lab_support::{Cli, Message, booted, watch_presence};
use serde_json::Value;
use tokio::sync::mpsc;

const DEVICES: usize = 6;
const ID: &str = "lab-next-ca";

/// The `anchors.next` each device last reported in its status messages, and the certificate
/// each client last connected with.
fn drain(
    rx: &mut mpsc::UnboundedReceiver<Message>,
    anchors: &mut BTreeMap<String, String>,
    connects: &mut BTreeMap<String, String>,
) {
    while let Ok((topic, body)) = rx.try_recv() {
        if let Some(client) = topic.strip_prefix("$aws/events/presence/connected/")
            && let Some(cert) = body["principalIdentifier"].as_str()
        {
            connects.insert(client.to_owned(), cert.to_owned());
        }
        if let Some(thing) = topic
            .strip_prefix("fleetid/v1/")
            .and_then(|rest| rest.strip_suffix("/status"))
            && let Some(next) = body["anchors"]["next"].as_str()
        {
            anchors.insert(thing.to_owned(), next.to_owned());
        }
    }
}

/// CreateCertificateProvider through aws-sdk-iot against the lab's API, with the function
/// that stands for one of the lab's CAs (`fleetid_lab::certificate_provider`).
async fn create_certificate_provider(lab: &fleetid_lab::LabHandle, function: &str) {
    use aws_sdk_iot::config::{Credentials, Region};
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
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
    aws_sdk_iot::Client::new(&config)
        .create_certificate_provider()
        .certificate_provider_name("rotate-onto-next-ca")
        .lambda_function_arn(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{function}"
        ))
        .account_default_for_operations(
            aws_sdk_iot::types::CertificateProviderOperation::CreateCertificateFromCsr,
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_onto_the_next_ca_pushes_the_anchor_first_then_rotates_onto_it() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 23,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().join("lab")),
        status_interval: Duration::from_secs(1),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab, DEVICES).await;
    let next_ca = lab
        .registry
        .cas()
        .into_iter()
        .find(|ca| ca.pem == lab.next_ca.certificate_pem)
        .unwrap();
    let next_id = next_ca.id().to_owned();
    let issuing_id = lab
        .registry
        .cas()
        .into_iter()
        .find(|ca| ca.pem == lab.issuing_ca.certificate_pem)
        .unwrap()
        .id()
        .to_owned();
    let mut presence =
        watch_presence(&lab, "fleetid-next-ca-presence", "$aws/events/presence/+/+").await;
    let mut status = watch_presence(&lab, "fleetid-next-ca-status", "fleetid/v1/+/status").await;
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
    assert_eq!(before.len(), DEVICES, "every agent has a certificate");
    for old in before.values() {
        let ca = lab.registry.certificate(old).unwrap().ca_id;
        assert_eq!(
            ca.as_deref(),
            Some(issuing_id.as_str()),
            "devices start under the issuing CA"
        );
    }
    // The account's certificate provider signs with the next CA from now on, created as on
    // AWS (where its Lambda function signs with the next CA's key).
    create_certificate_provider(&lab, fleetid_lab::certificate_provider::NEXT_CA_FUNCTION).await;

    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir, "fleetid-next-ca-cli");
    let file = cli_dir.join("campaign.toml");
    std::fs::write(
        &file,
        format!(
            "id = \"{ID}\"\ntarget = {{ query = \"status=ACTIVE\" }}\nnext_ca = \"{}\"\n\
             stages = [50, 100]\n[gate]\nmin_success = 100.0\nmax_failure = 0.0\nsoak = \"0s\"\n\
             auto_promote = true\n[finalize]\ngrace = \"0s\"\n",
            &next_id[..12]
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let plan = cli.run("plan", &["rotate", "plan", file]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "stage 0 (anchor): next CA {next_id} to all {DEVICES} devices"
        )),
        "{}",
        plan.stdout
    );

    let started = cli
        .run(
            "start",
            &["rotate", "start", file, "--yes", "--output", "json"],
        )
        .await;
    assert_eq!(started.status.code(), Some(0), "{}", started.stderr);
    let anchor_job = format!("fleetid-rotate-{ID}-anchor");
    let jobs = |lab: &fleetid_lab::LabHandle| -> Vec<String> {
        lab.registry
            .jobs()
            .iter()
            .map(|j| j.spec.job_id.clone())
            .collect()
    };
    assert_eq!(
        jobs(&lab),
        vec![anchor_job.clone()],
        "only the anchor job at first"
    );
    let report: Value = serde_json::from_str(&started.stdout).unwrap();
    assert_eq!(report[0]["next_ca"]["ca"], next_id.as_str(), "{report:#}");

    let watched = cli
        .run(
            "watch",
            &[
                "rotate",
                "status",
                ID,
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
    assert!(
        watched
            .stderr
            .contains("anchor stage passed its gate: 100.0 % of 6 devices"),
        "{}",
        watched.stderr
    );
    let report: Value = serde_json::from_str(&watched.stdout).unwrap();
    assert_eq!(report[0]["state"], "done", "{report:#}");
    let share = &report[0]["next_ca"];
    assert_eq!(share["devices"], DEVICES, "{share:#}");
    assert_eq!(share["holding_anchor"], DEVICES, "{share:#}");
    assert_eq!(
        share["in_status"], DEVICES,
        "the watching console saw it in their status: {share:#}"
    );
    assert_eq!(share["on_new_ca"], DEVICES, "{share:#}");
    assert_eq!(share["on_new_ca_percent"], 100.0, "{share:#}");
    assert_eq!(
        jobs(&lab),
        vec![
            anchor_job,
            format!("fleetid-rotate-{ID}-s1"),
            format!("fleetid-rotate-{ID}-s2")
        ],
        "one job per stage"
    );

    // What the devices themselves say and do: the next anchor installed and reported in
    // their status messages, and a connection with a certificate the next CA issued.
    let fingerprint = next_ca.facts.id.clone();
    let mut anchors = BTreeMap::new();
    let mut connects = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        drain(&mut status, &mut anchors, &mut BTreeMap::new());
        drain(&mut presence, &mut BTreeMap::new(), &mut connects);
        let settled = before.keys().all(|thing| {
            let active = lab
                .agent_state(thing)
                .and_then(|s| s.active)
                .map(|a| a.fingerprint);
            anchors.get(thing) == Some(&fingerprint)
                && active.is_some()
                && connects.get(thing) == active.as_ref()
        });
        if settled || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (thing, old) in &before {
        let state = lab.agent_state(thing).unwrap();
        assert_eq!(
            state.anchors.next.as_ref().map(|a| a.fingerprint.clone()),
            Some(fingerprint.clone()),
            "{thing} holds the next CA as its next trust anchor"
        );
        assert_eq!(
            anchors.get(thing),
            Some(&fingerprint),
            "{thing}'s status reports it"
        );
        let now = state.active.unwrap().fingerprint;
        assert_ne!(&now, old, "{thing} kept its certificate");
        assert_eq!(
            connects.get(thing),
            Some(&now),
            "{thing} was not seen connecting with it"
        );
        let cert = lab.registry.certificate(&now).unwrap();
        assert_eq!(cert.status.as_str(), "ACTIVE");
        assert_eq!(
            cert.ca_id.as_deref(),
            Some(next_id.as_str()),
            "{thing}'s certificate issuer"
        );
    }

    let table = cli.run("status", &["rotate", "status", ID]).await;
    assert_eq!(table.status.code(), Some(0), "{}", table.stderr);
    assert!(
        table.stdout.contains(&format!(
            "next CA {next_id}: {DEVICES} of {DEVICES} devices (100.0 %) hold it as their next \
             trust anchor, {DEVICES} (100.0 %) are on a certificate it issued\n    {DEVICES} \
             listed it in the status message a watching console saw last"
        )),
        "{}",
        table.stdout
    );
    lab.shutdown().await;
}

/// The CA id the lab registered for `pem`.
fn ca_id_of(lab: &fleetid_lab::LabHandle, pem: &str) -> String {
    lab.registry
        .cas()
        .into_iter()
        .find(|ca| ca.pem == pem)
        .unwrap()
        .id()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_certificate_provider_of_the_next_ca_nothing_reaches_stage_two() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: 4,
        seed: 29,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().join("lab")),
        status_interval: Duration::from_secs(1),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab, 4).await;
    let next_id = ca_id_of(&lab, &lab.next_ca.certificate_pem);
    let issuing_id = ca_id_of(&lab, &lab.issuing_ca.certificate_pem);
    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir, "fleetid-next-ca-halt-cli");
    let file = cli_dir.join("campaign.toml");
    std::fs::write(
        &file,
        format!(
            "id = \"lab-wrong-issuer\"\ntarget = {{ query = \"status=ACTIVE\" }}\n\
             next_ca = \"{next_id}\"\nstages = [50, 100]\n[gate]\nmin_success = 100.0\n\
             max_failure = 0.0\nsoak = \"0s\"\nauto_promote = true\n"
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    // No certificate provider at all: create-from-csr would sign with the issuing CA, so the
    // start is refused and nothing is created.
    let refused = cli
        .run("refused", &["rotate", "start", file, "--yes"])
        .await;
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no certificate provider"),
        "{}",
        refused.stderr
    );
    assert!(lab.registry.jobs().is_empty());

    // A provider that signs with the wrong CA: stage 1 rotates onto it, and its gate halts.
    create_certificate_provider(&lab, fleetid_lab::certificate_provider::ISSUING_CA_FUNCTION).await;
    let started = cli.run("start", &["rotate", "start", file, "--yes"]).await;
    assert_eq!(started.status.code(), Some(0), "{}", started.stderr);
    let watched = cli
        .run(
            "watch",
            &[
                "rotate",
                "status",
                "lab-wrong-issuer",
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
        Some(10),
        "halted: stdout:\n{}\nstderr:\n{}",
        watched.stdout,
        watched.stderr
    );
    assert!(
        watched
            .stderr
            .contains("2 issued by another CA than the next CA"),
        "{}",
        watched.stderr
    );
    let report: Value = serde_json::from_str(&watched.stdout).unwrap();
    let share = &report[0]["next_ca"];
    assert_eq!(share["holding_anchor"], 4, "{share:#}");
    assert_eq!(share["on_new_ca"], 0, "{share:#}");
    let jobs: Vec<String> = lab
        .registry
        .jobs()
        .iter()
        .map(|j| j.spec.job_id.clone())
        .collect();
    assert_eq!(
        jobs,
        vec![
            "fleetid-rotate-lab-wrong-issuer-anchor".to_owned(),
            "fleetid-rotate-lab-wrong-issuer-s1".to_owned()
        ],
        "stage 2 must not start"
    );
    // Stage 1's devices did rotate, onto certificates the issuing CA signed: the halt keeps
    // that from spreading to stage 2.
    let stage1 = report[0]["campaign"]["stages"][0]["devices"]
        .as_object()
        .unwrap();
    assert_eq!(stage1.len(), 2);
    for (thing, evidence) in stage1 {
        let cert = evidence["reported"].as_str().unwrap();
        assert_eq!(
            lab.registry.certificate(cert).unwrap().ca_id.as_deref(),
            Some(issuing_id.as_str()),
            "{thing}"
        );
        assert_eq!(evidence["issuer"], issuing_id.as_str(), "{thing}");
    }
    lab.shutdown().await;
}
