//! Driving a rotation from the console as an operator does, inside tmux (80x24), against a lab
//! of real agents: a campaign started from the CLI (two stages, promoted by hand) shows in the
//! rotation view (`7`), its first stage passes its gate while the console watches, `P` and the
//! stage number typed start stage 2, `H`, a reason and the campaign id halt it; the CLI then
//! reads the campaign HALTED (exit 10) with the stage's job cancelled, and the audit log holds
//! the promotion and the halt with its reason. Needs tmux (`scripts/test` provides it).
#![allow(clippy::unwrap_used)]

mod lab_support;
mod tmux_support;

use std::time::Duration;

use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{Lab, LabOptions};
use lab_support::{Cli, booted};
use serde_json::Value;
use tmux_support::{TmuxSession, require_tmux, wait_for_exit};

const DEVICES: usize = 8;
const CAMPAIGN: &str = "tui-rotation";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_is_watched_promoted_and_halted_from_the_rotation_view() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabOptions {
        devices: DEVICES,
        seed: 5,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.path().join("lab")),
        status_interval: Duration::from_secs(2),
        ..LabOptions::default()
    })
    .await
    .unwrap();
    booted(&lab, DEVICES).await;

    let cli_dir = dir.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli = Cli::new(&lab, &cli_dir, "fleetid-tui-rotation");
    let file = cli_dir.join("campaign.toml");
    std::fs::write(
        &file,
        format!(
            "id = \"{CAMPAIGN}\"\ntarget = {{ query = \"status=ACTIVE\" }}\nstages = [25, 100]\n\
             [gate]\nmin_success = 100.0\nmax_failure = 0.0\nsoak = \"0s\"\n"
        ),
    )
    .unwrap();
    let started = cli
        .run(
            "start",
            &["rotate", "start", file.to_str().unwrap(), "--yes"],
        )
        .await;
    assert_eq!(started.status.code(), Some(0), "{}", started.stderr);

    // The console, on the same cache and credentials, in a terminal.
    let status = cli_dir.join("tui.status");
    let script = cli.launcher("tui", &[], &status);
    let tui_dir = cli_dir.clone();
    tokio::task::spawn_blocking(move || {
        let tmux = TmuxSession::start(
            &tui_dir.join("tmux.sock"),
            &format!("sh '{}'", script.display()),
        );
        tmux.wait_for("the dashboard", |p| p.contains("7 Rotation"));
        tmux.send("7", false);
        tmux.wait_for("the campaign in the rotation view", |p| {
            p.contains(CAMPAIGN)
        });
        // Stage 1 rotates and passes while the console watches (and drives) it.
        tmux.wait_for("stage 1 to pass and wait for a person", |p| {
            p.contains("waiting to promote") && p.contains("1 waiting for promotion")
        });
        tmux.send("P", false);
        tmux.wait_for("the promotion's confirmation", |p| {
            p.contains("Confirm promote") && p.contains("Type 2")
        });
        tmux.send("2", true);
        tmux.send("Enter", false);
        tmux.wait_for("stage 2 running", |p| {
            p.contains("2 running") && !p.contains("Confirm promote")
        });
        tmux.send("H", false);
        tmux.wait_for("the halt asking why", |p| {
            p.contains("Confirm halt") && p.contains("reason>")
        });
        tmux.send("stopping to look at the pager", true);
        tmux.send("Enter", false);
        tmux.wait_for("the halt asking for the campaign id", |p| {
            p.contains(&format!("Type {CAMPAIGN}"))
        });
        tmux.send(CAMPAIGN, true);
        tmux.send("Enter", false);
        tmux.wait_for("the campaign HALTED", |p| {
            p.contains("2 HALTED") && p.contains(&format!("campaign {CAMPAIGN}: HALTED"))
        });
        tmux.send("q", false);
        let code = wait_for_exit(&tmux, &status);
        let stderr = std::fs::read_to_string(tui_dir.join("tui.stderr")).unwrap_or_default();
        assert_eq!(
            code, "0",
            "exit status of fleetid after q; stderr:\n{stderr}"
        );
    })
    .await
    .unwrap();

    let read = cli
        .run(
            "status",
            &["rotate", "status", CAMPAIGN, "--output", "json"],
        )
        .await;
    assert_eq!(read.status.code(), Some(10), "halted: {}", read.stderr);
    let json: Value = serde_json::from_str(&read.stdout).unwrap();
    let campaign = &json.as_array().unwrap()[0];
    assert_eq!(campaign["state"], "halted", "{campaign:#}");
    assert_eq!(
        campaign["campaign"]["halt"]["reason"], "stopping to look at the pager",
        "{campaign:#}"
    );
    assert_eq!(
        campaign["campaign"]["stages"][1]["job_status"], "CANCELED",
        "the halt cancelled stage 2's job: {campaign:#}"
    );

    let audit = cli.run("audit", &["audit", "--output", "json"]).await;
    assert_eq!(audit.status.code(), Some(0), "{}", audit.stderr);
    let entries: Value = serde_json::from_str(&audit.stdout).unwrap();
    let actions: Vec<(&str, &str)> = entries["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["plan"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        actions.iter().any(|(a, _)| *a == "rotate-promote"),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, p)| *a == "rotate-halt" && p.contains("stopping to look at the pager")),
        "{actions:?}"
    );
}
