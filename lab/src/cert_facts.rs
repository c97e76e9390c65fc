//! What the lab needs to know about an X.509 certificate: its AWS IoT id, validity, names,
//! and whether a given CA signed it.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The text holds no PEM block.
    #[error("reading certificate PEM: {0}")]
    Pem(String),
    /// The DER inside is not an X.509 certificate.
    #[error("parsing X.509 certificate: {0}")]
    Der(String),
}

/// The facts of one certificate, parsed once.
#[derive(Debug, Clone)]
pub struct CertFacts {
    /// DER encoding.
    pub der: Vec<u8>,
    /// AWS IoT certificate id: hex SHA-256 of the DER (64 characters).
    pub id: String,
    /// Subject common name, when present.
    pub common_name: Option<String>,
    /// DER of the subject name (to match against a CA's subject).
    pub subject_raw: Vec<u8>,
    /// DER of the issuer name.
    pub issuer_raw: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whether basic constraints say CA.
    pub is_ca: bool,
}

impl CertFacts {
    /// Parses the first PEM certificate in `pem`.
    ///
    /// # Errors
    /// When there is no PEM block or it does not hold a certificate.
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|e| CertError::Pem(e.to_string()))?;
        Self::from_der(&block.contents)
    }

    /// Parses a DER certificate.
    ///
    /// # Errors
    /// When `der` is not an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        Ok(Self {
            der: der.to_vec(),
            id: certificate_id(der),
            common_name,
            subject_raw: cert.subject().as_raw().to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca: cert.is_ca(),
        })
    }

    /// Whether `issuer` (a CA certificate) signed this certificate: names match and the
    /// signature verifies with the CA's public key.
    #[must_use]
    pub fn is_signed_by(&self, issuer: &CertFacts) -> bool {
        if self.issuer_raw != issuer.subject_raw {
            return false;
        }
        let (Ok((_, cert)), Ok((_, ca))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            return false;
        };
        cert.verify_signature(Some(ca.public_key())).is_ok()
    }
}

/// The AWS IoT certificate id of a DER certificate.
#[must_use]
pub fn certificate_id(der: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der))
}

/// PEM text of a DER certificate.
#[must_use]
pub fn der_to_pem(der: &[u8]) -> String {
    use std::fmt::Write as _;
    let b64 = base64_encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", String::from_utf8_lossy(line));
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::CertificateAuthority;

    #[test]
    fn leaf_facts_and_signature_check() {
        let root = CertificateAuthority::new_root("root").unwrap();
        let issuing = root.new_intermediate("issuing").unwrap();
        let other = CertificateAuthority::new_root("other").unwrap();
        let leaf = issuing.issue_device("dev-0001", 30).unwrap();

        let facts = CertFacts::from_pem(&leaf.certificate_pem).unwrap();
        let ca = CertFacts::from_pem(&issuing.certificate_pem).unwrap();
        let stranger = CertFacts::from_pem(&other.certificate_pem).unwrap();
        assert_eq!(facts.common_name.as_deref(), Some("dev-0001"));
        assert_eq!(facts.id.len(), 64);
        assert!(!facts.is_ca);
        assert!(ca.is_ca);
        assert!(facts.is_signed_by(&ca));
        assert!(!facts.is_signed_by(&stranger));
        let days = (facts.not_after - OffsetDateTime::now_utc()).whole_days();
        assert!((29..=30).contains(&days), "{days}");
        // Round trip through our PEM writer keeps the id.
        assert_eq!(
            CertFacts::from_pem(&der_to_pem(&facts.der)).unwrap().id,
            facts.id
        );
    }
}
