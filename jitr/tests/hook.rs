//! The pre-provisioning hook: same checks as JITR minus the issuer, device id from a template
//! parameter or the certificate, and the response AWS IoT expects.
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::hook::hook_device_id;
use fleetid_jitr::{
    JitrConfig, ManifestEntry, PreProvisioningRequest, RejectReason, pre_provisioning_hook,
};
use support::pki::{DeviceKey, DeviceSpec, TestCa};
use support::sold;
use time::{Duration, OffsetDateTime};

fn request(pem: &str, parameters: &[(&str, &str)]) -> PreProvisioningRequest {
    let json = serde_json::json!({
        "claimCertificateId": "claim-1",
        "certificateId": "new-1",
        "certificatePem": pem,
        "templateArn": "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/fleet",
        "clientId": "dev-001",
        "parameters": parameters.iter().copied().collect::<std::collections::BTreeMap<_, _>>(),
    });
    serde_json::from_value(json).unwrap()
}

#[test]
fn allows_a_sold_device_and_overrides_the_thing_name() {
    let now = OffsetDateTime::now_utc();
    // Issued by a CA we never registered: for fleet provisioning AWS IoT is the issuer.
    let pem = TestCa::p256("Amazon-ish CA").issue(&DeviceSpec {
        common_name: Some("AWS IoT Certificate".into()),
        ..DeviceSpec::new("x", now)
    });
    let config = JitrConfig {
        thing_name_prefix: "fleet-".into(),
        ..JitrConfig::default()
    };
    let req = request(&pem, &[("SerialNumber", "dev-001")]);
    assert_eq!(hook_device_id(&req, &config).unwrap(), "dev-001");
    let (response, decision) = pre_provisioning_hook(&req, Some(&sold("dev-001")), &config, now);
    assert!(response.allow_provisioning, "{decision:?}");
    assert_eq!(response.parameter_overrides["ThingName"], "fleet-dev-001");
    assert_eq!(response.parameter_overrides["Model"], "sensor-a");
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["allowProvisioning"], true);
    assert_eq!(json["parameterOverrides"]["ThingName"], "fleet-dev-001");
}

#[test]
fn refuses_with_the_same_reasons_as_jitr() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("CA");
    let config = JitrConfig::default();
    let good = ca.issue(&DeviceSpec::new("dev-001", now));
    let weak = ca.issue(&DeviceSpec {
        key: DeviceKey::Rsa1024PublicOnly,
        ..DeviceSpec::new("dev-001", now)
    });
    let expired = ca.issue(&DeviceSpec {
        not_before: now - Duration::days(10),
        not_after: now - Duration::days(1),
        ..DeviceSpec::new("dev-001", now)
    });
    let recalled = ManifestEntry {
        recalled: true,
        ..sold("dev-001")
    };
    let cases = [
        (request(&good, &[]), Some(recalled), RejectReason::Recalled),
        (request(&good, &[]), None, RejectReason::UnknownDevice),
        (
            request(&weak, &[]),
            Some(sold("dev-001")),
            RejectReason::WeakKey,
        ),
        (
            request(&expired, &[]),
            Some(sold("dev-001")),
            RejectReason::Expired,
        ),
        (
            request("garbage", &[("SerialNumber", "dev-001")]),
            Some(sold("dev-001")),
            RejectReason::MalformedCertificate,
        ),
        (
            request(&good, &[("SerialNumber", "dev 001")]),
            Some(sold("dev-001")),
            RejectReason::InvalidDeviceId,
        ),
        (
            request(&good, &[("SerialNumber", "dev-002")]),
            Some(sold("dev-001")),
            RejectReason::ManifestMismatch,
        ),
    ];
    for (i, (req, entry, reason)) in cases.into_iter().enumerate() {
        let (response, decision) = pre_provisioning_hook(&req, entry.as_ref(), &config, now);
        assert!(!response.allow_provisioning, "case {i}");
        assert!(response.parameter_overrides.is_empty(), "case {i}");
        assert_eq!(
            decision.reject_reason(),
            Some(reason),
            "case {i}: {decision:?}"
        );
    }
}
