//! Facts the agent needs from a PEM certificate: SHA-256 fingerprint and end of validity.

use aws_lc_rs::digest;
use x509_parser::pem::parse_x509_pem;

/// What the agent reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// SHA-256 of the DER, lowercase hex: the AWS IoT certificate id.
    pub fingerprint: String,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

/// Reads the fingerprint and validity of a PEM certificate.
///
/// # Errors
/// A message saying what is wrong with the PEM or the certificate in it.
pub fn certificate_facts(pem: &str) -> Result<CertificateFacts, String> {
    let (_, block) = parse_x509_pem(pem.as_bytes()).map_err(|e| format!("reading PEM: {e}"))?;
    let certificate = block
        .parse_x509()
        .map_err(|e| format!("parsing the certificate in the PEM: {e}"))?;
    Ok(CertificateFacts {
        fingerprint: fingerprint_der(&block.contents),
        not_after: certificate.validity().not_after.timestamp(),
    })
}

/// Whether a PEM certificate is a CA certificate (basic constraints `cA`): only a CA is
/// installed as a trust anchor.
///
/// # Errors
/// When the PEM or the certificate inside does not parse.
pub fn is_ca_certificate(pem: &str) -> Result<bool, String> {
    let (_, block) = parse_x509_pem(pem.as_bytes()).map_err(|e| format!("reading PEM: {e}"))?;
    let certificate = block
        .parse_x509()
        .map_err(|e| format!("parsing the certificate in the PEM: {e}"))?;
    Ok(certificate.is_ca())
}

/// SHA-256 of DER bytes, lowercase hex.
#[must_use]
pub fn fingerprint_der(der: &[u8]) -> String {
    let hash = digest::digest(&digest::SHA256, der);
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fingerprint_and_expiry() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["dev-1".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 1, 2);
        let cert = params.self_signed(&key).unwrap();
        let facts = certificate_facts(&cert.pem()).unwrap();
        assert_eq!(facts.fingerprint, fingerprint_der(cert.der()));
        assert_eq!(facts.fingerprint.len(), 64);
        assert_eq!(facts.not_after, 1_925_078_400);
        assert!(certificate_facts("not a pem").is_err());
    }
}
