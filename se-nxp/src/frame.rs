//! T=1 over I2C block frames (UM11225): `NAD PCB LEN INF[LEN] CRC_lo CRC_hi`.
//!
//! Encoding and decoding of single blocks, shared by the driver and the simulator. Decoding
//! never panics: every malformed input is a [`FrameError`].

use alloc::vec::Vec;

use crate::crc::{crc16_x25, crc16_x25_wire};

/// Node address byte of frames sent by the host to the secure element.
pub const NAD_HOST_TO_SE: u8 = 0x5A;
/// Node address byte of frames sent by the secure element to the host.
pub const NAD_SE_TO_HOST: u8 = 0xA5;
/// `NAD PCB LEN`.
pub const HEADER_LEN: usize = 3;
/// Two CRC bytes, least significant first.
pub const CRC_LEN: usize = 2;
/// Largest information field a single block can carry (LEN is one byte; 255 is reserved).
pub const MAX_INF_LEN: usize = 254;
/// Largest complete frame.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_INF_LEN + CRC_LEN;

/// Supervisory block types (low bits of an S-block PCB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SBlockKind {
    /// Reset the block sequence numbers of both sides.
    Resynch,
    /// Information field size negotiation.
    Ifs,
    /// Abort a chain.
    Abort,
    /// Waiting time extension: the SE asks for more time.
    Wtx,
    /// End of the APDU session (the SE may go to sleep).
    EndApduSession,
    /// Reset the whole chip.
    ChipReset,
    /// Ask for the ATR again.
    GetAtr,
    /// Interface soft reset, answered with the ATR.
    SoftReset,
}

impl SBlockKind {
    const fn code(self) -> u8 {
        match self {
            Self::Resynch => 0x00,
            Self::Ifs => 0x01,
            Self::Abort => 0x02,
            Self::Wtx => 0x03,
            Self::EndApduSession => 0x05,
            Self::ChipReset => 0x06,
            Self::GetAtr => 0x07,
            Self::SoftReset => 0x0F,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x00 => Self::Resynch,
            0x01 => Self::Ifs,
            0x02 => Self::Abort,
            0x03 => Self::Wtx,
            0x05 => Self::EndApduSession,
            0x06 => Self::ChipReset,
            0x07 => Self::GetAtr,
            0x0F => Self::SoftReset,
            _ => return None,
        })
    }
}

/// Error indication of an R-block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RBlockError {
    /// Acknowledgement (chaining) or plain retransmission request.
    None,
    /// The last block arrived with a bad CRC.
    Crc,
    /// The last block was lost or malformed otherwise.
    Other,
}

/// Protocol control byte, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pcb {
    /// Information block: send sequence number N(S) and the "more data" chaining bit.
    I {
        /// N(S), the send sequence bit.
        ns: bool,
        /// M: more blocks of this APDU follow.
        more: bool,
    },
    /// Receive-ready block: N(R) is the N(S) expected next.
    R {
        /// N(R).
        nr: bool,
        /// Error indication.
        error: RBlockError,
    },
    /// Supervisory block, a request or its response.
    S {
        /// Which supervisory function.
        kind: SBlockKind,
        /// `true` for a response (0xE0 | code), `false` for a request (0xC0 | code).
        response: bool,
    },
}

impl Pcb {
    /// The PCB byte.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::I { ns, more } => (if ns { 0x40 } else { 0 }) | (if more { 0x20 } else { 0 }),
            Self::R { nr, error } => {
                let err = match error {
                    RBlockError::None => 0,
                    RBlockError::Crc => 1,
                    RBlockError::Other => 2,
                };
                0x80 | (if nr { 0x10 } else { 0 }) | err
            }
            Self::S { kind, response } => 0xC0 | (if response { 0x20 } else { 0 }) | kind.code(),
        }
    }

    /// Decodes a PCB byte; reserved bit patterns are an error.
    ///
    /// # Errors
    /// [`FrameError::Pcb`] for a byte that is no valid I-, R- or S-block PCB.
    pub const fn parse(byte: u8) -> Result<Self, FrameError> {
        if byte & 0x80 == 0 {
            if byte & 0x1F != 0 {
                return Err(FrameError::Pcb(byte));
            }
            return Ok(Self::I {
                ns: byte & 0x40 != 0,
                more: byte & 0x20 != 0,
            });
        }
        if byte & 0x40 == 0 {
            if byte & 0x2C != 0 {
                return Err(FrameError::Pcb(byte));
            }
            let error = match byte & 0x03 {
                0 => RBlockError::None,
                1 => RBlockError::Crc,
                2 => RBlockError::Other,
                _ => return Err(FrameError::Pcb(byte)),
            };
            return Ok(Self::R {
                nr: byte & 0x10 != 0,
                error,
            });
        }
        match SBlockKind::from_code(byte & 0x1F) {
            Some(kind) => Ok(Self::S {
                kind,
                response: byte & 0x20 != 0,
            }),
            None => Err(FrameError::Pcb(byte)),
        }
    }
}

/// Why bytes are not a valid frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than header and CRC.
    #[error("frame of {0} bytes is shorter than the 5-byte minimum")]
    TooShort(usize),
    /// LEN disagrees with the number of bytes.
    #[error("frame LEN says {declared} information bytes but {actual} were present")]
    LengthMismatch {
        /// LEN field.
        declared: usize,
        /// Bytes actually present between header and CRC.
        actual: usize,
    },
    /// LEN above the 254-byte maximum.
    #[error("information field of {0} bytes exceeds the 254-byte maximum")]
    InfTooLong(usize),
    /// CRC mismatch.
    #[error("frame CRC {found:#06x} does not match the computed {expected:#06x}")]
    Crc {
        /// CRC computed over the received bytes.
        expected: u16,
        /// CRC carried by the frame.
        found: u16,
    },
    /// Reserved PCB pattern.
    #[error("invalid protocol control byte {0:#04x}")]
    Pcb(u8),
    /// NAD other than the one expected for this direction.
    #[error("unexpected node address {0:#04x}")]
    Nad(u8),
}

/// A decoded frame borrowing its information field from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Node address.
    pub nad: u8,
    /// Protocol control.
    pub pcb: Pcb,
    /// Information field.
    pub inf: &'a [u8],
}

/// Appends one encoded frame to `out`.
///
/// # Errors
/// [`FrameError::InfTooLong`] when `inf` is longer than [`MAX_INF_LEN`].
pub fn encode_into(nad: u8, pcb: Pcb, inf: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
    let len = u8::try_from(inf.len())
        .ok()
        .filter(|&len| usize::from(len) <= MAX_INF_LEN)
        .ok_or(FrameError::InfTooLong(inf.len()))?;
    let start = out.len();
    out.reserve(HEADER_LEN + inf.len() + CRC_LEN);
    out.extend_from_slice(&[nad, pcb.to_byte(), len]);
    out.extend_from_slice(inf);
    let crc = crc16_x25_wire(&out[start..]);
    out.extend_from_slice(&crc);
    Ok(())
}

/// Encodes one frame into a new vector.
///
/// # Errors
/// [`FrameError::InfTooLong`] when `inf` is longer than [`MAX_INF_LEN`].
pub fn encode(nad: u8, pcb: Pcb, inf: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::with_capacity(HEADER_LEN + inf.len() + CRC_LEN);
    encode_into(nad, pcb, inf, &mut out)?;
    Ok(out)
}

/// Decodes exactly one frame from `bytes` (header, information field and CRC, nothing more).
///
/// # Errors
/// Any [`FrameError`] except [`FrameError::Nad`]: the caller checks the direction.
pub fn decode(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
    if bytes.len() < HEADER_LEN + CRC_LEN {
        return Err(FrameError::TooShort(bytes.len()));
    }
    let declared = usize::from(bytes[2]);
    if declared > MAX_INF_LEN {
        return Err(FrameError::InfTooLong(declared));
    }
    let actual = bytes.len() - HEADER_LEN - CRC_LEN;
    if declared != actual {
        return Err(FrameError::LengthMismatch { declared, actual });
    }
    let (body, crc) = bytes.split_at(HEADER_LEN + declared);
    let expected = crc16_x25(body);
    let found = u16::from_le_bytes([crc[0], crc[1]]);
    if expected != found {
        return Err(FrameError::Crc { expected, found });
    }
    Ok(Frame {
        nad: bytes[0],
        pcb: Pcb::parse(bytes[1])?,
        inf: &body[HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pcb_byte_parses_or_errors_and_valid_ones_round_trip() {
        let mut valid = 0;
        for byte in 0..=u8::MAX {
            if let Ok(pcb) = Pcb::parse(byte) {
                assert_eq!(pcb.to_byte(), byte, "pcb {byte:#04x}");
                valid += 1;
            }
        }
        // 4 I-blocks, 6 R-blocks, 8 S-kinds x request/response.
        assert_eq!(valid, 4 + 6 + 16);
    }

    #[test]
    fn soft_reset_request_matches_the_reference_vector() {
        let frame = encode(
            NAD_HOST_TO_SE,
            Pcb::S {
                kind: SBlockKind::SoftReset,
                response: false,
            },
            &[],
        )
        .expect("empty INF fits");
        assert_eq!(frame, [0x5A, 0xCF, 0x00, 0x37, 0x7F]);
    }

    #[test]
    fn resynch_vectors_encode_and_decode() {
        let request = encode(
            NAD_HOST_TO_SE,
            Pcb::S {
                kind: SBlockKind::Resynch,
                response: false,
            },
            &[],
        )
        .expect("fits");
        assert_eq!(request, [0x5A, 0xC0, 0x00, 0xFF, 0xFC]);
        let response = decode(&[0xA5, 0xE0, 0x00, 0x3F, 0x19]).expect("valid vector");
        assert_eq!(response.nad, NAD_SE_TO_HOST);
        assert_eq!(
            response.pcb,
            Pcb::S {
                kind: SBlockKind::Resynch,
                response: true
            }
        );
        assert!(response.inf.is_empty());
    }

    #[test]
    fn decode_rejects_bad_crc_length_and_size() {
        assert_eq!(
            decode(&[0xA5, 0xE0, 0x00, 0x3F]),
            Err(FrameError::TooShort(4))
        );
        assert_eq!(
            decode(&[0xA5, 0xE0, 0x01, 0x3F, 0x19]),
            Err(FrameError::LengthMismatch {
                declared: 1,
                actual: 0
            })
        );
        assert!(matches!(
            decode(&[0xA5, 0xE0, 0x00, 0x3F, 0x18]),
            Err(FrameError::Crc { .. })
        ));
        assert_eq!(
            encode(
                NAD_HOST_TO_SE,
                Pcb::I {
                    ns: false,
                    more: false
                },
                &[0; 255]
            ),
            Err(FrameError::InfTooLong(255))
        );
    }
}
