//! The simulated fleet: every device of the scenario's plan gets a certificate from the
//! issuing CA (validity as planned), a thing with its firmware and batch attributes (except
//! the recalled batch, which JITR rejects), and a task that connects through the gateway over
//! real mTLS. Progress is published on a watch channel while the fleet boots.

mod agent;
pub mod claim;
mod device;
pub mod process;
pub mod scenario;
mod spawn;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use fleetid_agent::core::PersistedState;
use fleetid_agent::driver::MemoryStore;
use tokio::sync::watch;

use crate::jitr::JitrLog;
use crate::pki::{CertificateAuthority, PkiError};
use crate::registry::{CertStatus, Registry, cert_id_of};
use scenario::{DeviceSpec, Role};

/// What runs a planned device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// A fleet agent as the lab reaches it: its state store (the lab reads it) and its power
/// switch (a message cuts its power for that long; `off` is set by whoever cuts it and
/// cleared by the agent when it boots again).
#[derive(Clone)]
pub(crate) struct AgentHandle {
    pub(crate) store: MemoryStore,
    pub(crate) power: tokio::sync::mpsc::UnboundedSender<Duration>,
    pub(crate) off: Arc<std::sync::atomic::AtomicBool>,
}

/// The fleet's agents, by thing name.
pub(crate) type AgentStores = HashMap<String, AgentHandle>;

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
    /// The demo's provisioning claim could not be made.
    #[error(transparent)]
    Claim(#[from] claim::ClaimError),
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
    agents: Arc<AgentStores>,
}

/// Where the devices connect and what they trust: all a process that runs devices needs.
#[derive(Clone)]
pub struct DeviceLink {
    /// The gateway's MQTT (mTLS) address.
    pub gateway: SocketAddr,
    /// The lab's root CA (trust anchor for the gateway's server certificate).
    pub root_ca_pem: String,
    /// The registered issuing CA that signs the devices' factory certificates.
    pub issuing_ca: Arc<CertificateAuthority>,
    /// How often each device reports its status.
    pub status_interval: Duration,
    /// What runs a device.
    pub kind: DeviceKind,
}

/// The lab's side of its fleet.
pub(crate) struct FleetLink<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) jitr: &'a JitrLog,
    pub(crate) devices: DeviceLink,
    /// The devices run in another process ([`Fleet::run_devices`]): register their things only.
    pub(crate) devices_elsewhere: bool,
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
        register_things(link.registry, plan)?;
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(FleetCounters::default());
        let (mut tasks, agents) = if link.devices_elsewhere {
            (Vec::new(), AgentStores::new())
        } else {
            spawn::spawn_devices(&link.devices, plan, 0, seed, &stop_rx, &counters)?
        };
        // Two things sharing a certificate: the lab's bookkeeping, wherever the devices run.
        for spec in plan {
            if let Role::SharesCertificateOf(owner) = &spec.role {
                tasks.push(tokio::spawn(share_certificate(
                    link.registry.clone(),
                    owner.clone(),
                    spec.name.clone(),
                    stop_rx.clone(),
                )));
            }
        }
        let serials: Vec<String> = recalled(plan).into_iter().collect();
        if !link.devices_elsewhere && !serials.is_empty() {
            // The demo's leaked claim, tried with the recalled batch's serial numbers.
            let claim = claim::Claim::register(link.registry, &link.devices.issuing_ca)?;
            let gateway = link.devices.gateway;
            let root = link.devices.root_ca_pem.clone();
            let stop = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                claim.misuse(gateway, &root, &serials, stop).await;
            }));
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
                agents: Arc::new(agents),
            },
            progress,
        ))
    }

    /// Starts the devices of `plan` in this process, for a lab that runs elsewhere (its
    /// `devices_elsewhere` option): `plan` is the lab's plan or a slice of it starting at
    /// `first_index`. Things are the lab's business; only the devices run here.
    ///
    /// # Errors
    /// Certificate issuing or credential loading failures.
    pub fn run_devices(
        link: &DeviceLink,
        plan: &[DeviceSpec],
        first_index: usize,
        seed: u64,
    ) -> Result<Self, FleetError> {
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(FleetCounters::default());
        let (tasks, agents) =
            spawn::spawn_devices(link, plan, first_index, seed, &stop_rx, &counters)?;
        Ok(Self {
            stop,
            tasks,
            counters,
            agents: Arc::new(agents),
        })
    }

    /// Scripted devices connected now.
    #[must_use]
    pub fn scripted_connected(&self) -> usize {
        self.counters.connected.load(Ordering::Relaxed)
    }

    /// What the agent of `thing` last saved (its phase — `Revoked` once the cloud refuses
    /// its certificate —, connection counts, why its last connection ended), if `thing` is run
    /// by a real agent of this fleet and the agent saved its state already.
    #[must_use]
    pub fn agent_state(&self, thing: &str) -> Option<PersistedState> {
        agent_state(&self.agents, thing)
    }

    /// The lab's hold on this fleet's agents, for fault injection ([`crate::faults`]).
    #[must_use]
    pub(crate) fn agents(&self) -> Arc<AgentStores> {
        self.agents.clone()
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

/// Attaches the certificate of `owner`'s thing to `thing` once it is ACTIVE (JITR registers
/// and attaches it when the owner first connects): the demo's two things that share one
/// certificate, whose second device connects with the owner's credentials.
async fn share_certificate(
    registry: Registry,
    owner: String,
    thing: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let active = registry.thing(&owner).ok().and_then(|record| {
            record.principals.into_iter().find(|principal| {
                registry
                    .certificate(cert_id_of(principal))
                    .is_ok_and(|c| c.status == CertStatus::Active)
            })
        });
        if let Some(principal) = active {
            let _ = registry.attach_thing_principal(&thing, &principal);
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// What the agent of `thing` among `agents` last saved.
pub(crate) fn agent_state(agents: &AgentStores, thing: &str) -> Option<PersistedState> {
    let bytes = agents.get(thing)?.store.bytes()?;
    PersistedState::from_json(&bytes).ok()
}

/// Makes the thing of every planned device, with its firmware and batch attributes, in its
/// site's thing group (a child of its region's) and, on the canary firmware, in the canary
/// ring's — except the recalled batch's: JITR must find no thing for those.
fn register_things(registry: &Registry, plan: &[DeviceSpec]) -> Result<(), FleetError> {
    if plan.is_empty() {
        return Ok(());
    }
    for (site, region) in scenario::SITES {
        registry.create_group(region, None)?;
        registry.create_group(site, Some(region))?;
    }
    registry.create_group(scenario::CANARY_GROUP, None)?;
    for spec in plan.iter().filter(|s| s.role != Role::Recalled) {
        let attributes = [("firmware", spec.firmware), ("batch", spec.batch)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        registry.create_thing(&spec.name, None, attributes)?;
        registry.set_group_membership(spec.site, &spec.name, true)?;
        if spec.firmware == scenario::CANARY_FIRMWARE {
            registry.set_group_membership(scenario::CANARY_GROUP, &spec.name, true)?;
        }
    }
    Ok(())
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
