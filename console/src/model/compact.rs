//! Certificate fields that AWS and x509 give as text but that are binary underneath, kept in
//! their binary form: a million of them as text would be a tenth of the model. Each reads back
//! as exactly the text it was made from.

use std::borrow::Cow;
use std::fmt;

/// AWS's `generationId` of a certificate: a UUID, kept as its 16 bytes; any other text (an
/// upper-case UUID, something else) is kept as it came.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GenerationId(Generation);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Generation {
    Uuid([u8; 16]),
    Text(Box<str>),
}

/// Where the hyphens of a UUID's text go.
const UUID_GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

/// Lower-case hex digits of `text` into `out`; `None` unless `text` is exactly that.
fn lower_hex(text: &str, out: &mut [u8]) -> Option<()> {
    let lower = text
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (lower && text.len() == 2 * out.len()).then_some(())?;
    hex::decode_to_slice(text, out).ok()
}

impl From<&str> for GenerationId {
    fn from(text: &str) -> Self {
        let mut bytes = [0u8; 16];
        let mut at = 0;
        let mut groups = text.split('-');
        let uuid = text.len() == 36
            && UUID_GROUPS.iter().all(|&digits| {
                let fits = groups.next().is_some_and(|group| {
                    group.len() == digits
                        && lower_hex(group, &mut bytes[at..at + digits / 2]).is_some()
                });
                at += digits / 2;
                fits
            })
            && groups.next().is_none();
        Self(if uuid {
            Generation::Uuid(bytes)
        } else {
            Generation::Text(text.into())
        })
    }
}

impl From<String> for GenerationId {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

impl GenerationId {
    /// The text it was made from.
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Generation::Text(text) => Cow::Borrowed(text),
            Generation::Uuid(bytes) => {
                let mut text = String::with_capacity(36);
                let mut at = 0;
                for (k, digits) in UUID_GROUPS.iter().enumerate() {
                    if k > 0 {
                        text.push('-');
                    }
                    text.push_str(&hex::encode(&bytes[at..at + digits / 2]));
                    at += digits / 2;
                }
                Cow::Owned(text)
            }
        }
    }
}

impl fmt::Display for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

/// Bytes of a serial number kept inline: RFC 5280 allows at most 20.
const SERIAL_INLINE: usize = 20;

/// A certificate's serial number as lower-case hex text (`hex` of its bytes), kept as the
/// bytes when they are at most 20; other text is kept as it came.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Serial(SerialRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum SerialRepr {
    Bytes { len: u8, bytes: [u8; SERIAL_INLINE] },
    Text(Box<str>),
}

impl From<&str> for Serial {
    fn from(text: &str) -> Self {
        let mut bytes = [0u8; SERIAL_INLINE];
        let len = text.len() / 2;
        let fits = text.len().is_multiple_of(2)
            && len <= SERIAL_INLINE
            && lower_hex(text, &mut bytes[..len]).is_some();
        Self(match u8::try_from(len) {
            Ok(len) if fits => SerialRepr::Bytes { len, bytes },
            _ => SerialRepr::Text(text.into()),
        })
    }
}

impl From<String> for Serial {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

impl Serial {
    /// The text it was made from.
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            SerialRepr::Text(text) => Cow::Borrowed(text),
            SerialRepr::Bytes { len, bytes } => {
                Cow::Owned(hex::encode(&bytes[..usize::from(*len)]))
            }
        }
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_uuid_is_kept_as_bytes_and_reads_back() {
        let text = "0c8e6f2a-51b4-4c1d-9a7e-3f2b1c0d9e8f";
        let id = GenerationId::from(text);
        assert!(matches!(id.0, Generation::Uuid(_)));
        assert_eq!(id.text(), text);
        for other in [
            "gen-1",
            "",
            "0C8E6F2A-51B4-4C1D-9A7E-3F2B1C0D9E8F",
            "0c8e6f2a-51b4-4c1d-9a7e3f2b1c0d9e8f0",
        ] {
            let id = GenerationId::from(other);
            assert!(matches!(id.0, Generation::Text(_)), "{other}");
            assert_eq!(id.text(), other);
        }
    }

    #[test]
    fn a_serial_is_kept_as_bytes_and_reads_back() {
        for text in ["01", "00ff", "7f3a9c00112233445566778899aabbccddeeff00"] {
            let serial = Serial::from(text);
            assert!(matches!(serial.0, SerialRepr::Bytes { .. }), "{text}");
            assert_eq!(serial.text(), text);
        }
        let long = "00".repeat(21);
        for text in ["1", "0G", "ABCD", long.as_str()] {
            let serial = Serial::from(text);
            assert!(matches!(serial.0, SerialRepr::Text(_)), "{text}");
            assert_eq!(serial.text(), text);
        }
        assert!(std::mem::size_of::<Serial>() <= 24);
        assert!(std::mem::size_of::<GenerationId>() <= 24);
    }

    proptest! {
        #[test]
        fn any_text_reads_back_as_it_came(text in "[0-9a-fA-F-]{0,44}|\\PC{0,40}") {
            let (id, serial) = (GenerationId::from(text.as_str()), Serial::from(text.as_str()));
            prop_assert_eq!(id.text(), text.as_str());
            prop_assert_eq!(serial.text(), text.as_str());
        }
    }
}
