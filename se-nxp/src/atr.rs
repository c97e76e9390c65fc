//! Answer to reset of the SE05x T=1 over I2C interface (UM11225), returned by a soft reset.
//!
//! Layout: `PVER VID[5] DLLP_LEN DLLP(BWT[2] IFSC[2] ..) PLID PLP_LEN PLP(MCF[2] CONFIG MPOT
//! RFU[3] SEGT[2] WUT[2] ..) HB_LEN HB`. Multi-byte numbers are big-endian.

use alloc::vec::Vec;

/// Parsed ATR: the link parameters the driver uses, and the rest for diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atr {
    /// Protocol version.
    pub protocol_version: u8,
    /// Vendor id (NXP: `A0 00 00 03 96`).
    pub vendor_id: [u8; 5],
    /// Block waiting time in milliseconds.
    pub bwt_ms: u16,
    /// Largest information field the SE accepts (IFSC).
    pub ifsc: u16,
    /// Physical layer id (2: I2C).
    pub physical_layer: u8,
    /// Maximum I2C clock in kHz.
    pub max_clock_khz: u16,
    /// Configuration byte of the physical layer.
    pub config: u8,
    /// Minimum polling time in milliseconds.
    pub mpot_ms: u8,
    /// Secure element guard time in microseconds.
    pub segt_us: u16,
    /// Wake-up time in microseconds.
    pub wut_us: u16,
    /// Historical bytes (e.g. `JCOP4 ATPO`). Chip-supplied: sanitize before display.
    pub historical: Vec<u8>,
}

/// Why bytes are not a valid ATR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AtrError {
    /// Ran out of bytes while reading a field.
    #[error("ATR of {len} bytes ends inside the {field} field")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Total ATR length.
        len: usize,
    },
    /// A length byte announces less than the fields it must contain.
    #[error("ATR {field} length {len} is shorter than its {min} mandatory bytes")]
    ShortSection {
        /// Section being read.
        field: &'static str,
        /// Announced length.
        len: usize,
        /// Bytes the section needs.
        min: usize,
    },
}

struct Reader<'a> {
    rest: &'a [u8],
    total: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], AtrError> {
        if self.rest.len() < n {
            return Err(AtrError::Truncated {
                field,
                len: self.total,
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, AtrError> {
        Ok(self.take(1, field)?[0])
    }

    fn section(&mut self, field: &'static str, min: usize) -> Result<&'a [u8], AtrError> {
        let len = usize::from(self.byte(field)?);
        if len < min {
            return Err(AtrError::ShortSection { field, len, min });
        }
        self.take(len, field)
    }
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

impl Atr {
    /// Parses an ATR; trailing bytes after the historical bytes are ignored.
    ///
    /// # Errors
    /// [`AtrError`] when a field is missing.
    pub fn parse(bytes: &[u8]) -> Result<Self, AtrError> {
        let mut reader = Reader {
            rest: bytes,
            total: bytes.len(),
        };
        let protocol_version = reader.byte("PVER")?;
        let mut vendor_id = [0; 5];
        vendor_id.copy_from_slice(reader.take(5, "VID")?);
        let dllp = reader.section("DLLP", 4)?;
        let physical_layer = reader.byte("PLID")?;
        let plp = reader.section("PLP", 11)?;
        let historical = reader.section("HB", 0)?.to_vec();
        Ok(Self {
            protocol_version,
            vendor_id,
            bwt_ms: be16(dllp, 0),
            ifsc: be16(dllp, 2),
            physical_layer,
            max_clock_khz: be16(plp, 0),
            config: plp[2],
            mpot_ms: plp[3],
            segt_us: be16(plp, 7),
            wut_us: be16(plp, 9),
            historical,
        })
    }

    /// Encodes the ATR in the chip's layout (used by the simulator).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.historical.len());
        out.push(self.protocol_version);
        out.extend_from_slice(&self.vendor_id);
        out.push(4);
        out.extend_from_slice(&self.bwt_ms.to_be_bytes());
        out.extend_from_slice(&self.ifsc.to_be_bytes());
        out.push(self.physical_layer);
        out.push(11);
        out.extend_from_slice(&self.max_clock_khz.to_be_bytes());
        out.push(self.config);
        out.push(self.mpot_ms);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&self.segt_us.to_be_bytes());
        out.extend_from_slice(&self.wut_us.to_be_bytes());
        // Historical bytes are at most 255 by construction of the parser; truncate otherwise.
        let hb = &self.historical[..self.historical.len().min(255)];
        out.push(u8::try_from(hb.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(hb);
        out
    }

    /// The ATR of an SE050 with JCOP4: BWT 1000 ms, IFSC 254, MPOT 1 ms, "JCOP4 ATPO".
    #[must_use]
    pub fn jcop4() -> Self {
        Self {
            protocol_version: 0,
            vendor_id: [0xA0, 0x00, 0x00, 0x03, 0x96],
            bwt_ms: 1000,
            ifsc: 254,
            physical_layer: 2,
            max_clock_khz: 1000,
            config: 0x08,
            mpot_ms: 1,
            segt_us: 100,
            wut_us: 0,
            historical: b"JCOP4 ATPO".to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JCOP4_ATR: [u8; 35] = [
        0x00, 0xA0, 0x00, 0x00, 0x03, 0x96, 0x04, 0x03, 0xE8, 0x00, 0xFE, 0x02, 0x0B, 0x03, 0xE8,
        0x08, 0x01, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x0A, b'J', b'C', b'O', b'P', b'4',
        b' ', b'A', b'T', b'P', b'O',
    ];

    #[test]
    fn parses_the_jcop4_atr() {
        let atr = Atr::parse(&JCOP4_ATR).expect("valid ATR");
        assert_eq!(atr, Atr::jcop4());
        assert_eq!(atr.encode(), JCOP4_ATR);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for len in 0..JCOP4_ATR.len() {
            assert!(
                Atr::parse(&JCOP4_ATR[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
    }
}
