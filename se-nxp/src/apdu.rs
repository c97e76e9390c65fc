//! ISO 7816-4 command and response APDUs, and the BER-TLV fields SE05x commands use.
//!
//! Parsing never panics: malformed responses are [`ResponseError`]s.

use alloc::vec::Vec;

/// A command APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Lc is its length).
    pub data: &'a [u8],
    /// Expected response length Ne (0 = none expected); 256 or 65536 ask for "all".
    pub ne: u32,
}

/// A command that cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// More than 65535 data bytes.
    #[error("command data of {0} bytes exceeds the 65535-byte extended APDU limit")]
    DataTooLong(usize),
    /// Ne above 65536.
    #[error("expected length {0} exceeds 65536")]
    NeTooLarge(u32),
}

impl Command<'_> {
    /// Appends the encoded APDU (short form when it fits, extended otherwise) to `out`.
    ///
    /// # Errors
    /// [`CommandError`] when data or Ne exceed the extended APDU limits.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), CommandError> {
        let lc = self.data.len();
        if lc > 65_535 {
            return Err(CommandError::DataTooLong(lc));
        }
        if self.ne > 65_536 {
            return Err(CommandError::NeTooLarge(self.ne));
        }
        out.reserve(4 + 3 + lc + 3);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let extended = lc > 255 || self.ne > 256;
        // Each length is in range by the checks above; the casts keep the low bytes on purpose.
        let [_, _, lc_hi, lc_lo] = u32::try_from(lc).unwrap_or(0).to_be_bytes();
        let [_, _, ne_hi, ne_lo] = self.ne.to_be_bytes();
        if extended {
            if lc > 0 {
                out.extend_from_slice(&[0, lc_hi, lc_lo]);
                out.extend_from_slice(self.data);
                if self.ne > 0 {
                    out.extend_from_slice(&[ne_hi, ne_lo]);
                }
            } else if self.ne > 0 {
                out.extend_from_slice(&[0, ne_hi, ne_lo]);
            }
        } else {
            if lc > 0 {
                out.push(lc_lo);
                out.extend_from_slice(self.data);
            }
            if self.ne > 0 {
                out.push(ne_lo);
            }
        }
        Ok(())
    }
}

/// A response APDU borrowed from the receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    /// Response data.
    pub data: &'a [u8],
    /// Status word SW1 SW2.
    pub sw: u16,
}

/// Why a response is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Fewer than two bytes: no status word.
    #[error("response of {0} bytes has no status word")]
    NoStatusWord(usize),
    /// A TLV header or length runs past the end of the data.
    #[error("TLV with tag {tag:#04x} runs past the end of the response")]
    TruncatedTlv {
        /// The tag being read.
        tag: u8,
    },
    /// An unsupported TLV length form.
    #[error("TLV with tag {tag:#04x} uses an unsupported length byte {length_byte:#04x}")]
    BadTlvLength {
        /// The tag being read.
        tag: u8,
        /// The first length byte.
        length_byte: u8,
    },
    /// A mandatory TLV is missing.
    #[error("response lacks TLV tag {0:#04x}")]
    MissingTag(u8),
    /// A field has the wrong size or value.
    #[error("response field {field} is invalid: {reason}")]
    BadField {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl<'a> Response<'a> {
    /// Splits `bytes` into data and status word.
    ///
    /// # Errors
    /// [`ResponseError::NoStatusWord`] for fewer than two bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ResponseError> {
        let Some(split) = bytes.len().checked_sub(2) else {
            return Err(ResponseError::NoStatusWord(bytes.len()));
        };
        let (data, sw) = bytes.split_at(split);
        Ok(Self {
            data,
            sw: u16::from_be_bytes([sw[0], sw[1]]),
        })
    }
}

/// Appends a TLV with a one-byte tag and BER length (short, 0x81 or 0x82 form).
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        out.push(0x82);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(value);
}

/// Iterator over `(tag, value)` pairs of a TLV sequence; yields an error and stops on malformed
/// input.
pub struct Tlvs<'a> {
    rest: &'a [u8],
}

/// Iterates over the TLVs in `data`.
#[must_use]
pub fn tlvs(data: &[u8]) -> Tlvs<'_> {
    Tlvs { rest: data }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<(u8, &'a [u8]), ResponseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&tag, rest) = self.rest.split_first()?;
        let result = parse_one(tag, rest);
        match result {
            Ok((value, rest)) => {
                self.rest = rest;
                Some(Ok((tag, value)))
            }
            Err(err) => {
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

fn parse_one(tag: u8, rest: &[u8]) -> Result<(&[u8], &[u8]), ResponseError> {
    let truncated = ResponseError::TruncatedTlv { tag };
    let (&first, rest) = rest.split_first().ok_or(truncated)?;
    let (len, rest) = match first {
        0x00..=0x7F => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first().ok_or(truncated)?;
            (usize::from(len), rest)
        }
        0x82 => match rest {
            [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
            _ => return Err(truncated),
        },
        _ => {
            return Err(ResponseError::BadTlvLength {
                tag,
                length_byte: first,
            });
        }
    };
    if rest.len() < len {
        return Err(truncated);
    }
    Ok(rest.split_at(len))
}

/// The value of the first TLV with `tag`.
///
/// # Errors
/// [`ResponseError::MissingTag`] if absent; a TLV error if the data is malformed before it.
pub fn find_tlv(data: &[u8], tag: u8) -> Result<&[u8], ResponseError> {
    for item in tlvs(data) {
        let (found, value) = item?;
        if found == tag {
            return Ok(value);
        }
    }
    Err(ResponseError::MissingTag(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(command: &Command<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        command.encode_into(&mut out).expect("encodable");
        out
    }

    #[test]
    fn short_and_extended_forms() {
        let base = Command {
            cla: 0x80,
            ins: 0x04,
            p1: 0,
            p2: 0x49,
            data: &[],
            ne: 0,
        };
        assert_eq!(encode(&base), [0x80, 0x04, 0x00, 0x49]);
        assert_eq!(
            encode(&Command { ne: 256, ..base }),
            [0x80, 0x04, 0x00, 0x49, 0x00]
        );
        assert_eq!(
            encode(&Command { ne: 65_536, ..base }),
            [0x80, 0x04, 0x00, 0x49, 0, 0, 0]
        );
        let data = [0xAB; 300];
        let extended = encode(&Command {
            data: &data,
            ne: 65_536,
            ..base
        });
        assert_eq!(&extended[4..7], &[0x00, 0x01, 0x2C]);
        assert_eq!(&extended[extended.len() - 2..], &[0x00, 0x00]);
        assert_eq!(extended.len(), 4 + 3 + 300 + 2);
    }

    #[test]
    fn tlv_lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 1000] {
            let value = alloc::vec![7u8; len];
            let mut out = Vec::new();
            push_tlv(&mut out, 0x41, &value);
            push_tlv(&mut out, 0x42, &[1]);
            assert_eq!(find_tlv(&out, 0x41), Ok(&value[..]));
            assert_eq!(find_tlv(&out, 0x42), Ok(&[1u8][..]));
            assert_eq!(find_tlv(&out, 0x43), Err(ResponseError::MissingTag(0x43)));
        }
    }

    #[test]
    fn truncated_tlvs_are_errors() {
        assert_eq!(
            find_tlv(&[0x41, 0x05, 1, 2], 0x41),
            Err(ResponseError::TruncatedTlv { tag: 0x41 })
        );
        assert_eq!(
            find_tlv(&[0x41, 0x82, 1], 0x41),
            Err(ResponseError::TruncatedTlv { tag: 0x41 })
        );
        assert_eq!(
            find_tlv(&[0x41, 0x83, 1, 1, 1], 0x41),
            Err(ResponseError::BadTlvLength {
                tag: 0x41,
                length_byte: 0x83
            })
        );
        assert_eq!(
            Response::parse(&[0x90]),
            Err(ResponseError::NoStatusWord(1))
        );
    }
}
