//! A minimal strict DER reader: one-byte tags, definite minimal lengths, nothing left over.
//!
//! x509-parser reads certificates leniently (bytes left inside a SEQUENCE or an extension
//! value are ignored); this reader is what the device-certificate checks walk the raw bytes
//! with, so that every such leftover is an error.

/// One element: its tag byte, its content and the whole encoding (tag, length, content).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) raw: &'a [u8],
}

pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;

/// Reads consecutive elements from a byte string.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, String> {
        let all = self.rest;
        let [tag, first, after @ ..] = all else {
            return Err("element cut short".into());
        };
        if tag & 0x1F == 0x1F {
            return Err(format!("multi-byte tag {tag:#04x}"));
        }
        let (len, header) = match *first {
            n if n < 0x80 => (usize::from(n), 2),
            0x80 => return Err("indefinite length".into()),
            n => {
                let count = usize::from(n & 0x7F);
                if count > 4 || after.len() < count {
                    return Err("length field cut short or too long".into());
                }
                let bytes = &after[..count];
                if bytes[0] == 0 {
                    return Err("length not minimally encoded".into());
                }
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                if len < 0x80 {
                    return Err("length not minimally encoded".into());
                }
                (len, 2 + count)
            }
        };
        let end = header
            .checked_add(len)
            .filter(|&end| end <= all.len())
            .ok_or_else(|| format!("element of {len} bytes cut short"))?;
        self.rest = &all[end..];
        Ok(Tlv {
            tag: *tag,
            content: &all[header..end],
            raw: &all[..end],
        })
    }

    /// Reads the next element, which must have `tag`; `what` names it in the error.
    pub(crate) fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        let tlv = self.read().map_err(|e| format!("{what}: {e}"))?;
        if tlv.tag == tag {
            Ok(tlv)
        } else {
            Err(format!("{what}: tag {:#04x}, expected {tag:#04x}", tlv.tag))
        }
    }

    /// Reads the next element if it has `tag`.
    pub(crate) fn optional(&mut self, tag: u8, what: &str) -> Result<Option<Tlv<'a>>, String> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Errors when bytes are left after the last element expected in `what`.
    pub(crate) fn finish(&self, what: &str) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} unexpected bytes at the end of {what}",
                self.rest.len()
            ))
        }
    }
}

/// Checks an OBJECT IDENTIFIER's content: non-empty, minimal sub-identifiers, complete.
pub(crate) fn check_oid(content: &[u8]) -> Result<(), String> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err("malformed object identifier".into());
    }
    let mut start_of_arc = true;
    for &b in content {
        if start_of_arc && b == 0x80 {
            return Err("object identifier arc not minimally encoded".into());
        }
        start_of_arc = b & 0x80 == 0;
    }
    Ok(())
}

/// Dotted text of an OBJECT IDENTIFIER's content (checked with [`check_oid`] first).
pub(crate) fn oid_text(content: &[u8]) -> String {
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    for &b in content {
        acc = acc.saturating_mul(128).saturating_add(u128::from(b & 0x7F));
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    let mut text = String::new();
    if let Some(&first) = arcs.first() {
        let (a, b) = match first {
            0..40 => (0, first),
            40..80 => (1, first - 40),
            _ => (2, first - 80),
        };
        text = format!("{a}.{b}");
    }
    for arc in arcs.iter().skip(1) {
        text.push('.');
        text.push_str(&arc.to_string());
    }
    text
}

/// Checks a DER BOOLEAN's content (`FF` true, `00` false) and returns its value.
pub(crate) fn boolean(content: &[u8]) -> Result<bool, String> {
    match content {
        [0xFF] => Ok(true),
        [0x00] => Ok(false),
        _ => Err("BOOLEAN not DER-encoded".into()),
    }
}

/// Checks an INTEGER's content: non-empty and minimally encoded. Returns whether it is
/// negative.
pub(crate) fn integer_is_negative(content: &[u8]) -> Result<bool, String> {
    match content {
        [] => Err("empty INTEGER".into()),
        [0x00, next, ..] if next & 0x80 == 0 => Err("INTEGER not minimally encoded".into()),
        [0xFF, next, ..] if next & 0x80 != 0 => Err("INTEGER not minimally encoded".into()),
        [first, ..] => Ok(first & 0x80 != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_definite_minimal_and_present() {
        assert_eq!(
            Reader::new(&[0x04, 0x01, 0xAA]).read().unwrap().content,
            [0xAA]
        );
        assert!(Reader::new(&[0x04, 0x81, 0x01, 0xAA]).read().is_err());
        assert!(Reader::new(&[0x04, 0x82, 0x00, 0x81]).read().is_err());
        assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).read().is_err());
        assert!(Reader::new(&[0x04, 0x02, 0xAA]).read().is_err());
        assert!(Reader::new(&[0x1F, 0x01, 0x00]).read().is_err());
        let long = [&[0x04, 0x81, 0x80][..], &[0u8; 0x80]].concat();
        assert_eq!(Reader::new(&long).read().unwrap().content.len(), 0x80);
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(integer_is_negative(&[0x00, 0x80]), Ok(false));
        assert_eq!(integer_is_negative(&[0x80]), Ok(true));
        assert!(integer_is_negative(&[0x00, 0x7F]).is_err());
        assert!(integer_is_negative(&[0xFF, 0x80]).is_err());
        assert!(integer_is_negative(&[]).is_err());
        assert_eq!(oid_text(&[0x55, 0x1D, 0x13]), "2.5.29.19");
        assert_eq!(
            oid_text(&[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
            "1.2.840.10045.2.1"
        );
        assert!(check_oid(&[0x2A, 0x86]).is_err());
        assert!(check_oid(&[0x2A, 0x80, 0x01]).is_err());
        assert!(check_oid(&[]).is_err());
    }
}
