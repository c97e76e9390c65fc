//! Shared by the backend tests: the moto endpoint, SDK configuration with test credentials,
//! an rcgen-made PKI, and collecting everything a snapshot load sends.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use fleetid::backend::aws::{AwsBackend, LoadSettings};
use fleetid::backend::{BackendUpdate, FleetBackend, SnapshotRequest, SnapshotSummary};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::sync::mpsc;

/// The moto server `scripts/test` starts; a test that needs it fails without it.
pub fn moto_url() -> String {
    std::env::var("FLEETID_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "FLEETID_MOTO_URL is not set: these tests need a moto server; run them with \
             scripts/test, which starts one"
        )
    })
}

/// A name prefix unique to this test run (moto's state is shared by every test).
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos:x}", std::process::id())
}

/// SDK configuration for `endpoint` with static test credentials and no retries beyond 2.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Runs a snapshot load to the end and returns every update and the summary.
pub async fn load_all(
    backend: &AwsBackend,
    request: SnapshotRequest,
) -> (Vec<BackendUpdate>, SnapshotSummary) {
    // Small on purpose: the load must make progress through a bounded channel.
    let (tx, mut rx) = mpsc::channel(4);
    let collector = tokio::spawn(async move {
        let mut updates = Vec::new();
        while let Some(update) = rx.recv().await {
            updates.push(update);
        }
        updates
    });
    let summary =
        tokio::time::timeout(Duration::from_secs(120), backend.load_snapshot(request, tx))
            .await
            .expect("the snapshot load finishes within two minutes");
    (collector.await.unwrap(), summary)
}

/// Default load settings for tests.
pub fn settings() -> LoadSettings {
    LoadSettings {
        describe_concurrency: 8,
        ..LoadSettings::default()
    }
}

/// A CA made with rcgen: its PEM and the issuer to sign with.
pub struct TestCa {
    pub pem: String,
    pub issuer: Issuer<'static, KeyPair>,
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "fleetid tests");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

/// A self-signed root CA.
pub fn root_ca(common_name: &str) -> TestCa {
    let key = KeyPair::generate().unwrap();
    let params = ca_params(common_name);
    let pem = params.self_signed(&key).unwrap().pem();
    TestCa {
        pem,
        issuer: Issuer::new(params, key),
    }
}

/// An intermediate CA signed by `parent`.
pub fn intermediate_ca(common_name: &str, parent: &TestCa) -> TestCa {
    let key = KeyPair::generate().unwrap();
    let params = ca_params(common_name);
    let pem = params.signed_by(&key, &parent.issuer).unwrap().pem();
    TestCa {
        pem,
        issuer: Issuer::new(params, key),
    }
}

/// A device certificate signed by `ca`, valid until `expires_in_days` from now (negative:
/// already expired). Returns the PEM and `notAfter` in Unix seconds.
pub fn device_cert(common_name: &str, ca: &TestCa, expires_in_days: i64) -> (String, i64) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = name(common_name);
    params.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(400);
    params.not_after = now + time::Duration::days(expires_in_days);
    let not_after = params.not_after.unix_timestamp();
    (params.signed_by(&key, &ca.issuer).unwrap().pem(), not_after)
}

/// Registers a CA with moto (active); returns its certificate id.
pub async fn register_ca(iot: &aws_sdk_iot::Client, ca: &TestCa) -> String {
    iot.register_ca_certificate()
        .ca_certificate(&ca.pem)
        .verification_certificate(&ca.pem)
        .set_as_active(true)
        .send()
        .await
        .unwrap()
        .certificate_id()
        .unwrap()
        .to_owned()
}

/// Registers a device certificate under `ca_pem` with `status`; returns (id, arn).
pub async fn register_device(
    iot: &aws_sdk_iot::Client,
    pem: &str,
    ca_pem: &str,
    status: aws_sdk_iot::types::CertificateStatus,
) -> (String, String) {
    let out = iot
        .register_certificate()
        .certificate_pem(pem)
        .ca_certificate_pem(ca_pem)
        .status(status)
        .send()
        .await
        .unwrap();
    (
        out.certificate_id().unwrap().to_owned(),
        out.certificate_arn().unwrap().to_owned(),
    )
}

/// A context over moto in one call (static test credentials, a store in `store_path`).
pub fn moto_context(store_path: std::path::PathBuf) -> fleetid::context::Context {
    fleetid::context::Context::for_endpoint(
        "moto",
        &moto_url(),
        "us-east-1",
        Credentials::new("testing", "testing", None, None, "tests"),
        store_path,
    )
}

/// A mutation permit, minted the only way there is: by a context that is not read-only.
pub fn permit() -> fleetid::context::MutationPermit {
    moto_context(std::env::temp_dir().join("fleetid-permit-unused.sqlite3"))
        .mutation_permit()
        .unwrap()
}
