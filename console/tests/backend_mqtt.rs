//! Live status over MQTT with real brokers on loopback. rumqttd (in-process, plain TCP)
//! carries agents' status messages; it refuses `$` topic filters, so the lifecycle events on
//! `$aws/events/presence/+/+` are tested with mosquitto (`FLEETID_MOSQUITTO`, set by
//! scripts/test). An agent-like client publishes; the messages must arrive as live updates,
//! and the follower stops when the receiver is dropped.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use fleetid::backend::aws::{AwsBackend, LoadSettings};
use fleetid::backend::live::connection::{LiveAuth, LiveOptions};
use fleetid::backend::live::{LiveEvent, PresenceKind};
use fleetid::backend::{BackendUpdate, FleetBackend};
use fleetid_agent::wire::StatusMessage;
use rumqttc::{AsyncClient, MqttOptions, QoS, TlsConfiguration, Transport};
use tokio::sync::mpsc;

/// Starts rumqttd on a free loopback port; it runs until the test process ends.
fn start_broker() -> SocketAddr {
    // rumqttd binds the address it is given: find a free port first.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config: rumqttd::Config = serde_json::from_value(serde_json::json!({
        "id": 0,
        "router": {
            "max_connections": 16,
            "max_outgoing_packet_count": 200,
            "max_segment_size": 104_857_600,
            "max_segment_count": 10
        },
        "v4": {
            "1": {
                "name": "v4-1",
                "listen": addr.to_string(),
                "next_connection_delay_ms": 1,
                "connections": {
                    "connection_timeout_ms": 5000,
                    "max_payload_size": 262_144,
                    "max_inflight_count": 100
                }
            }
        }
    }))
    .unwrap();
    std::thread::spawn(move || {
        let mut broker = rumqttd::Broker::new(config);
        // Runs until the process exits.
        let _ = broker.start();
    });
    for _ in 0..100 {
        if TcpStream::connect(addr).is_ok() {
            return addr;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("rumqttd did not listen on {addr} within 5 s");
}

fn backend(addr: SocketAddr, presence: bool) -> AwsBackend {
    // The endpoint is given, so the AWS clients are never called.
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    AwsBackend::new(&config, LoadSettings::default()).with_live(LiveOptions {
        endpoint: Some(addr.to_string()),
        ca_pem: None,
        auth: LiveAuth::PlainTcp,
        client_id: "fleetid-console-test".into(),
        presence,
    })
}

async fn next_live(rx: &mut mpsc::Receiver<BackendUpdate>) -> LiveEvent {
    loop {
        let update = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a live update within 10 s")
            .expect("the follower is running");
        if let BackendUpdate::Live(event) = update {
            return event;
        }
    }
}

/// [`live_round_trip`] over plain TCP to the broker at `addr`.
async fn status_and_presence_arrive(addr: SocketAddr, presence: bool) {
    let mut agent = MqttOptions::new("dev-42", addr.ip().to_string(), addr.port());
    agent.set_keep_alive(Duration::from_secs(5));
    live_round_trip(backend(addr, presence), agent, presence).await;
}

/// Follows live events with `backend`, has an agent connecting with `agent_options` publish a
/// status message (and a presence event when `presence`), and checks they arrive; then stops
/// the follower.
async fn live_round_trip(backend: AwsBackend, agent_options: MqttOptions, presence: bool) {
    let (tx, mut rx) = mpsc::channel(8);
    let follower = tokio::spawn(async move { backend.follow_live(tx).await });
    assert_eq!(next_live(&mut rx).await, LiveEvent::Connected);

    // An agent-like publisher.
    let (agent, mut agent_loop) = AsyncClient::new(agent_options, 16);
    let agent_task = tokio::spawn(async move {
        for _ in 0..1000 {
            if agent_loop.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let status = StatusMessage::new("dev-42", 7, "2.1.0");

    // The console subscribes right after CONNACK; publish until the first message shows up.
    let mut got_status = None;
    for _ in 0..50 {
        agent
            .publish(
                "fleetid/v1/dev-42/status",
                QoS::AtLeastOnce,
                false,
                status.to_json(),
            )
            .await
            .unwrap();
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Some(BackendUpdate::Live(event @ LiveEvent::Status { .. }))) => {
                got_status = Some(event);
                break;
            }
            Ok(Some(BackendUpdate::Live(event @ LiveEvent::Disconnected { .. }))) => {
                panic!("the console lost its connection: {event:?}")
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("the follower stopped"),
        }
    }
    let Some(LiveEvent::Status { thing, message }) = got_status else {
        panic!("no status message arrived");
    };
    assert_eq!(thing, "dev-42");
    assert_eq!(*message, status);

    if presence {
        let payload = br#"{"clientId":"dev-42","thingName":"dev-42","eventType":"connected",
            "principalIdentifier":"c0ffee","timestamp":1790000000123,"versionNumber":3}"#;
        agent
            .publish(
                "$aws/events/presence/connected/dev-42",
                QoS::AtLeastOnce,
                false,
                payload.to_vec(),
            )
            .await
            .unwrap();
        let event = loop {
            match next_live(&mut rx).await {
                LiveEvent::Presence(event) => break event,
                LiveEvent::Status { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(event.kind, PresenceKind::Connected);
        assert_eq!(event.thing.as_deref(), Some("dev-42"));
        assert_eq!(event.certificate_id.as_deref(), Some("c0ffee"));
        assert_eq!(event.timestamp_ms, Some(1_790_000_000_123));
    }

    // Dropping the receiver ends the follower cleanly.
    drop(rx);
    let ended = tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .expect("the follower stops once the receiver is gone")
        .unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    agent_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_arrives_through_rumqttd() {
    status_and_presence_arrive(start_broker(), false).await;
}

/// mosquitto on a free loopback port, stopped when dropped.
struct Mosquitto {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_mosquitto(extra_config: &str) -> Mosquitto {
    let binary = std::env::var("FLEETID_MOSQUITTO").unwrap_or_else(|_| {
        panic!(
            "FLEETID_MOSQUITTO is not set: this test needs mosquitto (rumqttd refuses `$` topic \
             filters); run it with scripts/test, which installs and names it"
        )
    });
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {} 127.0.0.1\nallow_anonymous true\n{extra_config}",
            addr.port()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let broker = Mosquitto {
        child,
        addr,
        _dir: dir,
    };
    for _ in 0..100 {
        if TcpStream::connect(addr).is_ok() {
            return broker;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("mosquitto did not listen on {addr} within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_presence_arrive_through_mosquitto() {
    let broker = start_mosquitto("");
    status_and_presence_arrive(broker.addr, true).await;
}

/// A CA, a server certificate for 127.0.0.1 and two client certificates, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
        };
        let dn = |cn: &str| {
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, cn);
            dn
        };
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Distinct names: OpenSSL takes a leaf whose subject equals its issuer for self-signed.
        ca_params.distinguished_name = dn("fleetid test CA");
        write("ca.pem", &ca_params.self_signed(&ca_key).unwrap().pem());
        let issuer = Issuer::new(ca_params, ca_key);
        for (name, sans) in [
            ("server", vec!["127.0.0.1".to_owned()]),
            ("operator", vec!["operator.fleetid.test".to_owned()]),
            ("device", vec!["dev-42.fleetid.test".to_owned()]),
        ] {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(sans).unwrap();
            params.distinguished_name = dn(name);
            write(
                &format!("{name}.pem"),
                &params.signed_by(&key, &issuer).unwrap().pem(),
            );
            write(&format!("{name}.key"), &key.serialize_pem());
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_operator_certificate_reaches_mosquitto() {
    let pki = Pki::new();
    let tls = format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
        pki.path("ca.pem").display(),
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    );
    let broker = start_mosquitto(&tls);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let console = AwsBackend::new(&config, LoadSettings::default()).with_live(LiveOptions {
        endpoint: Some(broker.addr.to_string()),
        ca_pem: Some(pki.path("ca.pem")),
        auth: LiveAuth::Mtls {
            cert_pem: pki.path("operator.pem"),
            key_pem: pki.path("operator.key"),
        },
        client_id: "fleetid-console-mtls".into(),
        presence: true,
    });
    let mut agent = MqttOptions::new("dev-42", "127.0.0.1", broker.addr.port());
    agent.set_keep_alive(Duration::from_secs(5));
    agent.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
        ca: pki.read("ca.pem"),
        alpn: None,
        client_auth: Some((pki.read("device.pem"), pki.read("device.key"))),
    }));
    live_round_trip(console, agent, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_reported_and_retried() {
    // A port nothing listens on (bound, then released).
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let backend = backend(addr, true);
    let (tx, mut rx) = mpsc::channel(8);
    let follower = tokio::spawn(async move { backend.follow_live(tx).await });
    for _ in 0..2 {
        let LiveEvent::Disconnected { reason } = next_live(&mut rx).await else {
            panic!("expected a disconnect");
        };
        assert!(!reason.is_empty());
    }
    drop(rx);
    let ended = tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .expect("the follower stops once the receiver is gone")
        .unwrap();
    assert!(ended.is_ok());
}

#[tokio::test]
async fn missing_operator_certificate_is_named() {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let backend = AwsBackend::new(&config, LoadSettings::default()).with_live(LiveOptions {
        endpoint: Some("127.0.0.1:8883".into()),
        ca_pem: None,
        auth: LiveAuth::Mtls {
            cert_pem: "/nonexistent/operator.pem".into(),
            key_pem: "/nonexistent/operator.key".into(),
        },
        client_id: "fleetid-console-test".into(),
        presence: true,
    });
    let (tx, _rx) = mpsc::channel(1);
    let err = backend.follow_live(tx).await.unwrap_err().to_string();
    assert!(err.contains("--mqtt-cert"), "{err}");
    assert!(err.contains("/nonexistent/operator.pem"), "{err}");
}
