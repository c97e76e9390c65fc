//! Certificates for the mosquitto tests: a root CA the broker trusts, the broker's own
//! certificate for 127.0.0.1, an operator certificate for the responder, and a CA the broker
//! does not trust.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, CertifiedIssuer, DnType,
    IsCa, KeyPair,
};

pub struct Ca(CertifiedIssuer<'static, KeyPair>);

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self(CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca"))
    }

    pub fn pem(&self) -> String {
        self.0.pem()
    }

    /// A certificate and PKCS#8 key (PEM, DER) for `common_name`, with `sans`.
    pub fn leaf(&self, common_name: &str, sans: &[&str]) -> (String, String, Vec<u8>) {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let cert = params.signed_by(&key, &self.0).expect("sign");
        (cert.pem(), key.serialize_pem(), key.serialize_der())
    }

    /// A certificate for a key held elsewhere (the secure element): `point` is its
    /// uncompressed P-256 public key.
    pub fn leaf_for_key(&self, common_name: &str, point: Vec<u8>, serial: u64) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.serial_number = Some(serial.into());
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .signed_by(&RawP256(point), &self.0)
            .expect("sign")
            .pem()
    }

    /// A CRL (PEM) revoking the certificates with these serial numbers.
    pub fn crl(&self, revoked: &[u64]) -> String {
        let params = rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2020, 1, 1),
            next_update: rcgen::date_time_ymd(2099, 1, 1),
            crl_number: 1u64.into(),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|serial| rcgen::RevokedCertParams {
                    serial_number: (*serial).into(),
                    revocation_time: rcgen::date_time_ymd(2021, 1, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&self.0).expect("crl").pem().expect("pem")
    }

    /// Signs a CSR as create-from-csr does.
    pub fn sign_csr(&self, csr_pem: &str) -> Result<(String, Vec<u8>), String> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| e.to_string())?;
        let cert = csr.signed_by(&self.0).map_err(|e| e.to_string())?;
        Ok((cert.pem(), cert.der().to_vec()))
    }
}

struct RawP256(Vec<u8>);

impl rcgen::PublicKeyData for RawP256 {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}
