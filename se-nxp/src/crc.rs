//! CRC-16/X-25, the frame check sequence of T=1 over I2C (UM11225).
//!
//! Reflected polynomial 0x8408, initial value 0xFFFF, final XOR 0xFFFF. On the wire the CRC is
//! sent least significant byte first.

/// Computes CRC-16/X-25 over `bytes`.
#[must_use]
pub fn crc16_x25(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
        }
    }
    crc ^ 0xFFFF
}

/// The two CRC bytes as they go on the wire: least significant byte first.
#[must_use]
pub fn crc16_x25_wire(bytes: &[u8]) -> [u8; 2] {
    crc16_x25(bytes).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_matches_the_catalogue() {
        assert_eq!(crc16_x25(b"123456789"), 0x906E);
    }

    #[test]
    fn soft_reset_frame_carries_its_crc_lsb_first() {
        // Reference vector: soft reset request 5A CF 00 | 37 7F.
        assert_eq!(crc16_x25_wire(&[0x5A, 0xCF, 0x00]), [0x37, 0x7F]);
    }

    #[test]
    fn resynch_response_vector() {
        assert_eq!(crc16_x25_wire(&[0xA5, 0xE0, 0x00]), [0x3F, 0x19]);
    }
}
