//! TLS client authentication and CSRs with keys that stay in the secure element.
//!
//! rustls hands the signer the unhashed handshake transcript: the host hashes it with SHA-256
//! and the element signs the digest. The same key signs the PKCS#10 CSR through rcgen.

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{ClientConfig, RootCertStore, SignatureAlgorithm, SignatureScheme};

use super::keys::KeyStore;

/// A P-256 key in a slot of a [`KeyStore`].
#[derive(Clone)]
pub struct SlotKey {
    keys: Arc<dyn KeyStore>,
    slot: u32,
}

impl std::fmt::Debug for SlotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotKey({:#010x})", self.slot)
    }
}

impl SlotKey {
    /// The key in `slot`.
    #[must_use]
    pub fn new(keys: Arc<dyn KeyStore>, slot: u32) -> Self {
        Self { keys, slot }
    }

    fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, super::keys::KeyError> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        self.keys.sign_digest(self.slot, &bytes)
    }
}

impl SigningKey for SlotKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for SlotKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.sign_message(message)
            .map_err(|e| rustls::Error::General(e.to_string()))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// A slot key with its public key read once, for rcgen.
struct CsrKey {
    key: SlotKey,
    public: Vec<u8>,
}

impl rcgen::PublicKeyData for CsrKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for CsrKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign_message(message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// A PEM CSR for `common_name`, signed by the key in `slot`.
///
/// # Errors
/// What failed: reading the public key, signing, or encoding.
pub fn sign_csr(keys: Arc<dyn KeyStore>, slot: u32, common_name: &str) -> Result<String, String> {
    let public = keys.public_key(slot).map_err(|e| e.to_string())?;
    let key = CsrKey {
        key: SlotKey::new(keys, slot),
        public,
    };
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("CSR parameters: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let csr = params
        .serialize_request(&key)
        .map_err(|e| format!("signing the CSR in slot {slot:#010x}: {e}"))?;
    csr.pem().map_err(|e| format!("encoding the CSR: {e}"))
}

/// Always presents the one certificate with its slot key.
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesClientCert for OneCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        sigschemes
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Reads all certificates of a PEM text.
///
/// # Errors
/// When the PEM holds no certificate or is malformed.
pub fn pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading PEM certificates: {e}"))?;
    if certificates.is_empty() {
        return Err("no certificate in the PEM".into());
    }
    Ok(certificates)
}

/// A rustls client configuration: server authenticated by any of `anchors`, client
/// authenticated with `certificate_pem` and the key in `slot`; ALPN `x-amzn-mqtt-ca` when
/// `alpn` (AWS IoT on port 443). The aws-lc-rs provider is passed explicitly: the library never
/// installs a process-wide default.
///
/// # Errors
/// When an anchor or the certificate cannot be read.
pub fn client_config(
    keys: Arc<dyn KeyStore>,
    slot: u32,
    certificate_pem: &str,
    anchors: &[String],
    alpn: bool,
) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    for anchor in anchors {
        for certificate in pem_certificates(anchor)? {
            roots
                .add(certificate)
                .map_err(|e| format!("adding a trust anchor: {e}"))?;
        }
    }
    let chain = pem_certificates(certificate_pem)?;
    let certified = CertifiedKey::new(chain, Arc::new(SlotKey::new(keys, slot)));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(OneCertificate(Arc::new(certified))));
    // An agent talks to one endpoint: a few resumption slots, not rustls' default of 256
    // (allocated up front, it was the largest part of an idle connection's memory).
    config.resumption = rustls::client::Resumption::in_memory_sessions(RESUMPTION_SLOTS);
    if alpn {
        config.alpn_protocols = vec![b"x-amzn-mqtt-ca".to_vec()];
    }
    Ok(config)
}

/// TLS sessions remembered for resumption (one endpoint, the occasional second name).
const RESUMPTION_SLOTS: usize = 4;

/// Checks that `host` is a name TLS can verify.
///
/// # Errors
/// When it is neither a DNS name nor an IP address.
pub fn check_server_name(host: &str) -> Result<(), String> {
    ServerName::try_from(host.to_owned())
        .map(|_| ())
        .map_err(|e| format!("server name {host:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::keys::SoftKeyStore;

    #[test]
    fn csr_is_signed_by_the_slot_key() {
        let keys: Arc<dyn KeyStore> = Arc::new(SoftKeyStore::new());
        keys.generate_p256(7).unwrap();
        let pem = sign_csr(keys.clone(), 7, "dev-0001").unwrap();
        // rcgen verifies the CSR signature when parsing it.
        let params = rcgen::CertificateSigningRequestParams::from_pem(&pem).unwrap();
        let public = rcgen::PublicKeyData::der_bytes(&params.public_key);
        assert_eq!(public, keys.public_key(7).unwrap());
    }
}
