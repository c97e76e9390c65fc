//! [`KeyStore`] over an NXP SE05x (`se_nxp`): the real chip over I2C, or `se_nxp::sim`.
//!
//! Slots are SE05x object ids. The key never leaves the chip: the host hashes, the chip signs.

use se_nxp::{ObjectId, SharedSe, with_shared};

use super::keys::{KeyError, KeyStore};

/// An SE05x shared behind a mutex, as `se_nxp::share` makes it.
#[derive(Clone)]
pub struct SecureElementKeys(SharedSe);

impl std::fmt::Debug for SecureElementKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureElementKeys").finish_non_exhaustive()
    }
}

impl SecureElementKeys {
    /// Keys in `se`.
    #[must_use]
    pub fn new(se: SharedSe) -> Self {
        Self(se)
    }

    /// A fresh simulated SE05x (soft reset and applet selection done), kept in memory.
    ///
    /// # Errors
    /// When the simulator does not come up.
    pub fn simulated() -> Result<Self, KeyError> {
        let se = se_nxp::sim::simulated_se05x(se_nxp::sim::SimulatedSe::new())
            .map_err(|e| device(0, &e))?;
        Ok(Self(se_nxp::share(se)))
    }

    /// The SE05x on a Linux I2C bus (`/dev/i2c-N`, address 0x48), reset and selected.
    ///
    /// # Errors
    /// When the bus cannot be opened or the chip does not answer.
    #[cfg(feature = "linux")]
    pub fn open_i2c(path: &std::path::Path) -> Result<Self, KeyError> {
        let bus = se_nxp::linux::LinuxI2c::open(path, 0x48).map_err(|e| KeyError::Device {
            slot: 0,
            reason: format!("opening {}: {e}", path.display()),
        })?;
        let mut se = se_nxp::Se05x::new(bus, StdDelay);
        se.soft_reset().map_err(|e| device(0, &e))?;
        se.select().map_err(|e| device(0, &e))?;
        Ok(Self(se_nxp::share(se)))
    }

    /// A simulated SE05x whose objects live in `path` (they survive restarts, like a chip's).
    ///
    /// # Errors
    /// When the file cannot be read or the simulator does not come up.
    pub fn simulated_at(path: &std::path::Path) -> Result<Self, KeyError> {
        let sim = se_nxp::sim::SimulatedSe::open(path).map_err(|e| KeyError::Device {
            slot: 0,
            reason: format!("opening the simulated SE at {}: {e}", path.display()),
        })?;
        let se = se_nxp::sim::simulated_se05x(sim).map_err(|e| device(0, &e))?;
        Ok(Self(se_nxp::share(se)))
    }
}

/// Delays by sleeping the thread (the SE05x polls are short).
#[cfg(feature = "linux")]
struct StdDelay;

#[cfg(feature = "linux")]
impl embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(std::time::Duration::from_nanos(u64::from(ns)));
    }
}

fn device(slot: u32, error: &se_nxp::Se05xError) -> KeyError {
    KeyError::Device {
        slot,
        reason: error.to_string(),
    }
}

impl KeyStore for SecureElementKeys {
    fn generate_p256(&self, slot: u32) -> Result<(), KeyError> {
        with_shared(&self.0, |se| {
            // Delete first, so a resumed rotation does not depend on whether the chip
            // regenerates an existing object in place (the simulator does; a real applet may
            // refuse, depending on the object's policy: unverified).
            if se.exists(ObjectId(slot))? {
                se.delete(ObjectId(slot))?;
            }
            se.generate_p256(ObjectId(slot))
        })
        .map_err(|e| device(slot, &e))
    }

    fn public_key(&self, slot: u32) -> Result<Vec<u8>, KeyError> {
        with_shared(&self.0, |se| se.read_public_key(ObjectId(slot)))
            .map(|point| point.to_vec())
            .map_err(|e| device(slot, &e))
    }

    fn sign_digest(&self, slot: u32, digest: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        with_shared(&self.0, |se| se.sign_sha256_digest(ObjectId(slot), digest))
            .map_err(|e| device(slot, &e))
    }

    fn delete(&self, slot: u32) -> Result<(), KeyError> {
        with_shared(&self.0, |se| {
            if se.exists(ObjectId(slot))? {
                se.delete(ObjectId(slot))?;
            }
            Ok(())
        })
        .map_err(|e| device(slot, &e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn simulated_se_generates_signs_csrs_and_deletes() {
        let keys = SecureElementKeys::simulated().unwrap();
        keys.generate_p256(0x1000_0001).unwrap();
        // Regenerating over an existing key works (a resumed rotation does that).
        keys.generate_p256(0x1000_0001).unwrap();
        let public = keys.public_key(0x1000_0001).unwrap();
        let csr =
            super::super::tls::sign_csr(Arc::new(keys.clone()), 0x1000_0001, "dev-1").unwrap();
        let params = rcgen::CertificateSigningRequestParams::from_pem(&csr).unwrap();
        assert_eq!(rcgen::PublicKeyData::der_bytes(&params.public_key), public);
        keys.delete(0x1000_0001).unwrap();
        keys.delete(0x1000_0001).unwrap();
        assert!(keys.public_key(0x1000_0001).is_err());
    }
}
