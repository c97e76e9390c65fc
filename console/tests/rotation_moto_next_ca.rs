//! A campaign onto another CA through the real binary against moto, for the anchor stage's
//! AWS resources: a `next_ca` AWS does not know, or one that is INACTIVE, refuses the start
//! and records nothing;
//! `rotate start` makes the anchor stage's static thing group (every device of the campaign)
//! and its job (the agent's anchor install document with the CA's PEM as DescribeCACertificate
//! gives it, the campaign's abort, timeout and rollout), and no rotation stage before the
//! anchor gate passed; a console killed between CreateJob and recording it does not create
//! the job again; `status` reports the share holding the next anchor; halt cancels the anchor
//! job; a resume accepts the anchor stage as it stands, and stage 1 then sets aside every
//! device that does not hold the anchor instead of rotating it onto a CA it does not trust.
//! moto runs no device, so the agents' side is tested against the lab
//! (rotation_lab_next_ca.rs). Needs `FLEETID_MOTO_URL` (scripts/test starts moto).
#![allow(clippy::unwrap_used)]

mod backend_support;
mod moto_fleet;

use std::path::Path;

use backend_support::{moto_url, register_ca, root_ca};
use moto_fleet::{Fleet, code, fleetid, stderr};
use serde_json::Value;

const REGION: &str = "eu-north-1";
const DEVICES: usize = 4;

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

fn job_document(fleet: &Fleet, job: &str) -> Value {
    fleet.runtime.block_on(async {
        let out = fleet
            .iot
            .get_job_document()
            .job_id(job)
            .send()
            .await
            .unwrap();
        serde_json::from_str(out.document().unwrap()).unwrap()
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

fn campaign_file(dir: &Path, id: &str, group: &str, next_ca: &str) -> String {
    let file = dir.join(format!("{}.toml", &next_ca[..8]));
    std::fs::write(
        &file,
        format!(
            "id = \"{id}\"\ntarget = {{ group = \"{group}\" }}\nnext_ca = \"{next_ca}\"\n\
             stages = [50, 100]\n[gate]\nsoak = \"0s\"\n[job]\ntimeout = \"20m\"\n\
             rollout_per_minute = 40\n"
        ),
    )
    .unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn the_anchor_stage_is_a_group_and_a_job_created_once_before_any_rotation_stage() {
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("rotca");
    let fleet = Fleet::new(REGION, &prefix, DEVICES);
    let group = format!("{prefix}-meters");
    let ca = root_ca(&format!("{prefix} next CA"));
    let ca_id = fleet.runtime.block_on(async {
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
        register_ca(&fleet.iot, &ca).await
    });
    let mut things: Vec<String> = fleet.devices.iter().map(|d| d.2.clone()).collect();
    things.sort();
    let id = prefix.replace('.', "-");
    let run = |args: &[&str]| fleetid(&url, REGION, dir.path(), args);
    let anchor = format!("fleetid-rotate-{id}-anchor");
    let job1 = format!("fleetid-rotate-{id}-s1");

    // A next CA that is not registered: refused before anything is recorded or created.
    let unknown = campaign_file(dir.path(), &id, &group, &"ab".repeat(32));
    let refused = run(&["rotate", "start", &unknown, "--yes"]);
    assert_eq!(code(&refused), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("no CA certificate of this id is registered"),
        "{}",
        stderr(&refused)
    );
    assert!(describe_job(&fleet, &anchor).is_none());
    let none = run(&["rotate", "status", &id]);
    assert_eq!(code(&none), Some(5), "{}", stderr(&none));

    // An INACTIVE next CA: AWS IoT would refuse the certificates it issues.
    let inactive = root_ca(&format!("{prefix} inactive CA"));
    let inactive_id = fleet.runtime.block_on(async {
        let id = register_ca(&fleet.iot, &inactive).await;
        fleet
            .iot
            .update_ca_certificate()
            .certificate_id(&id)
            .new_status(aws_sdk_iot::types::CaCertificateStatus::Inactive)
            .send()
            .await
            .unwrap();
        id
    });
    let file = campaign_file(dir.path(), &id, &group, &inactive_id);
    let refused = run(&["rotate", "start", &file, "--yes"]);
    assert_eq!(code(&refused), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("is INACTIVE"),
        "{}",
        stderr(&refused)
    );
    assert!(describe_job(&fleet, &anchor).is_none());

    let file = campaign_file(dir.path(), &id, &group, &ca_id);
    let plan = run(&["rotate", "plan", &file]);
    assert_eq!(code(&plan), Some(0), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains(&format!(
            "stage 0 (anchor): next CA {ca_id} to all {DEVICES} devices"
        )),
        "{}",
        stdout(&plan)
    );

    let csv = run(&["rotate", "plan", &file, "--output", "csv"]);
    assert!(
        stdout(&csv).contains(&format!("\nanchor,0,{DEVICES},{anchor},{anchor}\n")),
        "{}",
        stdout(&csv)
    );

    let started = run(&["rotate", "start", &file, "--yes"]);
    assert_eq!(code(&started), Some(0), "{}", stderr(&started));
    // moto does not answer ListCertificateProviders: the start says so and goes on.
    assert!(
        stderr(&started).contains("could not check for a certificate provider"),
        "{}",
        stderr(&started)
    );
    assert_eq!(group_members(&fleet, &anchor), things);
    let job = describe_job(&fleet, &anchor).expect("the anchor job exists");
    assert!(job.targets()[0].ends_with(&format!("thinggroup/{anchor}")));
    assert_eq!(
        job.timeout_config()
            .and_then(aws_sdk_iot::types::TimeoutConfig::in_progress_timeout_in_minutes),
        Some(20)
    );
    assert_eq!(
        job.job_executions_rollout_config()
            .and_then(aws_sdk_iot::types::JobExecutionsRolloutConfig::maximum_per_minute),
        Some(40)
    );
    assert_eq!(
        job.abort_config().unwrap().criteria_list()[0]
            .action()
            .as_str(),
        "CANCEL"
    );
    let document = job_document(&fleet, &anchor);
    assert_eq!(document["operation"], "fleetid.anchor.v1");
    assert_eq!(document["action"], "install");
    assert_eq!(
        document["anchorPem"].as_str().unwrap().trim(),
        ca.pem.trim(),
        "{document:#}"
    );
    assert!(
        describe_job(&fleet, &job1).is_none(),
        "stage 1 started before the anchor stage passed"
    );
    let created = job.created_at().cloned();

    // Killed after CreateJob, before the state recorded it: carrying on finds the job.
    let mut state = stored_campaign(dir.path(), &id);
    assert_eq!(state["anchor"]["phase"], "running");
    state["anchor"]["job_status"] = Value::Null;
    store_campaign(dir.path(), &id, &state);
    let status = run(&["rotate", "status", &id, "--output", "json"]);
    assert_eq!(code(&status), Some(0), "{}", stderr(&status));
    assert_eq!(
        describe_job(&fleet, &anchor).unwrap().created_at().cloned(),
        created,
        "the anchor job was created again"
    );
    assert_ne!(
        stored_campaign(dir.path(), &id)["anchor"]["job_status"],
        Value::Null
    );
    let report: Value = serde_json::from_str(&stdout(&status)).unwrap();
    let share = &report[0]["next_ca"];
    assert_eq!(share["ca"], ca_id.as_str(), "{share:#}");
    assert_eq!(share["devices"], DEVICES, "{share:#}");
    assert_eq!(share["holding_anchor"], 0, "{share:#}");
    assert_eq!(share["on_new_ca"], 0, "{share:#}");
    assert!(describe_job(&fleet, &job1).is_none());
    let csv = run(&["rotate", "status", &id, "--output", "csv"]);
    assert!(
        stdout(&csv).contains(&format!(",anchor,0,running,{DEVICES},0,")),
        "{}",
        stdout(&csv)
    );

    let halted = run(&["rotate", "halt", &id, "--reason", "check the CA first"]);
    assert_eq!(code(&halted), Some(0), "{}", stderr(&halted));
    assert_eq!(
        describe_job(&fleet, &anchor)
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "CANCELED"
    );
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(10), "{}", stderr(&status));

    // The person accepts the anchor stage as it stands: no device reported the anchor, so
    // stage 1 rotates none of them onto the next CA.
    let resumed = run(&["rotate", "resume", &id, "--reason", "go on without them"]);
    assert_eq!(code(&resumed), Some(0), "{}", stderr(&resumed));
    let status = run(&["rotate", "status", &id]);
    assert_eq!(code(&status), Some(0), "{}", stderr(&status));
    let state = stored_campaign(dir.path(), &id);
    assert_eq!(state["anchor"]["phase"], "passed", "{state:#}");
    // Every device of stage 1 set aside: the stage is empty, and an empty stage passes its
    // share (soak 0 s), so it may have moved on already.
    assert_ne!(state["stages"][0]["phase"], "pending", "{state:#}");
    let devices = state["stages"][0]["devices"].as_object().unwrap();
    assert_eq!(devices.len(), DEVICES / 2);
    for (thing, evidence) in devices {
        let why = evidence["set_aside"].as_str().unwrap_or_default();
        assert!(
            why.contains("does not hold the next CA as its next trust anchor"),
            "{thing}: {evidence:#}"
        );
    }
    assert!(
        group_members(&fleet, &job1).is_empty(),
        "a device without the anchor was staged"
    );
    assert_eq!(
        describe_job(&fleet, &anchor).unwrap().created_at().cloned(),
        created,
        "the anchor job was created again"
    );

    let audit = stdout(&run(&["audit", "--output", "json"]));
    assert!(audit.contains("rotate-anchor"), "{audit}");
}
