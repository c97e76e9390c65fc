//! Device certificates a strict parser refuses: each made with rcgen, or built by hand and
//! signed again by the test CA where rcgen cannot make the flaw, so that the flaw is the only
//! thing wrong with it.
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::{
    Decision, DeviceIdSource, JitrConfig, ManifestEntry, RejectReason, decide, device_id_of,
};
use proptest::prelude::*;
use rcgen::CustomExtension;
use support::der_edit::{Parts, extension, tlv};
use support::pki::{DeviceSpec, TestCa, pem_body, to_pem};
use support::{event_at, sold};
use time::OffsetDateTime;

const SAN: &[u8] = &[0x55, 0x1D, 0x11];
const EKU: &[u8] = &[0x55, 0x1D, 0x25];
const AIA: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1D, 0x13];
const PRIVATE_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0xB2, 0x03, 0x01];

fn decide_with(
    pem: &str,
    ca: &TestCa,
    manifest: Option<&ManifestEntry>,
    config: &JitrConfig,
) -> Decision {
    let event = event_at("cert-1", "ca-1", OffsetDateTime::now_utc());
    decide(&event, pem, Some(&ca.pem), manifest, config)
}

fn decide_default(pem: &str, ca: &TestCa) -> Decision {
    decide_with(pem, ca, Some(&sold("dev-001")), &JitrConfig::default())
}

/// The reason and the detail's expected words.
fn assert_rejected(decision: &Decision, reason: RejectReason, words: &str, case: &str) {
    match decision {
        Decision::Reject {
            reason: got,
            detail,
        } => {
            assert_eq!(*got, reason, "{case}: {detail}");
            assert!(detail.contains(words), "{case}: {detail:?} lacks {words:?}");
        }
        Decision::Activate { .. } => panic!("{case}: activated"),
    }
}

fn base(ca: &TestCa) -> Parts {
    let now = OffsetDateTime::now_utc();
    Parts::of_pem(&ca.issue(&DeviceSpec::new("dev-001", now)))
}

#[test]
fn a_certificate_taken_apart_and_signed_again_still_activates() {
    // The control for every hand-built case below.
    let ca = TestCa::p256("Fleet Device CA");
    let decision = decide_default(&base(&ca).signed_pem(&ca), &ca);
    assert!(
        matches!(decision, Decision::Activate { .. }),
        "{decision:?}"
    );
}

#[test]
fn serial_numbers_must_be_positive_minimal_and_at_most_20_octets() {
    let ca = TestCa::p256("Fleet Device CA");
    for (serial, words) in [
        (&[][..], "empty INTEGER"),
        (&[0x00], "zero"),
        (&[0x80, 0x01, 0x02], "negative"),
        (&[0xFF, 0x01], "negative"),
        (&[0x00, 0x01], "minimally"),
        (&[0x11; 21], "21 octets"),
    ] {
        let mut parts = base(&ca);
        parts.tbs[Parts::SERIAL] = tlv(0x02, serial);
        let decision = decide_default(&parts.signed_pem(&ca), &ca);
        let case = format!("serial {serial:02x?}");
        assert_rejected(&decision, RejectReason::MalformedCertificate, words, &case);
    }
    // rcgen writes 20 octets with the top bit set as 21 content octets (a leading zero).
    let now = OffsetDateTime::now_utc();
    let long = ca.issue(&DeviceSpec {
        serial: Some(vec![0x80; 20]),
        ..DeviceSpec::new("dev-001", now)
    });
    let decision = decide_default(&long, &ca);
    assert_rejected(
        &decision,
        RejectReason::MalformedCertificate,
        "21 octets",
        "0x80 x 20",
    );
    let twenty = ca.issue(&DeviceSpec {
        serial: Some(vec![0x7F; 20]),
        ..DeviceSpec::new("dev-001", now)
    });
    assert!(matches!(
        decide_default(&twenty, &ca),
        Decision::Activate { .. }
    ));
}

fn with_extension(ca: &TestCa, ext: Vec<u8>) -> String {
    let mut parts = base(ca);
    let mut extensions = parts.extensions();
    extensions.push(ext);
    parts.set_extensions(&extensions);
    parts.signed_pem(ca)
}

#[test]
fn extensions_must_be_unique_processed_when_critical_and_well_formed() {
    let ca = TestCa::p256("Fleet Device CA");
    let dns = tlv(0x30, &tlv(0x82, b"dev-001.example"));
    let good = [
        ("SAN dNSName", extension(SAN, false, &dns)),
        ("critical SAN", extension(SAN, true, &dns)),
        (
            "private non-critical",
            extension(PRIVATE_OID, false, &[0x05, 0x00]),
        ),
        (
            "EKU clientAuth",
            extension(
                EKU,
                false,
                &tlv(0x30, &tlv(0x06, &[0x2B, 6, 1, 5, 5, 7, 3, 2])),
            ),
        ),
    ];
    for (case, ext) in good {
        let decision = decide_default(&with_extension(&ca, ext), &ca);
        assert!(
            matches!(decision, Decision::Activate { .. }),
            "{case}: {decision:?}"
        );
    }
    let ocsp = [0x2B, 6, 1, 5, 5, 7, 48, 1];
    let bad = [
        (
            "unknown critical",
            extension(PRIVATE_OID, true, &[0x05, 0x00]),
            "unsupported critical extension 1.3.6.1.4.1.55555.1",
        ),
        (
            "empty SAN",
            extension(SAN, false, &[0x30, 0x00]),
            "empty GeneralNames",
        ),
        (
            "SAN IP of 3 octets",
            extension(SAN, false, &tlv(0x30, &tlv(0x87, &[10, 0, 0]))),
            "iPAddress of 3 octets",
        ),
        (
            "SAN non-ASCII dNSName",
            extension(SAN, false, &tlv(0x30, &tlv(0x82, "dév".as_bytes()))),
            "IA5String",
        ),
        (
            "SAN with a byte after it",
            extension(SAN, false, &[dns.clone(), vec![0x00]].concat()),
            "unexpected bytes",
        ),
        (
            "SAN unknown name tag",
            extension(SAN, false, &tlv(0x30, &tlv(0x89, b"x"))),
            "GeneralName with tag 0x89",
        ),
        (
            "empty EKU",
            extension(EKU, false, &[0x30, 0x00]),
            "empty ExtKeyUsageSyntax",
        ),
        (
            "EKU of a string",
            extension(EKU, false, &tlv(0x30, &tlv(0x0C, b"clientAuth"))),
            "KeyPurposeId",
        ),
        (
            "empty AIA",
            extension(AIA, false, &[0x30, 0x00]),
            "empty AuthorityInfoAccessSyntax",
        ),
        (
            "AIA without location",
            extension(AIA, false, &tlv(0x30, &tlv(0x30, &tlv(0x06, &ocsp)))),
            "element cut short",
        ),
        (
            "AIA bad location",
            extension(
                AIA,
                false,
                &tlv(
                    0x30,
                    &tlv(0x30, &[tlv(0x06, &ocsp), tlv(0x87, &[1])].concat()),
                ),
            ),
            "iPAddress of 1 octets",
        ),
        (
            "cA FALSE encoded",
            extension(BASIC_CONSTRAINTS, true, &tlv(0x30, &[0x01, 0x01, 0x00])),
            "default",
        ),
    ];
    for (case, ext, words) in bad {
        let decision = decide_default(&with_extension(&ca, ext), &ca);
        assert_rejected(&decision, RejectReason::MalformedCertificate, words, case);
    }
    // The same extension twice.
    let mut parts = base(&ca);
    let mut extensions = parts.extensions();
    extensions.push(extension(SAN, false, &dns));
    extensions.push(extension(SAN, false, &dns));
    parts.set_extensions(&extensions);
    let decision = decide_default(&parts.signed_pem(&ca), &ca);
    assert_rejected(
        &decision,
        RejectReason::MalformedCertificate,
        "duplicate extension",
        "duplicate",
    );
}

#[test]
fn rcgen_made_critical_unknown_extension_is_refused() {
    let ca = TestCa::p256("Fleet Device CA");
    let mut critical =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 2], vec![0x05, 0x00]);
    critical.set_criticality(true);
    let pem = ca.issue(&DeviceSpec {
        custom_extensions: vec![critical],
        ..DeviceSpec::new("dev-001", OffsetDateTime::now_utc())
    });
    let decision = decide_default(&pem, &ca);
    assert_rejected(
        &decision,
        RejectReason::MalformedCertificate,
        "critical",
        "rcgen critical",
    );
}

#[test]
fn a_ca_certificate_is_not_a_device_certificate() {
    let ca = TestCa::p256("Fleet Device CA");
    let pem = ca.issue(&DeviceSpec {
        is_ca: true,
        ..DeviceSpec::new("dev-001", OffsetDateTime::now_utc())
    });
    let decision = decide_default(&pem, &ca);
    assert_rejected(
        &decision,
        RejectReason::NotADeviceCertificate,
        "cA",
        "CA as device",
    );
}

#[test]
fn bytes_after_or_inside_the_der_and_the_pem_are_refused() {
    let ca = TestCa::p256("Fleet Device CA");
    let parts = base(&ca);
    let good = parts.signed_pem(&ca);
    let der = pem_body(&good);

    let mut appended = der.clone();
    appended.extend([0x00, 0x00]);
    let inside_certificate = {
        let tbs = parts.tbs_der();
        let signed = parts.sign_der(&tbs, &ca);
        let mut fields = support::der_edit::elements(support::der_edit::content_of(&signed));
        fields.push(vec![0x05, 0x00]);
        tlv(0x30, &fields.concat())
    };
    let inside_tbs = {
        let mut tbs = parts.tbs.clone();
        tbs.push(vec![0x05, 0x00]);
        parts.sign_der(&tlv(0x30, &tbs.concat()), &ca)
    };
    let other_algorithm = {
        let mut tbs = parts.tbs.clone();
        // ecdsa-with-SHA384 inside, ecdsa-with-SHA256 outside.
        tbs[2] = tlv(
            0x30,
            &tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]),
        );
        parts.sign_der(&tlv(0x30, &tbs.concat()), &ca)
    };
    let cases = [
        (
            "bytes after the DER",
            to_pem(&appended),
            "2 bytes after the certificate",
        ),
        (
            "bytes inside Certificate",
            to_pem(&inside_certificate),
            "end of Certificate",
        ),
        (
            "bytes inside tbsCertificate",
            to_pem(&inside_tbs),
            "end of tbsCertificate",
        ),
        (
            "inner and outer algorithms differ",
            to_pem(&other_algorithm),
            "differs",
        ),
        (
            "text after the PEM",
            format!("{good}trailing text\n"),
            "after the PEM block",
        ),
        (
            "two PEM blocks",
            format!("{good}{good}"),
            "after the PEM block",
        ),
        (
            "END label differs",
            good.replace("END CERTIFICATE", "END X509 CRL"),
            "END label",
        ),
        (
            "text before the PEM",
            format!("subject=CN=dev-001\n{good}"),
            "before the PEM block",
        ),
    ];
    for (case, pem, words) in cases {
        let decision = decide_default(&pem, &ca);
        assert_rejected(&decision, RejectReason::MalformedCertificate, words, case);
        let id = device_id_of(&pem, &JitrConfig::default());
        assert_eq!(
            id.unwrap_err().reason,
            RejectReason::MalformedCertificate,
            "{case}"
        );
    }
    // Whitespace and CRLF around one block are fine.
    let spaced = format!("\r\n{}\r\n\r\n", good.replace('\n', "\r\n"));
    assert!(matches!(
        decide_default(&spaced, &ca),
        Decision::Activate { .. }
    ));
}

#[test]
fn a_ca_key_the_decision_cannot_use_is_reported_as_such() {
    let now = OffsetDateTime::now_utc();
    for alg in [&rcgen::PKCS_ECDSA_P521_SHA512, &rcgen::PKCS_ED25519] {
        let ca = TestCa::new("Odd CA", alg);
        let pem = ca.issue(&DeviceSpec::new("dev-001", now));
        let decision = decide_default(&pem, &ca);
        assert_rejected(
            &decision,
            RejectReason::UnsupportedCaKey,
            "Odd CA",
            &format!("{alg:?}"),
        );
    }
    // The CA is judged before the certificate: a malformed certificate under such a CA is
    // still reported for the CA.
    let ca = TestCa::new("Odd CA", &rcgen::PKCS_ED25519);
    assert_rejected(
        &decide_default("junk", &ca),
        RejectReason::UnsupportedCaKey,
        "1.3.101.112",
        "junk",
    );
}

fn serial_config() -> JitrConfig {
    JitrConfig {
        device_id_source: DeviceIdSource::SerialNumber,
        ..JitrConfig::default()
    }
}

/// The minimal DER content of the positive integer with big-endian magnitude `value`.
fn minimal_positive(value: &[u8]) -> Vec<u8> {
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let mut content = value[start..].to_vec();
    if content.first().is_some_and(|b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    content
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A serial is accepted exactly when it is the minimal encoding of a positive integer of at
    /// most 20 octets, and its id is that integer in hex: so two different serials never give
    /// one id, and one integer never gives two.
    #[test]
    fn serial_ids_are_the_serials_value(serial in proptest::collection::vec(any::<u8>(), 0..23)) {
        let ca = TestCa::p256("Fleet Device CA");
        let mut parts = base(&ca);
        parts.tbs[Parts::SERIAL] = tlv(0x02, &serial);
        let pem = parts.signed_pem(&ca);
        let canonical = !serial.is_empty()
            && serial[0] & 0x80 == 0
            && minimal_positive(&serial) == serial
            && serial.len() <= 20;
        let result = device_id_of(&pem, &serial_config());
        if canonical {
            let magnitude: Vec<u8> = serial.iter().copied().skip_while(|&b| b == 0).collect();
            let expected: String = magnitude.iter().map(|b| format!("{b:02x}")).collect();
            prop_assert_eq!(result.unwrap(), expected.clone());
            let decision = decide_with(&pem, &ca, Some(&sold(&expected)), &serial_config());
            let activated = matches!(decision, Decision::Activate { .. });
            prop_assert!(activated);
        } else {
            prop_assert_eq!(result.unwrap_err().reason, RejectReason::MalformedCertificate);
        }
    }
}
