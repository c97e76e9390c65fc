//! The identity gateway: an mTLS listener (tokio-rustls) in front of the lab's MQTT 3.1.1
//! broker. Each client certificate is mapped to the registry: unknown certificates under a
//! registered CA go through JITR, INACTIVE/REVOKED ones are dropped (and connected ones are
//! disconnected the moment they change), and every connect, publish, subscribe and receive is
//! authorized by the certificate's policies. Lifecycle events go out on
//! `$aws/events/presence/...`. [`Connections`] closes a session on request (the data plane's
//! DeleteConnection).

mod admission;
mod jobs;
pub mod mqtt;
mod provisioning;
mod router;
mod session;
mod verifier;

pub use router::Router;
pub use verifier::RegistryVerifier;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use bytes::Bytes;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::certificate_provider::CertificateProvider;
use crate::detector::Detector;
use crate::metrics::{self, MetricId, Metrics};
use crate::registry::{Registry, RegistryEvent, cert_id_of};
use router::ToSession;

/// The policy provisioning templates attach to device certificates.
pub const DEVICE_POLICY: &str = "fleetid-lab-device";

/// The `disconnectReason` of a session closed by DeleteConnection.
pub const API_INITIATED_DISCONNECT: &str = "API_INITIATED_DISCONNECT";

/// How long [`Connections::disconnect`] waits for a session to take the request and to end.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `$aws/events/certificates/registered/<caId>`, also handed to the JITR task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredEvent {
    /// The new certificate.
    pub certificate_id: String,
    /// The CA that issued it.
    pub ca_certificate_id: String,
    /// When (epoch milliseconds).
    pub timestamp_ms: i64,
}

impl RegisteredEvent {
    /// The event as AWS IoT publishes it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "certificateId": self.certificate_id,
            "caCertificateId": self.ca_certificate_id,
            "timestamp": self.timestamp_ms,
            "certificateStatus": "PENDING_ACTIVATION",
            "awsAccountId": crate::registry::ACCOUNT_ID,
            "certificateRegistrationTimestamp": self.timestamp_ms.to_string(),
        })
    }
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The server certificate or key PEM is unusable.
    #[error("loading the gateway's server certificate: {0}")]
    Pem(String),
    /// rustls refused the configuration.
    #[error("configuring TLS for the gateway: {0}")]
    Tls(#[from] rustls::Error),
}

pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) detector: Detector,
    pub(crate) metrics: Metrics,
    pub(crate) router: Router,
    /// Signs `create-from-csr`: the issuing CA, or the account's certificate provider's.
    pub(crate) certificate_provider: CertificateProvider,
    pub(crate) registrations: mpsc::Sender<RegisteredEvent>,
    pub(crate) provisioning: ProvisioningHook,
    pub(crate) next_session: AtomicU64,
    pub(crate) connected: AtomicUsize,
    pub(crate) published: AtomicU64,
    /// Whether each connection's receive quota is enforced (AWS IoT's 100 publishes and
    /// 512 KiB a second).
    pub(crate) receive_quota: bool,
    /// Publishes a connection did not receive because it was over its quota.
    pub(crate) throttled: AtomicU64,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Bumped by [`Gateway::restart`]: every session ends as a broker restart ends it.
    pub(crate) restarts: watch::Sender<u64>,
    /// How long after a registry change connected sessions are re-checked.
    pub(crate) enforcement_delay: Duration,
}

impl Shared {
    /// Counts a connection attempt on MQTT: `Connect.Success` or `Connect.AuthError`.
    pub(crate) fn count_connect(&self, authorized: bool) {
        let name = if authorized {
            metrics::CONNECT_SUCCESS
        } else {
            metrics::CONNECT_AUTH_ERROR
        };
        self.metrics
            .record(&MetricId::new(name, &[("Protocol", "MQTT")]), 1.0);
    }

    /// Publishes a JSON message from the broker itself (events, API answers).
    pub(crate) fn publish_json(&self, topic: &str, body: &Value) {
        self.router.route(&mqtt::Publish {
            topic: topic.to_owned(),
            payload: Bytes::from(body.to_string()),
            qos: 0,
            pkid: 0,
            retain: false,
        });
    }
}

/// What fleet provisioning's pre-provisioning hook decides with.
#[derive(Debug, Clone)]
pub struct ProvisioningHook {
    /// fleetid-jitr's configuration (device id source, thing name prefix, ...).
    pub config: fleetid_jitr::JitrConfig,
    /// The manifest it consults.
    pub manifest: crate::jitr::LabManifest,
}

/// What the gateway needs to start.
pub struct GatewayOptions {
    /// The control plane.
    pub registry: Registry,
    /// Device Defender stand-in.
    pub detector: Detector,
    /// Where connections and provisioning are counted (CloudWatch).
    pub metrics: Metrics,
    /// Signs create-from-csr requests: the issuing CA unless the account has a certificate
    /// provider (shared with the HTTP API, which creates it).
    pub certificate_provider: CertificateProvider,
    /// The gateway's TLS server certificate chain (PEM).
    pub server_cert_pem: String,
    /// Its private key (PEM).
    pub server_key_pem: String,
    /// Where registered events go (the JITR task).
    pub registrations: mpsc::Sender<RegisteredEvent>,
    /// The pre-provisioning hook of provisioning templates.
    pub provisioning: ProvisioningHook,
    /// How long after a certificate leaves ACTIVE or its policies change the sessions that
    /// use it are re-checked (and dropped if no longer allowed). AWS IoT says "within a few
    /// minutes"; zero re-checks at once. New connections are always checked against the
    /// registry as it is.
    pub enforcement_delay: Duration,
    /// Enforce AWS IoT's per-connection receive quota (100 publishes and 512 KiB a second);
    /// what a connection does not receive over it is counted ([`Gateway::throttled`]).
    pub receive_quota: bool,
}

/// What [`Connections::disconnect`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    /// The session was closed (its disconnected event is out).
    Closed,
    /// No client with that id is connected.
    NotConnected,
    /// The session did not take the request in time (it is stuck writing to its client).
    Busy,
}

/// Closes live sessions by client id: the data plane's DeleteConnection. The default value
/// belongs to no gateway (every client id is not connected).
#[derive(Clone, Default)]
pub struct Connections {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("gateway", &self.shared.is_some())
            .finish()
    }
}

impl Connections {
    /// Closes the session of `client_id` with `reason` as its `disconnectReason`, the way the
    /// gateway closes any session (the disconnected lifecycle event and fleet-indexing
    /// connectivity included), and waits (bounded) until it has ended.
    pub async fn disconnect(&self, client_id: &str, reason: &'static str) -> Disconnect {
        let Some(entry) = self
            .shared
            .as_ref()
            .and_then(|shared| shared.router.session(client_id))
        else {
            return Disconnect::NotConnected;
        };
        match tokio::time::timeout(DISCONNECT_TIMEOUT, entry.tx.send(ToSession::Close(reason)))
            .await
        {
            Err(_) => return Disconnect::Busy,
            // The session ended between the lookup and the request.
            Ok(Err(_)) => return Disconnect::NotConnected,
            Ok(Ok(())) => {}
        }
        // The session drops its inbox once its disconnected event is out.
        if tokio::time::timeout(DISCONNECT_TIMEOUT, entry.tx.closed())
            .await
            .is_err()
        {
            return Disconnect::Busy;
        }
        Disconnect::Closed
    }
}

/// A running gateway.
pub struct Gateway {
    /// The listening address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    restart: mpsc::UnboundedSender<Duration>,
}

impl Gateway {
    /// Binds `listener` and starts accepting.
    ///
    /// # Errors
    /// Unusable server certificate or TLS configuration.
    pub fn start(listener: TcpListener, options: GatewayOptions) -> Result<Self, GatewayError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let chain = CertificateDer::pem_slice_iter(options.server_cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| GatewayError::Pem(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(options.server_key_pem.as_bytes())
            .map_err(|e| GatewayError::Pem(e.to_string()))?;
        let verifier = Arc::new(RegistryVerifier::new(options.registry.clone(), &provider));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let addr = listener
            .local_addr()
            .map_err(|e| GatewayError::Pem(e.to_string()))?;
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(Shared {
            registry: options.registry,
            detector: options.detector,
            metrics: options.metrics,
            router: Router::default(),
            certificate_provider: options.certificate_provider,
            registrations: options.registrations,
            provisioning: options.provisioning,
            next_session: AtomicU64::new(1),
            connected: AtomicUsize::new(0),
            published: AtomicU64::new(0),
            receive_quota: options.receive_quota,
            throttled: AtomicU64::new(0),
            shutdown,
            restarts: watch::Sender::new(0),
            enforcement_delay: options.enforcement_delay,
        });
        let (restart, restarts) = mpsc::unbounded_channel();
        let tasks = vec![
            tokio::spawn(accept_loop(listener, acceptor, shared.clone(), restarts)),
            tokio::spawn(watch_registry(shared.clone())),
        ];
        Ok(Self {
            addr,
            shared,
            stop,
            tasks,
            restart,
        })
    }

    /// Restarts the broker as a crash and restart would: the listener is closed, every
    /// session ends at once (`SERVER_INITIATED_DISCONNECT`; subscriptions go with it), and
    /// after `down` the same address listens again. Returns at once; [`Gateway::restarts`]
    /// counts it once the sessions are told to end.
    pub fn restart(&self, down: Duration) {
        let _ = self.restart.send(down);
    }

    /// A handle that restarts this gateway (see [`Gateway::restart`]).
    #[must_use]
    pub fn restarter(&self) -> Restarter {
        Restarter {
            restart: self.restart.clone(),
            shared: self.shared.clone(),
        }
    }

    /// Publishes connections did not receive because they were over their receive quota.
    #[must_use]
    pub fn throttled(&self) -> u64 {
        self.shared
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Restarts begun so far.
    #[must_use]
    pub fn restarts(&self) -> u64 {
        *self.shared.restarts.borrow()
    }

    /// Connected MQTT sessions now.
    #[must_use]
    pub fn connected(&self) -> usize {
        self.shared
            .connected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A reader of the connected-session count, for progress reports.
    #[must_use]
    pub fn session_counter(&self) -> Arc<dyn Fn() -> usize + Send + Sync> {
        let shared = self.shared.clone();
        Arc::new(move || shared.connected.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Messages published by clients so far.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.shared
            .published
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The handle that closes sessions by client id (for the HTTP API's DeleteConnection).
    #[must_use]
    pub fn connections(&self) -> Connections {
        Connections {
            shared: Some(self.shared.clone()),
        }
    }

    /// Publishes a message as the broker (for tests and the fleet scenario).
    pub fn publish_json(&self, topic: &str, body: &Value) {
        self.shared.publish_json(topic, body);
    }

    /// Closes every session and stops accepting.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
        // Sessions see the shutdown signal and end themselves; give them a moment.
        for _ in 0..50 {
            if self.connected() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Restarts a gateway from elsewhere (the lab's fault injection).
#[derive(Clone)]
pub struct Restarter {
    restart: mpsc::UnboundedSender<Duration>,
    shared: Arc<Shared>,
}

impl Restarter {
    /// See [`Gateway::restart`].
    pub fn restart(&self, down: Duration) {
        let _ = self.restart.send(down);
    }

    /// Restarts begun so far.
    #[must_use]
    pub fn restarts(&self) -> u64 {
        *self.shared.restarts.borrow()
    }

    /// The client id and certificate id of every session now.
    #[must_use]
    pub fn sessions(&self) -> Vec<(String, String)> {
        self.shared.router.session_certificates()
    }
}

/// How long a restarted gateway keeps trying to listen on its address again.
const REBIND_FOR: Duration = Duration::from_secs(10);

async fn accept_loop(
    mut listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut restarts: mpsc::UnboundedReceiver<Duration>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(down) = restarts.recv() => {
                match restarted(listener, &shared, down).await {
                    Some(again) => listener = again,
                    None => return,
                }
                continue;
            }
        };
        let Ok((tcp, peer)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let handshake =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
            if let Ok(Ok(tls)) = handshake.await {
                session::serve(shared, tls, peer).await;
            }
        });
    }
}

/// Closes `listener` and every session, waits `down`, and listens on the same address again
/// (bounded: `None` when the address cannot be had back within [`REBIND_FOR`]).
async fn restarted(listener: TcpListener, shared: &Shared, down: Duration) -> Option<TcpListener> {
    let addr = listener.local_addr().ok()?;
    drop(listener);
    // Every session ends on the bump.
    let epoch = *shared.restarts.borrow();
    shared.restarts.send_replace(epoch + 1);
    tokio::time::sleep(down).await;
    let deadline = tokio::time::Instant::now() + REBIND_FOR;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                tracing::warn!("the restarted gateway cannot listen on {addr} again: {e}");
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Applies registry changes to live sessions: a certificate leaving ACTIVE is disconnected
/// and a policy change makes the affected sessions re-check `iot:Connect`, at once or after
/// the enforcement delay; a queued job is announced on `notify-next`.
async fn watch_registry(shared: Arc<Shared>) {
    let mut events = shared.registry.subscribe();
    loop {
        match events.recv().await {
            Ok(RegistryEvent::CertificateStatus { certificate_id, .. }) => {
                recheck(&shared, Affected::Certificate(certificate_id));
            }
            Ok(RegistryEvent::PoliciesChanged { target }) if target.contains(":cert/") => {
                recheck(
                    &shared,
                    Affected::Certificate(cert_id_of(&target).to_owned()),
                );
            }
            Ok(RegistryEvent::PoliciesChanged { .. }) => recheck(&shared, Affected::All),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                recheck(&shared, Affected::All);
                // Queued executions were among the missed events, perhaps: announce them again.
                for (topic, body) in jobs::notify_queued(&shared.registry) {
                    shared.publish_json(&topic, &body);
                }
            }
            Ok(RegistryEvent::JobQueued { thing_name, .. }) => {
                if let Some((topic, body)) = jobs::notify_next(&shared.registry, &thing_name) {
                    shared.publish_json(&topic, &body);
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Which sessions a registry change concerns.
enum Affected {
    /// The sessions of one certificate.
    Certificate(String),
    /// Every session (a thing group's policies changed, or events were missed).
    All,
}

/// Tells the affected sessions to re-check their certificate and policies, now or after the
/// enforcement delay (the sessions are looked up when the delay is over: a client that
/// reconnected meanwhile is checked too, against the registry as it is then).
fn recheck(shared: &Arc<Shared>, affected: Affected) {
    fn send(shared: &Shared, affected: &Affected) {
        let sessions = match affected {
            Affected::Certificate(id) => shared
                .router
                .sessions_with_cert(id)
                .into_iter()
                .map(|(_, s)| s)
                .collect(),
            Affected::All => shared.router.sessions(),
        };
        for s in sessions {
            let _ = s.tx.try_send(ToSession::Recheck);
        }
    }
    let delay = shared.enforcement_delay;
    if delay.is_zero() {
        send(shared, &affected);
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut shutdown = shared.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => send(&shared, &affected),
            _ = shutdown.changed() => {}
        }
    });
}
