//! `Lab::start`: the whole lab in one call — PKI, registry, AWS IoT HTTP API, identity
//! gateway with its broker, JITR — on loopback ports, with the operator's credentials written
//! to a state directory.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::api::{self, ApiState};
use crate::certificate_provider::CertificateProvider;
use crate::detector::Detector;
use crate::faults::Agents;
use crate::fleet::process::{DeviceCommand, DeviceProcess};
use crate::fleet::scenario::{self, Scenario};
use crate::fleet::{DeviceKind, DeviceLink, Fleet, FleetError, FleetLink, FleetProgress};
use crate::gateway::{DEVICE_POLICY, Gateway, GatewayOptions};
use crate::jitr::{self, JitrLog};
use crate::metrics::Metrics;
use crate::pki::CertificateAuthority;
use crate::registry::{CertStatus, Registry};
use crate::state_files;

/// The operator's policy: everything (the console subscribes to status and lifecycle topics).
pub const OPERATOR_POLICY: &str = "fleetid-lab-operator";
/// The operator's MQTT client id.
pub const OPERATOR_CLIENT_ID: &str = "fleetid-operator";

const DEVICE_POLICY_DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:*:*:topic/fleetid/v1/${iot:Connection.Thing.ThingName}/*","arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/*","arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topic/$aws/provisioning-templates/*"]},
{"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:*:*:topicfilter/fleetid/v1/${iot:Connection.Thing.ThingName}/*","arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*","arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/*"]}]}"#;

const OPERATOR_POLICY_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Making a CA or certificate failed.
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    /// Registering the lab's own resources failed.
    #[error("setting up the lab registry: {0}")]
    Registry(#[from] crate::registry::RegistryError),
    /// Binding or writing files failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The gateway did not start.
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
    /// The fleet could not be made.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// The state directory or one of its files could not be written.
    #[error(transparent)]
    StateFile(#[from] state_files::StateFileError),
    /// The device process did not start.
    #[error("starting the device process: {0}")]
    DeviceProcess(String),
}

/// Where the lab's devices run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DeviceHost {
    /// In the lab's process.
    #[default]
    Here,
    /// In a second process the lab starts with this command and stops with itself
    /// (`crate::fleet::process`): for fleets that do not fit one process's open-file limit.
    Process(DeviceCommand),
    /// Somewhere the caller runs them (`Fleet::run_devices` with
    /// [`LabHandle::device_link`]), or nowhere: the lab registers their things and counts
    /// their sessions.
    Elsewhere,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Simulated devices (0: the cloud only).
    pub devices: usize,
    /// Seed of the scenario plan.
    pub seed: u64,
    /// Which scenario.
    pub scenario: Scenario,
    /// Where the operator credentials and CA files are written (a fresh temporary
    /// directory under the system temp dir when `None`).
    pub state_dir: Option<PathBuf>,
    /// Common names JITR rejects as recalled, besides the scenario's recalled batch.
    pub recalled: BTreeSet<String>,
    /// How often each device reports its status.
    pub status_interval: Duration,
    /// What runs the devices: the real agent (default) or the lab's scripted device.
    pub device_kind: DeviceKind,
    /// Where the devices run.
    pub device_host: DeviceHost,
    /// How long after a certificate leaves ACTIVE, or a policy change takes away
    /// `iot:Connect`, its connected sessions are dropped. AWS IoT: "within a few minutes"
    /// (which is why a revocation ends with DeleteConnection). Zero (the default) drops them
    /// at once. New connections are refused at once either way.
    pub enforcement_delay: Duration,
    /// Enforce AWS IoT's per-connection receive quota (100 publishes and 512 KiB a second),
    /// so a design that would be throttled on AWS is throttled here too. On by default.
    pub receive_quota: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            devices: 1000,
            seed: 1,
            scenario: Scenario::Demo,
            state_dir: None,
            recalled: BTreeSet::new(),
            status_interval: Duration::from_secs(30),
            device_kind: DeviceKind::Agent,
            device_host: DeviceHost::Here,
            enforcement_delay: Duration::ZERO,
            receive_quota: true,
        }
    }
}

/// Paths of the files the lab wrote.
#[derive(Debug, Clone)]
pub struct OperatorFiles {
    /// The root CA: trust anchor for the gateway's server certificate.
    pub ca_pem: PathBuf,
    /// The operator's client certificate.
    pub cert_pem: PathBuf,
    /// The operator's private key.
    pub key_pem: PathBuf,
}

/// A running lab.
pub struct LabHandle {
    /// `http://127.0.0.1:<port>` of the AWS IoT HTTP API.
    pub endpoint_url: String,
    /// The gateway's MQTT (mTLS) address.
    pub mqtt_addr: SocketAddr,
    /// Operator credentials for the gateway.
    pub operator: OperatorFiles,
    /// The control plane (shared with the API and the gateway).
    pub registry: Registry,
    /// Device Defender stand-in.
    pub detector: Detector,
    /// CloudWatch metrics (GetMetricData reads them).
    pub metrics: Metrics,
    /// JITR decisions.
    pub jitr: JitrLog,
    /// The lab's root CA (signs the server and operator certificates).
    pub root_ca: Arc<CertificateAuthority>,
    /// The registered issuing CA (device certificates, create-from-csr).
    pub issuing_ca: Arc<CertificateAuthority>,
    /// The registered "next" CA for rotation drills (auto-registration off).
    pub next_ca: Arc<CertificateAuthority>,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The fleet's plan (empty without devices).
    pub plan: Vec<scenario::DeviceSpec>,
    /// Fleet progress, updated while it boots and after.
    pub progress: watch::Receiver<FleetProgress>,
    fleet: Option<Fleet>,
    device_process: Option<Arc<DeviceProcess>>,
    gateway: Gateway,
    api_stop: oneshot::Sender<()>,
    api_task: tokio::task::JoinHandle<std::io::Result<()>>,
    jitr_task: tokio::task::JoinHandle<()>,
}

/// The lab.
pub struct Lab;

impl Lab {
    /// Starts everything on loopback.
    ///
    /// # Errors
    /// PKI, registry, socket or file errors, each naming what was being done.
    pub async fn start(options: LabOptions) -> Result<LabHandle, LabError> {
        // aws-lc-rs is the process-wide provider; another caller may have installed it already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

        let root = Arc::new(CertificateAuthority::new_root("fleetid lab root CA")?);
        let issuing = Arc::new(root.new_intermediate("fleetid lab issuing CA")?);
        // The next CA was made a week ago for the coming rotation: it outlives the issuing CA.
        let next_from = time::OffsetDateTime::now_utc() - time::Duration::days(7);
        let next = Arc::new(root.new_intermediate_valid(
            "fleetid lab next CA",
            next_from,
            next_from + crate::pki::INTERMEDIATE_VALIDITY,
        )?);
        let server = root.issue_server("fleetid lab gateway")?;
        let operator = root.issue_device(OPERATOR_CLIENT_ID, 365)?;

        let registry = Registry::new();
        registry.register_ca(&issuing.certificate_pem, true, true, None)?;
        registry.register_ca(&next.certificate_pem, true, false, None)?;
        registry.create_policy(DEVICE_POLICY, DEVICE_POLICY_DOCUMENT)?;
        registry.create_policy(OPERATOR_POLICY, OPERATOR_POLICY_DOCUMENT)?;
        let op = registry.insert_certificate(&operator.certificate_pem, CertStatus::Active)?;
        registry.attach_policy(OPERATOR_POLICY, &op.arn)?;

        let state_dir = match options.state_dir {
            Some(dir) => dir,
            None => std::env::temp_dir().join(format!(
                "fleetid-lab-{}-{}",
                std::process::id(),
                hex::encode(crate::pki::random_bytes::<4>())
            )),
        };
        let operator_files = write_state(&state_dir, &root, &issuing, &operator)?;

        let detector = Detector::default();
        let metrics = Metrics::default();
        let (registrations, registered) = mpsc::channel(1024);
        let jitr_log = JitrLog::default();
        let plan = scenario::plan(options.devices, options.seed, options.scenario);
        let mut recalled = options.recalled;
        recalled.extend(crate::fleet::recalled(&plan));
        let provisioning = crate::gateway::ProvisioningHook {
            config: jitr::lab_config(DEVICE_POLICY_DOCUMENT),
            manifest: jitr::LabManifest::new(recalled.clone()),
        };
        let jitr_task = tokio::spawn(jitr::run(
            registry.clone(),
            recalled,
            jitr::lab_config(DEVICE_POLICY_DOCUMENT),
            jitr_log.clone(),
            registered,
        ));

        let certificate_provider = CertificateProvider::new(issuing.clone(), next.clone());
        let mqtt_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(io("binding the MQTT gateway"))?;
        let gateway = Gateway::start(
            mqtt_listener,
            GatewayOptions {
                registry: registry.clone(),
                detector: detector.clone(),
                metrics: metrics.clone(),
                certificate_provider: certificate_provider.clone(),
                server_cert_pem: server.certificate_pem,
                server_key_pem: server.key_pem,
                registrations,
                provisioning,
                enforcement_delay: options.enforcement_delay,
                receive_quota: options.receive_quota,
            },
        )?;

        let http = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(io("binding the HTTP API"))?;
        let http_addr = http
            .local_addr()
            .map_err(io("reading the HTTP API address"))?;
        let (api_stop, stopped) = oneshot::channel::<()>();
        let api_task = tokio::spawn(api::serve(
            http,
            ApiState {
                registry: registry.clone(),
                detector: detector.clone(),
                issuing_ca: issuing.clone(),
                certificate_provider,
                mqtt_endpoint: gateway.addr.to_string(),
                connections: gateway.connections(),
                metrics: metrics.clone(),
            },
            async {
                let _ = stopped.await;
            },
        ));

        // What the devices need, wherever they run.
        let devices = DeviceLink {
            gateway: gateway.addr,
            root_ca_pem: root.certificate_pem.clone(),
            issuing_ca: issuing.clone(),
            status_interval: options.status_interval,
            kind: options.device_kind,
        };
        let (fleet, progress) = if plan.is_empty() {
            (None, watch::channel(FleetProgress::default()).1)
        } else {
            let link = FleetLink {
                registry: &registry,
                jitr: &jitr_log,
                devices: devices.clone(),
                devices_elsewhere: options.device_host != DeviceHost::Here,
                sessions: gateway.session_counter(),
            };
            let (fleet, progress) = Fleet::start(&link, &plan, options.seed)?;
            (Some(fleet), progress)
        };
        let device_process = match &options.device_host {
            DeviceHost::Process(command) if !plan.is_empty() => {
                let process = DeviceProcess::spawn(
                    command,
                    &devices,
                    options.devices,
                    options.seed,
                    options.scenario,
                )
                .map_err(|e| LabError::DeviceProcess(e.to_string()))?;
                Some(Arc::new(process))
            }
            _ => None,
        };

        Ok(LabHandle {
            plan,
            progress,
            fleet,
            device_process,
            endpoint_url: format!("http://{http_addr}"),
            mqtt_addr: gateway.addr,
            operator: operator_files,
            registry,
            detector,
            metrics,
            jitr: jitr_log,
            root_ca: root,
            issuing_ca: issuing,
            next_ca: next,
            state_dir,
            gateway,
            api_stop,
            api_task,
            jitr_task,
        })
    }
}

/// Writes the operator's credentials and the CA certificates, owner-only (see
/// [`crate::state_files`]).
fn write_state(
    dir: &Path,
    root: &CertificateAuthority,
    issuing: &CertificateAuthority,
    operator: &crate::pki::IssuedCertificate,
) -> Result<OperatorFiles, LabError> {
    state_files::private_dir(dir)?;
    let write = |name: &str, text: &str| state_files::write_private(dir, name, text);
    write("issuing-ca.pem", &issuing.certificate_pem)?;
    write(
        "credentials",
        &format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = {}\n",
            api::ACCESS_KEY_ID,
            api::SECRET_ACCESS_KEY,
            crate::registry::REGION
        ),
    )?;
    Ok(OperatorFiles {
        ca_pem: write("root-ca.pem", &root.certificate_pem)?,
        cert_pem: write("operator.pem", &operator.certificate_pem)?,
        key_pem: write("operator.key", &operator.key_pem)?,
    })
}

impl LabHandle {
    /// Connected MQTT sessions.
    #[must_use]
    pub fn connected(&self) -> usize {
        self.gateway.connected()
    }

    /// Publishes connections did not receive because they were over AWS IoT's per-connection
    /// receive quota (see `LabOptions::receive_quota`).
    #[must_use]
    pub fn throttled(&self) -> u64 {
        self.gateway.throttled()
    }

    /// What a process needs to run this lab's devices (see `LabOptions::devices_elsewhere`).
    #[must_use]
    pub fn device_link(&self, kind: DeviceKind, status_interval: Duration) -> DeviceLink {
        DeviceLink {
            gateway: self.gateway.addr,
            root_ca_pem: self.root_ca.certificate_pem.clone(),
            issuing_ca: self.issuing_ca.clone(),
            status_interval,
            kind,
        }
    }

    /// Publishes a message from the broker itself.
    pub fn publish_json(&self, topic: &str, body: &serde_json::Value) {
        self.gateway.publish_json(topic, body);
    }

    /// What the fleet's agent of `thing` last saved (see [`Fleet::agent_state`]): its phase
    /// is `Revoked` once the gateway has refused its certificate a few times.
    #[must_use]
    pub fn agent_state(&self, thing: &str) -> Option<fleetid_agent::core::PersistedState> {
        self.fleet.as_ref()?.agent_state(thing)
    }

    /// The lab's fault injection: power cuts of its agents (in its device process when it
    /// has one; none when the devices run elsewhere), gateway restarts, and the count of
    /// devices without a working certificate.
    #[must_use]
    pub fn faults(&self) -> crate::faults::Faults {
        let agents = match &self.device_process {
            Some(process) => Agents::Elsewhere(process.clone()),
            None => Agents::Here(self.fleet.as_ref().map(Fleet::agents).unwrap_or_default()),
        };
        crate::faults::Faults::new(agents, self.gateway.restarter(), self.registry.clone())
    }

    /// Whether the lab's device process, if it has one, has exited: its devices are gone.
    #[must_use]
    pub fn device_process_ended(&self) -> bool {
        self.device_process.as_ref().is_some_and(|p| p.ended())
    }

    /// The process id of the lab's device process, if it has one.
    #[must_use]
    pub fn device_process_id(&self) -> Option<u32> {
        self.device_process.as_ref().map(|p| p.pid())
    }

    /// Status messages the scripted devices sent so far.
    #[must_use]
    pub fn scripted_status_messages(&self) -> u64 {
        self.fleet.as_ref().map_or(0, Fleet::published)
    }

    /// Stops the fleet, the gateway (closing every session), the API and JITR.
    pub async fn shutdown(self) {
        if let Some(process) = &self.device_process {
            // Its devices disconnect when the pipe closes.
            process.stop(Duration::from_secs(60)).await;
        }
        if let Some(fleet) = self.fleet {
            fleet.shutdown().await;
        }
        self.gateway.shutdown().await;
        let _ = self.api_stop.send(());
        let _ = self.api_task.await;
        self.jitr_task.abort();
        let _ = self.jitr_task.await;
    }
}
