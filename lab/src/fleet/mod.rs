//! The simulated fleet: every device of the scenario's plan gets a certificate from the
//! issuing CA (validity as planned), a thing with its firmware and batch attributes (except
//! the recalled batch, which JITR rejects), and a task that connects through the gateway over
//! real mTLS. Progress is published on a watch channel while the fleet boots.

mod agent;
mod device;
pub mod scenario;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsConnector;

use crate::jitr::JitrLog;
use crate::pki::{CertificateAuthority, PkiError};
use crate::registry::{CertStatus, Registry, cert_arn, now};
use scenario::{DeviceSpec, Role};

/// Handshakes in flight at once while booting (2 cores: more only queues).
const CONCURRENT_HANDSHAKES: usize = 64;

/// What runs a planned device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// The real fleetid-agent driver (the debug-topic and flapping devices of the demo
    /// scenario stay scripted: a real agent does neither).
    #[default]
    Agent,
    /// The lab's lightweight scripted device only (scale runs).
    Scripted,
}

/// How far the fleet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FleetProgress {
    /// Devices planned.
    pub total: usize,
    /// Devices connected now.
    pub connected: usize,
    /// Registrations JITR accepted so far.
    pub provisioned: usize,
    /// Registrations JITR rejected so far.
    pub rejected: usize,
}

#[derive(Default)]
pub(crate) struct FleetCounters {
    pub(crate) connected: AtomicUsize,
    pub(crate) published: AtomicU64,
}

/// Why the fleet could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// Issuing a device certificate failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// A device certificate or key did not load into rustls.
    #[error("loading the certificate of device {device}: {message}")]
    Credentials {
        /// The device.
        device: String,
        /// What rustls said.
        message: String,
    },
    /// Preparing the registry for the fleet failed.
    #[error("preparing the registry for the fleet: {0}")]
    Registry(#[from] crate::registry::RegistryError),
}

/// The names JITR must reject for this plan.
#[must_use]
pub fn recalled(plan: &[DeviceSpec]) -> BTreeSet<String> {
    plan.iter()
        .filter(|s| s.role == Role::Recalled)
        .map(|s| s.name.clone())
        .collect()
}

/// A running fleet.
pub struct Fleet {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    counters: Arc<FleetCounters>,
}

/// Where the fleet connects and what it trusts.
pub(crate) struct FleetLink<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) jitr: &'a JitrLog,
    pub(crate) issuing_ca: &'a Arc<CertificateAuthority>,
    pub(crate) root_ca_pem: &'a str,
    pub(crate) gateway: std::net::SocketAddr,
    pub(crate) status_interval: Duration,
    pub(crate) kind: DeviceKind,
    /// MQTT sessions connected at the gateway now.
    pub(crate) sessions: Arc<dyn Fn() -> usize + Send + Sync>,
}

impl Fleet {
    /// Prepares and starts every device of `plan`.
    ///
    /// # Errors
    /// Certificate issuing or credential loading failures.
    pub(crate) fn start(
        link: &FleetLink<'_>,
        plan: &[DeviceSpec],
        seed: u64,
    ) -> Result<(Self, watch::Receiver<FleetProgress>), FleetError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let root = CertificateDer::from_pem_slice(link.root_ca_pem.as_bytes()).map_err(|e| {
            FleetError::Credentials {
                device: "(root CA)".into(),
                message: e.to_string(),
            }
        })?;
        roots.add(root).map_err(|e| FleetError::Credentials {
            device: "(root CA)".into(),
            message: e.to_string(),
        })?;
        let roots = Arc::new(roots);
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(FleetCounters::default());
        let handshakes = Arc::new(Semaphore::new(CONCURRENT_HANDSHAKES));
        let mut identities: std::collections::HashMap<&str, (String, String)> =
            std::collections::HashMap::new();
        let mut tasks = Vec::with_capacity(plan.len() + 2);
        let at = now();
        let owners: BTreeSet<&str> = plan
            .iter()
            .filter_map(|s| match &s.role {
                Role::SharesCertificateOf(owner) => Some(owner.as_str()),
                _ => None,
            })
            .collect();
        for (index, spec) in plan.iter().enumerate() {
            if spec.role != Role::Recalled {
                let attributes = [("firmware", spec.firmware), ("batch", spec.batch)]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                link.registry.create_thing(&spec.name, None, attributes)?;
            }
            let device_seed = seed ^ (u64::try_from(index).unwrap_or(0).wrapping_mul(0x9e37_79b9));
            let scripted = link.kind == DeviceKind::Scripted
                || matches!(spec.role, Role::Debug | Role::Flapping);
            let shared_key = matches!(spec.role, Role::SharesCertificateOf(_))
                || owners.contains(spec.name.as_str());
            if !scripted && !shared_key {
                // The key is made in the agent's own simulated SE05x.
                let key = agent::FactoryKey::SecureElement {
                    issuing: link.issuing_ca.clone(),
                    valid_days: spec.expires_in_days,
                };
                tasks.push(spawn_agent(
                    spec.clone(),
                    key,
                    link,
                    &stop_rx,
                    &handshakes,
                    device_seed,
                ));
                continue;
            }
            let (cert_pem, key_pem) = match &spec.role {
                Role::SharesCertificateOf(owner) => identities
                    .get(owner.as_str())
                    .cloned()
                    .ok_or_else(|| FleetError::Credentials {
                        device: spec.name.clone(),
                        message: format!("{owner} is not planned before it"),
                    })?,
                _ => {
                    let issued = link.issuing_ca.issue_device_valid(
                        &spec.name,
                        at - time::Duration::hours(1),
                        at + time::Duration::days(spec.expires_in_days),
                    )?;
                    (issued.certificate_pem, issued.key_pem)
                }
            };
            identities.insert(spec.name.as_str(), (cert_pem.clone(), key_pem.clone()));
            if let Role::SharesCertificateOf(_) = spec.role {
                tasks.push(tokio::spawn(share_certificate(
                    link.registry.clone(),
                    cert_pem.clone(),
                    spec.name.clone(),
                    stop_rx.clone(),
                )));
            }
            if !scripted {
                let key = agent::FactoryKey::Software {
                    certificate_pem: cert_pem,
                    key_pem,
                };
                tasks.push(spawn_agent(
                    spec.clone(),
                    key,
                    link,
                    &stop_rx,
                    &handshakes,
                    device_seed,
                ));
                continue;
            }
            let credentials = |e: &dyn std::fmt::Display| FleetError::Credentials {
                device: spec.name.clone(),
                message: e.to_string(),
            };
            let chain = vec![
                CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| credentials(&e))?,
            ];
            let key =
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| credentials(&e))?;
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| credentials(&e))?
                .with_root_certificates(roots.clone())
                .with_client_auth_cert(chain, key)
                .map_err(|e| credentials(&e))?;
            let device_link = device::Link {
                addr: link.gateway,
                connector: TlsConnector::from(Arc::new(config)),
                handshakes: handshakes.clone(),
                status_interval: link.status_interval,
                stop: stop_rx.clone(),
                counters: counters.clone(),
            };
            tasks.push(tokio::spawn(device::run(
                spec.clone(),
                device_link,
                device_seed,
            )));
        }
        let (progress_tx, progress) = watch::channel(FleetProgress {
            total: plan.len(),
            ..FleetProgress::default()
        });
        tasks.push(tokio::spawn(report_progress(
            plan.len(),
            link.sessions.clone(),
            link.jitr.clone(),
            progress_tx,
            stop_rx,
        )));
        Ok((
            Self {
                stop,
                tasks,
                counters,
            },
            progress,
        ))
    }

    /// Scripted devices connected now.
    #[must_use]
    pub fn scripted_connected(&self) -> usize {
        self.counters.connected.load(Ordering::Relaxed)
    }

    /// Status messages the scripted devices sent so far.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.counters.published.load(Ordering::Relaxed)
    }

    /// Tells every device to disconnect and waits (bounded) for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                break;
            }
        }
    }
}

fn spawn_agent(
    spec: DeviceSpec,
    key: agent::FactoryKey,
    link: &FleetLink<'_>,
    stop: &watch::Receiver<bool>,
    gate: &Arc<Semaphore>,
    seed: u64,
) -> tokio::task::JoinHandle<()> {
    let agent_link = agent::AgentLink {
        gateway: link.gateway,
        anchor_pem: link.root_ca_pem.to_owned(),
        status_interval: link.status_interval,
        stop: stop.clone(),
        gate: gate.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = agent::run(spec, key, agent_link, seed).await {
            tracing::warn!("lab agent stopped: {e}");
        }
    })
}

/// The shared-certificate device: once its owner's certificate is ACTIVE, the certificate is
/// also attached to this device's thing (a non-exclusive attachment), so both connect with it.
async fn share_certificate(
    registry: Registry,
    cert_pem: String,
    thing: String,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(facts) = crate::cert_facts::CertFacts::from_pem(&cert_pem) else {
        return;
    };
    loop {
        if registry
            .certificate(&facts.id)
            .is_ok_and(|c| c.status == CertStatus::Active)
        {
            let _ = registry.attach_thing_principal(&thing, &cert_arn(&facts.id));
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn report_progress(
    total: usize,
    sessions: Arc<dyn Fn() -> usize + Send + Sync>,
    jitr: JitrLog,
    progress: watch::Sender<FleetProgress>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (provisioned, rejected) = jitr.counts();
        let _ = progress.send(FleetProgress {
            total,
            connected: sessions(),
            provisioned,
            rejected,
        });
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => return,
        }
    }
}
