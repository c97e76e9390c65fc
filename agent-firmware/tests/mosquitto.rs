//! The driver against mosquitto (the Debian package, started per test on loopback with mTLS)
//! as an independent broker, with a responder answering the Jobs and fleet provisioning topics.

mod broker;

use std::time::Duration;

use fleetid_agent::core::{FirstIdentity, Phase};
use fleetid_agent::driver::KeyStore;
use fleetid_agent::wire::{AgentState, RotationStep};
use serde_json::{Value, json};

use broker::responder::{lock, wait_for};
use broker::{FACTORY_SERIAL, Fixture, SLOT_A, SLOT_B};

/// How long a test waits for something to happen. Generous: the waits poll and return as soon
/// as the state is reached, and CI runs every crate's tests at once on two cores.
const LIMIT: Duration = Duration::from_secs(60);

/// The verification deadline of rotations that must succeed: long enough that a loaded machine
/// does not turn a slow handshake into a rollback.
const ROTATION_DEADLINE_SECONDS: u32 = 60;

fn rotate_document(deadline_seconds: u32) -> Value {
    json!({"operation": "fleetid.rotate.v1", "action": "rotate", "template": "fleetid-rotate",
        "deadlineSeconds": deadline_seconds})
}

/// The final (clientToken "report") updates of `job_id` the cloud received.
fn reports(fixture: &Fixture, job_id: &str) -> Vec<Value> {
    lock(&fixture.cloud)
        .updates
        .iter()
        .filter(|(id, body)| id == job_id && body["clientToken"] == "report")
        .map(|(_, body)| body.clone())
        .collect()
}

#[tokio::test]
async fn registers_reports_status_rotates_and_finalizes() {
    let fixture = Fixture::new().await;
    {
        let mut cloud = lock(&fixture.cloud);
        cloud
            .queued
            .push_back(("rot-1".into(), rotate_document(ROTATION_DEADLINE_SECONDS)));
        cloud.queued.push_back((
            "fin-1".into(),
            json!({"operation": "fleetid.rotate.v1", "action": "finalize"}),
        ));
    }
    let agent = fixture.spawn(fixture.policy());
    let state = fixture
        .wait_state(LIMIT, "rotated and finalized", |s| {
            s.rotation.as_ref().is_some_and(|r| r.job_id == "fin-1")
                && s.previous.is_none()
                && s.report.is_none()
        })
        .await;
    let active = state.active.expect("active certificate");
    assert_eq!(active.slot, SLOT_B);
    assert_eq!(state.phase, Phase::Active);
    let issued = lock(&fixture.cloud).issued.clone();
    assert_eq!(issued, vec![active.fingerprint.clone()]);
    let report = reports(&fixture, "rot-1");
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["status"], "SUCCEEDED");
    assert_eq!(
        report[0]["statusDetails"]["newCertificateId"],
        active.fingerprint.as_str()
    );
    assert_eq!(reports(&fixture, "fin-1")[0]["status"], "SUCCEEDED");
    assert!(fixture.keys.public_key(SLOT_A).is_err(), "old key deleted");
    // The status stream shows the new certificate in use.
    let fingerprint = active.fingerprint.clone();
    wait_for(
        &fixture.cloud,
        LIMIT,
        "status with the new certificate",
        |c| {
            c.statuses.iter().any(|s| {
                s.state == AgentState::Active
                    && s.active
                        .as_ref()
                        .is_some_and(|a| a.fingerprint == fingerprint)
            })
        },
    )
    .await;
    agent.stop().await;
}

#[tokio::test]
async fn an_unverifiable_certificate_rolls_back_and_reports_failed() {
    let fixture = Fixture::new().await;
    {
        let mut cloud = lock(&fixture.cloud);
        cloud.issue_untrusted = true;
        cloud
            .queued
            .push_back(("rot-bad".into(), rotate_document(2)));
    }
    let agent = fixture.spawn(fixture.policy());
    let state = fixture
        .wait_state(LIMIT, "rolled back and reported", |s| {
            s.rotation
                .as_ref()
                .is_some_and(|r| r.step == RotationStep::RolledBack)
                && s.report.is_none()
        })
        .await;
    assert_eq!(
        state.active.expect("active").certificate_pem,
        fixture.factory_pem
    );
    assert!(state.previous.is_none());
    let report = reports(&fixture, "rot-bad");
    assert_eq!(report[0]["status"], "FAILED");
    assert!(
        report[0]["statusDetails"]["reason"]
            .as_str()
            .unwrap()
            .contains("not verified")
    );
    assert_eq!(state.phase, Phase::Active);
    agent.stop().await;
}

/// Kills the agent while the cloud withholds the answer to `kind`, restarts it, and checks
/// that the rotation completes exactly once with the new certificate.
async fn kill_and_resume(kind: &'static str, waiting_at: RotationStep) {
    let fixture = Fixture::new().await;
    {
        let mut cloud = lock(&fixture.cloud);
        cloud.drop_once.insert(kind);
        cloud
            .queued
            .push_back(("rot-k".into(), rotate_document(ROTATION_DEADLINE_SECONDS)));
    }
    let agent = fixture.spawn(fixture.policy());
    fixture
        .wait_state(LIMIT, "waiting at the step", |s| {
            s.rotation.as_ref().is_some_and(|r| r.step == waiting_at)
        })
        .await;
    wait_for(&fixture.cloud, LIMIT, "request dropped", |c| {
        !c.drop_once.contains(kind)
    })
    .await;
    agent.kill().await;
    let agent = fixture.spawn(fixture.policy());
    let state = fixture
        .wait_state(LIMIT, "committed after the restart", |s| {
            s.rotation
                .as_ref()
                .is_some_and(|r| r.step == RotationStep::Committed)
                && s.report.is_none()
        })
        .await;
    let active = state.active.expect("active");
    assert_eq!(active.slot, SLOT_B, "{kind}");
    assert_eq!(state.previous.expect("previous").slot, SLOT_A, "{kind}");
    let report = reports(&fixture, "rot-k");
    assert_eq!(report.len(), 1, "{kind}: one final report");
    assert_eq!(
        report[0]["statusDetails"]["newCertificateId"],
        active.fingerprint.as_str()
    );
    assert!(
        fixture.keys.public_key(SLOT_A).is_ok(),
        "{kind}: old key kept"
    );
    agent.stop().await;
}

#[tokio::test]
async fn kill_while_waiting_for_create_from_csr() {
    kill_and_resume("create", RotationStep::CreatingCertificate).await;
}

#[tokio::test]
async fn kill_while_waiting_for_provision() {
    kill_and_resume("provision", RotationStep::Provisioning).await;
}

#[tokio::test]
async fn kill_while_verifying_the_new_certificate() {
    kill_and_resume("verify", RotationStep::Verifying).await;
}

#[tokio::test]
async fn kill_after_commit_before_the_report_is_delivered() {
    kill_and_resume("report", RotationStep::Committed).await;
}

#[tokio::test]
async fn a_revoked_certificate_stops_publishing_and_recovers_when_it_works_again() {
    let mut fixture = Fixture::new().await;
    let mut policy = fixture.policy();
    policy.revoked_after = 2;
    policy.slow_retry_ms = 1_000;
    policy.status_interval_ms = 200;
    let agent = fixture.spawn(policy);
    fixture
        .wait_state(LIMIT, "active", |s| s.phase == Phase::Active)
        .await;
    // The CA revokes the certificate; the broker restarts with the CRL and refuses it.
    fixture
        .broker
        .replace_file("crl.pem", &fixture.ca.crl(&[FACTORY_SERIAL]));
    fixture.broker.restart();
    let revoked = fixture
        .wait_state(LIMIT, "revoked", |s| s.phase == Phase::Revoked)
        .await;
    assert!(revoked.active.is_some(), "the certificate is kept");
    let reason = revoked.last_disconnect.unwrap_or_default();
    assert!(
        reason.contains("Revoked"),
        "the TLS alert is the definite signal: {reason}"
    );
    // No status while revoked: nothing arrives over a few retry periods.
    let seen = lock(&fixture.cloud).statuses.len();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        lock(&fixture.cloud).statuses.len(),
        seen,
        "published while revoked"
    );
    // The certificate works again (an INACTIVE certificate re-activated): the agent recovers.
    fixture.broker.replace_file("crl.pem", &fixture.ca.crl(&[]));
    fixture.broker.restart();
    fixture
        .wait_state(LIMIT, "active again", |s| s.phase == Phase::Active)
        .await;
    wait_for(&fixture.cloud, LIMIT, "status after recovery", |c| {
        c.statuses.len() > seen
            && c.statuses
                .last()
                .is_some_and(|s| s.state == AgentState::Active)
    })
    .await;
    agent.stop().await;
}

#[tokio::test]
async fn the_next_anchor_authenticates_a_new_server_ca_and_is_promoted() {
    let mut fixture = Fixture::new().await;
    let next = fixture.next_server_ca.clone();
    let next_fp = fleetid_agent::core::certificate_facts(&next.pem())
        .expect("anchor")
        .fingerprint;
    lock(&fixture.cloud).queued.push_back((
        "anc-install".into(),
        json!({"operation": "fleetid.anchor.v1", "action": "install", "anchorPem": next.pem()}),
    ));
    let agent = fixture.spawn(fixture.policy());
    fixture
        .wait_state(LIMIT, "next anchor installed", |s| {
            s.anchors
                .next
                .as_ref()
                .is_some_and(|a| a.fingerprint == next_fp)
                && s.report.is_none()
        })
        .await;
    // The server moves to a certificate from the new CA: only the next anchor accepts it.
    let connects = fixture.state().expect("state").connects;
    lock(&fixture.cloud).queued.push_back((
        "anc-promote".into(),
        json!({"operation": "fleetid.anchor.v1", "action": "promote", "fingerprint": next_fp}),
    ));
    let (server_pem, server_key, _) = next.leaf("broker", &["127.0.0.1"]);
    fixture.broker.replace_file("server.pem", &server_pem);
    fixture.broker.replace_file("server.key", &server_key);
    fixture.broker.restart();
    let state = fixture
        .wait_state(LIMIT, "reconnected and promoted", |s| {
            s.connects > connects && s.anchors.current.fingerprint == next_fp && s.report.is_none()
        })
        .await;
    assert!(state.anchors.next.is_none());
    assert_eq!(reports(&fixture, "anc-promote")[0]["status"], "SUCCEEDED");
    wait_for(
        &fixture.cloud,
        LIMIT,
        "status reporting the promoted anchor",
        |c| {
            c.statuses
                .iter()
                .any(|s| s.anchors.current == next_fp && s.anchors.next.is_none())
        },
    )
    .await;
    agent.stop().await;
}

#[tokio::test]
async fn provisioning_by_claim_gets_a_certificate_and_becomes_active() {
    let fixture = Fixture::new().await;
    // The factory put a claim key in the SE and a shared claim certificate on the device.
    let claim_slot = 0x1000_0009;
    fixture.keys.generate_p256(claim_slot).expect("claim key");
    let claim_pem = fixture.ca.leaf_for_key(
        "claim",
        fixture.keys.public_key(claim_slot).expect("public key"),
        0xc1a1,
    );
    let mut policy = fixture.policy();
    policy.first_identity = FirstIdentity::Claim {
        slot: claim_slot,
        certificate_pem: claim_pem,
        template: "fleetid-provision".into(),
    };
    // The device key in SLOT_A is replaced by the one provisioning generates.
    let factory_key = fixture.keys.public_key(SLOT_A).expect("factory key");
    let agent = fixture.spawn(policy);
    let state = fixture
        .wait_state(LIMIT, "provisioned and active", |s| {
            s.phase == Phase::Active
        })
        .await;
    let active = state.active.expect("active certificate");
    assert_eq!(active.slot, SLOT_A);
    assert_eq!(
        lock(&fixture.cloud).issued,
        vec![active.fingerprint.clone()]
    );
    assert_ne!(
        fixture.keys.public_key(SLOT_A).expect("new key"),
        factory_key
    );
    assert!(
        fixture.keys.public_key(claim_slot).is_ok(),
        "the claim key stays"
    );
    agent.stop().await;
}
