//! The outer structure of a device certificate, walked strictly (RFC 5280 §4.1): nothing after
//! the signature or inside a SEQUENCE past its last field, a v3 version when extensions are
//! present, the same signature algorithm inside and outside the signed part, a positive
//! serial number of at most 20 octets, and extensions that each appear once.

use super::der::{self, BIT_STRING, BOOLEAN, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE};

/// Longest serial number RFC 5280 §4.1.2.2 allows, in content octets.
pub(crate) const MAX_SERIAL_OCTETS: usize = 20;

/// One extension as encoded.
pub(crate) struct RawExtension<'a> {
    pub(crate) oid: &'a [u8],
    pub(crate) critical: bool,
    pub(crate) value: &'a [u8],
}

/// What the walk found that later checks need.
pub(crate) struct Walked<'a> {
    pub(crate) extensions: Vec<RawExtension<'a>>,
}

/// Walks `der` as a Certificate.
pub(crate) fn walk(der: &[u8]) -> Result<Walked<'_>, String> {
    let mut outer = Reader::new(der);
    let certificate = outer.expect(SEQUENCE, "Certificate")?;
    if !outer.is_empty() {
        return Err(format!(
            "{} bytes after the certificate",
            der.len() - certificate.raw.len()
        ));
    }
    let mut fields = Reader::new(certificate.content);
    let tbs = fields.expect(SEQUENCE, "tbsCertificate")?;
    let outer_algorithm = fields.expect(SEQUENCE, "signatureAlgorithm")?;
    let signature = fields.expect(BIT_STRING, "signatureValue")?;
    fields.finish("Certificate")?;
    if signature.content.first() != Some(&0) {
        return Err("signatureValue has unused bits".into());
    }

    let mut tbs = Reader::new(tbs.content);
    let version = match tbs.optional(0xA0, "version")? {
        None => 0,
        Some(explicit) => {
            let mut inner = Reader::new(explicit.content);
            let value = inner.expect(INTEGER, "version")?;
            inner.finish("version")?;
            match value.content {
                [v @ (1 | 2)] => *v,
                [0] => return Err("version v1 encoded although it is the default".into()),
                _ => return Err("unknown certificate version".into()),
            }
        }
    };
    let serial = tbs.expect(INTEGER, "serialNumber")?;
    check_serial(serial.content)?;
    let inner_algorithm = tbs.expect(SEQUENCE, "signature")?;
    if inner_algorithm.raw != outer_algorithm.raw {
        return Err("signature algorithm differs inside and outside tbsCertificate".into());
    }
    for field in ["issuer", "validity", "subject", "subjectPublicKeyInfo"] {
        tbs.expect(SEQUENCE, field)?;
    }
    for (tag, field) in [(0x81, "issuerUniqueID"), (0x82, "subjectUniqueID")] {
        if tbs.optional(tag, field)?.is_some() && version == 0 {
            return Err(format!("{field} in a v1 certificate"));
        }
    }
    let extensions = match tbs.optional(0xA3, "extensions")? {
        None => Vec::new(),
        Some(_) if version != 2 => return Err("extensions in a certificate that is not v3".into()),
        Some(explicit) => {
            let mut inner = Reader::new(explicit.content);
            let list = inner.expect(SEQUENCE, "extensions")?;
            inner.finish("extensions")?;
            extensions(list.content)?
        }
    };
    tbs.finish("tbsCertificate")?;
    Ok(Walked { extensions })
}

/// RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets. Zero and negative numbers are
/// refused, and DER's minimal encoding makes the serial's octets (and so a device id taken
/// from them) one-to-one with its value.
fn check_serial(content: &[u8]) -> Result<(), String> {
    let negative = der::integer_is_negative(content).map_err(|e| format!("serial number: {e}"))?;
    if negative {
        return Err("serial number is negative".into());
    }
    if content == [0] {
        return Err("serial number is zero".into());
    }
    if content.len() > MAX_SERIAL_OCTETS {
        return Err(format!(
            "serial number has {} octets, at most {MAX_SERIAL_OCTETS} allowed",
            content.len()
        ));
    }
    Ok(())
}

fn extensions(list: &[u8]) -> Result<Vec<RawExtension<'_>>, String> {
    let mut reader = Reader::new(list);
    let mut found: Vec<RawExtension<'_>> = Vec::new();
    if reader.is_empty() {
        return Err("empty extensions list".into());
    }
    while !reader.is_empty() {
        let extension = reader.expect(SEQUENCE, "extension")?;
        let mut fields = Reader::new(extension.content);
        let oid = fields.expect(OID, "extnID")?.content;
        der::check_oid(oid).map_err(|e| format!("extnID: {e}"))?;
        let critical = match fields.optional(BOOLEAN, "critical")? {
            None => false,
            Some(flag) => match der::boolean(flag.content)? {
                true => true,
                false => {
                    return Err(format!(
                        "extension {}: critical FALSE encoded although it is the default",
                        der::oid_text(oid)
                    ));
                }
            },
        };
        let value = fields.expect(OCTET_STRING, "extnValue")?.content;
        fields.finish("extension")?;
        if found.iter().any(|e| e.oid == oid) {
            return Err(format!("duplicate extension {}", der::oid_text(oid)));
        }
        found.push(RawExtension {
            oid,
            critical,
            value,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers() {
        assert!(check_serial(&[0x01]).is_ok());
        assert!(check_serial(&[0x00, 0x80]).is_ok());
        assert!(check_serial(&[0x7F; 20]).is_ok());
        for (bad, why) in [
            (&[][..], "empty"),
            (&[0x00], "zero"),
            (&[0x80], "negative"),
            (&[0xFF, 0x01], "negative"),
            (&[0x00, 0x01], "minimally"),
            (&[0x01; 21], "21 octets"),
        ] {
            let error = check_serial(bad).unwrap_err();
            assert!(error.contains(why), "{bad:02x?}: {error}");
        }
        let mut twenty_with_sign = vec![0x00];
        twenty_with_sign.extend([0x80; 20]);
        assert!(check_serial(&twenty_with_sign).is_err());
    }
}
