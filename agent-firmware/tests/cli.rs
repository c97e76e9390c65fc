//! The `fleetid-agent` binary end to end: the factory step (`csr`) on a simulated SE05x kept
//! in a file, then `sim` with that chip against mosquitto, until its status says Active.

mod broker;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fleetid_agent::core::{PersistedState, Phase};
use fleetid_agent::wire::AgentState;

use broker::Fixture;
use broker::responder::wait_for;

/// Kills and reaps the agent process however the test ends, so a failed wait leaves no
/// process behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn factory_csr_then_sim_reaches_active() {
    let fixture = Fixture::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name);
    let binary = env!("CARGO_BIN_EXE_fleetid-agent");
    let csr = Command::new(binary)
        .args(["csr", "--thing", "dev-cli", "--se-file"])
        .arg(path("se.json"))
        .output()
        .expect("running fleetid-agent csr");
    assert!(
        csr.status.success(),
        "{}",
        String::from_utf8_lossy(&csr.stderr)
    );
    let csr = String::from_utf8(csr.stdout).expect("utf-8 CSR");
    let (device_pem, _) = fixture.ca.sign_csr(&csr).expect("CA signs the CSR");
    std::fs::write(path("device.pem"), device_pem).expect("write");
    std::fs::write(path("ca.pem"), fixture.ca.pem()).expect("write");
    std::fs::write(
        path("agent.toml"),
        format!(
            "thing = \"dev-cli\"\nstate_file = \"state.json\"\nfirmware = \"cli-test\"\n\
             [server]\nhost = \"127.0.0.1\"\nport = {}\nanchor = \"ca.pem\"\n\
             [identity]\ncertificate = \"device.pem\"\n\
             [timing]\nstatus_interval_seconds = 1\n",
            fixture.broker.port
        ),
    )
    .expect("write");
    let agent = KillOnDrop(
        Command::new(binary)
            .args(["sim", "--config"])
            .arg(path("agent.toml"))
            .arg("--se-file")
            .arg(path("se.json"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting fleetid-agent sim"),
    );
    // Generous: the wait polls and returns as soon as the status arrives, and CI runs every
    // crate's tests at once on two cores. A timeout panics; the guard still stops the agent.
    wait_for(
        &fixture.cloud,
        Duration::from_secs(60),
        "Active status from the binary",
        |c| {
            c.statuses
                .iter()
                .any(|s| s.thing == "dev-cli" && s.state == AgentState::Active)
        },
    )
    .await;
    drop(agent);
    let state = PersistedState::from_json(&std::fs::read(path("state.json")).expect("state file"))
        .expect("state reads back");
    assert_eq!(state.phase, Phase::Active);
    assert_eq!(state.boot_count, 1);
}
