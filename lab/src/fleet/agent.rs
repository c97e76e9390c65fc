//! A fleet device that is the real fleetid-agent: its driver (`fleetid_agent::driver::run`)
//! runs as a task with its own simulated SE05x (se-nxp's simulator: the factory key is
//! generated in the secure element and the CSR signed there, then the lab's issuing CA signs
//! it), an in-memory state store the lab can read and a log LED. The two devices of the
//! shared-certificate story hold the same software key instead: one key cannot be in two
//! secure elements.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fleetid_agent::core::{FirstIdentity, Policy};
use fleetid_agent::driver::{
    self, DeviceParts, DriverConfig, Endpoint, KeyStore, LogLed, MemoryStore, SecureElementKeys,
    SoftKeyStore,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use tokio::sync::{mpsc, watch};

use super::scenario::DeviceSpec;
use crate::pki::CertificateAuthority;

/// Where an agent's factory identity comes from.
pub(super) enum FactoryKey {
    /// A key made by the lab (PEM) and its certificate.
    Software {
        certificate_pem: String,
        key_pem: String,
    },
    /// A key generated in the agent's simulated SE05x; `issuing` signs its CSR.
    SecureElement {
        issuing: Arc<CertificateAuthority>,
        valid_days: i64,
    },
}

/// Puts the factory key in place and returns the key store and the certificate.
fn factory(spec: &DeviceSpec, key: FactoryKey) -> Result<(Arc<dyn KeyStore>, String), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: factory identity: {e}", spec.name);
    match key {
        FactoryKey::Software {
            certificate_pem,
            key_pem,
        } => {
            let keys = SoftKeyStore::new();
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| fail(&e))?;
            keys.import_pkcs8(FACTORY_SLOT, key.secret_der())
                .map_err(|e| fail(&e))?;
            Ok((Arc::new(keys), certificate_pem))
        }
        FactoryKey::SecureElement {
            issuing,
            valid_days,
        } => {
            let keys: Arc<dyn KeyStore> =
                Arc::new(SecureElementKeys::simulated().map_err(|e| fail(&e))?);
            keys.generate_p256(FACTORY_SLOT).map_err(|e| fail(&e))?;
            let csr = driver::tls::sign_csr(keys.clone(), FACTORY_SLOT, &spec.name)
                .map_err(|e| fail(&e))?;
            let (not_before, not_after) = crate::pki::device_validity(valid_days);
            let certificate_pem = issuing
                .sign_csr_valid(&csr, not_before, not_after)
                .map_err(|e| fail(&e))?;
            Ok((keys, certificate_pem))
        }
    }
}

/// The key slot of the factory identity.
const FACTORY_SLOT: u32 = 0x1000_0001;

/// Retry period of a lab agent in Revoked, Fallback or Error (the agent waits between half of
/// it and all of it). A device's default is 15 minutes; a lab device whose certificate is
/// restored should be back within seconds.
const SLOW_RETRY_MS: u64 = 10_000;

/// What an agent needs to reach the lab.
pub(super) struct AgentLink {
    pub gateway: std::net::SocketAddr,
    pub anchor_pem: String,
    pub status_interval: Duration,
    pub stop: watch::Receiver<bool>,
    /// Shared by the whole fleet: limits concurrent connection attempts while it boots.
    pub gate: Arc<tokio::sync::Semaphore>,
}

/// An agent's power: a message cuts it for that long; `off` is set by whoever cuts it and
/// cleared here when the agent boots again.
pub(super) struct PowerSwitch {
    pub cuts: mpsc::UnboundedReceiver<Duration>,
    pub off: Arc<AtomicBool>,
}

/// Runs one agent until the lab stops; returns why it could not start, if it could not.
/// `store` holds its persisted state (the lab keeps a clone to read it). A message on
/// `power` cuts the agent's power: its driver is dropped wherever it is (no DISCONNECT,
/// nothing more saved), and after the given time it boots again from what it persisted and
/// the keys in its secure element, as a device that lost power does.
pub(super) async fn run(
    spec: DeviceSpec,
    key: FactoryKey,
    link: AgentLink,
    seed: u64,
    store: MemoryStore,
    mut power: PowerSwitch,
) -> Result<(), String> {
    let factory_spec = spec.clone();
    let (keys, certificate_pem) = tokio::task::spawn_blocking(move || factory(&factory_spec, key))
        .await
        .map_err(|e| format!("{}: factory identity: {e}", spec.name))??;
    let mut policy = Policy::new(
        spec.name.clone(),
        FirstIdentity::Factory {
            slot: FACTORY_SLOT,
            certificate_pem,
        },
        link.anchor_pem,
    );
    policy.firmware = spec.firmware.to_owned();
    policy.status_interval_ms = u64::try_from(link.status_interval.as_millis()).unwrap_or(u64::MAX);
    // JITR drops the first connection: come back quickly, as a demo fleet should.
    policy.backoff_floor_ms = 250;
    policy.backoff_cap_ms = 5_000;
    policy.slow_retry_ms = SLOW_RETRY_MS;
    let endpoint = Endpoint::new(link.gateway.ip().to_string(), link.gateway.port());
    let mut stop = link.stop;
    for boot in 0u64.. {
        let config = DriverConfig {
            policy: policy.clone(),
            endpoint: endpoint.clone(),
            seed: Some(seed ^ boot.wrapping_mul(0x2545_f491)),
        };
        let parts = DeviceParts {
            keys: keys.clone(),
            store: Box::new(store.clone()),
            led: Box::new(LogLed::default()),
        };
        let mut driver_stop = stop.clone();
        let driver = driver::run_gated(config, parts, Some(link.gate.clone()), async move {
            let _ = driver_stop.wait_for(|s| *s).await;
        });
        let down = tokio::select! {
            result = driver => return result.map_err(|e| format!("{}: {e}", spec.name)),
            Some(down) = power.cuts.recv() => down,
        };
        tracing::debug!("lab agent {}: power cut for {down:?}", spec.name);
        tokio::select! {
            () = tokio::time::sleep(down) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        // Cuts asked for while it was off found it off already.
        while power.cuts.try_recv().is_ok() {}
        power.off.store(false, Ordering::SeqCst);
    }
    Ok(())
}
