//! The SigV4 websocket reaches the broker with a freshly signed URL: a TLS endpoint of the
//! test's own (tokio-rustls on loopback, rcgen certificate) captures the websocket upgrade
//! request the console sends and checks the query AWS IoT authenticates. AWS's signature
//! check itself cannot run here; the signature's construction is covered by the unit tests
//! of `backend::live::sigv4`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use fleetid::backend::aws::{AwsBackend, LoadSettings};
use fleetid::backend::live::connection::{LiveAuth, LiveOptions};
use fleetid::backend::{BackendUpdate, FleetBackend};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn query_value<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    target
        .split_once('?')?
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_carries_a_sigv4_signed_url() {
    // A CA and a server certificate for 127.0.0.1.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let mut server_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "127.0.0.1");
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, &ca_pem).unwrap();

    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (requests_tx, mut requests) = mpsc::channel::<String>(4);
    let server = tokio::spawn(async move {
        // Two connections: each upgrade request is signed when it is made.
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = acceptor.accept(tcp).await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let first_line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            requests_tx.send(first_line).await.unwrap();
            // Dropping the stream refuses the upgrade: the console reconnects.
        }
    });

    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let credentials = SharedCredentialsProvider::new(Credentials::new(
        "AKIDTEST",
        "secret",
        Some("session/token".into()),
        None,
        "test",
    ));
    let backend = AwsBackend::new(&config, LoadSettings::default()).with_live(LiveOptions {
        endpoint: Some(addr.to_string()),
        ca_pem: Some(ca_path),
        auth: LiveAuth::SigV4 {
            credentials,
            region: "eu-west-1".into(),
        },
        client_id: "fleetid-console-ws".into(),
        presence: true,
    });
    let (tx, mut rx) = mpsc::channel(8);
    let follower = tokio::spawn(async move { backend.follow_live(tx).await });

    let mut signatures = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(10), requests.recv())
            .await
            .expect("the console opens the websocket within 10 s")
            .unwrap();
        let target = line
            .strip_prefix("GET ")
            .and_then(|rest| rest.strip_suffix(" HTTP/1.1"))
            .unwrap_or_else(|| panic!("not a websocket upgrade: {line}"));
        assert!(target.starts_with("/mqtt?"), "{target}");
        assert_eq!(
            query_value(target, "X-Amz-Algorithm"),
            Some("AWS4-HMAC-SHA256")
        );
        let credential = query_value(target, "X-Amz-Credential").unwrap();
        assert!(credential.starts_with("AKIDTEST%2F"), "{credential}");
        assert!(
            credential.ends_with("%2Feu-west-1%2Fiotdevicegateway%2Faws4_request"),
            "{credential}"
        );
        assert_eq!(query_value(target, "X-Amz-SignedHeaders"), Some("host"));
        assert_eq!(
            query_value(target, "X-Amz-Security-Token"),
            Some("session%2Ftoken")
        );
        let signature = query_value(target, "X-Amz-Signature").unwrap();
        assert_eq!(signature.len(), 64, "{signature}");
        signatures.push(signature.to_owned());
    }
    // Refusals are reported as disconnects; the follower ends with the receiver.
    let disconnect = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(BackendUpdate::Live(event)) = rx.recv().await {
                break event;
            }
        }
    })
    .await
    .unwrap();
    assert!(
        matches!(
            disconnect,
            fleetid::backend::live::LiveEvent::Disconnected { .. }
        ),
        "{disconnect:?}"
    );
    drop(rx);
    let ended = tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .expect("the follower stops once the receiver is gone")
        .unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    server.await.unwrap();
    assert_eq!(signatures.len(), 2);
}
