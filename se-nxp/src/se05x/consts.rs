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
/// INS flag: the object is transient (its value lives in RAM).
pub const INS_TRANSIENT: u8 = 0x80;
/// INS flag: the object is an authentication object.
pub const INS_AUTH_OBJECT: u8 = 0x40;
/// INS flag: the answer is attested (signed by an attestation key).
pub const INS_ATTEST: u8 = 0x20;
/// P1 BINARY (binary file objects).
pub const P1_BINARY: u8 = 0x06;
/// P2 SIZE.
pub const P2_SIZE: u8 = 0x07;
/// P2 VERSION.
pub const P2_VERSION: u8 = 0x20;
/// P2 MEMORY.
pub const P2_MEMORY: u8 = 0x22;
/// P2 LIST.
pub const P2_LIST: u8 = 0x25;
/// TAG_POLICY.
pub const TAG_POLICY: u8 = 0x11;
/// Secure object type: EC key pair.
pub const OBJECT_TYPE_EC_KEY_PAIR: u8 = 0x01;
/// Secure object type: binary file.
pub const OBJECT_TYPE_BINARY_FILE: u8 = 0x0B;
/// ReadIDList filter: every type.
pub const OBJECT_FILTER_ALL: u8 = 0xFF;
/// More indicator: this answer holds the last identifiers.
pub const MORE_NO: u8 = 0x01;
/// More indicator: more identifiers follow at a higher offset.
pub const MORE_YES: u8 = 0x02;
/// Memory type: transient, cleared on reset.
pub const MEMORY_TRANSIENT_RESET: u8 = 0x01;
/// Memory type: transient, cleared on deselect.
pub const MEMORY_TRANSIENT_DESELECT: u8 = 0x02;
/// Memory type: persistent.
pub const MEMORY_PERSISTENT: u8 = 0x03;
