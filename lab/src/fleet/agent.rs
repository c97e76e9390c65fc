//! A fleet device that is the real fleetid-agent: its driver (`fleetid_agent::driver::run`)
//! runs as a task with a factory-provisioned key (a software key store holding the key the lab
//! issued the certificate for), an in-memory state store and a log LED.

use std::sync::Arc;
use std::time::Duration;

use fleetid_agent::core::{FirstIdentity, Policy};
use fleetid_agent::driver::{
    self, DeviceParts, DriverConfig, Endpoint, LogLed, MemoryStore, SoftKeyStore,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use tokio::sync::watch;

use super::scenario::DeviceSpec;

/// The key slot of the factory identity.
const FACTORY_SLOT: u32 = 0x1000_0001;

/// What an agent needs to reach the lab.
pub(super) struct AgentLink {
    pub gateway: std::net::SocketAddr,
    pub anchor_pem: String,
    pub status_interval: Duration,
    pub stop: watch::Receiver<bool>,
}

/// Runs one agent until the lab stops; returns why it could not start, if it could not.
pub(super) async fn run(
    spec: DeviceSpec,
    certificate_pem: String,
    key_pem: &str,
    link: AgentLink,
    seed: u64,
) -> Result<(), String> {
    let keys = SoftKeyStore::new();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("{}: key: {e}", spec.name))?;
    keys.import_pkcs8(FACTORY_SLOT, key.secret_der())
        .map_err(|e| format!("{}: {e}", spec.name))?;
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
    let config = DriverConfig {
        policy,
        endpoint: Endpoint::new(link.gateway.ip().to_string(), link.gateway.port()),
        seed: Some(seed),
    };
    let parts = DeviceParts {
        keys: Arc::new(keys),
        store: Box::new(MemoryStore::new()),
        led: Box::new(LogLed::default()),
    };
    let mut stop = link.stop;
    driver::run(config, parts, async move {
        let _ = stop.wait_for(|s| *s).await;
    })
    .await
    .map_err(|e| format!("{}: {e}", spec.name))
}
