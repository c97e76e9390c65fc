//! Rotation campaigns through the real binary against moto, for the AWS resource paths: a
//! read-only or unconfirmed start creates nothing; `rotate start` makes stage 1's static thing
//! group (its devices, chosen from the target) and its job (the agent's rotate document,
//! abort, timeout and rollout configuration), read back with the SDK; a console killed
//! between CreateJob and recording it does not create the job again when it carries on; a
//! second start of the same campaign is refused; promote before the gate passed is refused;
//! halt cancels the job and `status` exits 10; a freeze blocks resume; resume runs the devices
//! the halt stopped in a continuation job; abort cancels that one. Each step is in the audit
//! log. moto runs no device, so the gate's evidence is tested against the lab
//! (rotation_lab.rs). Needs `FLEETID_MOTO_URL` (scripts/test starts moto).
#![allow(clippy::unwrap_used)]

mod backend_support;
mod moto_fleet;

use std::path::Path;

use backend_support::moto_url;
use moto_fleet::{Fleet, code, fleetid, stderr};
use serde_json::Value;

const REGION: &str = "sa-east-1";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn describe_job(fleet: &Fleet, job: &str) -> Option<aws_sdk_iot::types::Job> {
    fleet.runtime.block_on(async {
        fleet
            .iot
            .describe_job()
            .job_id(job)
            .send()
            .await
            .ok()
            .and_then(|o| o.job().cloned())
    })
}

fn group_members(fleet: &Fleet, group: &str) -> Vec<String> {
    fleet.runtime.block_on(async {
        let mut things = fleet
            .iot
            .list_things_in_thing_group()
            .thing_group_name(group)
            .send()
            .await
            .map(|o| o.things().to_vec())
            .unwrap_or_default();
        things.sort();
        things
    })
}

fn stored_campaign(dir: &Path, id: &str) -> Value {
    let db = rusqlite::Connection::open(dir.join("cache.sqlite3")).unwrap();
    let text: String = db
        .query_row("SELECT state FROM campaigns WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn store_campaign(dir: &Path, id: &str, state: &Value) {
    let db = rusqlite::Connection::open(dir.join("cache.sqlite3")).unwrap();
    db.execute(
        "UPDATE campaigns SET state = ?2 WHERE id = ?1",
        [id, &state.to_string()],
    )
    .unwrap();
}

/// `n` devices in moto, all in one static thing group (`<prefix>-meters`), the campaign's
/// target.
fn fleet_in_group(prefix: &str, n: usize) -> (Fleet, String) {
    let fleet = Fleet::new(REGION, prefix, n);
    let group = format!("{prefix}-meters");
    fleet.runtime.block_on(async {
        fleet
            .iot
            .create_thing_group()
            .thing_group_name(&group)
            .send()
            .await
            .unwrap();
        for (_, _, thing) in &fleet.devices {
            fleet
                .iot
                .add_thing_to_thing_group()
                .thing_group_name(&group)
                .thing_name(thing)
                .send()
                .await
                .unwrap();
        }
    });
    (fleet, group)
}

#[test]
fn stages_are_groups_and_jobs_created_once_and_halt_resume_abort_act_on_them() {
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("rot");
    let (fleet, target_group) = fleet_in_group(&prefix, 5);
    let id = prefix.replace('.', "-");
    let file = dir.path().join("campaign.toml");
    std::fs::write(
        &file,
        format!(
            "id = \"{id}\"\ntarget = {{ group = \"{target_group}\" }}\nstages = [40, 100]\n\
             [gate]\nsoak = \"0s\"\n[job]\ntimeout = \"15m\"\nrollout_per_minute = 50\n"
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let (job1, group1) = (
        format!("fleetid-rotate-{id}-s1"),
        format!("fleetid-rotate-{id}-s1"),
    );
    let run = |args: &[&str]| fleetid(&url, REGION, dir.path(), args);

    let plan = run(&["rotate", "plan", file]);
    assert_eq!(code(&plan), Some(0), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("stage 1 (to 40 %): 2 devices"),
        "{}",
        stdout(&plan)
    );

    // Read-only, or not confirmed: nothing is created.
    let refused = run(&["--read-only", "rotate", "start", file, "--yes"]);
    assert_eq!(code(&refused), Some(6), "{}", stderr(&refused));
    let unconfirmed = run(&["rotate", "start", file]);
    assert_eq!(code(&unconfirmed), Some(2), "{}", stderr(&unconfirmed));
    assert!(
        stderr(&unconfirmed).contains("--yes"),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(describe_job(&fleet, &job1).is_none());

    let started = run(&["rotate", "start", file, "--yes"]);
    assert_eq!(code(&started), Some(0), "{}", stderr(&started));
    let members = group_members(&fleet, &group1);
    assert_eq!(members.len(), 2, "{members:?}");
    let job = describe_job(&fleet, &job1).expect("stage 1's job exists");
    assert!(job.targets()[0].ends_with(&format!("thinggroup/{group1}")));
    assert_eq!(
        job.timeout_config()
            .and_then(aws_sdk_iot::types::TimeoutConfig::in_progress_timeout_in_minutes),
        Some(15)
    );
    assert_eq!(
        job.job_executions_rollout_config()
            .and_then(aws_sdk_iot::types::JobExecutionsRolloutConfig::maximum_per_minute),
        Some(50)
    );
    let criteria = &job.abort_config().unwrap().criteria_list()[0];
    assert_eq!(criteria.threshold_percentage(), 1.0);
    assert_eq!(criteria.action().as_str(), "CANCEL");
    let document: Value = fleet.runtime.block_on(async {
        let out = fleet
            .iot
            .get_job_document()
            .job_id(&job1)
            .send()
            .await
            .unwrap();
        serde_json::from_str(out.document().unwrap()).unwrap()
    });
    assert_eq!(document["operation"], "fleetid.rotate.v1");
    assert_eq!(document["action"], "rotate");
    assert_eq!(document["template"], "fleetid-rotate");
    let created = job.created_at().cloned();

    // Killed after CreateJob, before the state recorded it: carrying on finds the job.
    let mut state = stored_campaign(dir.path(), &id);
    state["stages"][0]["job_status"] = Value::Null;
    store_campaign(dir.path(), &id, &state);
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(0), "{}", stderr(&status));
    assert_eq!(
        describe_job(&fleet, &job1).unwrap().created_at().cloned(),
        created,
        "the job was created again"
    );
    assert_ne!(
        stored_campaign(dir.path(), &id)["stages"][0]["job_status"],
        Value::Null
    );

    let again = run(&["rotate", "start", file, "--yes"]);
    assert_eq!(code(&again), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("was started before"),
        "{}",
        stderr(&again)
    );
    let early = run(&["rotate", "promote", &id, "--stage", "2", "--yes"]);
    assert_eq!(code(&early), Some(2), "{}", stderr(&early));
    assert!(describe_job(&fleet, &format!("fleetid-rotate-{id}-s2")).is_none());

    let halted = run(&["rotate", "halt", &id, "--reason", "stop for the test"]);
    assert_eq!(code(&halted), Some(0), "{}", stderr(&halted));
    assert_eq!(
        describe_job(&fleet, &job1)
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "CANCELED"
    );
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(10), "{}", stderr(&status));
    assert!(stdout(&status).contains("HALTED"), "{}", stdout(&status));

    let freeze = run(&["freeze", "--reason", "change freeze"]);
    assert_eq!(code(&freeze), Some(0), "{}", stderr(&freeze));
    let frozen = run(&["rotate", "resume", &id, "--reason", "looked at it"]);
    assert_eq!(code(&frozen), Some(2), "{}", stderr(&frozen));
    assert!(stderr(&frozen).contains("frozen"), "{}", stderr(&frozen));
    let unfreeze = run(&["unfreeze", "--reason", "over"]);
    assert_eq!(code(&unfreeze), Some(0), "{}", stderr(&unfreeze));

    // moto runs no device: no execution finished, so both devices run again.
    let resumed = run(&["rotate", "resume", &id, "--reason", "looked at it"]);
    assert_eq!(code(&resumed), Some(0), "{}", stderr(&resumed));
    let retry = format!("{job1}-r1");
    assert!(
        describe_job(&fleet, &retry).is_some(),
        "no continuation job"
    );
    assert_eq!(group_members(&fleet, &format!("{group1}-r1")), members);

    // Killed after the halt was recorded, before its job was cancelled: reading the campaign
    // again cancels it.
    let mut state = stored_campaign(dir.path(), &id);
    state["halt"] = serde_json::json!({"at": 1, "by": "gate", "reason": "killed mid-halt"});
    store_campaign(dir.path(), &id, &state);
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(10), "{}", stderr(&status));
    assert_eq!(
        describe_job(&fleet, &retry)
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "CANCELED"
    );

    let aborted = run(&["rotate", "abort", &id, "--reason", "end of the test"]);
    assert_eq!(code(&aborted), Some(0), "{}", stderr(&aborted));
    assert_eq!(
        describe_job(&fleet, &retry)
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "CANCELED"
    );
    let json = run(&["rotate", "status", &id, "--output", "json"]);
    assert_eq!(code(&json), Some(0), "{}", stderr(&json));
    let report: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report[0]["state"], "aborted");

    let audit = run(&["audit", "--output", "json"]);
    let audit = stdout(&audit);
    for action in [
        "rotate-start",
        "rotate-stage",
        "rotate-halt",
        "rotate-resume",
        "rotate-abort",
    ] {
        assert!(
            audit.contains(action),
            "{action} not in the audit log: {audit}"
        );
    }
    assert!(audit.contains("looked at it"), "{audit}");
}

#[test]
fn a_promotion_cut_short_is_finished_by_the_next_reading() {
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("rotp");
    let (fleet, group) = fleet_in_group(&prefix, 4);
    let id = prefix.replace('.', "-");
    let file = dir.path().join("campaign.toml");
    std::fs::write(
        &file,
        format!("id = \"{id}\"\ntarget = {{ group = \"{group}\" }}\nstages = [50, 100]\n"),
    )
    .unwrap();
    let run = |args: &[&str]| fleetid(&url, REGION, dir.path(), args);
    let started = run(&["rotate", "start", file.to_str().unwrap(), "--yes"]);
    assert_eq!(code(&started), Some(0), "{}", stderr(&started));

    // Killed inside `promote`: stage 1 marked promoted, stage 2 never marked started.
    let mut state = stored_campaign(dir.path(), &id);
    state["stages"][0]["phase"] = "promoted".into();
    state["stages"][0]["at"] = 1.into();
    store_campaign(dir.path(), &id, &state);
    let job2 = format!("fleetid-rotate-{id}-s2");
    assert!(describe_job(&fleet, &job2).is_none());
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(0), "{}", stderr(&status));
    assert!(
        describe_job(&fleet, &job2).is_some(),
        "stage 2 was not started"
    );
    assert_eq!(group_members(&fleet, &job2).len(), 2);
    assert_eq!(
        stored_campaign(dir.path(), &id)["stages"][1]["phase"],
        "running"
    );
}
