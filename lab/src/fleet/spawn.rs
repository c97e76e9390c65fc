//! Starting the devices of a plan as tasks: the real fleetid-agent (key made in its own
//! simulated SE05x) or the lab's scripted device, each with its own TLS identity. Used by the
//! lab for its own fleet and by a separate device process in scale runs ([`super::Fleet::run_devices`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fleetid_agent::driver::MemoryStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

use super::scenario::{DeviceSpec, Role};
use super::{
    AgentHandle, AgentStores, DeviceKind, DeviceLink, FleetCounters, FleetError, agent, device,
};

/// Handshakes in flight at once while booting (2 cores: more only queues).
const CONCURRENT_HANDSHAKES: usize = 64;

/// Starts every device of `plan`; `first_index` is the position of `plan[0]` in the whole
/// plan (device seeds depend on it). Returns the tasks and the state store of each agent.
pub(super) fn spawn_devices(
    link: &DeviceLink,
    plan: &[DeviceSpec],
    first_index: usize,
    seed: u64,
    stop_rx: &watch::Receiver<bool>,
    counters: &Arc<FleetCounters>,
) -> Result<(Vec<JoinHandle<()>>, AgentStores), FleetError> {
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
    let handshakes = Arc::new(Semaphore::new(CONCURRENT_HANDSHAKES));
    let mut identities: HashMap<&str, (String, String)> = HashMap::new();
    let mut tasks = Vec::with_capacity(plan.len());
    let mut agents = AgentStores::new();
    let owners: BTreeSet<&str> = plan
        .iter()
        .filter_map(|s| match &s.role {
            Role::SharesCertificateOf(owner) => Some(owner.as_str()),
            _ => None,
        })
        .collect();
    let mut agent = |spec: &DeviceSpec, key, seed| {
        let store = MemoryStore::new();
        let (power, cuts) = mpsc::unbounded_channel();
        let off = Arc::new(AtomicBool::new(false));
        agents.insert(
            spec.name.clone(),
            AgentHandle {
                store: store.clone(),
                power,
                off: off.clone(),
            },
        );
        spawn_agent(
            spec.clone(),
            key,
            link,
            stop_rx,
            &handshakes,
            seed,
            (store, agent::PowerSwitch { cuts, off }),
        )
    };
    for (offset, spec) in plan.iter().enumerate() {
        let index = first_index + offset;
        let device_seed = seed ^ (u64::try_from(index).unwrap_or(0).wrapping_mul(0x9e37_79b9));
        let scripted =
            link.kind == DeviceKind::Scripted || matches!(spec.role, Role::Debug | Role::Flapping);
        let shared_key = matches!(spec.role, Role::SharesCertificateOf(_))
            || owners.contains(spec.name.as_str());
        if !scripted && !shared_key {
            // The key is made in the agent's own simulated SE05x.
            let key = agent::FactoryKey::SecureElement {
                issuing: link.issuing_ca.clone(),
                valid_days: spec.expires_in_days,
            };
            tasks.push(agent(spec, key, device_seed));
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
                let (not_before, not_after) = crate::pki::device_validity(spec.expires_in_days);
                let issued = link
                    .issuing_ca
                    .issue_device_valid(&spec.name, not_before, not_after)?;
                (issued.certificate_pem, issued.key_pem)
            }
        };
        identities.insert(spec.name.as_str(), (cert_pem.clone(), key_pem.clone()));
        if !scripted {
            let key = agent::FactoryKey::Software {
                certificate_pem: cert_pem,
                key_pem,
            };
            tasks.push(agent(spec, key, device_seed));
            continue;
        }
        let credentials = |e: &dyn std::fmt::Display| FleetError::Credentials {
            device: spec.name.clone(),
            message: e.to_string(),
        };
        let chain =
            vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| credentials(&e))?];
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| credentials(&e))?;
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
    Ok((tasks, agents))
}

fn spawn_agent(
    spec: DeviceSpec,
    key: agent::FactoryKey,
    link: &DeviceLink,
    stop: &watch::Receiver<bool>,
    gate: &Arc<Semaphore>,
    seed: u64,
    (store, power): (MemoryStore, agent::PowerSwitch),
) -> JoinHandle<()> {
    let agent_link = agent::AgentLink {
        gateway: link.gateway,
        anchor_pem: link.root_ca_pem.clone(),
        status_interval: link.status_interval,
        stop: stop.clone(),
        gate: gate.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = agent::run(spec, key, agent_link, seed, store, power).await {
            tracing::warn!("lab agent stopped: {e}");
        }
    })
}
