//! The demo's misused provisioning claim (AWS IoT Lens: a claim certificate used for many
//! provisioning attempts). A claim certificate of the lab's fleet-provisioning template has
//! leaked: someone connects with it over mTLS and registers [`REGISTERED`] cloned things
//! (`clone-0001`...: a fresh CSR each), sends [`MALFORMED_CSRS`] malformed CSRs, then runs the
//! template [`REFUSED`] times with the serial numbers of the recalled batch, which the
//! pre-provisioning hook refuses. The gateway counts it all as CloudWatch counts it:
//! `ApproximateNumberOfThingsRegistered` (`ClaimCertificateId`), `CreateCertificateFromCsrFailed`,
//! `RegisterThingFailed` (`TemplateName` [`CLAIM_TEMPLATE`]).

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::pki::{CertificateAuthority, PkiError};
use crate::registry::{CertStatus, Registry, RegistryError, cert_arn};

/// The fleet-provisioning template the claim is for.
pub const CLAIM_TEMPLATE: &str = "fleetid-lab-claim";
/// The claim certificate's policy: connect, and the provisioning topics of the template only.
pub const CLAIM_POLICY: &str = "fleetid-lab-claim";
/// The claim certificate's common name.
pub const CLAIM_COMMON_NAME: &str = "fleetid-lab-provisioning-claim";
/// The client id the misuser connects with.
pub const CLAIM_CLIENT_ID: &str = "provisioning-claim-7f3a";
/// Things the misuser registers with the claim.
pub const REGISTERED: usize = 6;
/// Provisioning attempts of the misuser the pre-provisioning hook refuses.
pub const REFUSED: usize = 24;
/// Malformed `create-from-csr` requests it sends.
pub const MALFORMED_CSRS: usize = 2;
/// Certificates the story adds to the registry: the claim, one per registered clone (ACTIVE),
/// and the one its refused attempts share (INACTIVE: never provisioned).
pub const CERTIFICATES: usize = 1 + REGISTERED + 1;

const CLAIM_POLICY_DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/*"},
{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topic/$aws/provisioning-templates/fleetid-lab-claim/provision/*"]},
{"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/fleetid-lab-claim/provision/*"]}]}"#;

const CSR_TOPIC: &str = "$aws/certificates/create-from-csr/json";

/// Why the claim could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Issuing the claim certificate failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// Registering it or its policy failed.
    #[error("registering the provisioning claim: {0}")]
    Registry(#[from] RegistryError),
}

/// The claim's credentials and where to use them.
pub struct Claim {
    certificate_pem: String,
    key_pem: String,
}

impl Claim {
    /// Issues the claim certificate (issuing CA, one year), registers it ACTIVE with its
    /// policy.
    ///
    /// # Errors
    /// Certificate or registry failures.
    pub fn register(
        registry: &Registry,
        issuing: &CertificateAuthority,
    ) -> Result<Self, ClaimError> {
        let issued = issuing.issue_device(CLAIM_COMMON_NAME, 365)?;
        let cert = registry.insert_certificate(&issued.certificate_pem, CertStatus::Active)?;
        registry.create_policy(CLAIM_POLICY, CLAIM_POLICY_DOCUMENT)?;
        registry.attach_policy(CLAIM_POLICY, &cert_arn(cert.id()))?;
        Ok(Self {
            certificate_pem: issued.certificate_pem,
            key_pem: issued.key_pem,
        })
    }

    /// Connects with the claim, registers the clones and makes [`REFUSED`] provisioning
    /// attempts for `serials` (cycled), then disconnects. Returns the requests the gateway
    /// answered.
    pub async fn misuse(
        self,
        gateway: std::net::SocketAddr,
        root_ca_pem: &str,
        serials: &[String],
        mut stop: watch::Receiver<bool>,
    ) -> usize {
        let Some((client, events)) = self.client(gateway, root_ca_pem) else {
            return 0;
        };
        tokio::select! {
            answered = attempts(&client, events, serials) => {
                let _ = client.disconnect().await;
                answered
            }
            _ = stop.changed() => 0,
        }
    }

    fn client(
        &self,
        gateway: std::net::SocketAddr,
        root_ca_pem: &str,
    ) -> Option<(AsyncClient, EventLoop)> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(root_ca_pem.as_bytes()).ok()?)
            .ok()?;
        let chain = vec![CertificateDer::from_pem_slice(self.certificate_pem.as_bytes()).ok()?];
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).ok()?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .ok()?;
        let mut options = MqttOptions::new(CLAIM_CLIENT_ID, "127.0.0.1", gateway.port());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_transport(rumqttc::Transport::tls_with_config(
            TlsConfiguration::Rustls(Arc::new(config)),
        ));
        Some(AsyncClient::new(options, 64))
    }
}

/// The attempts: a clone registered per fresh CSR, malformed CSRs, then one CSR's ownership
/// token used with each recalled serial in turn; each waits (bounded) for its answer.
async fn attempts(client: &AsyncClient, mut events: EventLoop, serials: &[String]) -> usize {
    let provision = format!("$aws/provisioning-templates/{CLAIM_TEMPLATE}/provision/json");
    for filter in [format!("{CSR_TOPIC}/+"), format!("{provision}/+")] {
        if client.subscribe(filter, QoS::AtLeastOnce).await.is_err() {
            return 0;
        }
    }
    let mut answered = 0;
    let mut run = async |topic: &str, body: Value| {
        let answer = ask(client, &mut events, topic, &body).await;
        answered += usize::from(answer.is_some());
        answer
    };
    for clone in 1..=REGISTERED {
        let Some(token) = ownership_token(run(CSR_TOPIC, csr_request()).await) else {
            continue;
        };
        let serial = format!("clone-{clone:04}");
        run(&provision, provision_request(&token, &serial)).await;
    }
    for _ in 0..MALFORMED_CSRS {
        let body = json!({ "certificateSigningRequest": "-----BEGIN CERTIFICATE REQUEST-----" });
        run(CSR_TOPIC, body).await;
    }
    if let Some(token) = ownership_token(run(CSR_TOPIC, csr_request()).await) {
        for serial in serials.iter().cycle().take(REFUSED) {
            run(&provision, provision_request(&token, serial)).await;
        }
    }
    answered
}

/// A `create-from-csr` request for a fresh P-256 key.
fn csr_request() -> Value {
    json!({ "certificateSigningRequest": fresh_csr().unwrap_or_default() })
}

/// A `provision` request for the thing `serial`.
fn provision_request(token: &str, serial: &str) -> Value {
    json!({
        "certificateOwnershipToken": token,
        "parameters": { "SerialNumber": serial, "ThingName": serial },
    })
}

/// The ownership token of an accepted `create-from-csr` answer.
fn ownership_token(answer: Option<Value>) -> Option<String> {
    answer?
        .get("certificateOwnershipToken")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A CSR for a fresh P-256 key, PEM.
fn fresh_csr() -> Option<String> {
    let key = rcgen::KeyPair::generate().ok()?;
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "device");
    params.serialize_request(&key).ok()?.pem().ok()
}

/// Publishes `body` to `topic` and waits up to 5 s for its `/accepted` or `/rejected`
/// answer (the answer's body when accepted).
async fn ask(
    client: &AsyncClient,
    events: &mut EventLoop,
    topic: &str,
    body: &Value,
) -> Option<Value> {
    client
        .publish(topic, QoS::AtMostOnce, false, body.to_string())
        .await
        .ok()?;
    let accepted = format!("{topic}/accepted");
    let rejected = format!("{topic}/rejected");
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == accepted => {
                    return serde_json::from_slice(&p.payload).ok();
                }
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == rejected => {
                    return Some(Value::Null);
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}
