//! The ops engine through the real binary against moto: `--dry-run`, a differing
//! `--expect-count` and `--read-only` each leave the registry unchanged; revoke attaches
//! the deny-all policy, sets INACTIVE (REVOKED with --permanent) and quarantines the thing,
//! as read back with the SDK; restore undoes it; a revoked certificate cannot be restored;
//! an apply killed between two calls resumes with `ops resume` and makes no call twice.
//! moto has no data plane, so the session cut is reported as not supported. Needs
//! `FLEETID_MOTO_URL` (scripts/test starts moto).
#![allow(clippy::unwrap_used)]

mod backend_support;
mod moto_fleet;

use aws_sdk_iot::types::CertificateStatus;
use backend_support::moto_url;
use moto_fleet::{Fleet, code, fleetid, revoke_killed_after_three_calls, stderr};

#[test]
fn refusals_leave_moto_unchanged_and_revoke_and_restore_are_read_back() {
    let region = "eu-south-2";
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::new(region, &backend_support::unique_prefix("ops-moto"), 2);
    let thing = fleet.devices[0].2.clone();
    let before = fleet.state(0);
    assert_eq!(before.0, "ACTIVE");

    // --dry-run prints exactly the calls, makes none.
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["revoke", "--thing", &thing, "--dry-run", "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let operations: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["call"]["operation"].as_str().unwrap())
        .collect();
    // The policy and the group are created first when missing (a moto that ran this test
    // before has them).
    let (prep, per_target) = operations.split_at(operations.len() - 4);
    assert!(
        prep.iter()
            .all(|op| ["iot:CreatePolicy", "iot:CreateThingGroup"].contains(op)),
        "{operations:?}"
    );
    assert_eq!(
        per_target,
        [
            "iot:AttachPolicy",
            "iot:UpdateCertificate",
            "iot:AddThingToThingGroup",
            "iot:DeleteConnection"
        ]
    );
    assert_eq!(
        plan["targets"][0]["certificate_arn"],
        fleet.devices[0].1.as_str()
    );
    assert_eq!(fleet.state(0), before, "--dry-run changed moto");

    // A differing count: exit 8, nothing changed.
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["revoke", "--thing", &thing, "--yes", "--expect-count", "2"],
    );
    assert_eq!(code(&out), Some(8), "{}", stderr(&out));
    assert_eq!(fleet.state(0), before, "a refused count changed moto");

    // Read-only: exit 6, nothing changed.
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &[
            "--read-only",
            "revoke",
            "--thing",
            &thing,
            "--yes",
            "--expect-count",
            "1",
        ],
    );
    assert_eq!(code(&out), Some(6), "{}", stderr(&out));
    assert_eq!(fleet.state(0), before, "a read-only session changed moto");

    // Not confirmed on a non-terminal: exit 2.
    let out = fleetid(&url, region, dir.path(), &["revoke", "--thing", &thing]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert_eq!(fleet.state(0), before);

    // Revoke, read back with the SDK.
    let out = fleetid(
        &url,
        region,
        dir.path(),
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
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["session_cut"],
        "session cut: not supported by this endpoint"
    );
    let target = &report["targets"][0];
    assert_eq!(target["certificate_id"], fleet.devices[0].0.as_str());
    assert_eq!(target["status_after"], "INACTIVE");
    assert_eq!(target["disconnected"], "unknown");
    assert!(
        target["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["operation"] == "iot:UpdateCertificate" && c["result"] == "done"),
        "{target}"
    );
    assert_eq!(fleet.status(0), "INACTIVE");
    assert_eq!(fleet.policies(0), ["fleetid-deny-all"]);
    assert_eq!(fleet.groups(0), ["fleetid-quarantine"]);
    assert_eq!(fleet.state(1).0, "ACTIVE", "the other device was touched");

    // Restore undoes it.
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["restore", "--thing", &thing, "--yes", "--expect-count", "1"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(
        fleet.state(0),
        ("ACTIVE".to_owned(), Vec::new(), Vec::new())
    );

    // Permanent: REVOKED, and it cannot come back.
    let cert = fleet.devices[1].0.clone();
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &[
            "revoke",
            "--permanent",
            "--cert",
            &cert,
            "--yes",
            "--expect-count",
            "1",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(fleet.status(1), "REVOKED");
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["restore", "--cert", &cert, "--yes", "--expect-count", "1"],
    );
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be restored"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fleet.status(1), "REVOKED");

    // Every plan, refusal and call is in the audit log, and the chain holds.
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["audit", "--verify", "--limit", "100", "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let audit = String::from_utf8_lossy(&out.stdout);
    for word in [
        "dry-run",
        "refused-count-differs",
        "refused-read-only",
        "refused-not-confirmed",
        "iot:AttachPolicy",
        "iot:UpdateCertificate",
    ] {
        assert!(
            audit.contains(word),
            "{word} missing from the audit log: {audit}"
        );
    }
}

#[test]
fn an_apply_killed_between_two_calls_resumes_without_a_duplicate_call() {
    let region = "me-central-1";
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("ops-resume");
    let fleet = Fleet::new(region, &prefix, 3);
    let cache = dir.path().join("cache.sqlite3");
    let query = format!("match={prefix}");
    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["revoke", "--query", &query, "--dry-run", "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let calls = plan["steps"].as_array().unwrap().len();
    assert!(calls >= 12, "{plan}");
    // Three targets, one call every 5 s to each API (the APIs proceed side by side): 10 s or
    // more of calls, killed once three calls are done. A call may be in flight when the
    // process dies (moto's DeleteConnection takes seconds to be found unsupported): resume
    // must check it rather than repeat it.
    let before = revoke_killed_after_three_calls(&url, region, dir.path(), &query);
    assert!(
        before.len() < calls,
        "the apply finished before it was killed: {before:?}"
    );

    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["ops", "list", "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let ops: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ops[0]["state"], "applying", "{ops}");
    assert_eq!(ops[0]["resumable"], true);
    let id = ops[0]["id"].as_str().unwrap().to_owned();

    let out = fleetid(
        &url,
        region,
        dir.path(),
        &["ops", "resume", &id, "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all_calls: Vec<&serde_json::Value> = report["preparations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            report["targets"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["calls"].as_array().unwrap()),
        )
        .collect();
    // What was done before the kill is not made again.
    for (step, state) in &before {
        let call = all_calls.iter().find(|c| c["step"] == *step).unwrap();
        if state == "done" {
            assert_eq!(
                call["result"], "done earlier",
                "step {step} was made again: {call}"
            );
        }
    }
    // One audit entry per call made: none twice.
    let db = rusqlite::Connection::open(&cache).unwrap();
    let mut statement = db
        .prepare("SELECT action, targets, COUNT(*) FROM audit_log WHERE plan = ?1 AND action LIKE 'iot:%' GROUP BY action, targets")
        .unwrap();
    let counts: Vec<(String, String, i64)> = statement
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(counts.len(), calls, "{counts:?}");
    assert!(
        counts.iter().all(|(_, _, n)| *n == 1),
        "a call was made twice: {counts:?}"
    );
    for device in 0..3 {
        assert_eq!(fleet.status(device), "INACTIVE");
        assert_eq!(fleet.policies(device), ["fleetid-deny-all"]);
    }
}

/// A CA's status and auto-registration, read with the SDK. (moto ignores
/// `newAutoRegistrationStatus`: the lab's test covers disabling auto-registration.)
fn ca_state(fleet: &Fleet, ca: &str) -> (String, String) {
    fleet.runtime.block_on(async {
        let out = fleet
            .iot
            .describe_ca_certificate()
            .certificate_id(ca)
            .send()
            .await
            .unwrap();
        let d = out.certificate_description().unwrap();
        (
            d.status().unwrap().as_str().to_owned(),
            d.auto_registration_status()
                .map_or("", |s| s.as_str())
                .to_owned(),
        )
    })
}

#[test]
fn ca_operations_and_claim_disable_are_planned_confirmed_and_read_back() {
    let region = "ca-central-1";
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("ops-ca");
    // A claim certificate first (no thing), then a CA with two device certificates.
    let mut fleet = Fleet::new(region, &format!("{prefix}-claim"), 0);
    let claim = rcgen::generate_simple_self_signed(vec!["claim".into()]).unwrap();
    let ca = backend_support::root_ca(&format!("{prefix} issuing CA"));
    let (claim_id, ca_id) = fleet.runtime.block_on(async {
        let claim = fleet
            .iot
            .register_certificate_without_ca()
            .certificate_pem(claim.cert.pem())
            .status(CertificateStatus::Active)
            .send()
            .await
            .unwrap();
        let ca_id = backend_support::register_ca(&fleet.iot, &ca).await;
        for i in 0..2 {
            let thing = format!("{prefix}-dev-{i}");
            let (pem, _) = backend_support::device_cert(&thing, &ca, 300);
            let (id, arn) = backend_support::register_device(
                &fleet.iot,
                &pem,
                &ca.pem,
                CertificateStatus::Active,
            )
            .await;
            fleet
                .iot
                .create_thing()
                .thing_name(&thing)
                .send()
                .await
                .unwrap();
            fleet
                .iot
                .attach_thing_principal()
                .thing_name(&thing)
                .principal(&arn)
                .send()
                .await
                .unwrap();
            fleet.devices.push((id, arn, thing));
        }
        (claim.certificate_id().unwrap().to_owned(), ca_id)
    });
    let run = |args: &[&str]| fleetid(&url, region, dir.path(), args);

    // The plan names the CA and counts the ACTIVE device certificates it still signs; one
    // call, nothing changed.
    let out = run(&[
        "ca",
        "deactivate",
        "--ca",
        &ca_id,
        "--dry-run",
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["authority"]["ca_certificate_id"], ca_id.as_str());
    assert_eq!(
        plan["authority"]["active_certificates"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{plan}"
    );
    assert_eq!(plan["radius"]["certificates"], 2);
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{plan}");
    assert_eq!(steps[0]["call"]["operation"], "iot:UpdateCACertificate");
    assert_eq!(steps[0]["call"]["deactivate"], true);
    assert_eq!(steps[0]["call"]["disable_auto_registration"], false);
    assert_eq!(ca_state(&fleet, &ca_id).0, "ACTIVE");

    // The count confirmed is what the CA still signs.
    let out = run(&[
        "ca",
        "deactivate",
        "--ca",
        &ca_id,
        "--yes",
        "--expect-count",
        "1",
    ]);
    assert_eq!(code(&out), Some(8), "{}", stderr(&out));
    assert_eq!(ca_state(&fleet, &ca_id).0, "ACTIVE");

    let out = run(&[
        "ca",
        "deactivate",
        "--ca",
        &ca_id,
        "--yes",
        "--expect-count",
        "2",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(ca_state(&fleet, &ca_id).0, "INACTIVE");
    // Deactivating the CA left its device certificates as they were.
    assert_eq!(fleet.status(0), "ACTIVE");
    assert_eq!(fleet.status(1), "ACTIVE");

    // ca revoke: every device certificate it signed revoked, as revoke does.
    let out = run(&[
        "ca",
        "revoke",
        "--ca",
        &ca_id,
        "--yes",
        "--expect-count",
        "2",
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"].as_array().unwrap().len(), 2, "{report}");
    for device in 0..2 {
        assert_eq!(fleet.status(device), "INACTIVE");
        assert_eq!(fleet.policies(device), ["fleetid-deny-all"]);
        assert_eq!(fleet.groups(device), ["fleetid-quarantine"]);
    }

    // claim disable: the plan carries CloudWatch's word (moto does not answer it: said so),
    // then deny-all and INACTIVE, read back; restore brings it back.
    let out = run(&[
        "claim",
        "disable",
        "--cert",
        &claim_id,
        "--dry-run",
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evidence = plan["evidence"][0].as_str().unwrap_or_default();
    assert!(evidence.starts_with("CloudWatch: "), "{plan}");
    let operations: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["call"]["operation"].as_str().unwrap())
        .filter(|op| *op != "iot:CreatePolicy")
        .collect();
    assert_eq!(operations, ["iot:AttachPolicy", "iot:UpdateCertificate"]);
    let out = run(&[
        "claim",
        "disable",
        "--cert",
        &claim_id,
        "--yes",
        "--expect-count",
        "1",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(fleet.certificate_status(&claim_id), "INACTIVE");
    let out = run(&[
        "restore",
        "--cert",
        &claim_id,
        "--yes",
        "--expect-count",
        "1",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(fleet.certificate_status(&claim_id), "ACTIVE");
}
