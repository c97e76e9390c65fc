//! A CSR for a key in the simulated SE, signed by the SE, checked by an independent parser
//! (x509-parser) and an independent verifier (aws-lc-rs) against the public key read back.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use se_nxp::csr::{CsrError, csr_pem};
use se_nxp::sim::{SimulatedSe, simulated_se05x};
use se_nxp::{ObjectId, share, with_shared};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

const KEY: ObjectId = ObjectId(0x7000_0002);

#[test]
fn csr_is_signed_by_the_se_key_and_names_the_device() {
    let se = share(simulated_se05x(SimulatedSe::new()).expect("ready"));
    with_shared(&se, |se| se.generate_p256(KEY)).expect("generate");
    let public = with_shared(&se, |se| se.read_public_key(KEY)).expect("public key");

    let pem = csr_pem(&se, KEY, "device-0042").expect("csr");
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{pem}"
    );

    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let (rest, csr) = X509CertificationRequest::from_der(&block.contents).expect("PKCS#10 DER");
    assert!(rest.is_empty());
    let info = &csr.certification_request_info;
    let common_name = info
        .subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok());
    assert_eq!(common_name, Some("device-0042"));
    assert_eq!(
        info.subject_pki.subject_public_key.data.as_ref(),
        &public[..]
    );
    assert_eq!(
        csr.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.10045.4.3.2"
    );

    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
        .verify(info.raw, csr.signature_value.data.as_ref())
        .expect("the CSR signature verifies with the SE public key");
}

#[test]
fn csr_for_a_missing_key_names_the_object() {
    let se = share(simulated_se05x(SimulatedSe::new()).expect("ready"));
    let err = csr_pem(&se, ObjectId(0x7000_0099), "device").expect_err("no such key");
    assert!(matches!(err, CsrError::PublicKey { .. }));
    assert!(err.to_string().contains("0x70000099"), "{err}");
}
