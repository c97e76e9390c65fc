//! The real `fleetid` binary as a terminal user sees it, inside tmux (80x24), checking the
//! captured pane text at each step and that the process exits with status 0:
//! - with no subcommand against moto, after this test registered a CA, device certificates and
//!   things: every view, the device filter, help, quit;
//! - `fleetid demo`: the lab's fleet of real agents on screen — its devices, the debug-topic
//!   device in the anomaly feed, a device's detail with its policy and live status, the filter,
//!   help, and `q` stopping the lab.
//!
//! Needs tmux (and `FLEETID_MOTO_URL` for the first); `scripts/test` provides both. Fails
//! without them.

mod backend_support;
mod tmux_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_iot::types::CertificateStatus;
use backend_support::{device_cert, moto_url, register_ca, register_device, root_ca};
use fleetid_lab::fleet::scenario::{Role, Scenario};
use tmux_support::{DEADLINE, TmuxSession, require_tmux, wait_for_exit, write_demo_launcher};

/// A region no other test uses, so the screens hold only this test's records (plus those of
/// earlier runs of this test against the same moto server, which carry other tags).
const REGION: &str = "ap-southeast-2";

/// Registers a CA and three device certificates attached to things `<tag>-alpha`, `-bravo`,
/// `-charlie` in `REGION`.
fn register_fleet(url: &str, tag: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_iot::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .endpoint_url(url)
            .load()
            .await;
        let iot = aws_sdk_iot::Client::new(&config);
        let ca = root_ca(&format!("{tag} root CA"));
        register_ca(&iot, &ca).await;
        for (name, days) in [("alpha", 20), ("bravo", 200), ("charlie", 400)] {
            let thing = format!("{tag}-{name}");
            let (pem, _) = device_cert(&thing, &ca, days);
            let (_, arn) = register_device(&iot, &pem, &ca.pem, CertificateStatus::Active).await;
            iot.create_thing()
                .thing_name(&thing)
                .send()
                .await
                .expect("moto creates the thing");
            iot.attach_thing_principal()
                .thing_name(&thing)
                .principal(&arn)
                .send()
                .await
                .expect("moto attaches the certificate to the thing");
        }
    });
}

/// The shell command tmux runs: the binary with a private HOME, config and cache, then its
/// exit status written to `status`.
fn write_launcher(dir: &Path, url: &str, status: &Path) -> PathBuf {
    let script = dir.join("run.sh");
    let d = dir.display();
    let text = format!(
        "export HOME='{d}' XDG_CONFIG_HOME='{d}/config' XDG_DATA_HOME='{d}/data' \
         XDG_CACHE_HOME='{d}/cache' FLEETID_CACHE='{d}/cache.sqlite3' \
         AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION={REGION}\n\
         unset AWS_PROFILE AWS_SESSION_TOKEN NO_COLOR\n\
         '{bin}' --endpoint-url '{url}' --region {REGION}\n\
         echo $? > '{status}'\n",
        bin = env!("CARGO_BIN_EXE_fleetid"),
        status = status.display(),
    );
    std::fs::write(&script, text).expect("the launcher script is written");
    script
}

#[test]
fn the_demo_in_tmux_shows_the_labs_fleet_live_and_stops_on_q() {
    require_tmux();
    const DEVICES: usize = 60;
    const SEED: u64 = 5;
    let plan = fleetid_lab::fleet::scenario::plan(DEVICES, SEED, Scenario::Demo);
    let debug = plan
        .iter()
        .find(|d| d.role == Role::Debug)
        .map(|d| d.name.clone())
        .unwrap();
    let (normal, normal_firmware) = plan
        .iter()
        .find(|d| d.role == Role::Normal)
        .map(|d| (d.name.clone(), d.firmware))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = write_demo_launcher(dir.path(), &status, DEVICES, SEED);
    let tmux = TmuxSession::start(
        &dir.path().join("tmux.sock"),
        &format!("sh '{}'", script.display()),
    );

    // The fleet boots (progress on stderr), then the TUI opens on the lab.
    let pane = tmux.wait_for("the demo's dashboard", |p| {
        p.contains("Connected, last hour")
    });
    assert!(
        pane.lines().next().is_some_and(|l| l.contains("DEMO")),
        "{pane}"
    );

    // The lab's devices, once the snapshot arrived.
    tmux.send("5", false);
    tmux.wait_for("the lab's devices", |p| {
        p.contains("Devices:") && p.contains("dev-000")
    });

    // The device that publishes to a debug topic, reported by the Device Defender stand-in.
    tmux.send("4", false);
    tmux.wait_for("the debug-topic device in the anomaly feed", |p| {
        p.contains(debug.as_str()) && p.contains("DebugTopic")
    });

    // One device: filter to it, open its detail with what its agent reported live.
    tmux.send("5", false);
    tmux.wait_for("the devices again", |p| p.contains("Devices:"));
    tmux.send("/", false);
    tmux.send(&normal, true);
    tmux.wait_for("the filtered device list", |p| {
        p.contains(normal.as_str()) && p.contains("1 of")
    });
    tmux.send("Enter", false);
    // The detail is drawn from the model when it opens: reopen it until the agent's next
    // status message (every 10 s in the demo) has arrived.
    let reported = |p: &str| p.contains(&format!("firmware {normal_firmware}"));
    let start = Instant::now();
    loop {
        tmux.send("Enter", false);
        let pane = tmux.wait_for("the device's detail", |p| {
            p.contains(&format!("Device {normal}")) && p.contains("Live agent status")
        });
        if reported(&pane) {
            assert!(pane.contains("seen "), "{pane}");
            // JITR attached the lab's device policy to its certificate.
            assert!(pane.contains(fleetid_lab::gateway::DEVICE_POLICY), "{pane}");
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no live status for {normal} in its detail:\n{pane}"
        );
        tmux.send("Escape", false);
        std::thread::sleep(Duration::from_secs(1));
    }
    // Back to the list before the next key: Esc followed at once by a key reads as Alt+key.
    tmux.send("Escape", false);
    tmux.wait_for("the device list again", |p| p.contains("Devices:"));

    tmux.send("?", false);
    tmux.wait_for("the help", |p| {
        p.contains("Keys (type to filter, Esc closes)")
    });
    tmux.send("Escape", false);
    tmux.wait_for("the help to close", |p| !p.contains("Keys (type to filter"));

    // `q` leaves the TUI; the demo stops the lab and exits 0.
    tmux.send("q", false);
    let code = wait_for_exit(&tmux, &status);
    let stderr = std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default();
    assert_eq!(
        code, "0",
        "exit status of fleetid demo after q; stderr:\n{stderr}"
    );
    assert!(stderr.contains("fleetid demo: stopped"), "{stderr}");
}

#[test]
fn the_console_in_tmux_shows_every_view_filters_helps_and_quits() {
    let url = moto_url();
    require_tmux();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tag = format!("tmx{:06x}", nanos % 0x100_0000);
    register_fleet(&url, &tag);

    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = write_launcher(dir.path(), &url, &status);
    let tmux = TmuxSession::start(
        &dir.path().join("tmux.sock"),
        &format!("sh '{}'", script.display()),
    );

    // Banner on line 1 and the view list on line 2, from the first frame on.
    let pane = tmux.wait_for("the banner and the dashboard", |p| {
        p.contains("Connected, last hour")
    });
    let lines: Vec<&str> = pane.lines().collect();
    assert!(
        lines[0].contains("DEFAULT") && lines[0].contains(REGION) && lines[0].contains("fleetid"),
        "banner: {pane}"
    );
    assert!(lines[1].contains("1 Dashboard") && lines[1].contains("6 Audit"));

    // Devices: every thing of this run, once the load from moto arrived.
    tmux.send("5", false);
    let names = ["alpha", "bravo", "charlie"].map(|n| format!("{tag}-{n}"));
    let pane = tmux.wait_for("the devices of this run", |p| {
        p.contains("Devices:") && names.iter().all(|n| p.contains(n.as_str()))
    });
    assert!(pane.contains("ACTIVE"), "{pane}");

    // The dashboard now counts them.
    tmux.send("1", false);
    tmux.wait_for("the dashboard with loaded certificates", |p| {
        p.contains("Certificates") && !p.contains("Certificates (not loaded)")
    });

    tmux.send("2", false);
    tmux.wait_for("the expiry heatmap", |p| p.contains("┌ Expiry"));
    tmux.send("3", false);
    tmux.wait_for("the CA chains", |p| {
        p.contains("┌ CA chains") && p.contains("inact. revok. flag")
    });
    tmux.send("4", false);
    tmux.wait_for("the anomaly feed", |p| {
        p.contains("Anomalies:") && p.contains("shown")
    });
    tmux.send("6", false);
    tmux.wait_for("the audit log", |p| p.contains("Audit log:"));

    // `/` narrows the device list to the one matching thing.
    tmux.send("5", false);
    tmux.wait_for("the devices again", |p| p.contains(names[0].as_str()));
    tmux.send("/", false);
    tmux.send(&names[1], true);
    let pane = tmux.wait_for("the filtered device list", |p| {
        p.contains(names[1].as_str())
            && !p.contains(names[0].as_str())
            && !p.contains(names[2].as_str())
    });
    assert!(pane.contains("Devices:"), "{pane}");
    tmux.send("Enter", false);

    // `?` opens the help generated from the keymap; Esc closes it.
    tmux.send("?", false);
    tmux.wait_for("the help", |p| {
        p.contains("Keys (type to filter, Esc closes)") && p.contains("leave fleetid")
    });
    tmux.send("Escape", false);
    tmux.wait_for("the help to close", |p| !p.contains("Keys (type to filter"));

    // `r` plans a revoke; Esc cancels it, and the cancellation is in the audit log with the
    // caller's principal and account from sts:GetCallerIdentity (moto's fixed identity).
    tmux.send("r", false);
    tmux.wait_for("the confirmation", |p| p.contains("Confirm revoke"));
    tmux.send("Escape", false);
    tmux.wait_for("the cancellation", |p| p.contains("cancelled revoke"));

    // `q` ends the process with status 0.
    tmux.send("q", false);
    let code = wait_for_exit(&tmux, &status);
    assert_eq!(code, "0", "exit status of fleetid after q");

    let out = Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .args(["audit", "--verify", "--output", "json"])
        .env("FLEETID_CACHE", dir.path().join("cache.sqlite3"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .expect("fleetid audit runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fleetid audit printed no JSON ({e}); exit {:?}, stderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(0), "{json}");
    let entries = json["data"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{json}");
    assert_eq!(entries[0]["decision"], "cancelled");
    assert_eq!(entries[0]["targets"][0], names[1].as_str());
    assert!(
        entries[0]["principal"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:")),
        "{json}"
    );
    assert!(
        entries[0]["account"]
            .as_str()
            .is_some_and(|a| a.len() == 12),
        "{json}"
    );
}
