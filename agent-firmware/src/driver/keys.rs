//! The key operations the agent needs from a secure element, and a software stand-in.
//!
//! `KeyStore` is deliberately small and object-safe: generate a P-256 key in a slot, read its
//! public key, sign a SHA-256 digest, delete. An adapter over `se_nxp::SecureElement` (and its
//! simulator) implements it once that crate's API is committed; until then
//! [`SoftKeyStore`] keeps keys in memory (for `fleetid-agent sim`, the lab and tests).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key in the slot.
    #[error("no key in slot {0:#010x}")]
    Empty(u32),
    /// The secure element (or its stand-in) failed.
    #[error("secure element, slot {slot:#010x}: {reason}")]
    Device {
        /// The slot.
        slot: u32,
        /// What failed.
        reason: String,
    },
}

/// Key operations on a secure element. Implementations serialize access themselves.
pub trait KeyStore: Send + Sync {
    /// Generates a P-256 key pair in `slot`, replacing any key there.
    ///
    /// # Errors
    /// When the element refuses or fails.
    fn generate_p256(&self, slot: u32) -> Result<(), KeyError>;

    /// The public key in `slot` as an uncompressed point (65 bytes).
    ///
    /// # Errors
    /// When the slot is empty or the element fails.
    fn public_key(&self, slot: u32) -> Result<Vec<u8>, KeyError>;

    /// Signs a SHA-256 digest with the key in `slot`; returns a DER ECDSA signature.
    ///
    /// # Errors
    /// When the slot is empty or the element fails.
    fn sign_digest(&self, slot: u32, digest: &[u8; 32]) -> Result<Vec<u8>, KeyError>;

    /// Deletes the key in `slot` (deleting an empty slot succeeds).
    ///
    /// # Errors
    /// When the element fails.
    fn delete(&self, slot: u32) -> Result<(), KeyError>;
}

/// Keys in process memory: a stand-in for a secure element. The private keys never leave
/// this struct, like in the real element, but they do not survive the process.
#[derive(Default)]
pub struct SoftKeyStore {
    keys: Mutex<HashMap<u32, EcdsaKeyPair>>,
}

impl std::fmt::Debug for SoftKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftKeyStore").finish_non_exhaustive()
    }
}

impl SoftKeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports a PKCS#8 P-256 key into `slot` (a factory-provisioned key in tests and the lab).
    ///
    /// # Errors
    /// When the bytes are not a P-256 PKCS#8 key.
    pub fn import_pkcs8(&self, slot: u32, pkcs8: &[u8]) -> Result<(), KeyError> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
            .map_err(|e| device(slot, &format!("importing PKCS#8: {e}")))?;
        self.lock().insert(slot, key);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, EcdsaKeyPair>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn device(slot: u32, reason: &str) -> KeyError {
    KeyError::Device {
        slot,
        reason: reason.to_owned(),
    }
}

impl KeyStore for SoftKeyStore {
    fn generate_p256(&self, slot: u32) -> Result<(), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|e| device(slot, &format!("generating: {e}")))?;
        self.import_pkcs8(slot, pkcs8.as_ref())
    }

    fn public_key(&self, slot: u32) -> Result<Vec<u8>, KeyError> {
        let keys = self.lock();
        let key = keys.get(&slot).ok_or(KeyError::Empty(slot))?;
        Ok(key.public_key().as_ref().to_vec())
    }

    fn sign_digest(&self, slot: u32, digest: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        let keys = self.lock();
        let key = keys.get(&slot).ok_or(KeyError::Empty(slot))?;
        // aws-lc-rs signs messages, not digests: sign the digest as a pre-hashed input.
        let digest =
            aws_lc_rs::digest::Digest::import_less_safe(digest, &aws_lc_rs::digest::SHA256)
                .map_err(|e| device(slot, &format!("digest: {e}")))?;
        let signature = key
            .sign_digest(&digest)
            .map_err(|e| device(slot, &format!("signing: {e}")))?;
        Ok(signature.as_ref().to_vec())
    }

    fn delete(&self, slot: u32) -> Result<(), KeyError> {
        self.lock().remove(&slot);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    use super::*;

    #[test]
    fn signs_digests_that_verify_and_deletes() {
        let store = SoftKeyStore::new();
        store.generate_p256(1).unwrap();
        let message = b"client hello transcript";
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        let signature = store.sign_digest(1, &bytes).unwrap();
        let public = store.public_key(1).unwrap();
        assert_eq!(public.len(), 65);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
            .verify(message, &signature)
            .unwrap();
        store.delete(1).unwrap();
        assert!(matches!(store.public_key(1), Err(KeyError::Empty(1))));
    }
}
