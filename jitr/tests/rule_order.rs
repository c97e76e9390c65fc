//! The rules of docs/jitr.md are applied in their documented order also when the handler
//! learns facts before the certificate is read (the CA record, the CA the registry holds the
//! certificate under, an unreadable manifest entry) and when the hook is given a device id.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use fleetid_jitr::{
    JitrConfig, ManifestEntry, ManifestError, ManifestSource, PreProvisioningRequest, RejectReason,
    handle_registration, pre_provisioning_hook,
};
use support::memory::MemoryControlPlane;
use support::pki::{DeviceSpec, TestCa};
use support::sold;
use time::{Duration, OffsetDateTime};

const CERT_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const CA_ID: &str = "c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2";

/// A manifest whose every entry has an unreadable field.
struct UnreadableEntries;

impl ManifestSource for UnreadableEntries {
    async fn lookup(&self, device_id: &str) -> Result<Option<ManifestEntry>, ManifestError> {
        Err(ManifestError::InvalidEntry {
            device_id: device_id.to_owned(),
            message: "firmware \"x\" is not a version".into(),
        })
    }
}

fn event(ca_id: &str, at: OffsetDateTime) -> serde_json::Value {
    serde_json::json!({
        "certificateId": CERT_ID,
        "caCertificateId": ca_id,
        "timestamp": at.unix_timestamp() * 1000,
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012",
        "certificateRegistrationTimestamp": (at.unix_timestamp() * 1000).to_string(),
    })
}

async fn reason<M: ManifestSource>(
    control_plane: &MemoryControlPlane,
    manifest: &M,
    event: &serde_json::Value,
) -> String {
    let handled =
        handle_registration(event, control_plane, manifest, &JitrConfig::default(), 1).await;
    handled.log_line["reason"]
        .as_str()
        .unwrap_or("activate")
        .to_owned()
}

#[tokio::test]
async fn certificate_rules_come_before_an_unreadable_manifest_entry() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let expired = ca.issue(&DeviceSpec {
        not_before: now - Duration::days(30),
        not_after: now - Duration::days(2),
        ..DeviceSpec::new("dev-001", now)
    });
    let control_plane = MemoryControlPlane::default();
    control_plane.add_ca(CA_ID, &ca.pem, "ACTIVE");
    control_plane.add_certificate(CERT_ID, &expired, Some(CA_ID));
    assert_eq!(
        reason(&control_plane, &UnreadableEntries, &event(CA_ID, now)).await,
        "EXPIRED"
    );

    let valid = ca.issue(&DeviceSpec::new("dev-001", now));
    control_plane.add_certificate(CERT_ID, &valid, Some(CA_ID));
    assert_eq!(
        reason(&control_plane, &UnreadableEntries, &event(CA_ID, now)).await,
        "INVALID_MANIFEST_ENTRY"
    );
}

#[tokio::test]
async fn the_ca_and_the_certificate_come_before_the_registrys_ca_mismatch() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let other = TestCa::p256("Other CA");
    let other_id = "f".repeat(64);
    let manifest = fleetid_jitr::FileManifest::from_entries([sold("dev-001")]);
    let control_plane = MemoryControlPlane::default();
    control_plane.add_ca(CA_ID, &ca.pem, "ACTIVE");
    // Registered under CA_ID, but the event names another CA.
    let malformed = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
    control_plane.add_certificate(CERT_ID, malformed, Some(CA_ID));
    assert_eq!(
        reason(&control_plane, &manifest, &event(&other_id, now)).await,
        "UNKNOWN_CA"
    );
    control_plane.add_ca(&other_id, &other.pem, "INACTIVE");
    assert_eq!(
        reason(&control_plane, &manifest, &event(&other_id, now)).await,
        "UNKNOWN_CA"
    );
    control_plane.add_ca(&other_id, &other.pem, "ACTIVE");
    assert_eq!(
        reason(&control_plane, &manifest, &event(&other_id, now)).await,
        "MALFORMED_CERTIFICATE"
    );
    let good = ca.issue(&DeviceSpec::new("dev-001", now));
    control_plane.add_certificate(CERT_ID, &good, Some(CA_ID));
    assert_eq!(
        reason(&control_plane, &manifest, &event(&other_id, now)).await,
        "ISSUER_MISMATCH"
    );
    assert_eq!(
        reason(&control_plane, &manifest, &event(CA_ID, now)).await,
        "activate"
    );
}

#[test]
fn a_hook_parameter_id_is_judged_after_the_certificate() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("AWS IoT stand-in");
    let request = |pem: &str, id: &str| PreProvisioningRequest {
        claim_certificate_id: "claim".into(),
        certificate_id: CERT_ID.into(),
        certificate_pem: pem.to_owned(),
        template_arn: "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/t".into(),
        client_id: "client".into(),
        parameters: BTreeMap::from([("SerialNumber".to_owned(), id.to_owned())]),
    };
    let config = JitrConfig::default();
    let weak_then_bad_id = ca.issue(&DeviceSpec {
        key: support::pki::DeviceKey::Rsa1024PublicOnly,
        ..DeviceSpec::new("dev-001", now)
    });
    let (_, decision) =
        pre_provisioning_hook(&request(&weak_then_bad_id, "bad id"), None, &config, now);
    assert_eq!(decision.reject_reason(), Some(RejectReason::WeakKey));
    let good = ca.issue(&DeviceSpec::new("dev-001", now));
    let (_, decision) = pre_provisioning_hook(&request(&good, "bad id"), None, &config, now);
    assert_eq!(
        decision.reject_reason(),
        Some(RejectReason::InvalidDeviceId)
    );
    let (answer, _) = pre_provisioning_hook(
        &request(&good, "dev-001"),
        Some(&sold("dev-001")),
        &config,
        now,
    );
    assert!(answer.allow_provisioning);
}
