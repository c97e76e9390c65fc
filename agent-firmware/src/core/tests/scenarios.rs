//! Rotation and job scenarios: commit, rollback, finalize, kill-and-resume at every rotation
//! step, anchors, unknown jobs, provisioning by claim.

use serde_json::json;

use super::support::*;
use crate::core::{Action, ConnectFailure, Event, Phase};
use crate::wire::{AgentState, RotationStep, jobs_topic};

fn refused() -> Event {
    Event::ConnectFailed(ConnectFailure::Refused {
        definite: false,
        detail: "tls handshake closed".into(),
    })
}

type StepFn<'a> = Box<dyn Fn(&mut Device) -> Vec<Action> + 'a>;

/// Runs a rotation from the job to the commit, crashing after step `crash_at` (if any).
fn rotate(device: &mut Device, job: &str, new_pem: &str, crash_at: Option<usize>) {
    let mut steps: Vec<StepFn<'_>> = vec![
        Box::new(|d| d.send(rotate_job(job))),
        Box::new(|d| d.send(Event::KeyGenerated { slot: SLOT_B })),
        Box::new(|d| {
            d.send(Event::CsrSigned {
                slot: SLOT_B,
                csr_pem: "CSR".into(),
            })
        }),
        Box::new(|d| d.send(created(new_pem))),
        Box::new(|d| d.send(provisioned("fleetid-rotate"))),
        Box::new(|d| d.send(Event::Connected)),
        Box::new(|d| d.send(update_answer(job, "verify", true))),
    ];
    let mut index = 0;
    while index < steps.len() {
        let actions = steps[index](device);
        if crash_at == Some(index) {
            let resumed = device.crash();
            // After a restart the agent redoes the interrupted step or reconnects.
            let step = device.state().rotation.as_ref().map(|r| r.step);
            match step {
                Some(RotationStep::GeneratingKey) => {
                    assert!(resumed.contains(&Action::GenerateKey { slot: SLOT_B }));
                }
                Some(RotationStep::SigningCsr) => {
                    assert!(resumed.iter().any(|a| matches!(a, Action::SignCsr { .. })));
                    // The agent also reconnects with the old certificate meanwhile.
                    assert_eq!(connect_slot(&resumed), Some(SLOT_A));
                    device.send(Event::Connected);
                }
                Some(RotationStep::CreatingCertificate | RotationStep::Provisioning) => {
                    assert_eq!(connect_slot(&resumed), Some(SLOT_A));
                    let online = device.send(Event::Connected);
                    assert!(!publishes(&online).is_empty());
                }
                Some(RotationStep::Verifying) => {
                    assert_eq!(connect_slot(&resumed), Some(SLOT_B));
                    if index == 5 {
                        // Crashed after Connected: connect again, then continue.
                        device.send(Event::Connected);
                    }
                }
                Some(RotationStep::Committed) => {
                    assert_eq!(connect_slot(&resumed), Some(SLOT_B));
                    let online = device.send(Event::Connected);
                    assert!(job_update(&online, job).is_some(), "report resent");
                    return;
                }
                other => panic!("unexpected step after crash: {other:?}"),
            }
        }
        if index == 4 && crash_at != Some(4) {
            assert_eq!(connect_slot(&actions), Some(SLOT_B));
        }
        index += 1;
    }
    steps.clear();
}

#[test]
fn rotation_commits_after_verification_and_reports_the_new_certificate() {
    let mut device = Device::active();
    let new_pem = pki().device_pems[1].clone();
    let started = device.send(rotate_job("rot-1"));
    assert_eq!(started[0], Action::Persist);
    assert!(started.contains(&Action::GenerateKey { slot: SLOT_B }));
    assert_eq!(device.agent.agent_state(), AgentState::Rotating);
    device.send(Event::KeyGenerated { slot: SLOT_B });
    let csr = device.send(Event::CsrSigned {
        slot: SLOT_B,
        csr_pem: "CSR".into(),
    });
    let (topic, body) = &publishes(&csr)[0];
    assert_eq!(topic, "$aws/certificates/create-from-csr/json");
    assert_eq!(body["certificateSigningRequest"], "CSR");
    let provision = device.send(created(&new_pem));
    let (topic, body) = &publishes(&provision)[0];
    assert_eq!(
        topic,
        "$aws/provisioning-templates/fleetid-rotate/provision/json"
    );
    assert_eq!(body["certificateOwnershipToken"], "token-1");
    let switch = device.send(provisioned("fleetid-rotate"));
    assert_eq!(
        switch[0],
        Action::Persist,
        "pending persisted before the switch"
    );
    assert_eq!(connect_slot(&switch), Some(SLOT_B));
    let pending_fp = device.agent.status().pending.unwrap().fingerprint;
    let verify = device.send(Event::Connected);
    assert_eq!(
        job_update(&verify, "rot-1").unwrap()["status"],
        "IN_PROGRESS"
    );
    assert_eq!(
        device.state().active.as_ref().unwrap().slot,
        SLOT_A,
        "not yet"
    );
    let commit = device.send(update_answer("rot-1", "verify", true));
    let report = job_update(&commit, "rot-1").unwrap();
    assert_eq!(report["status"], "SUCCEEDED");
    assert_eq!(
        report["statusDetails"]["newCertificateId"],
        pending_fp.as_str()
    );
    let state = device.state();
    assert_eq!(state.active.as_ref().unwrap().slot, SLOT_B);
    assert_eq!(state.previous.as_ref().unwrap().slot, SLOT_A);
    assert!(!commit.iter().any(|a| matches!(a, Action::DeleteKey { .. })));
    let done = device.send(update_answer("rot-1", "report", true));
    assert!(device.state().report.is_none());
    assert!(
        publishes(&done)
            .iter()
            .any(|(t, _)| *t == jobs_topic(THING, "start-next"))
    );
    assert_eq!(device.agent.agent_state(), AgentState::Active);
}

#[test]
fn a_kill_at_every_rotation_step_resumes_to_the_same_commit() {
    for crash_at in 0..7 {
        let mut device = Device::active();
        let new_pem = pki().device_pems[2].clone();
        rotate(&mut device, "rot-k", &new_pem, Some(crash_at));
        let state = device.state();
        let active = state.active.as_ref().unwrap();
        assert_eq!(active.slot, SLOT_B, "crash after step {crash_at}");
        assert_eq!(
            active.certificate_pem, new_pem,
            "crash after step {crash_at}"
        );
        assert_eq!(state.previous.as_ref().unwrap().slot, SLOT_A);
        assert_eq!(
            state.rotation.as_ref().unwrap().step,
            RotationStep::Committed
        );
    }
}

#[test]
fn unverified_certificate_rolls_back_and_reports_failed() {
    let mut device = Device::active();
    let old = device.state().active.clone();
    device.send(rotate_job("rot-2"));
    device.send(Event::KeyGenerated { slot: SLOT_B });
    device.send(Event::CsrSigned {
        slot: SLOT_B,
        csr_pem: "CSR".into(),
    });
    device.send(created(&pki().device_pems[3]));
    device.send(provisioned("fleetid-rotate"));
    device.send(refused());
    // Retries with the new certificate until the 30 s deadline, then rolls back.
    let mut rolled_back = Vec::new();
    for _ in 0..50 {
        let actions = device.tick_to_deadline();
        if connect_slot(&actions) == Some(SLOT_A) {
            rolled_back = actions;
            break;
        }
        device.send(refused());
    }
    assert!(!rolled_back.is_empty(), "rolled back to slot A");
    assert_eq!(device.state().active, old);
    let rotation = device.state().rotation.clone().unwrap();
    assert_eq!(rotation.step, RotationStep::RolledBack);
    assert!(rotation.error.unwrap().contains("not verified"));
    let online = device.send(Event::Connected);
    let report = job_update(&online, "rot-2").expect("FAILED reported once back online");
    assert_eq!(report["status"], "FAILED");
    assert_eq!(report["statusDetails"]["step"], "verifying");
}

#[test]
fn finalize_deletes_only_the_previous_key_and_only_after_commit() {
    let mut device = Device::active();
    // Nothing to finalize yet.
    let early = device.send(finalize_job("fin-0"));
    assert!(!early.iter().any(|a| matches!(a, Action::DeleteKey { .. })));
    assert_eq!(job_update(&early, "fin-0").unwrap()["status"], "SUCCEEDED");
    device.send(update_answer("fin-0", "report", true));
    rotate(&mut device, "rot-3", &pki().device_pems[1].clone(), None);
    device.send(update_answer("rot-3", "report", true));
    // A second rotation must wait for the finalize.
    let refused_job = device.send(rotate_job("rot-4"));
    assert_eq!(
        job_update(&refused_job, "rot-4").unwrap()["status"],
        "REJECTED"
    );
    device.send(update_answer("rot-4", "report", true));
    let finalize = device.send(finalize_job("fin-1"));
    assert!(finalize.contains(&Action::DeleteKey { slot: SLOT_A }));
    let done = device.send(Event::KeyDeleted { slot: SLOT_A });
    assert_eq!(job_update(&done, "fin-1").unwrap()["status"], "SUCCEEDED");
    assert!(device.state().previous.is_none());
    assert_eq!(device.state().active.as_ref().unwrap().slot, SLOT_B);
}

#[test]
fn anchor_jobs_install_and_promote_the_next_anchor() {
    let mut device = Device::active();
    let next_pem = pki().next_anchor_pem.clone();
    let next_fp = crate::core::certificate_facts(&next_pem)
        .unwrap()
        .fingerprint;
    let install = json!({"operation": "fleetid.anchor.v1", "action": "install",
        "anchorPem": next_pem});
    let installed = device.send(start_next_with("anc-1", &install));
    assert_eq!(
        job_update(&installed, "anc-1").unwrap()["status"],
        "SUCCEEDED"
    );
    assert_eq!(
        device.agent.status().anchors.next.as_deref(),
        Some(next_fp.as_str())
    );
    device.send(update_answer("anc-1", "report", true));
    let promote = json!({"operation": "fleetid.anchor.v1", "action": "promote",
        "fingerprint": next_fp});
    device.send(start_next_with("anc-2", &promote));
    let anchors = device.agent.status().anchors;
    assert_eq!(anchors.current, next_fp);
    assert!(anchors.next.is_none());
    // Connections use the promoted anchor.
    device.send(Event::Disconnected {
        reason: "test".into(),
    });
    let reconnect = device.tick_to_deadline();
    let Some(Action::Connect { anchors, .. }) = reconnect
        .iter()
        .find(|a| matches!(a, Action::Connect { .. }))
    else {
        panic!("no reconnect: {reconnect:?}");
    };
    assert_eq!(anchors, &vec![next_pem]);
}

#[test]
fn an_anchor_that_is_not_a_ca_certificate_is_refused_and_the_next_anchor_kept() {
    let mut device = Device::active();
    let next_pem = pki().next_anchor_pem.clone();
    let install = json!({"operation": "fleetid.anchor.v1", "action": "install",
        "anchorPem": next_pem});
    device.send(start_next_with("anc-1", &install));
    device.send(update_answer("anc-1", "report", true));
    let before = device.agent.status().anchors;
    assert!(before.next.is_some());
    let leaf = json!({"operation": "fleetid.anchor.v1", "action": "install",
        "anchorPem": pki().device_pems[1]});
    let refused = device.send(start_next_with("anc-2", &leaf));
    let report = job_update(&refused, "anc-2").unwrap();
    assert_eq!(report["status"], "FAILED");
    assert_eq!(
        report["statusDetails"]["reason"],
        "the anchor is not a CA certificate"
    );
    assert_eq!(device.agent.status().anchors, before);
}

#[test]
fn unknown_job_documents_are_rejected_with_the_reason() {
    let mut device = Device::active();
    let actions = device.send(start_next_with(
        "fw-1",
        &json!({"operation": "firmware.v9"}),
    ));
    let report = job_update(&actions, "fw-1").unwrap();
    assert_eq!(report["status"], "REJECTED");
    assert!(
        report["statusDetails"]["reason"]
            .as_str()
            .unwrap()
            .contains("firmware.v9")
    );
}

#[test]
fn claim_provisioning_gets_a_certificate_then_registers_it() {
    let mut device = Device::new(claim_policy());
    let boot = device.send(Event::Boot);
    assert!(boot.contains(&Action::GenerateKey { slot: SLOT_A }));
    assert_eq!(device.agent.agent_state(), AgentState::Unprovisioned);
    device.send(Event::KeyGenerated { slot: SLOT_A });
    let signed = device.send(Event::CsrSigned {
        slot: SLOT_A,
        csr_pem: "CSR".into(),
    });
    assert_eq!(connect_slot(&signed), Some(CLAIM_SLOT));
    let online = device.send(Event::Connected);
    assert_eq!(
        publishes(&online)[0].0,
        "$aws/certificates/create-from-csr/json"
    );
    device.send(created(&pki().device_pems[0]));
    let registered = device.send(provisioned("fleetid-provision"));
    assert_eq!(connect_slot(&registered), Some(SLOT_A));
    assert_eq!(device.state().phase, Phase::Registering);
    device.send(Event::Connected);
    device.send(start_next_rejected());
    assert_eq!(device.state().phase, Phase::Active);
}
