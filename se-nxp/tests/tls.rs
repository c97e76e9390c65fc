//! A real TLS handshake on loopback: a tokio-rustls server that requires a client certificate,
//! and a client whose private key lives in the simulated SE. The client certificate is issued
//! from the SE's CSR, so the SE signs both the CSR and the handshake's CertificateVerify.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType, IsCa, Issuer,
    KeyPair, PKCS_ECDSA_P256_SHA256,
};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use se_nxp::sim::{Fault, SimulatedSe, simulated_se05x};
use se_nxp::tls::{TlsKeyError, client_cert_resolver};
use se_nxp::{ObjectId, SharedSe, csr::csr_pem, share, with_shared};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const KEY: ObjectId = ObjectId(0x7000_0003);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

struct Pki {
    ca: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

fn pki() -> Pki {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "fleetid test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("CA key");
    let ca = params.self_signed(&key).expect("CA cert");
    Pki {
        ca: ca.der().clone(),
        issuer: Issuer::new(params, key),
    }
}

fn server_config(pki: &Pki) -> Arc<ServerConfig> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("server key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &pki.issuer)
        .expect("server cert");
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).expect("root");
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .expect("client verifier");
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    Arc::new(config)
}

/// Issues the device certificate from a CSR made and signed by the SE.
fn device_certificate(se: &SharedSe, pki: &Pki) -> CertificateDer<'static> {
    let pem = csr_pem(se, KEY, "device-tls").expect("csr");
    let csr = CertificateSigningRequestParams::from_pem(&pem).expect("CSR parses");
    csr.signed_by(&pki.issuer)
        .expect("device cert")
        .der()
        .clone()
}

fn client_config(
    pki: &Pki,
    se: SharedSe,
    chain: Vec<CertificateDer<'static>>,
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).expect("root");
    let resolver = client_cert_resolver(chain, se, KEY).expect("resolver");
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_client_cert_resolver(resolver);
    Arc::new(config)
}

async fn handshake(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
) -> Option<CertificateDer<'static>> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server_task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = TlsAcceptor::from(server)
            .accept(tcp)
            .await
            .expect("server handshake");
        let peer = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first().cloned());
        let mut ping = [0u8; 4];
        tls.read_exact(&mut ping).await.expect("ping");
        assert_eq!(&ping, b"ping");
        tls.write_all(b"pong").await.expect("pong");
        tls.shutdown().await.expect("close");
        peer
    });
    let tcp = TcpStream::connect(address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .expect("client handshake");
    tls.write_all(b"ping").await.expect("ping");
    let mut pong = [0u8; 4];
    tls.read_exact(&mut pong).await.expect("pong");
    assert_eq!(&pong, b"pong");
    server_task.await.expect("server task")
}

#[tokio::test]
async fn mutual_tls_with_the_client_key_in_the_simulated_se() {
    let sim = SimulatedSe::new();
    let faults = sim.fault_injector();
    let se = share(simulated_se05x(sim).expect("ready"));
    with_shared(&se, |se| se.generate_p256(KEY)).expect("generate");
    let pki = pki();
    let device = device_certificate(&se, &pki);
    let frames_before = with_shared(&se, |se| se.link_stats()).frames_sent;
    // A flaky bus during the handshake must not matter.
    faults.schedule(1, Fault::CorruptAnswer);

    let peer = handshake(
        server_config(&pki),
        client_config(&pki, se.clone(), vec![device.clone()]),
    )
    .await;

    assert_eq!(
        peer.as_ref(),
        Some(&device),
        "the server saw the SE-backed certificate"
    );
    let stats = with_shared(&se, |se| se.link_stats());
    assert!(
        stats.frames_sent > frames_before,
        "the handshake signature came from the SE"
    );
    assert!(
        stats.retransmissions >= 1,
        "the corrupted answer was retransmitted"
    );
}

#[test]
fn a_certificate_for_another_key_is_refused() {
    let se = share(simulated_se05x(SimulatedSe::new()).expect("ready"));
    with_shared(&se, |se| se.generate_p256(KEY)).expect("generate");
    let pki = pki();
    let other = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let cert = CertificateParams::new(vec!["device".to_owned()])
        .expect("params")
        .signed_by(&other, &pki.issuer)
        .expect("cert");
    let err =
        client_cert_resolver(vec![cert.der().clone()], se, KEY).expect_err("mismatch detected");
    assert!(
        matches!(err, TlsKeyError::CertificateMismatch { .. }),
        "{err}"
    );
}
