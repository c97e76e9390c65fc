//! `fleetid demo --headless` end to end: the real binary starts the lab with 200 devices, a
//! second `fleetid --endpoint-url <lab> certs list --output json` with the lab's credentials
//! sees exactly the lab's certificates (199 device certificates — two devices share one —, the
//! operator's and the misused provisioning claim's), the recalled batch is rejected by JITR
//! with its reason and REVOKED, the debug-topic device and the claim's refused provisioning
//! attempts (CloudWatch) are listed by `fleetid anomalies`, `fleetid doctor` passes, and
//! SIGINT stops the demo cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: 200 agents boot in a few seconds, slower on a loaded machine.
const BOOT_DEADLINE: Duration = Duration::from_secs(120);
const EXIT_DEADLINE: Duration = Duration::from_secs(60);

/// Kills the demo if the test fails before it stops it.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo with `command` (stdout and stderr piped) and reads its lines up to
/// `ready:`.
fn start(mut command: Command) -> (Demo, BTreeMap<String, Vec<String>>) {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting fleetid demo");
    let mut demo = Demo(child);
    let fields = read_ready(&mut demo.0);
    (demo, fields)
}

/// Sends SIGINT and waits (bounded) for the demo to exit 0 by itself; its stderr.
fn stop_on_sigint(demo: &mut Demo) -> String {
    let pid = demo.0.id().to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("running kill");
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = demo.0.try_wait().expect("waiting for the demo") {
            break exit;
        }
        assert!(
            started.elapsed() < EXIT_DEADLINE,
            "the demo did not stop within {EXIT_DEADLINE:?} of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(
        &mut demo.0.stderr.take().expect("piped stderr"),
        &mut stderr,
    )
    .expect("reading the demo's stderr");
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");
    stderr
}

/// Reads the demo's `key: value` lines until `ready:` (or the deadline).
fn read_ready(child: &mut Child) -> BTreeMap<String, Vec<String>> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    loop {
        let left = BOOT_DEADLINE
            .checked_sub(started.elapsed())
            .expect("the demo did not print `ready:` within the deadline");
        let line = rx
            .recv_timeout(left)
            .expect("the demo did not print `ready:` within the deadline");
        let (key, value) = line.split_once(": ").expect("a `key: value` line");
        fields
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
        if key == "ready" {
            return fields;
        }
    }
}

fn one<'a>(fields: &'a BTreeMap<String, Vec<String>>, key: &str) -> &'a str {
    match fields.get(key).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("expected one {key:?} line, got {other:?}"),
    }
}

/// `fleetid --endpoint-url <url> certs list --output json` with only the lab's credentials.
fn certs_list(url: &str, credentials: &str, dir: &Path) -> serde_json::Value {
    fleetid_json(
        &["--endpoint-url", url, "certs", "list", "--output", "json"],
        credentials,
        dir,
    )
}

/// Runs `fleetid ARGS` with only the lab's credentials and parses its JSON output.
fn fleetid_json(args: &[&str], credentials: &str, dir: &Path) -> serde_json::Value {
    let (code, json) = fleetid_exit_json(args, credentials, dir);
    assert_eq!(code, Some(0), "fleetid {args:?}: {json:#}");
    json
}

/// Runs `fleetid ARGS` with only the lab's credentials: its exit code and JSON output.
fn fleetid_exit_json(
    args: &[&str],
    credentials: &str,
    dir: &Path,
) -> (Option<i32>, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_PROFILE", "default")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("FLEETID_CACHE", dir.join("cache.sqlite"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .expect("running fleetid");
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "fleetid {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), json)
}

#[test]
fn headless_demo_serves_the_lab_to_a_second_fleetid_and_stops_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
    command
        .args(["demo", "--headless", "--devices", "200", "--state-dir"])
        .arg(&state_dir);
    let (mut demo, fields) = start(command);

    let url = one(&fields, "endpoint-url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(one(&fields, "mqtt-address").starts_with("127.0.0.1:"));
    let credentials = one(&fields, "credentials-file");
    assert_eq!(Path::new(credentials), state_dir.join("credentials"));
    for key in ["operator-ca", "operator-cert", "operator-key"] {
        assert!(
            Path::new(one(&fields, key)).is_file(),
            "{key} is not a file"
        );
    }
    assert!(one(&fields, "example").contains(&format!("--endpoint-url {url} certs list")));

    // The recalled batch (2 % of 200) is rejected by JITR, with its reason.
    let rejected: BTreeSet<String> = fields["rejected"]
        .iter()
        .map(|line| {
            let (id, reason) = line.split_once(' ').unwrap();
            assert!(reason.starts_with("RECALLED"), "{reason}");
            id.to_owned()
        })
        .collect();
    assert_eq!(rejected.len(), 4, "{:?}", fields["rejected"]);

    // A second process sees exactly the lab's certificates: 199 device certificates, the
    // operator's, and the provisioning claim with the certificate it had made (its attempts
    // run while the fleet boots).
    let expected = 200 + fleetid_lab::fleet::claim::CERTIFICATES;
    let mut listed = certs_list(url, credentials, dir.path());
    for _ in 0..20 {
        if listed["data"]
            .as_array()
            .is_some_and(|c| c.len() >= expected)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        listed = certs_list(url, credentials, dir.path());
    }
    let certs = listed["data"].as_array().expect("data is a list");
    assert_eq!(certs.len(), expected);
    let ids: BTreeSet<&str> = certs.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len(), expected, "certificate ids are distinct");
    let revoked: BTreeSet<String> = certs
        .iter()
        .filter(|c| c["status"] == "REVOKED")
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        revoked, rejected,
        "exactly the rejected certificates are REVOKED"
    );
    let operator = certs
        .iter()
        .filter(|c| {
            c["subject"]
                .as_str()
                .is_some_and(|s| s.contains("operator"))
        })
        .count();
    assert_eq!(operator, 1, "the operator's certificate is listed once");

    // The device that publishes to a debug topic shows as an anomaly in a second process.
    assert!(one(&fields, "example-live").contains("--mqtt-cert"));
    let debug_flagged = (0..20).any(|_| {
        let anomalies = fleetid_json(
            &["--endpoint-url", url, "anomalies", "--output", "json"],
            credentials,
            dir.path(),
        );
        let found = anomalies["data"].as_array().is_some_and(|rows| {
            rows.iter().any(|a| {
                a["kind"] == "DebugTopicPublish"
                    && a["thing"].as_str().is_some_and(|t| t.starts_with("dev-"))
            })
        });
        if !found {
            std::thread::sleep(Duration::from_millis(500));
        }
        found
    });
    assert!(debug_flagged, "no DebugTopicPublish anomaly was listed");

    // CloudWatch is answered: the claim's refused provisioning attempts are an anomaly, the
    // source is fresh, and doctor (the caller's identity included) passes.
    let anomalies = fleetid_json(
        &["--endpoint-url", url, "anomalies", "--output", "json"],
        credentials,
        dir.path(),
    );
    let sources = anomalies["sources"].as_array().expect("sources");
    assert!(
        sources
            .iter()
            .any(|s| s["source"] == "cloudwatch" && s["state"] == "fresh"),
        "{sources:#?}"
    );
    let rows = anomalies["data"].as_array().expect("data is a list");
    assert!(
        rows.iter()
            .any(|a| a["source"] == "cloudwatch" && a["kind"] == "PROVISIONING_FAILURES"),
        "{rows:#?}"
    );
    let (code, doctor) = fleetid_exit_json(
        &["--endpoint-url", url, "doctor", "--output", "json"],
        credentials,
        dir.path(),
    );
    let checks = doctor["data"].as_array().expect("doctor checks");
    assert_eq!(code, Some(0), "{checks:#?}");
    for name in ["account", "cloudwatch"] {
        assert!(
            checks
                .iter()
                .any(|c| c["check"] == name && c["result"] == "pass"),
            "{name}: {checks:#?}"
        );
    }

    // SIGINT: the lab shuts down and the process exits 0 by itself.
    let stderr = stop_on_sigint(&mut demo);
    assert!(stderr.contains("fleet booted"), "{stderr}");
    assert!(stderr.contains("fleetid demo: stopped"), "{stderr}");
}

/// `GET` or `POST` `path` on the demo's fault admin (plain HTTP/1.1 on loopback): the JSON
/// body of a 200 answer.
fn fault_admin(admin: &str, method: &str, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let address = admin.strip_prefix("http://").expect("an http:// address");
    let mut stream = std::net::TcpStream::connect(address).expect("connecting to the fault admin");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("asking the fault admin");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("reading the fault admin's answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // A chunked body is one chunk here; take the JSON between its size line and the end.
    let json = body
        .find('{')
        .and_then(|start| body.rfind('}').map(|end| &body[start..=end]))
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

#[test]
fn a_fleet_over_the_open_file_limit_runs_its_devices_in_a_second_process() {
    // 100 devices need about 200 descriptors beside the lab's own: over a soft limit of 200,
    // so the demo runs them in `fleetid demo --device-process`, whose agents the fault admin
    // reaches over its pipe.
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 200 && exec \"$0\" demo --headless --devices 100 --scenario quiet --fault-admin --state-dir \"$1\"")
        .arg(env!("CARGO_BIN_EXE_fleetid"))
        .arg(dir.path().join("state"));
    let (mut demo, fields) = start(command);
    let admin = one(&fields, "fault-admin");

    // Every agent, in the other process, connects with the certificate it reports.
    let started = Instant::now();
    let report = loop {
        let report = fault_admin(admin, "GET", "/faults/identities");
        if report["working"] == 100 || started.elapsed() > BOOT_DEADLINE {
            break report;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(report["agents"], 100, "{report:#}");
    assert_eq!(report["working"], 100, "{report:#}");
    assert_eq!(report["rebooted"], 0, "{report:#}");
    // No agent is rotating: a power cut finds no candidate, answered by the device process.
    let cut = fault_admin(
        admin,
        "POST",
        "/faults/power-cut?count=3&down_ms=100&seed=1",
    );
    assert_eq!(cut["requested"], 3, "{cut:#}");
    assert_eq!(cut["rotating"], 0, "{cut:#}");
    assert_eq!(cut["cut"].as_array().map(Vec::len), Some(0), "{cut:#}");

    let stderr = stop_on_sigint(&mut demo);
    assert!(stderr.contains("they run in a second process"), "{stderr}");
}
