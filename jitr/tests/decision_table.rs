//! The decision table: one certificate per row, made with rcgen, and the decision expected.
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::{
    Decision, DeviceIdSource, JitrConfig, ManifestEntry, RejectReason, SaleStatus, decide,
    device_id_of,
};
use support::pki::{DeviceKey, DeviceSpec, TestCa, damage_signature};
use support::{event_at, sold};
use time::{Duration, OffsetDateTime};

fn config() -> JitrConfig {
    JitrConfig {
        min_firmware: [("sensor-a".to_owned(), "2.0".parse().unwrap())].into(),
        thing_groups: vec!["fleet".into()],
        ..JitrConfig::default()
    }
}

struct Row {
    name: &'static str,
    cert_pem: String,
    ca_pem: Option<String>,
    manifest: Option<ManifestEntry>,
    config: JitrConfig,
    expected: Result<&'static str, RejectReason>,
}

fn rows() -> Vec<Row> {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let other_ca = TestCa::p256("Someone Else CA");
    let impostor = TestCa::p256("Fleet Device CA"); // same name, different key
    let p384_ca = TestCa::new("Fleet P-384 CA", &rcgen::PKCS_ECDSA_P384_SHA384);
    let spec = |id: &str| DeviceSpec::new(id, now);
    let good = |pem: String, id: &str, expected_thing: &'static str| Row {
        name: expected_thing,
        cert_pem: pem,
        ca_pem: Some(ca.pem.clone()),
        manifest: Some(sold(id)),
        config: config(),
        expected: Ok(expected_thing),
    };
    let bad = |name, pem: String, manifest: Option<ManifestEntry>, reason| Row {
        name,
        cert_pem: pem,
        ca_pem: Some(ca.pem.clone()),
        manifest,
        config: config(),
        expected: Err(reason),
    };
    let mut rows = vec![
        good(ca.issue(&spec("dev-001")), "dev-001", "dev-001"),
        good(
            ca.issue(&DeviceSpec {
                key: DeviceKey::Generated(&rcgen::PKCS_ECDSA_P384_SHA384),
                ..spec("dev-384")
            }),
            "dev-384",
            "dev-384",
        ),
        good(
            ca.issue(&DeviceSpec {
                key: DeviceKey::Generated(&rcgen::PKCS_RSA_SHA256),
                ..spec("dev-rsa")
            }),
            "dev-rsa",
            "dev-rsa",
        ),
        // Expired a minute ago, within the default 5-minute skew.
        good(
            ca.issue(&DeviceSpec {
                not_after: now - Duration::minutes(1),
                ..spec("dev-skew")
            }),
            "dev-skew",
            "dev-skew",
        ),
        good(
            ca.issue(&DeviceSpec {
                with_aki: true,
                ..spec("dev-aki")
            }),
            "dev-aki",
            "dev-aki",
        ),
        bad(
            "other CA",
            other_ca.issue(&spec("dev-001")),
            Some(sold("dev-001")),
            RejectReason::IssuerMismatch,
        ),
        bad(
            "impostor CA, same name",
            impostor.issue(&spec("dev-001")),
            Some(sold("dev-001")),
            RejectReason::BadSignature,
        ),
        bad(
            "impostor CA with key identifier",
            impostor.issue(&DeviceSpec {
                with_aki: true,
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::IssuerMismatch,
        ),
        bad(
            "bad signature",
            damage_signature(&ca.issue(&spec("dev-001"))),
            Some(sold("dev-001")),
            RejectReason::BadSignature,
        ),
        bad(
            "expired",
            ca.issue(&DeviceSpec {
                not_before: now - Duration::days(400),
                not_after: now - Duration::days(1),
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::Expired,
        ),
        bad(
            "not yet valid",
            ca.issue(&DeviceSpec {
                not_before: now + Duration::hours(1),
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::NotYetValid,
        ),
        bad(
            "RSA-1024",
            ca.issue(&DeviceSpec {
                key: DeviceKey::Rsa1024PublicOnly,
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::WeakKey,
        ),
        bad(
            "P-521 key",
            ca.issue(&DeviceSpec {
                key: DeviceKey::Generated(&rcgen::PKCS_ECDSA_P521_SHA512),
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::UnsupportedKey,
        ),
        bad(
            "Ed25519 key",
            ca.issue(&DeviceSpec {
                key: DeviceKey::Generated(&rcgen::PKCS_ED25519),
                ..spec("dev-001")
            }),
            Some(sold("dev-001")),
            RejectReason::UnsupportedKey,
        ),
        bad(
            "unknown device",
            ca.issue(&spec("dev-001")),
            None,
            RejectReason::UnknownDevice,
        ),
        bad(
            "in stock",
            ca.issue(&spec("dev-001")),
            Some(ManifestEntry {
                status: SaleStatus::InStock,
                ..sold("dev-001")
            }),
            RejectReason::NotSold,
        ),
        bad(
            "recalled",
            ca.issue(&spec("dev-001")),
            Some(ManifestEntry {
                recalled: true,
                ..sold("dev-001")
            }),
            RejectReason::Recalled,
        ),
        bad(
            "old firmware",
            ca.issue(&spec("dev-001")),
            Some(ManifestEntry {
                firmware: "1.9.9".parse().unwrap(),
                ..sold("dev-001")
            }),
            RejectReason::FirmwareTooOld,
        ),
        bad(
            "manifest of another device",
            ca.issue(&spec("dev-001")),
            Some(sold("dev-002")),
            RejectReason::ManifestMismatch,
        ),
        bad(
            "no CN",
            ca.issue(&DeviceSpec {
                common_name: None,
                ..spec("x")
            }),
            Some(sold("x")),
            RejectReason::NoDeviceId,
        ),
        bad(
            "CN not a thing name",
            ca.issue(&DeviceSpec {
                common_name: Some("dev 001/\u{1b}[2J".into()),
                ..spec("x")
            }),
            Some(sold("x")),
            RejectReason::InvalidDeviceId,
        ),
        bad(
            "malformed PEM",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".into(),
            Some(sold("dev-001")),
            RejectReason::MalformedCertificate,
        ),
        bad(
            "empty PEM",
            String::new(),
            Some(sold("dev-001")),
            RejectReason::MalformedCertificate,
        ),
    ];
    rows.push(Row {
        name: "unknown CA",
        cert_pem: ca.issue(&spec("dev-001")),
        ca_pem: None,
        manifest: Some(sold("dev-001")),
        config: config(),
        expected: Err(RejectReason::UnknownCa),
    });
    rows.push(Row {
        name: "CA PEM is garbage",
        cert_pem: ca.issue(&spec("dev-001")),
        ca_pem: Some("garbage".into()),
        manifest: Some(sold("dev-001")),
        config: config(),
        expected: Err(RejectReason::UnknownCa),
    });
    rows.push(Row {
        name: "P-384 CA",
        cert_pem: p384_ca.issue(&spec("dev-p384ca")),
        ca_pem: Some(p384_ca.pem.clone()),
        manifest: Some(sold("dev-p384ca")),
        config: config(),
        expected: Ok("dev-p384ca"),
    });
    rows.push(Row {
        name: "device id from serial number",
        cert_pem: ca.issue(&DeviceSpec {
            serial: Some(vec![0x00, 0x0a, 0xbc, 0xde]),
            ..spec("ignored")
        }),
        ca_pem: Some(ca.pem.clone()),
        manifest: Some(sold("0abcde")),
        config: JitrConfig {
            device_id_source: DeviceIdSource::SerialNumber,
            ..config()
        },
        expected: Ok("0abcde"),
    });
    rows.push(Row {
        name: "skew of zero makes a minute-old expiry count",
        cert_pem: ca.issue(&DeviceSpec {
            not_after: now - Duration::minutes(1),
            ..spec("dev-001")
        }),
        ca_pem: Some(ca.pem.clone()),
        manifest: Some(sold("dev-001")),
        config: JitrConfig {
            clock_skew_seconds: 0,
            ..config()
        },
        expected: Err(RejectReason::Expired),
    });
    rows
}

#[test]
fn decision_table() {
    let now = OffsetDateTime::now_utc();
    let mut failures = Vec::new();
    for row in rows() {
        let event = event_at("cert-1", "ca-1", now);
        let decision = decide(
            &event,
            &row.cert_pem,
            row.ca_pem.as_deref(),
            row.manifest.as_ref(),
            &row.config,
        );
        let got = match &decision {
            Decision::Activate { thing, .. } => Ok(thing.clone()),
            Decision::Reject { reason, .. } => Err(*reason),
        };
        let expected = row.expected.map(str::to_owned);
        if got != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {decision:?}",
                row.name
            ));
        }
        if let Decision::Reject { detail, .. } = &decision {
            assert!(!detail.is_empty(), "{}: empty detail", row.name);
            assert!(
                !detail.contains('\u{1b}'),
                "{}: control character in detail",
                row.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "decision table rows failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn activation_carries_thing_policy_groups_and_attributes() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let pem = ca.issue(&DeviceSpec::new("dev-007", now));
    let config = JitrConfig {
        thing_name_prefix: "fleet-".into(),
        policy_name: "device-{thing}".into(),
        thing_groups: vec!["fleet".into(), "eu".into()],
        ..config()
    };
    let manifest = ManifestEntry {
        groups: vec!["eu".into(), "beta".into()],
        ..sold("dev-007")
    };
    assert_eq!(device_id_of(&pem, &config).unwrap(), "dev-007");
    let decision = decide(
        &event_at("c", "ca", now),
        &pem,
        Some(&ca.pem),
        Some(&manifest),
        &config,
    );
    let Decision::Activate {
        thing,
        policy,
        groups,
        attributes,
    } = decision
    else {
        panic!("expected activation, got {decision:?}");
    };
    assert_eq!(thing, "fleet-dev-007");
    assert_eq!(policy.name, "device-fleet-dev-007");
    assert!(
        policy
            .document
            .contains("${iot:Connection.Thing.ThingName}")
    );
    assert_eq!(groups, ["fleet", "eu", "beta"]);
    assert_eq!(attributes["model"], "sensor-a");
    assert_eq!(attributes["firmware"], "2.1.0");
    assert_eq!(attributes["batch"], "B7");
}

#[test]
fn validity_is_judged_at_the_event_time_not_the_wall_clock() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let pem = ca.issue(&DeviceSpec::new("dev-001", now));
    let config = config();
    let in_two_years = event_at("c", "ca", now + Duration::days(730));
    let decision = decide(
        &in_two_years,
        &pem,
        Some(&ca.pem),
        Some(&sold("dev-001")),
        &config,
    );
    assert_eq!(decision.reject_reason(), Some(RejectReason::Expired));
}

#[test]
fn decide_never_panics_on_arbitrary_bytes() {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let good = ca.issue(&DeviceSpec::new("dev-001", now));
    let body = support::pki::pem_body(&good);
    let config = config();
    let event = event_at("c", "ca", now);
    // Every truncation and a byte flip at every 7th position: rejected or (rarely) accepted,
    // never a panic.
    for len in (0..body.len()).step_by(5) {
        let pem = support::pki::to_pem(&body[..len]);
        let d = decide(&event, &pem, Some(&ca.pem), Some(&sold("dev-001")), &config);
        assert!(
            d.reject_reason().is_some(),
            "truncated to {len} bytes was accepted"
        );
    }
    for i in (0..body.len()).step_by(7) {
        let mut flipped = body.clone();
        flipped[i] ^= 0x5a;
        let pem = support::pki::to_pem(&flipped);
        let _ = decide(&event, &pem, Some(&ca.pem), Some(&sold("dev-001")), &config);
        let _ = decide(&event, &good, Some(&pem), Some(&sold("dev-001")), &config);
    }
}
