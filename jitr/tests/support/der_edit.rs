//! Hand-built DER for certificates rcgen will not make: split a certificate into its fields,
//! change them, and sign the result again with the test CA so that only the change is wrong.

use rcgen::SigningKey;

use super::pki::{TestCa, pem_body, to_pem};

/// Tag, length and content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap());
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | u8::try_from(bytes.len() - skip).unwrap());
        out.extend(&bytes[skip..]);
    }
    out.extend(content);
    out
}

/// The whole encodings of the elements in `content`, in order (well-formed input only).
pub fn elements(mut content: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let first = content[1];
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7F);
            let len = content[2..2 + n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, 2 + n)
        };
        out.push(content[..header + len].to_vec());
        content = &content[header + len..];
    }
    out
}

/// The content of one element.
pub fn content_of(element: &[u8]) -> &[u8] {
    let header = if element[1] < 0x80 {
        2
    } else {
        2 + usize::from(element[1] & 0x7F)
    };
    &element[header..]
}

/// A certificate taken apart: the tbsCertificate's fields and the signature algorithm.
pub struct Parts {
    pub tbs: Vec<Vec<u8>>,
    pub algorithm: Vec<u8>,
}

impl Parts {
    pub fn of_pem(pem: &str) -> Self {
        let der = pem_body(pem);
        let top = elements(content_of(&der));
        Self {
            tbs: elements(content_of(&top[0])),
            algorithm: top[1].clone(),
        }
    }

    /// Index of the serial number among the tbsCertificate fields (after `[0] version`).
    pub const SERIAL: usize = 1;

    /// The extensions (whole encodings), none when the certificate has no `[3]` field.
    pub fn extensions(&self) -> Vec<Vec<u8>> {
        match self.tbs.last() {
            Some(explicit) if explicit[0] == 0xA3 => {
                elements(content_of(&elements(content_of(explicit))[0]))
            }
            _ => Vec::new(),
        }
    }

    /// Replaces the extensions (adds the `[3]` field when missing).
    pub fn set_extensions(&mut self, extensions: &[Vec<u8>]) {
        let field = tlv(0xA3, &tlv(0x30, &extensions.concat()));
        if self.tbs.last().is_some_and(|f| f[0] == 0xA3) {
            *self.tbs.last_mut().unwrap() = field;
        } else {
            self.tbs.push(field);
        }
    }

    /// The signed tbsCertificate bytes.
    pub fn tbs_der(&self) -> Vec<u8> {
        tlv(0x30, &self.tbs.concat())
    }

    /// Signs `tbs_der` with the CA and returns the certificate DER.
    pub fn sign_der(&self, tbs_der: &[u8], ca: &TestCa) -> Vec<u8> {
        let signature = ca.key.sign(tbs_der).unwrap();
        let mut bits = vec![0u8];
        bits.extend(signature);
        tlv(
            0x30,
            &[tbs_der.to_vec(), self.algorithm.clone(), tlv(0x03, &bits)].concat(),
        )
    }

    /// Signs with the CA and returns the certificate PEM.
    pub fn signed_pem(&self, ca: &TestCa) -> String {
        to_pem(&self.sign_der(&self.tbs_der(), ca))
    }
}

/// An extension: OID content, critical, value.
pub fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut content = tlv(0x06, oid);
    if critical {
        content.extend(tlv(0x01, &[0xFF]));
    }
    content.extend(tlv(0x04, value));
    tlv(0x30, &content)
}
