//! The agent's identity and the numbers that tune its behaviour.

/// How the agent gets its first certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstIdentity {
    /// A device certificate installed at the factory for the key in `slot` (JITR: the first
    /// connection with it is dropped while the cloud registers it).
    Factory {
        /// Slot of the key.
        slot: u32,
        /// The certificate.
        certificate_pem: String,
    },
    /// A shared claim certificate used once for fleet provisioning by claim.
    Claim {
        /// Slot of the claim key.
        slot: u32,
        /// The claim certificate.
        certificate_pem: String,
        /// The provisioning template.
        template: String,
    },
}

/// Everything the core needs to know that is not persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The thing name (also the MQTT client id).
    pub thing: String,
    /// Firmware version reported in status messages.
    pub firmware: String,
    /// The two key slots the device certificate alternates between on rotation.
    pub slots: [u32; 2],
    /// Where the first certificate comes from.
    pub first_identity: FirstIdentity,
    /// The server trust anchor (PEM) used until an anchor job changes it.
    pub anchor_pem: String,
    /// Status message period.
    pub status_interval_ms: u64,
    /// Reconnect backoff floor and cap (full jitter between them).
    pub backoff_floor_ms: u64,
    /// Reconnect backoff cap.
    pub backoff_cap_ms: u64,
    /// Connected this long, the backoff starts again from the floor.
    pub stable_after_ms: u64,
    /// Failed attempts at getting a certificate to work before Fallback.
    pub fallback_after: u32,
    /// Retry period in Fallback, Revoked and Error.
    pub slow_retry_ms: u64,
    /// Refused connections (consecutive, within `revoked_window_ms`) that mean Revoked.
    pub revoked_after: u32,
    /// The window for `revoked_after`.
    pub revoked_window_ms: u64,
    /// How long to wait for an answer from create-from-csr, provision or a job update.
    pub request_timeout_ms: u64,
}

impl Policy {
    /// A policy with the defaults of the documentation (docs/agent.md).
    #[must_use]
    pub fn new(thing: String, first_identity: FirstIdentity, anchor_pem: String) -> Self {
        Self {
            thing,
            firmware: env!("CARGO_PKG_VERSION").to_owned(),
            slots: [0x1000_0001, 0x1000_0002],
            first_identity,
            anchor_pem,
            status_interval_ms: 300_000,
            backoff_floor_ms: 1_000,
            backoff_cap_ms: 120_000,
            stable_after_ms: 30_000,
            fallback_after: 5,
            slow_retry_ms: 900_000,
            revoked_after: 3,
            revoked_window_ms: 600_000,
            request_timeout_ms: 30_000,
        }
    }

    /// The slot of the pair that is not `slot`.
    #[must_use]
    pub fn other_slot(&self, slot: u32) -> u32 {
        if slot == self.slots[0] {
            self.slots[1]
        } else {
            self.slots[0]
        }
    }
}
