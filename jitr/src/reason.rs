//! Stable reason codes for rejected registrations.
//!
//! The strings returned by [`RejectReason::as_str`] appear in decision log lines, in
//! CloudWatch metric dimensions and in dashboards and alarms built on them: they never change
//! meaning once released. New codes may be added (the enum is `#[non_exhaustive]`).

use std::fmt;

use serde::{Serialize, Serializer};

/// Why a registration was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// The registration event could not be read (missing or mistyped fields).
    MalformedEvent,
    /// The device certificate is not one strictly well-formed PEM X.509 certificate.
    MalformedCertificate,
    /// The issuing CA is not registered, not allowed by configuration, or not parsable.
    UnknownCa,
    /// The issuing CA's key is one the decision does not verify with (RSA outside 2048-8192
    /// bits, an EC curve other than P-256/P-384, another algorithm).
    UnsupportedCaKey,
    /// The certificate is a CA certificate (basicConstraints cA), not a device certificate.
    NotADeviceCertificate,
    /// The certificate's issuer name or authority key identifier does not match the CA.
    IssuerMismatch,
    /// The certificate's signature algorithm is not one we verify.
    UnsupportedSignatureAlgorithm,
    /// The certificate's signature does not verify with the CA's public key.
    BadSignature,
    /// The device key is RSA shorter than 2048 bits.
    WeakKey,
    /// The device key is neither EC P-256/P-384 nor RSA.
    UnsupportedKey,
    /// The certificate's `notAfter` lies before the event time (beyond the skew allowance).
    Expired,
    /// The certificate's `notBefore` lies after the event time (beyond the skew allowance).
    NotYetValid,
    /// The certificate carries no device id where configuration says to look.
    NoDeviceId,
    /// The device id contains characters a thing name cannot hold, or is too long.
    InvalidDeviceId,
    /// The device id is not in the manifest.
    UnknownDevice,
    /// The manifest entry belongs to a different device id than the certificate.
    ManifestMismatch,
    /// The manifest entry could not be read (bad field values).
    InvalidManifestEntry,
    /// The device is still in stock: it has not been sold.
    NotSold,
    /// The device is on a recall list.
    Recalled,
    /// The device's firmware is older than the minimum for its model.
    FirmwareTooOld,
    /// The certificate is already revoked and cannot be activated.
    CertificateRevoked,
}

impl RejectReason {
    /// Every reason code, in declaration order (for documentation and tests).
    pub const ALL: &'static [Self] = &[
        Self::MalformedEvent,
        Self::MalformedCertificate,
        Self::UnknownCa,
        Self::UnsupportedCaKey,
        Self::NotADeviceCertificate,
        Self::IssuerMismatch,
        Self::UnsupportedSignatureAlgorithm,
        Self::BadSignature,
        Self::WeakKey,
        Self::UnsupportedKey,
        Self::Expired,
        Self::NotYetValid,
        Self::NoDeviceId,
        Self::InvalidDeviceId,
        Self::UnknownDevice,
        Self::ManifestMismatch,
        Self::InvalidManifestEntry,
        Self::NotSold,
        Self::Recalled,
        Self::FirmwareTooOld,
        Self::CertificateRevoked,
    ];

    /// The stable code, e.g. `UNKNOWN_CA`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedEvent => "MALFORMED_EVENT",
            Self::MalformedCertificate => "MALFORMED_CERTIFICATE",
            Self::UnknownCa => "UNKNOWN_CA",
            Self::UnsupportedCaKey => "UNSUPPORTED_CA_KEY",
            Self::NotADeviceCertificate => "NOT_A_DEVICE_CERTIFICATE",
            Self::IssuerMismatch => "ISSUER_MISMATCH",
            Self::UnsupportedSignatureAlgorithm => "UNSUPPORTED_SIGNATURE_ALGORITHM",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::WeakKey => "WEAK_KEY",
            Self::UnsupportedKey => "UNSUPPORTED_KEY",
            Self::Expired => "EXPIRED",
            Self::NotYetValid => "NOT_YET_VALID",
            Self::NoDeviceId => "NO_DEVICE_ID",
            Self::InvalidDeviceId => "INVALID_DEVICE_ID",
            Self::UnknownDevice => "UNKNOWN_DEVICE",
            Self::ManifestMismatch => "MANIFEST_MISMATCH",
            Self::InvalidManifestEntry => "INVALID_MANIFEST_ENTRY",
            Self::NotSold => "NOT_SOLD",
            Self::Recalled => "RECALLED",
            Self::FirmwareTooOld => "FIRMWARE_TOO_OLD",
            Self::CertificateRevoked => "CERTIFICATE_REVOKED",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RejectReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_screaming_snake_case() {
        let mut seen = HashSet::new();
        for reason in RejectReason::ALL {
            let code = reason.as_str();
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(
                code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code} is not SCREAMING_SNAKE_CASE"
            );
        }
    }

    #[test]
    fn serializes_as_the_code() {
        let json = serde_json::to_string(&RejectReason::FirmwareTooOld).unwrap();
        assert_eq!(json, "\"FIRMWARE_TOO_OLD\"");
    }
}
