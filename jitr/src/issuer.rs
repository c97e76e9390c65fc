//! Checks on the issuing CA and on the link from a device certificate to it: a CA key the
//! decision can verify with, issuer name and key identifiers, and the signature (aws-lc-rs).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA,
    OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
};
use x509_parser::public_key::PublicKey;

use crate::certificate::{MAX_RSA_BITS, MIN_RSA_BITS, Rejection, bit_length, to_hex};
use crate::reason::RejectReason;

fn key_identifier<'a>(cert: &'a X509Certificate<'_>, authority: bool) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) if authority => {
                aki.key_identifier.as_ref().map(|k| k.0)
            }
            ParsedExtension::SubjectKeyIdentifier(ski) if !authority => Some(ski.0),
            _ => None,
        })
}

/// Checks that the CA key is one the decision verifies with: EC P-256 or P-384, or RSA of
/// 2048 to 8192 bits. Any other CA key would make every signature check fail, which is a
/// property of the CA, not of the device certificate.
pub(crate) fn check_ca_key(ca: &X509Certificate<'_>) -> Result<(), Rejection> {
    let spki = ca.public_key();
    let unsupported = |detail: String| {
        Rejection::new(
            RejectReason::UnsupportedCaKey,
            format!("CA \"{}\": {detail}", ca.subject()),
        )
    };
    if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 || c == OID_NIST_EC_P384 => Ok(()),
            Some(c) => Err(unsupported(format!(
                "EC key on curve {c}; only P-256 and P-384 are verified"
            ))),
            None => Err(unsupported("EC key without a named curve".into())),
        };
    }
    if spki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
        return match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => {
                let bits = bit_length(rsa.modulus);
                if (MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    Ok(())
                } else {
                    Err(unsupported(format!(
                        "RSA key of {bits} bits; only {MIN_RSA_BITS} to {MAX_RSA_BITS} bits are verified"
                    )))
                }
            }
            _ => Err(unsupported("RSA key that does not parse".into())),
        };
    }
    Err(unsupported(format!(
        "key algorithm {}; only EC P-256/P-384 and RSA are verified",
        spki.algorithm.algorithm
    )))
}

/// Checks that `ca` issued `cert`: issuer name equals the CA subject, key identifiers agree
/// when both are present, and the signature verifies with the CA's public key.
pub(crate) fn check_issued_by(
    cert: &X509Certificate<'_>,
    ca: &X509Certificate<'_>,
) -> Result<(), Rejection> {
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(Rejection::new(
            RejectReason::IssuerMismatch,
            format!(
                "issuer \"{}\" is not the CA subject \"{}\"",
                cert.issuer(),
                ca.subject()
            ),
        ));
    }
    if let (Some(aki), Some(ski)) = (key_identifier(cert, true), key_identifier(ca, false))
        && aki != ski
    {
        return Err(Rejection::new(
            RejectReason::IssuerMismatch,
            format!(
                "authority key identifier {} is not the CA's subject key identifier {}",
                to_hex(aki),
                to_hex(ski)
            ),
        ));
    }
    let algorithm = verification_algorithm(cert, ca)?;
    let ca_key = &ca.public_key().subject_public_key.data;
    UnparsedPublicKey::new(algorithm, ca_key)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| {
            Rejection::new(
                RejectReason::BadSignature,
                format!(
                    "signature does not verify with the key of CA \"{}\"",
                    ca.subject()
                ),
            )
        })
}

fn verification_algorithm(
    cert: &X509Certificate<'_>,
    ca: &X509Certificate<'_>,
) -> Result<&'static dyn VerificationAlgorithm, Rejection> {
    let oid = &cert.signature_algorithm.algorithm;
    let ca_key_algorithm = &ca.public_key().algorithm;
    let ca_curve = ca_key_algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    let ec = |p256: &'static dyn VerificationAlgorithm,
              p384: &'static dyn VerificationAlgorithm| {
        match &ca_curve {
            Some(curve) if *curve == OID_EC_P256 => Some(p256),
            Some(curve) if *curve == OID_NIST_EC_P384 => Some(p384),
            _ => None,
        }
    };
    let algorithm: Option<&'static dyn VerificationAlgorithm> = if *oid == OID_SIG_ECDSA_WITH_SHA256
    {
        ec(
            &signature::ECDSA_P256_SHA256_ASN1,
            &signature::ECDSA_P384_SHA256_ASN1,
        )
    } else if *oid == OID_SIG_ECDSA_WITH_SHA384 {
        ec(
            &signature::ECDSA_P256_SHA384_ASN1,
            &signature::ECDSA_P384_SHA384_ASN1,
        )
    } else if ca_key_algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        None
    } else if *oid == OID_PKCS1_SHA256WITHRSA {
        Some(&signature::RSA_PKCS1_2048_8192_SHA256)
    } else if *oid == OID_PKCS1_SHA384WITHRSA {
        Some(&signature::RSA_PKCS1_2048_8192_SHA384)
    } else if *oid == OID_PKCS1_SHA512WITHRSA {
        Some(&signature::RSA_PKCS1_2048_8192_SHA512)
    } else {
        None
    };
    algorithm.ok_or_else(|| {
        Rejection::new(
            RejectReason::UnsupportedSignatureAlgorithm,
            format!(
                "signature algorithm {oid} with CA key type {}",
                ca_key_algorithm.algorithm
            ),
        )
    })
}
