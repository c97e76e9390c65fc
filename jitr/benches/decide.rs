//! Cost of one decision: parsing the device and CA certificates, verifying the signature,
//! and the manifest checks. Run without the AWS SDK (a release build of it takes ~10 min):
//! `cargo bench -p fleetid-jitr --no-default-features --bench decide`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetid_jitr::{JitrConfig, ManifestEntry, RegisteredEvent, SaleStatus, decide, device_id_of};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use time::OffsetDateTime;

fn certificates(alg: &'static rcgen::SignatureAlgorithm) -> (String, String) {
    let ca_key = KeyPair::generate_for(alg).expect("CA key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "Fleet Device CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).expect("CA").pem();
    let device_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("device key");
    let mut device = CertificateParams::default();
    device.distinguished_name = DistinguishedName::new();
    device
        .distinguished_name
        .push(DnType::CommonName, "dev-001");
    let issuer = Issuer::from_params(&ca, &ca_key);
    let pem = device
        .signed_by(&device_key, &issuer)
        .expect("device")
        .pem();
    (pem, ca_pem)
}

fn decisions(c: &mut Criterion) {
    let event = RegisteredEvent {
        certificate_id: "c".into(),
        ca_certificate_id: "ca".into(),
        certificate_status: "PENDING_ACTIVATION".into(),
        aws_account_id: "1".into(),
        timestamp: Some(
            u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).expect("time") * 1000,
        ),
        certificate_registration_timestamp: None,
    };
    let entry = ManifestEntry {
        device_id: "dev-001".into(),
        model: "sensor-a".into(),
        status: SaleStatus::Sold,
        recalled: false,
        firmware: "2.1.0".parse().expect("version"),
        batch: None,
        groups: vec![],
    };
    let config = JitrConfig::default();
    let mut group = c.benchmark_group("decide");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, alg) in [
        ("p256_ca", &rcgen::PKCS_ECDSA_P256_SHA256),
        ("p384_ca", &rcgen::PKCS_ECDSA_P384_SHA384),
    ] {
        let (pem, ca_pem) = certificates(alg);
        assert!(
            decide(&event, &pem, Some(&ca_pem), Some(&entry), &config)
                .reject_reason()
                .is_none()
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                decide(
                    black_box(&event),
                    black_box(&pem),
                    Some(&ca_pem),
                    Some(&entry),
                    &config,
                )
            });
        });
    }
    let (pem, _) = certificates(&rcgen::PKCS_ECDSA_P256_SHA256);
    group.bench_function("device_id_of", |b| {
        b.iter(|| device_id_of(black_box(&pem), &config));
    });
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
