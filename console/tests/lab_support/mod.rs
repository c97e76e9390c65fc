//! The environment of a `fleetid` started by a test against the in-process lab: a private
//! HOME, config and cache in `dir`, the lab's credentials and no others (no shared AWS files,
//! no profile, session token, endpoint override or instance metadata) — and a runner for the
//! binary with live status over the lab's mTLS gateway, bounded in time.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use fleetid::backend::aws::{AwsBackend, LoadSettings};
use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{Lab, LabHandle, LabOptions};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;

/// Generous for a loaded 2-core machine; every wait ends as soon as its condition holds.
pub const BOOT_DEADLINE: Duration = Duration::from_secs(90);
/// One `fleetid` run (refresh, plan, apply, verify, or a watch).
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(240);

/// Sets that environment on `command`.
pub fn lab_environment<'a>(command: &'a mut Command, dir: &Path) -> &'a mut Command {
    command
        .env("FLEETID_CACHE", dir.join("cache.sqlite3"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("AWS_ACCESS_KEY_ID", fleetid_lab::api::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", fleetid_lab::api::SECRET_ACCESS_KEY)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_IOT")
}

/// Waits until the lab's fleet is connected.
pub async fn booted(lab: &LabHandle, devices: usize) {
    let mut progress = lab.progress.clone();
    let started = Instant::now();
    loop {
        let p = *progress.borrow_and_update();
        if p.connected >= devices {
            return;
        }
        assert!(
            started.elapsed() < BOOT_DEADLINE,
            "the lab's fleet did not boot: {p:?}"
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), progress.changed()).await;
    }
}

/// How to run the binary against this lab.
#[derive(Clone)]
pub struct Cli {
    client_id: String,
    endpoint_url: String,
    mqtt_endpoint: String,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    dir: PathBuf,
}

/// One finished run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// Runs as MQTT client `client_id`, with its home, config and cache in `dir`.
    pub fn new(lab: &LabHandle, dir: &Path, client_id: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            endpoint_url: lab.endpoint_url.clone(),
            mqtt_endpoint: lab.mqtt_addr.to_string(),
            ca: lab.operator.ca_pem.clone(),
            cert: lab.operator.cert_pem.clone(),
            key: lab.operator.key_pem.clone(),
            dir: dir.to_owned(),
        }
    }

    /// Runs `fleetid <global flags> ARGS` on a blocking thread (the lab's runtime keeps
    /// serving); killed after [`COMMAND_DEADLINE`].
    pub async fn run(&self, name: &str, args: &[&str]) -> Run {
        let cli = self.clone();
        let name = name.to_owned();
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        tokio::task::spawn_blocking(move || cli.run_blocking(&name, &args))
            .await
            .unwrap()
    }

    /// A shell script that runs `fleetid <global flags> ARGS` in this environment (for a
    /// terminal: tmux), its stderr to `<dir>/<name>.stderr` and its exit status to `status`.
    pub fn launcher(&self, name: &str, args: &[&str], status: &Path) -> PathBuf {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let d = self.dir.display().to_string();
        let flags: Vec<String> = [
            "--endpoint-url",
            &self.endpoint_url,
            "--region",
            fleetid_lab::registry::REGION,
            "--mqtt-endpoint",
            &self.mqtt_endpoint,
            "--mqtt-ca",
            &self.ca.display().to_string(),
            "--mqtt-cert",
            &self.cert.display().to_string(),
            "--mqtt-key",
            &self.key.display().to_string(),
            "--mqtt-client-id",
            &self.client_id,
        ]
        .iter()
        .chain(args)
        .map(|a| quote(a))
        .collect();
        let script = self.dir.join(format!("{name}.sh"));
        let text = format!(
            "export FLEETID_CACHE={cache} HOME={home} XDG_CONFIG_HOME={config} \
             AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY={secret} \
             AWS_CONFIG_FILE={home}/no-aws-config AWS_SHARED_CREDENTIALS_FILE={home}/no-aws-credentials \
             AWS_EC2_METADATA_DISABLED=true\n\
             unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IOT NO_COLOR\n\
             {bin} {flags} 2>{stderr}\n\
             echo $? > {status}\n",
            cache = quote(&format!("{d}/cache.sqlite3")),
            home = quote(&d),
            config = quote(&format!("{d}/config")),
            key_id = quote(fleetid_lab::api::ACCESS_KEY_ID),
            secret = quote(fleetid_lab::api::SECRET_ACCESS_KEY),
            bin = quote(env!("CARGO_BIN_EXE_fleetid")),
            flags = flags.join(" "),
            stderr = quote(&format!("{d}/{name}.stderr")),
            status = quote(&status.display().to_string()),
        );
        std::fs::write(&script, text).unwrap();
        script
    }

    fn run_blocking(&self, name: &str, args: &[String]) -> Run {
        let out_path = self.dir.join(format!("{name}.stdout"));
        let err_path = self.dir.join(format!("{name}.stderr"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
        command
            .arg("--endpoint-url")
            .arg(&self.endpoint_url)
            .args(["--region", fleetid_lab::registry::REGION])
            .arg("--mqtt-endpoint")
            .arg(&self.mqtt_endpoint)
            .arg("--mqtt-ca")
            .arg(&self.ca)
            .arg("--mqtt-cert")
            .arg(&self.cert)
            .arg("--mqtt-key")
            .arg(&self.key)
            .args(["--mqtt-client-id", &self.client_id])
            .args(args);
        let mut child = lab_environment(&mut command, &self.dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .expect("the binary runs");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > COMMAND_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "fleetid {args:?} did not finish within {COMMAND_DEADLINE:?}; stderr:\n{}",
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run {
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap(),
            stderr: std::fs::read_to_string(&err_path).unwrap(),
        }
    }
}

/// A lifecycle or status message the watcher received: topic and JSON body.
pub type Message = (String, serde_json::Value);

/// Subscribes as `client_id` with the operator certificate to `filter` (lifecycle events,
/// `$aws/events/presence/+/<thing>`) and forwards every publish; returns once the
/// subscription is acknowledged.
pub async fn watch_presence(
    lab: &LabHandle,
    client_id: &str,
    filter: &str,
) -> mpsc::UnboundedReceiver<Message> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&lab.operator.ca_pem).unwrap())
        .unwrap();
    let chain = vec![CertificateDer::from_pem_file(&lab.operator.cert_pem).unwrap()];
    let key = PrivateKeyDer::from_pem_file(&lab.operator.key_pem).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let mut options = MqttOptions::new(client_id, "127.0.0.1", lab.mqtt_addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )));
    let (client, mut events) = AsyncClient::new(options, 64);
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _client = client; // the event loop ends when every client handle is gone
        let mut ready = Some(ready_tx);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let body =
                        serde_json::from_slice(&p.payload).unwrap_or(serde_json::Value::Null);
                    if tx.send((p.topic, body)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("the watcher's subscription was not acknowledged within 10 s")
        .unwrap();
    rx
}

/// The backend `fleetid demo` gives its console, in this process: the lab's endpoint and
/// credentials, live status with the operator certificate (the broker found through
/// DescribeEndpoint), lifecycle events followed when `presence`.
/// A lab of `devices` devices that only report (the quiet scenario), its state in `dir`.
pub async fn quiet_lab(devices: usize, seed: u64, dir: &Path) -> LabHandle {
    Lab::start(LabOptions {
        devices,
        seed,
        scenario: Scenario::Quiet,
        state_dir: Some(dir.to_owned()),
        ..LabOptions::default()
    })
    .await
    .unwrap()
}

pub fn lab_backend(lab: &LabHandle, presence: bool) -> AwsBackend {
    let connection = fleetid::demo::lab_connection(lab);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(fleetid_lab::registry::REGION))
        .endpoint_url(&lab.endpoint_url)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                connection.credentials.unwrap(),
            ),
        )
        .build();
    let mut live = connection.live.unwrap();
    live.endpoint = None;
    live.presence = presence;
    AwsBackend::new(&config, LoadSettings::default()).with_live(live)
}
