//! Acting from the console as an operator does, inside tmux (80x24): `fleetid demo`, the
//! devices view, one device filtered, `r`, its name typed in the confirmation, and the row
//! showing INACTIVE once the ops engine has revoked it in the lab; then `R` and the name
//! again, and the row is ACTIVE. Needs tmux (`scripts/test` provides it).

mod tmux_support;

use fleetid_lab::fleet::scenario::{Role, Scenario};
use tmux_support::{TmuxSession, require_tmux, wait_for_exit, write_demo_launcher};

/// The pane's line for `thing` in the device list (not the title naming the filter).
fn row<'a>(pane: &'a str, thing: &str) -> Option<&'a str> {
    pane.lines()
        .find(|l| l.contains(thing) && !l.contains("filter"))
}

#[test]
fn r_and_the_typed_name_revoke_a_device_and_its_row_shows_inactive() {
    require_tmux();
    const DEVICES: usize = 12;
    const SEED: u64 = 11;
    let plan = fleetid_lab::fleet::scenario::plan(DEVICES, SEED, Scenario::Demo);
    let thing = plan
        .iter()
        .find(|d| d.role == Role::Normal)
        .map(|d| d.name.clone())
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = write_demo_launcher(dir.path(), &status, DEVICES, SEED);
    let tmux = TmuxSession::start(
        &dir.path().join("tmux.sock"),
        &format!("sh '{}'", script.display()),
    );
    tmux.wait_for("the demo's dashboard", |p| {
        p.contains("Connected, last hour")
    });
    tmux.send("5", false);
    // The device may be below the pane's last row: the filter finds it.
    tmux.wait_for("the lab's devices", |p| {
        p.contains("Devices:") && p.contains("dev-000")
    });
    tmux.send("/", false);
    tmux.send(&thing, true);
    tmux.send("Enter", false);
    tmux.wait_for("the device filtered, ACTIVE", |p| {
        p.contains("1 of") && row(p, &thing).is_some_and(|r| r.contains("ACTIVE"))
    });

    tmux.send("r", false);
    tmux.wait_for("the confirmation", |p| p.contains("Confirm revoke"));
    tmux.send(&thing, true);
    tmux.send("Enter", false);
    let pane = tmux.wait_for("the row to show INACTIVE", |p| {
        row(p, &thing).is_some_and(|r| r.contains("INACTIVE"))
    });
    assert!(!pane.contains("Confirm revoke"), "{pane}");
    // The result names the operation and what was verified.
    let pane = tmux.wait_for("the result", |p| p.contains("1/1 verified"));
    assert!(pane.contains("op-"), "{pane}");

    tmux.send("R", false);
    tmux.wait_for("the restore confirmation", |p| {
        p.contains("Confirm restore")
    });
    tmux.send(&thing, true);
    tmux.send("Enter", false);
    tmux.wait_for("the row to show ACTIVE again", |p| {
        row(p, &thing).is_some_and(|r| r.contains("ACTIVE") && !r.contains("INACTIVE"))
            && !p.contains("Confirm restore")
    });

    tmux.send("q", false);
    let code = wait_for_exit(&tmux, &status);
    let stderr = std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default();
    assert_eq!(
        code, "0",
        "exit status of fleetid demo after q; stderr:\n{stderr}"
    );
}
