//! Reads what fleetid needs out of a certificate PEM: validity, names, key, key identifiers and
//! the SHA-256 fingerprint. AWS's own `validity` in DescribeCertificate is not used: moto
//! invents it, and the PEM is the authority anyway.

use x509_parser::extensions::ParsedExtension;
use x509_parser::pem::parse_x509_pem;
use x509_parser::public_key::PublicKey;

/// The public key algorithm of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA with the modulus size in bits.
    Rsa,
    /// NIST P-256 (secp256r1).
    EcP256,
    /// NIST P-384 (secp384r1).
    EcP384,
    /// NIST P-521 (secp521r1).
    EcP521,
    /// Another elliptic curve (its OID is not one AWS IoT accepts).
    EcOther,
    /// Ed25519.
    Ed25519,
    /// Anything else.
    Other,
}

impl KeyAlgorithm {
    /// A short name for tables and JSON (`rsa`, `p256`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::EcP256 => "p256",
            Self::EcP384 => "p384",
            Self::EcP521 => "p521",
            Self::EcOther => "ec-other",
            Self::Ed25519 => "ed25519",
            Self::Other => "other",
        }
    }
}

/// What fleetid reads from a certificate's PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    /// `notBefore`, seconds since the Unix epoch.
    pub not_before: i64,
    /// `notAfter`, seconds since the Unix epoch.
    pub not_after: i64,
    /// The subject as an RFC 4514 string (`CN=dev-1, O=Acme`), as written in the certificate.
    pub subject: String,
    /// The subject's first common name, if any.
    pub common_name: Option<String>,
    /// The issuer as an RFC 4514 string.
    pub issuer: String,
    /// The serial number in lower-case hex.
    pub serial: String,
    /// The public key algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The key size in bits (RSA modulus, EC field size).
    pub key_bits: u32,
    /// Authority key identifier (lower-case hex), if the extension carries one.
    pub authority_key_id: Option<String>,
    /// Subject key identifier (lower-case hex), if present.
    pub subject_key_id: Option<String>,
    /// Whether basic constraints mark it as a CA.
    pub is_ca: bool,
    /// SHA-256 over the DER encoding, lower-case hex (64 characters).
    pub sha256_fingerprint: String,
}

/// Why a PEM could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// Not PEM at all (no `-----BEGIN` block, bad base64).
    #[error("not a PEM certificate: {0}")]
    NotPem(String),
    /// PEM, but the DER inside is not an X.509 certificate.
    #[error("PEM holds no valid X.509 certificate: {0}")]
    NotX509(String),
}

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_ED25519: &str = "1.3.101.112";

/// Parses the first certificate of a PEM text.
///
/// # Errors
/// [`PemError`] when the text is not PEM or the block inside is not an X.509 certificate.
pub fn parse_certificate_pem(pem_text: &str) -> Result<ParsedCertificate, PemError> {
    let (_, pem) =
        parse_x509_pem(pem_text.as_bytes()).map_err(|e| PemError::NotPem(e.to_string()))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| PemError::NotX509(e.to_string()))?;

    let mut authority_key_id = None;
    let mut subject_key_id = None;
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority_key_id = aki.key_identifier.as_ref().map(|k| hex::encode(k.0));
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => subject_key_id = Some(hex::encode(ski.0)),
            _ => {}
        }
    }

    let spki = cert.public_key();
    let algorithm_oid = spki.algorithm.algorithm.to_id_string();
    let parsed_key = spki.parsed().ok();
    let key_bits = parsed_key
        .as_ref()
        .map_or(0, |k| u32::try_from(k.key_size()).unwrap_or(u32::MAX));
    let key_algorithm = match parsed_key {
        Some(PublicKey::RSA(_)) => KeyAlgorithm::Rsa,
        Some(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            match curve.as_deref() {
                Some(OID_P256) => KeyAlgorithm::EcP256,
                Some(OID_P384) => KeyAlgorithm::EcP384,
                Some(OID_P521) => KeyAlgorithm::EcP521,
                _ => KeyAlgorithm::EcOther,
            }
        }
        _ if algorithm_oid == OID_ED25519 => KeyAlgorithm::Ed25519,
        _ => KeyAlgorithm::Other,
    };
    let key_bits = if key_algorithm == KeyAlgorithm::Ed25519 {
        256
    } else {
        key_bits
    };

    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pem.contents);
    Ok(ParsedCertificate {
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        subject: cert.subject().to_string(),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        issuer: cert.issuer().to_string(),
        serial: hex::encode(cert.raw_serial()),
        key_algorithm,
        key_bits,
        authority_key_id,
        subject_key_id,
        is_ca: cert.is_ca(),
        sha256_fingerprint: hex::encode(digest.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_pem() {
        let err = parse_certificate_pem("hello").unwrap_err();
        assert!(matches!(err, PemError::NotPem(_)), "{err}");
    }

    #[test]
    fn pem_of_garbage_is_not_x509() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
        let err = parse_certificate_pem(pem).unwrap_err();
        assert!(matches!(err, PemError::NotX509(_)), "{err}");
    }
}
