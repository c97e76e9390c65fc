//! The lab's certificate authorities, made fresh with rcgen.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

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
        let params = ca_params(common_name);
        let certificate = params.self_signed(&key).map_err(wrap)?;
        Ok(Self {
            certificate_pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// An intermediate CA signed by this one.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn new_intermediate(&self, common_name: &str) -> Result<Self, PkiError> {
        let wrap = |source| PkiError {
            name: common_name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(wrap)?;
        let params = ca_params(common_name);
        let certificate = params.signed_by(&key, &self.issuer).map_err(wrap)?;
        Ok(Self {
            certificate_pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        })
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "fleetid lab");
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::pem::parse_x509_pem;

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
}
