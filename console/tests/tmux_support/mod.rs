//! Driving the real `fleetid` binary inside tmux: a private tmux server per test, pane
//! capture, key sending, polling with a deadline, and the exit status of the process.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: CI is a loaded 2-core machine. Each wait normally ends in well under a second;
/// an anomaly raised after the console's first load arrives with its next poll (30 s).
pub const DEADLINE: Duration = Duration::from_secs(60);
/// How often the pane is captured while waiting.
pub const POLL: Duration = Duration::from_millis(100);

/// A tmux server on its own socket (a file in the test's temp dir, so the user's tmux is never
/// touched) with one 80x24 session; killed on drop, whatever happened.
pub struct TmuxSession {
    socket: PathBuf,
    name: String,
}

impl TmuxSession {
    /// Starts `command` in a new 80x24 session.
    pub fn start(socket: &Path, command: &str) -> Self {
        let session = Self {
            socket: socket.to_owned(),
            name: "fleetid".to_owned(),
        };
        let status = session
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &session.name,
                "-x",
                "80",
                "-y",
                "24",
            ])
            .arg(command)
            .status()
            .expect("tmux starts");
        assert!(status.success(), "tmux new-session failed: {status}");
        session
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"]);
        command
    }

    /// The pane's text.
    pub fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends tmux key names (`Escape`, `q`) or, with `literal`, text typed as is.
    pub fn send(&self, keys: &str, literal: bool) {
        let mut command = self.tmux();
        command.args(["send-keys", "-t", &self.name]);
        if literal {
            command.arg("-l");
        }
        let status = command.arg(keys).status().expect("tmux send-keys runs");
        assert!(status.success(), "tmux send-keys {keys:?} failed");
    }

    /// Polls the pane until `ready` holds; panics with the last pane text after the deadline.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if ready(&pane) {
                return pane;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; the pane shows:\n{pane}"
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for TmuxSession {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// Fails (naming scripts/test) when tmux is missing.
pub fn require_tmux() {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "tmux is not installed: this test drives the real binary in tmux; run it with \
         scripts/test, which installs tmux"
    );
}

/// Waits until the launcher wrote the process's exit status to `status`, and returns it.
pub fn wait_for_exit(tmux: &TmuxSession, status: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(status)
            && text.ends_with('\n')
        {
            return text.trim().to_owned();
        }
        assert!(
            start.elapsed() < DEADLINE,
            "fleetid did not exit; the pane shows:\n{}",
            tmux.capture()
        );
        std::thread::sleep(POLL);
    }
}

/// The launcher for `fleetid demo`: a private HOME, config and cache, no AWS settings at all.
pub fn write_demo_launcher(dir: &Path, status: &Path, devices: usize, seed: u64) -> PathBuf {
    let script = dir.join("demo.sh");
    let d = dir.display();
    let text = format!(
        "export HOME='{d}' XDG_CONFIG_HOME='{d}/config' XDG_DATA_HOME='{d}/data' \
         XDG_CACHE_HOME='{d}/cache' FLEETID_CACHE='{d}/cache.sqlite3'\n\
         unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY NO_COLOR\n\
         '{bin}' demo --devices {devices} --seed {seed} --state-dir '{d}/lab' 2>'{d}/demo.err'\n\
         echo $? > '{status}'\n",
        bin = env!("CARGO_BIN_EXE_fleetid"),
        status = status.display(),
    );
    std::fs::write(&script, text).expect("the launcher script is written");
    script
}
