//! The driver: runs one [`Agent`] against a real broker with tokio and rumqttc.
//!
//! [`run`] owns nothing global: no signal handlers, no process exit, no process-wide TLS
//! provider, so the lab can run thousands of agents as tasks in one process, each with its
//! own key store, state store and LED. The `fleetid-agent` binary adds those around it.

pub mod config;
pub mod keys;
pub mod led;
pub mod mqtt;
pub mod se;
pub mod store;
pub mod tls;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rumqttc::{AsyncClient, EventLoop, Packet, QoS, SubscribeFilter};
use tokio::sync::{Semaphore, mpsc};

use crate::core::{Action, Agent, ConnectFailure, Event, Millis, PersistedState, Policy, Qos};
pub use keys::{KeyError, KeyStore, SoftKeyStore};
pub use led::{Led, LogLed, SysfsLed};
pub use mqtt::Endpoint;
pub use se::SecureElementKeys;
pub use store::{FileStore, MemoryStore, StateStore};

/// What [`run`] needs besides the device parts.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Identity, trust anchor and timing of the agent.
    pub policy: Policy,
    /// The broker.
    pub endpoint: Endpoint,
    /// Seed of the reconnect jitter; `None` draws one from the OS.
    pub seed: Option<u64>,
}

/// The device an agent runs on.
pub struct DeviceParts {
    /// The secure element (or a stand-in).
    pub keys: Arc<dyn KeyStore>,
    /// Where the persistent state lives.
    pub store: Box<dyn StateStore>,
    /// The status LED.
    pub led: Box<dyn Led>,
}

/// Why the driver stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The saved state could not be read or written: without it the agent could lose track
    /// of its key, so it stops.
    #[error("agent state storage: {0}")]
    Storage(#[from] std::io::Error),
    /// The saved state is not a state this agent can resume.
    #[error("reading the saved agent state: {0}")]
    State(String),
    /// The agent could not be set up.
    #[error("setting up the agent: {0}")]
    Setup(String),
}

/// A live connection: rumqttc's event loop runs in its own task (so that timers never cancel
/// it half-way through a read) and sends the agent's events over a channel.
struct Connection {
    client: AsyncClient,
    events: mpsc::Receiver<Event>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Send DISCONNECT (a clean close in the broker's lifecycle events) and give the event
        // loop a moment to flush it before stopping it.
        let _ = self.client.try_disconnect();
        let Some(task) = self.task.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let abort = task.abort_handle();
                    if tokio::time::timeout(Duration::from_secs(1), task)
                        .await
                        .is_err()
                    {
                        abort.abort();
                    }
                });
            }
            Err(_) => task.abort(),
        }
    }
}

impl Connection {
    fn start(client: AsyncClient, eventloop: EventLoop, gate: Option<Arc<Semaphore>>) -> Self {
        let (sender, events) = mpsc::channel(16);
        let task = tokio::spawn(pump(eventloop, sender, gate));
        Self {
            client,
            events,
            task: Some(task),
        }
    }
}

/// Polls the event loop until the connection ends; the last event says how it ended.
async fn pump(mut eventloop: EventLoop, events: mpsc::Sender<Event>, gate: Option<Arc<Semaphore>>) {
    // Holds a place among the concurrent handshakes until CONNACK or failure.
    let mut permit = match gate {
        Some(gate) => gate.acquire_owned().await.ok(),
        None => None,
    };
    let mut connected = false;
    loop {
        let event = match eventloop.poll().await {
            Ok(rumqttc::Event::Incoming(Packet::ConnAck(_))) => {
                connected = true;
                permit = None;
                Event::Connected
            }
            Ok(rumqttc::Event::Incoming(Packet::Publish(publish))) => Event::Message {
                topic: publish.topic,
                payload: publish.payload.to_vec(),
            },
            Ok(_) => continue,
            Err(error) => {
                // rumqttc would reconnect on the next poll; the agent decides when instead.
                let last = if connected {
                    Event::Disconnected {
                        reason: error.to_string(),
                    }
                } else {
                    Event::ConnectFailed(mqtt::classify(&error))
                };
                drop(permit);
                let _ = events.send(last).await;
                return;
            }
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn os_seed() -> u64 {
    let mut bytes = [0u8; 8];
    // Only spreads reconnects; the time is a fine fallback.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return now_ms();
    }
    u64::from_le_bytes(bytes)
}

/// Runs the agent until `shutdown` completes (or a storage failure stops it).
///
/// # Errors
/// [`DriverError`] when the state cannot be loaded or saved, or the agent cannot start.
pub async fn run(
    config: DriverConfig,
    device: DeviceParts,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DriverError> {
    run_gated(config, device, None, shutdown).await
}

/// [`run`], with `connect_gate` limiting concurrent connection attempts (TCP + TLS + CONNACK)
/// across the agents that share it: the lab boots thousands at once.
///
/// # Errors
/// [`DriverError`] when the state cannot be loaded or saved, or the agent cannot start.
pub async fn run_gated(
    config: DriverConfig,
    mut device: DeviceParts,
    connect_gate: Option<Arc<Semaphore>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DriverError> {
    let DriverConfig {
        policy,
        endpoint,
        seed,
    } = config;
    let seed = seed.unwrap_or_else(os_seed);
    let target = Target {
        thing: policy.thing.clone(),
        endpoint,
        gate: connect_gate,
    };
    let mut agent = match device.store.load()? {
        Some(bytes) => {
            let state = PersistedState::from_json(&bytes).map_err(DriverError::State)?;
            Agent::restore(policy, state, seed)
        }
        None => Agent::new(policy, seed).map_err(DriverError::Setup)?,
    };
    let mut connection: Option<Connection> = None;
    let mut events: VecDeque<Event> = VecDeque::from([Event::Boot]);
    tokio::pin!(shutdown);
    loop {
        while let Some(event) = events.pop_front() {
            let actions = agent.handle(now_ms(), event);
            for action in actions {
                execute(
                    action,
                    &agent,
                    &target,
                    &mut device,
                    &mut connection,
                    &mut events,
                )?;
            }
        }
        let sleep = agent
            .next_deadline()
            .map_or(Duration::from_secs(3600), |at| {
                Duration::from_millis(at.saturating_sub(now_ms()))
            });
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(sleep) => events.push_back(Event::Tick),
            polled = poll(&mut connection) => {
                if let Some(event) = polled {
                    events.push_back(event);
                }
            }
        }
    }
    drop(connection);
    Ok(())
}

/// The next event of the connection; pends forever without one.
async fn poll(connection: &mut Option<Connection>) -> Option<Event> {
    let Some(active) = connection.as_mut() else {
        return std::future::pending().await;
    };
    let event = active.events.recv().await;
    if event.is_none() {
        *connection = None;
    }
    event
}

/// Where an agent connects to.
struct Target {
    thing: String,
    endpoint: Endpoint,
    gate: Option<Arc<Semaphore>>,
}

fn execute(
    action: Action,
    agent: &Agent,
    target: &Target,
    device: &mut DeviceParts,
    connection: &mut Option<Connection>,
    events: &mut VecDeque<Event>,
) -> Result<(), DriverError> {
    match action {
        Action::Persist => device.store.save(&agent.persisted().to_json())?,
        Action::Connect {
            slot,
            certificate_pem,
            anchors,
        } => {
            *connection = None;
            match mqtt::open(
                &target.endpoint,
                &target.thing,
                device.keys.clone(),
                slot,
                &certificate_pem,
                &anchors,
            ) {
                Ok((client, eventloop)) => {
                    *connection = Some(Connection::start(client, eventloop, target.gate.clone()));
                }
                Err(detail) => events.push_back(Event::ConnectFailed(ConnectFailure::Refused {
                    definite: false,
                    detail,
                })),
            }
        }
        Action::Disconnect => *connection = None,
        Action::Subscribe(filters) => {
            if let Some(active) = connection {
                let filters = filters
                    .into_iter()
                    .map(|f| SubscribeFilter::new(f, QoS::AtLeastOnce));
                if let Err(e) = active.client.try_subscribe_many(filters) {
                    tracing::warn!(error = %e, "subscribe");
                }
            }
        }
        Action::Publish {
            topic,
            payload,
            qos,
        } => {
            if let Some(active) = connection {
                let qos = match qos {
                    Qos::AtMostOnce => QoS::AtMostOnce,
                    Qos::AtLeastOnce => QoS::AtLeastOnce,
                };
                if let Err(e) = active.client.try_publish(topic, qos, false, payload) {
                    tracing::warn!(error = %e, "publish");
                }
            }
        }
        Action::GenerateKey { slot } => events.push_back(match device.keys.generate_p256(slot) {
            Ok(()) => Event::KeyGenerated { slot },
            Err(e) => se_failed(slot, &e),
        }),
        Action::SignCsr { slot, common_name } => events.push_back(
            match tls::sign_csr(device.keys.clone(), slot, &common_name) {
                Ok(csr_pem) => Event::CsrSigned { slot, csr_pem },
                Err(error) => Event::SecureElementFailed { slot, error },
            },
        ),
        Action::DeleteKey { slot } => events.push_back(match device.keys.delete(slot) {
            Ok(()) => Event::KeyDeleted { slot },
            Err(e) => se_failed(slot, &e),
        }),
        Action::SetLed(pattern) => device.led.show(pattern),
    }
    Ok(())
}

fn se_failed(slot: u32, error: &KeyError) -> Event {
    Event::SecureElementFailed {
        slot,
        error: error.to_string(),
    }
}
