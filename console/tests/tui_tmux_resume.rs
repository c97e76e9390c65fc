//! Resuming an operation from the console, inside tmux (80x24), against moto: a revoke of
//! three certificates is killed after three of its calls, the console's operations view (`8`)
//! shows it unfinished, `Enter` asks for the number of calls left, and once it is typed the
//! journaled operation finishes from where it stopped; `ops list` then reads it finished, and
//! every call of its journal is done or failed, none left started. Needs moto and tmux
//! (`scripts/test` provides both).
#![allow(clippy::unwrap_used)]

mod backend_support;
mod moto_fleet;
mod tmux_support;

use std::path::{Path, PathBuf};

use backend_support::moto_url;
use moto_fleet::{Fleet, code, fleetid, journal, revoke_killed_after_three_calls, stderr};
use tmux_support::{TmuxSession, require_tmux, wait_for_exit};

const REGION: &str = "eu-south-1";

/// The console on the same cache and credentials as the CLI runs of this test.
fn write_launcher(dir: &Path, url: &str, status: &Path) -> PathBuf {
    let script = dir.join("console.sh");
    let d = dir.display();
    let text = format!(
        "export HOME='{d}' XDG_CONFIG_HOME='{d}/config' FLEETID_CACHE='{d}/cache.sqlite3' \
         AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n\
         unset AWS_PROFILE AWS_SESSION_TOKEN NO_COLOR\n\
         '{bin}' --endpoint-url '{url}' --region {REGION} 2>'{d}/console.err'\n\
         echo $? > '{status}'\n",
        bin = env!("CARGO_BIN_EXE_fleetid"),
        status = status.display(),
    );
    std::fs::write(&script, text).unwrap();
    script
}

#[test]
fn an_unfinished_operation_is_resumed_from_the_operations_view() {
    require_tmux();
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = backend_support::unique_prefix("tui-resume");
    let _fleet = Fleet::new(REGION, &prefix, 3);
    let cache = dir.path().join("cache.sqlite3");
    let query = format!("match={prefix}");

    // A revoke killed between two calls.
    revoke_killed_after_three_calls(&url, REGION, dir.path(), &query);

    let status = dir.path().join("console.status");
    let script = write_launcher(dir.path(), &url, &status);
    let tmux = TmuxSession::start(
        &dir.path().join("tmux.sock"),
        &format!("sh '{}'", script.display()),
    );
    tmux.wait_for("the console", |p| p.contains("8 Ops"));
    tmux.send("8", false);
    let pane = tmux.wait_for("the unfinished revoke", |p| {
        p.contains("revoke") && p.contains("applying*")
    });
    assert!(pane.contains("resumable"), "{pane}");
    tmux.send("Enter", false);
    let pane = tmux.wait_for("the resume's confirmation", |p| {
        p.contains("Confirm resume") && p.contains("Type ")
    });
    let left: String = pane
        .split("Type ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!left.is_empty(), "{pane}");
    tmux.send(&left, true);
    tmux.send("Enter", false);
    tmux.wait_for("the operation no longer unfinished", |p| {
        p.contains("revoke") && !p.contains("applying*") && !p.contains("Confirm resume")
    });
    tmux.send("q", false);
    assert_eq!(wait_for_exit(&tmux, &status), "0");
    drop(tmux);

    let out = fleetid(
        &url,
        REGION,
        dir.path(),
        &["ops", "list", "--output", "json"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let ops: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ops[0]["kind"], "revoke", "{ops}");
    assert_eq!(ops[0]["resumable"], false, "{ops}");
    let calls = journal(&cache);
    assert!(
        calls.iter().all(|(_, s)| s == "done" || s == "failed"),
        "{calls:?}"
    );
}
