//! rustls client authentication with a key that never leaves the secure element: rustls hands
//! the signer the unhashed handshake message, the host hashes it with SHA-256 and the SE signs
//! the digest (ECDSA P-256, `ecdsa_secp256r1_sha256`).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use rustls::sign::{CertifiedKey, Signer, SigningKey, SingleCertAndKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::se05x::{ObjectId, Se05xError};
use crate::secure_element::{SharedSe, with_shared};
use crate::spki::p256_spki_der;

/// Setting up TLS client authentication with an SE key failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsKeyError {
    /// Reading the public key from the SE failed.
    #[error("reading the public key of object {key}: {source}")]
    PublicKey {
        /// Key object.
        key: ObjectId,
        /// SE error.
        source: Se05xError,
    },
    /// The certificate does not carry the SE key's public key.
    #[error("the client certificate does not match key object {key}: {source}")]
    CertificateMismatch {
        /// Key object.
        key: ObjectId,
        /// rustls' finding.
        source: rustls::Error,
    },
}

/// A `rustls` signing key held in the secure element.
pub struct SeSigningKey {
    se: SharedSe,
    key: ObjectId,
    spki: Vec<u8>,
}

impl fmt::Debug for SeSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeSigningKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl SeSigningKey {
    /// The signing key for object `key` (reads its public key once).
    ///
    /// # Errors
    /// [`TlsKeyError::PublicKey`] when the SE cannot read the key.
    pub fn new(se: SharedSe, key: ObjectId) -> Result<Self, TlsKeyError> {
        let point = with_shared(&se, |se| se.read_public_key(key))
            .map_err(|source| TlsKeyError::PublicKey { key, source })?;
        Ok(Self {
            se,
            key,
            spki: p256_spki_der(&point),
        })
    }
}

impl SigningKey for SeSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| {
                Box::new(SeSigner {
                    se: Arc::clone(&self.se),
                    key: self.key,
                }) as Box<dyn Signer>
            })
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

struct SeSigner {
    se: SharedSe,
    key: ObjectId,
}

impl fmt::Debug for SeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeSigner")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Signer for SeSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let hashed = digest(&SHA256, message);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(hashed.as_ref());
        with_shared(&self.se, |se| se.sign_sha256_digest(self.key, &sha256)).map_err(|err| {
            rustls::Error::General(format!(
                "secure element signing with key {}: {err}",
                self.key
            ))
        })
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// The client certificate resolver for `ClientConfig::with_client_cert_resolver`: presents
/// `chain` (leaf first) and signs with key object `key` in `se`. Checks that the leaf carries
/// the SE key's public key.
///
/// # Errors
/// [`TlsKeyError`] when the key cannot be read or does not match the certificate.
pub fn client_cert_resolver(
    chain: Vec<CertificateDer<'static>>,
    se: SharedSe,
    key: ObjectId,
) -> Result<Arc<dyn ResolvesClientCert>, TlsKeyError> {
    let signing_key = SeSigningKey::new(se, key)?;
    let certified = CertifiedKey::new(chain, Arc::new(signing_key));
    certified
        .keys_match()
        .map_err(|source| TlsKeyError::CertificateMismatch { key, source })?;
    Ok(Arc::new(SingleCertAndKey::from(certified)))
}
