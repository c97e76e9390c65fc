//! Test fixture: a CA, a mosquitto broker with mTLS, the responder, and agents run by the
//! library entry point with a shared key store and state store (they survive a "kill", like
//! a secure element and flash do).

// Shared by several test crates; each uses a part of it.
#![allow(dead_code)]

pub mod mosquitto;
pub mod pki;
pub mod responder;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetid_agent::core::{FirstIdentity, PersistedState, Policy};
use fleetid_agent::driver::{
    self, DeviceParts, DriverConfig, Endpoint, KeyStore, LogLed, MemoryStore, SecureElementKeys,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::mosquitto::Mosquitto;
use self::pki::Ca;
use self::responder::Shared;

pub const THING: &str = "dev-0001";
pub const SLOT_A: u32 = 0x1000_0001;
pub const SLOT_B: u32 = 0x1000_0002;
/// Serial number of the factory certificate (for CRLs).
pub const FACTORY_SERIAL: u64 = 0x00f1_ee71;

pub struct Fixture {
    pub ca: Arc<Ca>,
    /// A CA the broker may move its server certificate to (trusted by the responder).
    pub next_server_ca: Arc<Ca>,
    pub broker: Mosquitto,
    pub cloud: Shared,
    /// A simulated SE05x: it survives agent kills like a chip does.
    pub keys: Arc<SecureElementKeys>,
    pub store: MemoryStore,
    pub factory_pem: String,
}

pub struct RunningAgent {
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), driver::DriverError>>,
}

impl RunningAgent {
    /// Kills the agent task where it is (no clean shutdown).
    pub async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }

    /// Asks the agent to stop and waits for it.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let result = tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("agent stops within 30 s");
        result
            .expect("agent task")
            .expect("agent ran without error");
    }
}

impl Fixture {
    pub async fn new() -> Self {
        let ca = Arc::new(Ca::new("fleetid test root"));
        let untrusted = Arc::new(Ca::new("not trusted by the broker"));
        let (server_pem, server_key, _) = ca.leaf("broker", &["127.0.0.1"]);
        let broker = Mosquitto::start(&ca.pem(), &server_pem, &server_key, &ca.crl(&[]));
        let next_server_ca = Arc::new(Ca::new("next server root"));
        let anchors = format!("{}{}", ca.pem(), next_server_ca.pem());
        let cloud = responder::start(broker.port, ca.clone(), untrusted, &anchors).await;
        // The factory: a key generated in the SE, a certificate for its public key.
        let keys = Arc::new(SecureElementKeys::simulated().expect("simulated SE"));
        keys.generate_p256(SLOT_A).expect("factory key");
        let point = keys.public_key(SLOT_A).expect("public key");
        let factory_pem = ca.leaf_for_key(THING, point, FACTORY_SERIAL);
        Self {
            ca,
            next_server_ca,
            broker,
            cloud,
            keys,
            store: MemoryStore::new(),
            factory_pem,
        }
    }

    pub fn policy(&self) -> Policy {
        let mut policy = Policy::new(
            THING.into(),
            FirstIdentity::Factory {
                slot: SLOT_A,
                certificate_pem: self.factory_pem.clone(),
            },
            self.ca.pem(),
        );
        policy.slots = [SLOT_A, SLOT_B];
        policy.firmware = "test".into();
        policy
    }

    pub fn spawn(&self, policy: Policy) -> RunningAgent {
        let config = DriverConfig {
            policy,
            endpoint: Endpoint::new("127.0.0.1", self.broker.port),
            seed: Some(7),
        };
        let keys: Arc<dyn KeyStore> = self.keys.clone();
        let device = DeviceParts {
            keys,
            store: Box::new(self.store.clone()),
            led: Box::new(LogLed::default()),
        };
        let (shutdown, stop) = oneshot::channel();
        let handle = tokio::spawn(driver::run(config, device, async move {
            let _ = stop.await;
        }));
        RunningAgent { shutdown, handle }
    }

    pub fn state(&self) -> Option<PersistedState> {
        self.store
            .bytes()
            .map(|bytes| PersistedState::from_json(&bytes).expect("state reads back"))
    }

    /// Polls the saved state until `check` holds, failing after `limit`.
    pub async fn wait_state(
        &self,
        limit: Duration,
        what: &str,
        check: impl Fn(&PersistedState) -> bool,
    ) -> PersistedState {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(state) = self.state().filter(|s| check(s)) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for: {what}; state {:?}; broker log: {}",
                self.state().map(|s| (s.phase, s.rotation)),
                self.broker.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
