//! The binary's handling of its configuration: `check` and `run` stop on a bad file with exit
//! status 78 and a message naming the file, line and key; `csr` takes what its flags do not
//! say from the configuration.

use std::path::Path;
use std::process::{Command, Output};

use x509_parser::prelude::{FromDer, X509CertificationRequest};

const BINARY: &str = env!("CARGO_BIN_EXE_fleetid-agent");

/// `EX_CONFIG`, as the unit's `RestartPreventExitStatus=` expects.
const EXIT_CONFIG: i32 = 78;

fn agent(args: &[&str], config: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .expect("running fleetid-agent")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A configuration that loads: a simulated SE05x, PEM files next to it.
fn valid(dir: &Path) -> String {
    // The contents are not parsed at load; they are read so a missing file stops the start.
    std::fs::write(dir.join("ca.pem"), "anchor").expect("write");
    std::fs::write(dir.join("device.pem"), "certificate").expect("write");
    "thing = \"dev-cfg\"\nstate_file = \"state.json\"\n\
     [server]\nhost = \"127.0.0.1\"\nanchor = \"ca.pem\"\n\
     [identity]\ncertificate = \"device.pem\"\nslots = [0x10000011, 0x10000012]\n\
     [secure_element]\nsimulator_file = \"se.json\"\n"
        .to_owned()
}

#[test]
fn check_accepts_a_valid_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, valid(dir.path())).expect("write");
    let output = agent(&["check"], &path);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ok (thing dev-cfg, server 127.0.0.1:8883)"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_key_stops_check_and_run_with_exit_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("agent.toml");
    let text = valid(dir.path()).replace("[identity]\n", "[identity]\ncertficate = \"x\"\n");
    std::fs::write(&path, text).expect("write");
    for command in ["check", "run"] {
        let output = agent(&[command], &path);
        assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{command}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!(
                "{}:7:1: key `identity.certficate`: unknown field `certficate`",
                path.display()
            )),
            "{command}: {message}"
        );
    }
}

#[test]
fn a_bad_value_stops_run_with_exit_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("agent.toml");
    let text = valid(dir.path()).replace("[server]\n", "[server]\nkeepalive_seconds = 5000\n");
    std::fs::write(&path, text).expect("write");
    let output = agent(&["run"], &path);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG));
    let message = stderr(&output);
    assert!(
        message.contains(":4:21: key `server.keepalive_seconds`: must be 30-1200"),
        "{message}"
    );
}

#[test]
fn a_missing_file_stops_run_with_exit_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absent.toml");
    let output = agent(&["run"], &path);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("reading {}: ", path.display())),
        "{message}"
    );
    assert_eq!(
        message.matches("os error").count(),
        1,
        "said once: {message}"
    );
}

#[test]
fn a_missing_pem_file_stops_run_with_exit_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, valid(dir.path())).expect("write");
    std::fs::remove_file(dir.path().join("device.pem")).expect("remove");
    let output = agent(&["run"], &path);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG));
    assert!(
        stderr(&output).contains(":7:15: key `identity.certificate`: reading "),
        "{}",
        stderr(&output)
    );
}

fn csr_subject(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    let (_, pem) = x509_parser::pem::parse_x509_pem(&output.stdout).expect("PEM CSR");
    let (_, csr) = X509CertificationRequest::from_der(&pem.contents).expect("DER CSR");
    csr.certification_request_info.subject.to_string()
}

#[test]
fn csr_takes_thing_and_secure_element_from_the_config_and_flags_win() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("agent.toml");
    // The factory step runs before the certificate exists: the PEM files are not needed.
    std::fs::write(&path, valid(dir.path())).expect("write");
    std::fs::remove_file(dir.path().join("device.pem")).expect("remove");
    let from_config = agent(&["csr"], &path);
    assert_eq!(csr_subject(&from_config), "CN=dev-cfg");
    let se = std::fs::read_to_string(dir.path().join("se.json")).expect("simulated SE file");
    assert!(
        se.lines().any(|l| l.starts_with("10000011 ")),
        "key in slots[0]: {se}"
    );
    let flags = agent(
        &[
            "csr",
            "--thing",
            "dev-flag",
            "--se-file",
            dir.path().join("other.json").to_str().expect("utf-8"),
        ],
        &path,
    );
    assert_eq!(csr_subject(&flags), "CN=dev-flag");
    assert!(dir.path().join("other.json").exists());
}
