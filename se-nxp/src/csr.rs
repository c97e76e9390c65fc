//! PKCS#10 certificate signing requests for a key held in the secure element, signed by the
//! SE (rcgen's remote-key support: [`rcgen::PublicKeyData`] + [`rcgen::SigningKey`]).

use aws_lc_rs::digest::{SHA256, digest};
use rcgen::{CertificateParams, DistinguishedName, DnType, PublicKeyData, SignatureAlgorithm};

use crate::se05x::{ObjectId, P256PublicKey, Se05xError};
use crate::secure_element::{SharedSe, with_shared};

/// Building a CSR failed.
#[derive(Debug, thiserror::Error)]
pub enum CsrError {
    /// Reading the public key from the SE failed.
    #[error("reading the public key of object {key}: {source}")]
    PublicKey {
        /// Key object.
        key: ObjectId,
        /// SE error.
        source: Se05xError,
    },
    /// rcgen could not build or sign the request (a signing failure in the SE shows here as
    /// rcgen's remote key error).
    #[error("building the certificate signing request for object {key}: {source}")]
    Build {
        /// Key object.
        key: ObjectId,
        /// rcgen error.
        source: rcgen::Error,
    },
}

/// A P-256 key pair in the SE, usable wherever rcgen takes a key: CSRs, and certificates that
/// name it as subject key or sign with it.
pub struct SeKeyPair {
    se: SharedSe,
    key: ObjectId,
    public: P256PublicKey,
}

impl SeKeyPair {
    /// The key pair `key` in `se` (reads its public key once).
    ///
    /// # Errors
    /// [`CsrError::PublicKey`] when the SE cannot read the key.
    pub fn new(se: SharedSe, key: ObjectId) -> Result<Self, CsrError> {
        let public = with_shared(&se, |se| se.read_public_key(key))
            .map_err(|source| CsrError::PublicKey { key, source })?;
        Ok(Self { se, key, public })
    }

    /// The uncompressed public point.
    #[must_use]
    pub fn public_key(&self) -> &P256PublicKey {
        &self.public
    }
}

impl PublicKeyData for SeKeyPair {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for SeKeyPair {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let hashed = digest(&SHA256, message);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(hashed.as_ref());
        with_shared(&self.se, |se| se.sign_sha256_digest(self.key, &sha256))
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// A PEM CSR for key `key` with the given parameters (subject, SANs, ...), signed in the SE.
///
/// # Errors
/// [`CsrError`] when the key cannot be read or the request cannot be built or signed.
pub fn csr_pem_with_params(
    se: &SharedSe,
    key: ObjectId,
    params: &CertificateParams,
) -> Result<String, CsrError> {
    let key_pair = SeKeyPair::new(se.clone(), key)?;
    params
        .serialize_request(&key_pair)
        .and_then(|csr| csr.pem())
        .map_err(|source| CsrError::Build { key, source })
}

/// A PEM CSR for key `key` whose subject is `CN=<common_name>`, signed in the SE.
///
/// # Errors
/// [`CsrError`] when the key cannot be read or the request cannot be built or signed.
pub fn csr_pem(se: &SharedSe, key: ObjectId, common_name: &str) -> Result<String, CsrError> {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    csr_pem_with_params(se, key, &params)
}
