//! MQTT clients for the lab's tests: rumqttc over real mTLS to the gateway.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test binaries

use std::sync::Arc;
use std::time::Duration;

use fleetid_lab::LabHandle;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A client connecting to the lab gateway with the given certificate and key.
pub fn client(
    lab: &LabHandle,
    client_id: &str,
    cert_pem: &str,
    key_pem: &str,
) -> (AsyncClient, EventLoop) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(lab.root_ca.certificate_pem.as_bytes()).unwrap())
        .unwrap();
    let chain = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let mut options = MqttOptions::new(client_id, "127.0.0.1", lab.mqtt_addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )));
    AsyncClient::new(options, 64)
}

/// The operator client (credentials from the lab's state directory).
pub fn operator(lab: &LabHandle) -> (AsyncClient, EventLoop) {
    let cert = std::fs::read_to_string(&lab.operator.cert_pem).unwrap();
    let key = std::fs::read_to_string(&lab.operator.key_pem).unwrap();
    client(lab, fleetid_lab::OPERATOR_CLIENT_ID, &cert, &key)
}

/// Polls until CONNACK; `Err` with the error when the connection fails first.
pub async fn connected(events: &mut EventLoop) -> Result<(), String> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return if ack.code == rumqttc::ConnectReturnCode::Success {
                        Ok(())
                    } else {
                        Err(format!("{:?}", ack.code))
                    };
                }
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err("no CONNACK within 5 s".into()))
}

/// Polls until a SUBACK arrives.
pub async fn subscribed(events: &mut EventLoop) {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.unwrap() {
                return;
            }
        }
    })
    .await
    .unwrap();
}

/// Polls until a message on a topic matching `wanted` arrives; returns topic and JSON.
pub async fn message(
    events: &mut EventLoop,
    wanted: impl Fn(&str) -> bool,
) -> (String, serde_json::Value) {
    message_within(events, wanted, Duration::from_secs(5)).await
}

/// [`message`] with another deadline.
pub async fn message_within(
    events: &mut EventLoop,
    wanted: impl Fn(&str) -> bool,
    within: Duration,
) -> (String, serde_json::Value) {
    watch_for(events, wanted, within)
        .await
        .unwrap_or_else(|| panic!("no matching message within {within:?}"))
}

/// Polls for `within`: the first message on a topic matching `wanted`, or `None` when none
/// arrived (messages on other topics are skipped).
pub async fn watch_for(
    events: &mut EventLoop,
    wanted: impl Fn(&str) -> bool,
    within: Duration,
) -> Option<(String, serde_json::Value)> {
    tokio::time::timeout(within, async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.unwrap()
                && wanted(&p.topic)
            {
                return (p.topic.clone(), serde_json::from_slice(&p.payload).unwrap());
            }
        }
    })
    .await
    .ok()
}

/// The SDK configuration for a lab's HTTP API: its endpoint URL and static credentials.
pub async fn sdk_config(endpoint_url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iot::config::Credentials::new(
            fleetid_lab::api::ACCESS_KEY_ID,
            fleetid_lab::api::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint_url)
        .load()
        .await
}

/// Polls until the connection ends; returns the error text.
pub async fn disconnected(events: &mut EventLoop) -> String {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Err(e) = events.poll().await {
                return e.to_string();
            }
        }
    })
    .await
    .expect("still connected after 5 s")
}

/// Drives an event loop in the background (for clients whose incoming traffic is not checked).
pub fn drive(mut events: EventLoop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..10_000 {
            if events.poll().await.is_err() {
                return;
            }
        }
    })
}
