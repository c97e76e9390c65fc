//! The lab's certificate authorities, made fresh with rcgen, shaped like a production PKI:
//! a root valid for twenty years (issued two years ago), issuing intermediates valid for five
//! (path length 0: they sign devices only), and an intermediate made for the next rotation
//! with validity of its own ([`CertificateAuthority::new_intermediate_valid`]).

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// Why the lab PKI could not be made.
#[derive(Debug, thiserror::Error)]
#[error("creating lab certificate authority {name}: {source}")]
pub struct PkiError {
    name: String,
    #[source]
    source: rcgen::Error,
}

/// A certificate authority: its certificate and the key that signs with it.
pub struct CertificateAuthority {
    /// The CA certificate, PEM.
    pub certificate_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl CertificateAuthority {
    /// A self-signed root CA with the given common name.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn new_root(common_name: &str) -> Result<Self, PkiError> {
        let wrap = |source| PkiError {
            name: common_name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(wrap)?;
        let not_before = OffsetDateTime::now_utc() - ROOT_AGE;
        let mut params = ca_params(common_name, not_before, not_before + ROOT_VALIDITY);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        let certificate = params.self_signed(&key).map_err(wrap)?;
        Ok(Self {
            certificate_pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// An issuing intermediate CA signed by this one: valid for five years, issued a year
    /// ago.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn new_intermediate(&self, common_name: &str) -> Result<Self, PkiError> {
        let not_before = OffsetDateTime::now_utc() - INTERMEDIATE_AGE;
        self.new_intermediate_valid(common_name, not_before, not_before + INTERMEDIATE_VALIDITY)
    }

    /// An issuing intermediate CA signed by this one, valid between the given instants (the
    /// next CA of a rotation starts later and ends later than the current one).
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn new_intermediate_valid(
        &self,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Self, PkiError> {
        let wrap = |source| PkiError {
            name: common_name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(wrap)?;
        let mut params = ca_params(common_name, not_before, not_after);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.use_authority_key_identifier_extension = true;
        let certificate = params.signed_by(&key, &self.issuer).map_err(wrap)?;
        Ok(Self {
            certificate_pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        })
    }
}

impl CertificateAuthority {
    /// The CA's private key, PKCS#8 PEM (for a device process of a scale run that signs its
    /// devices' CSRs with the lab's issuing CA).
    #[must_use]
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A CA from its certificate and private key (PEM), as [`Self::key_pem`] wrote them.
    ///
    /// # Errors
    /// When either does not parse or the key is not usable for signing.
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let wrap = |source| PkiError {
            name: "loaded from PEM".to_owned(),
            source,
        };
        let key = KeyPair::from_pem(key_pem).map_err(wrap)?;
        Ok(Self {
            certificate_pem: certificate_pem.to_owned(),
            issuer: Issuer::from_ca_cert_pem(certificate_pem, key).map_err(wrap)?,
        })
    }
}

/// A certificate issued by a lab CA, with the private key that goes with it.
pub struct IssuedCertificate {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
}

impl CertificateAuthority {
    /// A device (TLS client) certificate with a fresh P-256 key, valid for `valid_days`
    /// from one hour ago.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn issue_device(
        &self,
        common_name: &str,
        valid_days: i64,
    ) -> Result<IssuedCertificate, PkiError> {
        let now = OffsetDateTime::now_utc();
        self.issue_device_valid(
            common_name,
            now - Duration::hours(1),
            now + Duration::days(valid_days),
        )
    }

    /// A device certificate valid between the given instants.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn issue_device_valid(
        &self,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCertificate, PkiError> {
        let wrap = |source| PkiError {
            name: common_name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(wrap)?;
        let mut params = leaf_params(common_name, not_before, not_after);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params.signed_by(&key, &self.issuer).map_err(wrap)?;
        Ok(IssuedCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A TLS server certificate for the loopback listeners (`localhost`, `127.0.0.1`).
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn issue_server(&self, common_name: &str) -> Result<IssuedCertificate, PkiError> {
        let wrap = |source| PkiError {
            name: common_name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(wrap)?;
        let now = OffsetDateTime::now_utc();
        let mut params = leaf_params(
            common_name,
            now - Duration::hours(1),
            now + Duration::days(365),
        );
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(wrap)?),
            SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let certificate = params.signed_by(&key, &self.issuer).map_err(wrap)?;
        Ok(IssuedCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Signs a certificate signing request (PEM), as `CreateCertificateFromCsr` does: the
    /// subject comes from the CSR, validity is `valid_days` from now.
    ///
    /// # Errors
    /// When the CSR cannot be parsed or its signature does not verify.
    pub fn sign_csr(&self, csr_pem: &str, valid_days: i64) -> Result<String, PkiError> {
        let now = OffsetDateTime::now_utc();
        self.sign_csr_valid(
            csr_pem,
            now - Duration::hours(1),
            now + Duration::days(valid_days),
        )
    }

    /// Signs a certificate signing request (PEM) for the given validity.
    ///
    /// # Errors
    /// When the CSR cannot be parsed or its signature does not verify.
    pub fn sign_csr_valid(
        &self,
        csr_pem: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<String, PkiError> {
        let wrap = |source| PkiError {
            name: "certificate signing request".to_owned(),
            source,
        };
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(wrap)?;
        csr.params.not_before = not_before;
        csr.params.not_after = not_after;
        csr.params.is_ca = IsCa::NoCa;
        csr.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = csr.signed_by(&self.issuer).map_err(wrap)?;
        Ok(certificate.pem())
    }
}

fn leaf_params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "fleetid lab");
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.not_before = not_before;
    params.not_after = not_after;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.serial_number = Some(random_serial().to_vec().into());
    params
}

/// Random bytes from the crypto provider's generator.
#[must_use]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system generator only fails when the OS has no entropy source at all.
    let _ = aws_lc_rs::rand::fill(&mut out);
    out
}

/// How long a factory device certificate is valid.
pub const DEVICE_VALIDITY: Duration = Duration::days(365);

/// The validity of a factory device certificate that expires `expires_in_days` from now: a
/// year long, as a factory issues them, so one that expires soon was issued most of a year
/// ago (and none is issued later than an hour ago).
#[must_use]
pub fn device_validity(expires_in_days: i64) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    let not_after = now + Duration::days(expires_in_days);
    (
        (not_after - DEVICE_VALIDITY).min(now - Duration::hours(1)),
        not_after,
    )
}

/// How long the root is valid.
pub const ROOT_VALIDITY: Duration = Duration::days(20 * 365 + 5);
/// How long before now the root was made.
const ROOT_AGE: Duration = Duration::days(2 * 365);
/// How long an issuing intermediate is valid.
pub const INTERMEDIATE_VALIDITY: Duration = Duration::days(5 * 365 + 1);
/// How long before now [`CertificateAuthority::new_intermediate`] made its CA.
const INTERMEDIATE_AGE: Duration = Duration::days(365);

fn ca_params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "fleetid lab");
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial().to_vec().into());
    params
}

/// A random, positive 16-byte certificate serial number.
fn random_serial() -> [u8; 16] {
    let mut serial: [u8; 16] = random_bytes();
    serial[0] &= 0x7f; // a positive DER INTEGER
    serial
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::pem::parse_x509_pem;

    #[test]
    fn a_device_certificate_is_valid_for_a_year_inside_its_issuing_cas_validity() {
        let now = OffsetDateTime::now_utc();
        let (from, to) = device_validity(8);
        assert_eq!(to - from, DEVICE_VALIDITY);
        assert!((to - now - Duration::days(8)).abs() < Duration::seconds(5));
        assert!(
            from > now - INTERMEDIATE_AGE,
            "after the issuing CA was made"
        );
        let (from, _) = device_validity(400);
        let after = OffsetDateTime::now_utc();
        assert!(
            from <= after - Duration::hours(1),
            "never issued in the future"
        );
    }

    #[test]
    fn intermediate_is_a_ca_issued_by_the_root() {
        let root = CertificateAuthority::new_root("fleetid lab root").unwrap();
        let issuing = root.new_intermediate("fleetid lab issuing CA").unwrap();

        let (_, root_pem) = parse_x509_pem(root.certificate_pem.as_bytes()).unwrap();
        let root_cert = root_pem.parse_x509().unwrap();
        let (_, pem) = parse_x509_pem(issuing.certificate_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();

        assert!(cert.is_ca());
        assert_eq!(cert.issuer(), root_cert.subject());
        assert_ne!(cert.subject(), root_cert.subject());
    }

    #[test]
    fn a_ca_saved_as_pem_signs_certificates_its_certificate_verifies() {
        let root = CertificateAuthority::new_root("fleetid lab root").unwrap();
        let issuing = root.new_intermediate("fleetid lab issuing CA").unwrap();
        let loaded =
            CertificateAuthority::from_pem(&issuing.certificate_pem, &issuing.key_pem()).unwrap();
        let device = loaded.issue_device("device-1", 30).unwrap();

        let (_, ca_pem) = parse_x509_pem(issuing.certificate_pem.as_bytes()).unwrap();
        let ca = ca_pem.parse_x509().unwrap();
        let (_, device_pem) = parse_x509_pem(device.certificate_pem.as_bytes()).unwrap();
        let device = device_pem.parse_x509().unwrap();
        assert_eq!(device.issuer(), ca.subject());
        device.verify_signature(Some(ca.public_key())).unwrap();
        // A key that is not the certificate's does not make a CA.
        let other = root.new_intermediate("other").unwrap();
        let wrong = CertificateAuthority::from_pem(&issuing.certificate_pem, &other.key_pem())
            .unwrap()
            .issue_device("device-2", 30)
            .unwrap();
        let (_, wrong_pem) = parse_x509_pem(wrong.certificate_pem.as_bytes()).unwrap();
        assert!(
            wrong_pem
                .parse_x509()
                .unwrap()
                .verify_signature(Some(ca.public_key()))
                .is_err()
        );
    }
}
