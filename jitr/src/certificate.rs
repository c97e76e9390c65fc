//! Checks on one device certificate: read strictly from PEM, key quality, validity at a given
//! time, and the device id it carries. Its link to the CA is checked in `issuer`.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use crate::config::DeviceIdSource;
use crate::reason::RejectReason;
use crate::strict;

/// Longest thing name AWS IoT accepts.
pub const MAX_THING_NAME_LEN: usize = 128;

/// A rejection: the stable reason and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code.
    pub reason: RejectReason,
    /// What exactly was wrong, for the log line.
    pub detail: String,
}

impl Rejection {
    pub(crate) fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

/// Decodes the single `CERTIFICATE` block of a PEM text to DER (strictly: see [`strict`]).
pub(crate) fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    strict::certificate_der(pem)
}

/// Parses DER to a certificate, refusing trailing bytes.
pub(crate) fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) if !rest.is_empty() => {
            Err(format!("{} bytes after the certificate", rest.len()))
        }
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(format!("not an X.509 certificate: {e}")),
    }
}

/// Reads a device certificate: one strict PEM block, DER that a strict parser accepts (see
/// [`strict`]), every extension x509-parser knows parsed without error, and not a CA.
pub(crate) fn device_der(pem: &str) -> Result<Vec<u8>, Rejection> {
    let malformed = |e: String| Rejection::new(RejectReason::MalformedCertificate, e);
    let der = pem_to_der(pem).map_err(malformed)?;
    let profile = strict::check_certificate(&der).map_err(malformed)?;
    let cert = parse_der(&der).map_err(malformed)?;
    for extension in cert.extensions() {
        if let ParsedExtension::ParseError { error } = extension.parsed_extension() {
            return Err(malformed(format!("extension {}: {error}", extension.oid)));
        }
    }
    if profile.is_ca {
        return Err(Rejection::new(
            RejectReason::NotADeviceCertificate,
            "basicConstraints says cA: a CA certificate, not a device certificate",
        ));
    }
    Ok(der)
}

/// Parses DER already accepted by [`device_der`].
pub(crate) fn parse_device(der: &[u8]) -> Result<X509Certificate<'_>, Rejection> {
    parse_der(der).map_err(|e| Rejection::new(RejectReason::MalformedCertificate, e))
}

/// RSA sizes aws-lc-rs verifies PKCS#1 signatures with (`RSA_PKCS1_2048_8192_*`).
pub(crate) const MIN_RSA_BITS: usize = 2048;
pub(crate) const MAX_RSA_BITS: usize = 8192;

/// Checks the device key: EC P-256 or P-384, or RSA of at least 2048 bits. Returns a short
/// description such as `EC P-256` or `RSA 2048`.
pub(crate) fn check_key(cert: &X509Certificate<'_>) -> Result<String, Rejection> {
    let spki = cert.public_key();
    if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 => Ok("EC P-256".into()),
            Some(c) if c == OID_NIST_EC_P384 => Ok("EC P-384".into()),
            Some(c) => Err(Rejection::new(
                RejectReason::UnsupportedKey,
                format!("EC curve {c}"),
            )),
            None => Err(Rejection::new(
                RejectReason::UnsupportedKey,
                "EC key without a named curve",
            )),
        };
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = bit_length(rsa.modulus);
            if bits < MIN_RSA_BITS {
                Err(Rejection::new(
                    RejectReason::WeakKey,
                    format!("RSA key of {bits} bits, need {MIN_RSA_BITS}"),
                ))
            } else {
                Ok(format!("RSA {bits}"))
            }
        }
        _ => Err(Rejection::new(
            RejectReason::UnsupportedKey,
            format!("key algorithm {}", spki.algorithm.algorithm),
        )),
    }
}

/// Bits in a big-endian unsigned integer (leading zero bytes and bits not counted).
pub(crate) fn bit_length(be: &[u8]) -> usize {
    match be.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => (be.len() - i - 1) * 8 + (8 - be[i].leading_zeros() as usize),
    }
}

/// Checks `notBefore - skew <= at <= notAfter + skew`.
pub(crate) fn check_validity(
    cert: &X509Certificate<'_>,
    at: OffsetDateTime,
    skew_seconds: u32,
) -> Result<(), Rejection> {
    let at_s = at.unix_timestamp();
    let skew = i64::from(skew_seconds);
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    if at_s < not_before.saturating_sub(skew) {
        return Err(Rejection::new(
            RejectReason::NotYetValid,
            format!(
                "notBefore {} is after {} (+{skew} s skew)",
                rfc3339(not_before),
                rfc3339(at_s)
            ),
        ));
    }
    if at_s > not_after.saturating_add(skew) {
        return Err(Rejection::new(
            RejectReason::Expired,
            format!(
                "notAfter {} is before {} (-{skew} s skew)",
                rfc3339(not_after),
                rfc3339(at_s)
            ),
        ));
    }
    Ok(())
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}

/// The device id from the configured place, checked to be usable in a thing name.
pub(crate) fn device_id(
    cert: &X509Certificate<'_>,
    source: DeviceIdSource,
    thing_name_prefix: &str,
) -> Result<String, Rejection> {
    let id = match source {
        DeviceIdSource::CommonName => cert
            .subject()
            .iter_common_name()
            .next()
            .map(|cn| {
                cn.as_str().map(str::to_owned).map_err(|_| {
                    Rejection::new(
                        RejectReason::InvalidDeviceId,
                        "subject CN is not a text string",
                    )
                })
            })
            .transpose()?
            .ok_or_else(|| {
                Rejection::new(RejectReason::NoDeviceId, "subject has no common name")
            })?,
        DeviceIdSource::SerialNumber => {
            let serial = cert.raw_serial();
            let start = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
            if start == serial.len() {
                return Err(Rejection::new(
                    RejectReason::NoDeviceId,
                    "serial number is zero",
                ));
            }
            to_hex(&serial[start..])
        }
    };
    validate_device_id(&id, thing_name_prefix)?;
    Ok(id)
}

/// A device id must form a valid thing name with the prefix: `[a-zA-Z0-9:_-]`, at most 128.
pub(crate) fn validate_device_id(id: &str, thing_name_prefix: &str) -> Result<(), Rejection> {
    if id.is_empty() {
        return Err(Rejection::new(
            RejectReason::NoDeviceId,
            "device id is empty",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-');
    if !id.chars().all(allowed) || thing_name_prefix.len() + id.len() > MAX_THING_NAME_LEN {
        let shown: String = id.chars().take(64).flat_map(char::escape_default).collect();
        return Err(Rejection::new(
            RejectReason::InvalidDeviceId,
            format!(
                "device id \"{shown}\" does not fit a thing name ([a-zA-Z0-9:_-], at most {MAX_THING_NAME_LEN} with the prefix)"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zeros() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
        assert_eq!(bit_length(&[0, 0]), 0);
        let mut modulus = vec![0u8];
        modulus.extend([0xc1; 128]);
        assert_eq!(bit_length(&modulus), 1024);
    }

    #[test]
    fn device_ids_must_fit_thing_names() {
        assert!(validate_device_id("dev-001:a_b", "").is_ok());
        for bad in ["", "dev 001", "dev/001", "dév"] {
            assert!(validate_device_id(bad, "").is_err(), "{bad:?}");
        }
        let long = "a".repeat(120);
        assert!(validate_device_id(&long, "").is_ok());
        assert_eq!(
            validate_device_id(&long, "prefix-xx-").unwrap_err().reason,
            RejectReason::InvalidDeviceId
        );
    }

    #[test]
    fn pem_that_is_not_a_certificate_is_refused() {
        assert!(pem_to_der("hello").is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(pem_to_der(key).unwrap_err().contains("PRIVATE KEY"));
        assert_eq!(
            device_der(key).unwrap_err().reason,
            RejectReason::MalformedCertificate
        );
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let der = pem_to_der(garbage).unwrap();
        assert!(parse_der(&der).is_err());
    }
}
