//! The object-safe view of a secure element, so code above the driver (the agent, the rustls
//! signer, CSR creation) does not carry the I2C and delay generics.

use alloc::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use crate::atr::Atr;
use crate::se05x::{AppletVersion, ObjectId, P256PublicKey, Se05x, Se05xError};
use crate::t1::LinkStats;

/// Operations fleetid needs from a secure element. [`Se05x`] implements it for any bus.
pub trait SecureElement {
    /// Interface soft reset; returns the ATR.
    ///
    /// # Errors
    /// [`Se05xError`] when the link fails.
    fn soft_reset(&mut self) -> Result<Atr, Se05xError>;
    /// Selects the applet; returns its version.
    ///
    /// # Errors
    /// [`Se05xError`] when the applet cannot be selected.
    fn select(&mut self) -> Result<AppletVersion, Se05xError>;
    /// `len` random bytes.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn random(&mut self, len: u16) -> Result<Vec<u8>, Se05xError>;
    /// Generates a P-256 key pair under `id`.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn generate_p256(&mut self, id: ObjectId) -> Result<(), Se05xError>;
    /// Public key of `id`, uncompressed SEC1.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn read_public_key(&mut self, id: ObjectId) -> Result<P256PublicKey, Se05xError>;
    /// DER ECDSA signature of a host-computed SHA-256 digest.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn sign_sha256_digest(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, Se05xError>;
    /// Verifies a DER ECDSA signature of a SHA-256 digest inside the SE.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn verify(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<bool, Se05xError>;
    /// Whether `id` exists.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn exists(&mut self, id: ObjectId) -> Result<bool, Se05xError>;
    /// Deletes `id`.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    fn delete(&mut self, id: ObjectId) -> Result<(), Se05xError>;
    /// Link counters (retransmissions, WTX, busy polls, ...).
    fn link_stats(&self) -> LinkStats;
}

impl<I2C: I2c, D: DelayNs> SecureElement for Se05x<I2C, D> {
    fn soft_reset(&mut self) -> Result<Atr, Se05xError> {
        Se05x::soft_reset(self)
    }
    fn select(&mut self) -> Result<AppletVersion, Se05xError> {
        Se05x::select(self)
    }
    fn random(&mut self, len: u16) -> Result<Vec<u8>, Se05xError> {
        Se05x::random(self, len)
    }
    fn generate_p256(&mut self, id: ObjectId) -> Result<(), Se05xError> {
        Se05x::generate_p256(self, id)
    }
    fn read_public_key(&mut self, id: ObjectId) -> Result<P256PublicKey, Se05xError> {
        Se05x::read_public_key(self, id)
    }
    fn sign_sha256_digest(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, Se05xError> {
        Se05x::sign_sha256_digest(self, id, digest)
    }
    fn verify(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<bool, Se05xError> {
        Se05x::verify(self, id, digest, signature)
    }
    fn exists(&mut self, id: ObjectId) -> Result<bool, Se05xError> {
        Se05x::exists(self, id)
    }
    fn delete(&mut self, id: ObjectId) -> Result<(), Se05xError> {
        Se05x::delete(self, id)
    }
    fn link_stats(&self) -> LinkStats {
        Se05x::stats(self)
    }
}

/// A secure element shared between tasks and threads (the rustls signer, the agent's tasks).
///
/// A `std::sync::Mutex` on purpose: every operation is a short blocking I2C exchange and
/// the lock is never held across an `.await`.
#[cfg(feature = "std")]
pub type SharedSe = std::sync::Arc<std::sync::Mutex<dyn SecureElement + Send>>;

/// Wraps a secure element into a [`SharedSe`].
#[cfg(feature = "std")]
pub fn share(se: impl SecureElement + Send + 'static) -> SharedSe {
    std::sync::Arc::new(std::sync::Mutex::new(se))
}

/// Runs `operation` on a shared secure element; a poisoned lock (a panic while another user
/// held it) is recovered: the driver keeps no invariant a panic could break beyond the link
/// sequence numbers, which the next exchange resynchronises.
#[cfg(feature = "std")]
pub fn with_shared<T>(
    se: &SharedSe,
    operation: impl FnOnce(&mut (dyn SecureElement + Send)) -> T,
) -> T {
    let mut guard = se.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    operation(&mut *guard)
}
