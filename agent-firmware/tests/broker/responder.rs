//! The cloud side of the Jobs and fleet provisioning MQTT APIs, as a small rumqttc client with
//! an operator certificate: hands out queued jobs, signs CSRs, accepts provisioning, records
//! job updates and status messages. It can drop the first request of a kind, so a test can
//! kill the agent while it waits at that step.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleetid_agent::core::fingerprint_der;
use fleetid_agent::wire::StatusMessage;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

use super::pki::Ca;

/// What the responder does and has seen.
#[derive(Default)]
pub struct Cloud {
    /// Jobs waiting for start-next: (job id, document).
    pub queued: VecDeque<(String, Value)>,
    /// Request kinds to ignore once: "create", "provision", "verify", "report".
    pub drop_once: HashSet<&'static str>,
    /// Sign new certificates with a CA the broker does not trust.
    pub issue_untrusted: bool,
    /// Job updates received: (job id, body).
    pub updates: Vec<(String, Value)>,
    /// Status messages received.
    pub statuses: Vec<StatusMessage>,
    /// Certificate ids issued by create-from-csr.
    pub issued: Vec<String>,
    pub subscribed: bool,
}

pub type Shared = Arc<Mutex<Cloud>>;

fn tls(ca_pem: &str, cert_pem: &str, key_der: Vec<u8>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in fleetid_agent::driver::tls::pem_certificates(ca_pem).expect("ca") {
        roots.add(cert).expect("root");
    }
    let chain = fleetid_agent::driver::tls::pem_certificates(cert_pem).expect("cert");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der));
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client auth")
}

/// Starts the responder; returns once it is subscribed.
/// `server_anchors` are the CAs the responder accepts for the broker's certificate.
pub async fn start(
    port: u16,
    trusted: Arc<Ca>,
    untrusted: Arc<Ca>,
    server_anchors: &str,
) -> Shared {
    let (cert, _, key) = trusted.leaf("operator", &[]);
    let mut options = MqttOptions::new("operator", "127.0.0.1", port);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(tls(server_anchors, &cert, key)),
    )));
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let filters = [
        "$aws/things/+/jobs/start-next",
        "$aws/things/+/jobs/+/update",
        "$aws/certificates/create-from-csr/json",
        "$aws/provisioning-templates/+/provision/json",
        "fleetid/v1/+/status",
    ];
    let cloud: Shared = Arc::default();
    let shared = cloud.clone();
    let (replies, mut outbox) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
    let publisher = client.clone();
    tokio::spawn(async move {
        while let Some((topic, reply)) = outbox.recv().await {
            let payload = serde_json::to_vec(&reply).expect("json");
            let _ = publisher
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await;
        }
    });
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                // Clean session: subscribe again after every (re)connection.
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let filters =
                        filters.map(|f| rumqttc::SubscribeFilter::new(f.into(), QoS::AtLeastOnce));
                    client.try_subscribe_many(filters).expect("subscribe");
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => lock(&shared).subscribed = true,
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let body: Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                    let answers =
                        answer(&shared, &p.topic, &p.payload, &body, &trusted, &untrusted);
                    for answer in answers {
                        // Another task publishes: awaiting here would stop the event loop
                        // that drains the request channel.
                        let _ = replies.send(answer);
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    wait_for(
        &cloud,
        Duration::from_secs(30),
        "responder subscribed",
        |c| c.subscribed,
    )
    .await;
    cloud
}

pub fn lock(cloud: &Shared) -> std::sync::MutexGuard<'_, Cloud> {
    cloud
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Polls `check` until it holds, failing the test after `limit`.
pub async fn wait_for(cloud: &Shared, limit: Duration, what: &str, check: impl Fn(&Cloud) -> bool) {
    let deadline = Instant::now() + limit;
    while !check(&lock(cloud)) {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn answer(
    shared: &Shared,
    topic: &str,
    payload: &[u8],
    body: &Value,
    trusted: &Ca,
    untrusted: &Ca,
) -> Vec<(String, Value)> {
    let mut cloud = lock(shared);
    let token = body.get("clientToken").cloned().unwrap_or(Value::Null);
    if let Some(rest) = topic.strip_prefix("$aws/things/") {
        let (thing, jobs) = rest.split_once("/jobs/").unwrap_or_default();
        if jobs == "start-next" {
            let accepted = format!("$aws/things/{thing}/jobs/start-next/accepted");
            return vec![match cloud.queued.pop_front() {
                Some((job_id, document)) => (
                    accepted,
                    json!({"execution": {"jobId": job_id,
                    "status": "IN_PROGRESS", "jobDocument": document, "versionNumber": 2}}),
                ),
                None => (accepted, json!({"timestamp": 1})),
            }];
        }
        if let Some(job_id) = jobs.strip_suffix("/update") {
            let kind = if token == "verify" {
                "verify"
            } else {
                "report"
            };
            if cloud.drop_once.remove(kind) {
                return Vec::new();
            }
            cloud.updates.push((job_id.to_owned(), body.clone()));
            return vec![(
                format!("$aws/things/{thing}/jobs/{job_id}/update/accepted"),
                json!({"clientToken": token, "timestamp": 1}),
            )];
        }
        return Vec::new();
    }
    if topic == "$aws/certificates/create-from-csr/json" {
        if cloud.drop_once.remove("create") {
            return Vec::new();
        }
        let csr = body["certificateSigningRequest"]
            .as_str()
            .unwrap_or_default();
        let ca = if cloud.issue_untrusted {
            untrusted
        } else {
            trusted
        };
        return vec![match ca.sign_csr(csr) {
            Ok((pem, der)) => {
                let id = fingerprint_der(&der);
                cloud.issued.push(id.clone());
                (
                    format!("{topic}/accepted"),
                    json!({"certificateId": id,
                    "certificatePem": pem, "certificateOwnershipToken": "token"}),
                )
            }
            Err(e) => (format!("{topic}/rejected"), json!({"errorMessage": e})),
        }];
    }
    if topic.starts_with("$aws/provisioning-templates/") {
        if cloud.drop_once.remove("provision") {
            return Vec::new();
        }
        let thing = body["parameters"]["ThingName"].clone();
        return vec![(format!("{topic}/accepted"), json!({"thingName": thing}))];
    }
    if topic.starts_with("fleetid/v1/")
        && let Ok(status) = StatusMessage::from_json(payload)
    {
        cloud.statuses.push(status);
    }
    Vec::new()
}
