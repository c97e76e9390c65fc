//! Wire constants of the SE05x IoT applet (AN12413): instruction, parameter and tag bytes.

/// CLA of applet commands without secure messaging.
pub const CLA: u8 = 0x80;
/// INS WRITE.
pub const INS_WRITE: u8 = 0x01;
/// INS READ.
pub const INS_READ: u8 = 0x02;
/// INS CRYPTO.
pub const INS_CRYPTO: u8 = 0x03;
/// INS MGMT.
pub const INS_MGMT: u8 = 0x04;
/// P1 DEFAULT.
pub const P1_DEFAULT: u8 = 0x00;
/// P1 EC | KEY_PAIR.
pub const P1_EC_KEY_PAIR: u8 = 0x61;
/// P1 SIGNATURE.
pub const P1_SIGNATURE: u8 = 0x0C;
/// P2 DEFAULT.
pub const P2_DEFAULT: u8 = 0x00;
/// P2 SIGN.
pub const P2_SIGN: u8 = 0x09;
/// P2 VERIFY.
pub const P2_VERIFY: u8 = 0x0A;
/// P2 EXIST.
pub const P2_EXIST: u8 = 0x27;
/// P2 DELETE_OBJECT.
pub const P2_DELETE_OBJECT: u8 = 0x28;
/// P2 RANDOM.
pub const P2_RANDOM: u8 = 0x49;
/// TAG_1 .. TAG_5.
pub const TAG_1: u8 = 0x41;
/// TAG_2.
pub const TAG_2: u8 = 0x42;
/// TAG_3.
pub const TAG_3: u8 = 0x43;
/// TAG_4.
pub const TAG_4: u8 = 0x44;
/// TAG_5.
pub const TAG_5: u8 = 0x45;
/// Curve id of NIST P-256.
pub const CURVE_NIST_P256: u8 = 0x03;
/// ECDSA with a SHA-256 digest computed by the host.
pub const SIG_ECDSA_SHA_256: u8 = 0x21;
/// Result byte: success / true.
pub const RESULT_SUCCESS: u8 = 0x01;
/// Result byte: failure / false.
pub const RESULT_FAILURE: u8 = 0x02;
