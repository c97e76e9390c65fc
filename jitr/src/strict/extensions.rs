//! The contents of a device certificate's extensions (RFC 5280 §4.2): critical extensions we
//! do not process are refused, and basicConstraints, keyUsage, subjectAltName, issuerAltName,
//! extKeyUsage and authorityInfoAccess must hold exactly what their syntax allows.

use super::der::{self, BIT_STRING, BOOLEAN, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE};
use super::structure::RawExtension;

const KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x0F];
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x11];
const ISSUER_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x12];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1D, 0x13];
const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1D, 0x0E];
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x25];
const AUTHORITY_INFO_ACCESS: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];

/// Extensions whose meaning the decision honours, so they may be marked critical. Everything
/// else marked critical is refused, as RFC 5280 §4.2 requires of a verifier that does not
/// process it.
const PROCESSED: &[&[u8]] = &[
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXT_KEY_USAGE,
    SUBJECT_ALT_NAME,
];

/// What the extensions say about the certificate.
#[derive(Debug)]
pub(crate) struct Profile {
    /// basicConstraints cA is TRUE: a CA certificate.
    pub(crate) is_ca: bool,
}

/// Checks every extension; the error names the extension.
pub(crate) fn check(extensions: &[RawExtension<'_>]) -> Result<Profile, String> {
    let mut profile = Profile { is_ca: false };
    for extension in extensions {
        let name = der::oid_text(extension.oid);
        if extension.critical && !PROCESSED.contains(&extension.oid) {
            return Err(format!("unsupported critical extension {name}"));
        }
        let checked = match extension.oid {
            BASIC_CONSTRAINTS => basic_constraints(extension.value).map(|ca| profile.is_ca = ca),
            KEY_USAGE => key_usage(extension.value),
            SUBJECT_ALT_NAME | ISSUER_ALT_NAME => general_names(extension.value),
            EXT_KEY_USAGE => ext_key_usage(extension.value),
            AUTHORITY_INFO_ACCESS => authority_info_access(extension.value),
            SUBJECT_KEY_ID => single(extension.value, OCTET_STRING, "keyIdentifier").map(drop),
            _ => Ok(()),
        };
        checked.map_err(|e| format!("extension {name}: {e}"))?;
    }
    Ok(profile)
}

/// The one element of `value`, which must have `tag`.
fn single<'a>(value: &'a [u8], tag: u8, what: &str) -> Result<&'a [u8], String> {
    let mut reader = Reader::new(value);
    let element = reader.expect(tag, what)?;
    reader.finish(what)?;
    Ok(element.content)
}

/// A `SEQUENCE SIZE (1..MAX) OF` something: the reader over its elements.
fn non_empty_sequence<'a>(value: &'a [u8], what: &str) -> Result<Reader<'a>, String> {
    let content = single(value, SEQUENCE, what)?;
    if content.is_empty() {
        return Err(format!("empty {what}"));
    }
    Ok(Reader::new(content))
}

fn basic_constraints(value: &[u8]) -> Result<bool, String> {
    let mut fields = Reader::new(single(value, SEQUENCE, "BasicConstraints")?);
    let ca = match fields.optional(BOOLEAN, "cA")? {
        None => false,
        Some(flag) if der::boolean(flag.content)? => true,
        Some(_) => return Err("cA FALSE encoded although it is the default".into()),
    };
    if let Some(path_len) = fields.optional(INTEGER, "pathLenConstraint")?
        && der::integer_is_negative(path_len.content)?
    {
        return Err("negative pathLenConstraint".into());
    }
    fields.finish("BasicConstraints")?;
    Ok(ca)
}

fn key_usage(value: &[u8]) -> Result<(), String> {
    match single(value, BIT_STRING, "KeyUsage")? {
        [unused, bits @ ..] if *unused < 8 && !bits.is_empty() => {
            if bits.iter().all(|&b| b == 0) {
                Err("no key usage bit set".into())
            } else {
                Ok(())
            }
        }
        _ => Err("malformed BIT STRING".into()),
    }
}

fn ext_key_usage(value: &[u8]) -> Result<(), String> {
    let mut purposes = non_empty_sequence(value, "ExtKeyUsageSyntax")?;
    while !purposes.is_empty() {
        der::check_oid(purposes.expect(OID, "KeyPurposeId")?.content)?;
    }
    Ok(())
}

fn authority_info_access(value: &[u8]) -> Result<(), String> {
    let mut descriptions = non_empty_sequence(value, "AuthorityInfoAccessSyntax")?;
    while !descriptions.is_empty() {
        let description = descriptions.expect(SEQUENCE, "AccessDescription")?;
        let mut fields = Reader::new(description.content);
        der::check_oid(fields.expect(OID, "accessMethod")?.content)?;
        general_name(&mut fields)?;
        fields.finish("AccessDescription")?;
    }
    Ok(())
}

fn general_names(value: &[u8]) -> Result<(), String> {
    let mut names = non_empty_sequence(value, "GeneralNames")?;
    while !names.is_empty() {
        general_name(&mut names)?;
    }
    Ok(())
}

/// One GeneralName (RFC 5280 §4.2.1.6).
fn general_name(reader: &mut Reader<'_>) -> Result<(), String> {
    let name = reader.read()?;
    match name.tag {
        // otherName: type-id OID, [0] EXPLICIT value.
        0xA0 => {
            let mut fields = Reader::new(name.content);
            der::check_oid(fields.expect(OID, "otherName type-id")?.content)?;
            let explicit = fields.expect(0xA0, "otherName value")?;
            let mut value = Reader::new(explicit.content);
            value.read()?;
            value.finish("otherName value")?;
            fields.finish("otherName")
        }
        // rfc822Name, dNSName, uniformResourceIdentifier: IA5String.
        0x81 | 0x82 | 0x86 => {
            if name.content.is_empty() {
                Err("empty name".into())
            } else if !name.content.iter().all(|b| (0x20..0x7F).contains(b)) {
                Err("name is not printable IA5String".into())
            } else {
                Ok(())
            }
        }
        // x400Address, ediPartyName: not interpreted, but must be constructed.
        0xA3 | 0xA5 => Ok(()),
        // directoryName: [4] EXPLICIT Name.
        0xA4 => single(name.content, SEQUENCE, "directoryName").map(drop),
        0x87 => match name.content.len() {
            4 | 16 => Ok(()),
            n => Err(format!("iPAddress of {n} octets (4 or 16)")),
        },
        0x88 => der::check_oid(name.content),
        tag => Err(format!("GeneralName with tag {tag:#04x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(oid: &'static [u8], critical: bool, value: &'static [u8]) -> RawExtension<'static> {
        RawExtension {
            oid,
            critical,
            value,
        }
    }

    #[test]
    fn general_names_follow_their_syntax() {
        assert!(general_names(&[0x30, 0x05, 0x82, 0x03, b'a', b'.', b'b']).is_ok());
        assert!(general_names(&[0x30, 0x06, 0x87, 0x04, 10, 0, 0, 1]).is_ok());
        for bad in [
            &[0x30, 0x00][..],
            &[0x30, 0x05, 0x87, 0x03, 10, 0, 0],
            &[0x30, 0x02, 0x82, 0x00],
            &[0x30, 0x03, 0x82, 0x01, 0xC3],
            &[0x30, 0x03, 0x89, 0x01, 0x00],
            &[0x30, 0x03, 0x82, 0x01, b'a', 0x00],
            &[0x30, 0x04, 0x82, 0x01, b'a'],
        ] {
            assert!(general_names(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn critical_extensions_must_be_processed() {
        let basic = ext(BASIC_CONSTRAINTS, true, &[0x30, 0x00]);
        assert!(!check(&[basic]).unwrap().is_ca);
        let ca = ext(BASIC_CONSTRAINTS, true, &[0x30, 0x03, 0x01, 0x01, 0xFF]);
        assert!(check(&[ca]).unwrap().is_ca);
        let unknown = ext(&[0x2B, 0x06, 0x01, 0x04, 0x01, 0x01], true, &[0x05, 0x00]);
        assert!(check(&[unknown]).unwrap_err().contains("critical"));
        let known_not_critical = ext(&[0x2B, 0x06, 0x01, 0x04, 0x01, 0x01], false, &[0x05, 0x00]);
        assert!(check(&[known_not_critical]).is_ok());
    }

    #[test]
    fn eku_key_usage_and_aia_contents() {
        assert!(ext_key_usage(&[0x30, 0x03, 0x06, 0x01, 0x2B]).is_ok());
        assert!(ext_key_usage(&[0x30, 0x00]).is_err());
        assert!(ext_key_usage(&[0x30, 0x03, 0x04, 0x01, 0x2B]).is_err());
        assert!(key_usage(&[0x03, 0x02, 0x07, 0x80]).is_ok());
        assert!(key_usage(&[0x03, 0x02, 0x00, 0x00]).is_err());
        assert!(key_usage(&[0x03, 0x01, 0x00]).is_err());
        let aia = [
            0x30, 0x09, 0x30, 0x07, 0x06, 0x01, 0x2B, 0x86, 0x02, b'h', b'x',
        ];
        assert!(authority_info_access(&aia).is_ok());
        let no_location = [0x30, 0x05, 0x30, 0x03, 0x06, 0x01, 0x2B];
        assert!(authority_info_access(&no_location).is_err());
    }
}
