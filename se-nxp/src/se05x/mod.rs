//! SE05x applet commands (AN12413) over the T=1 link: select, random, EC P-256 key
//! generation, public key read-out, ECDSA sign and verify of host digests, object management;
//! binary files and the object inventory in `objects`.

use alloc::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use crate::apdu::{self, Command, Response};
use crate::atr::Atr;
use crate::status::StatusError;
use crate::t1::{LinkConfig, LinkStats, T1, TransportError};

/// AID of the SE05x IoT applet.
pub const APPLET_AID: [u8; 16] = [
    0xA0, 0x00, 0x00, 0x03, 0x96, 0x54, 0x53, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00,
];

pub mod consts;
mod objects;
mod types;

use consts::*;
pub use objects::{IdListPage, MemoryKind, ObjectFilter};
pub use types::{AppletVersion, ObjectId, P256PublicKey, Se05xError};

/// Driver of one SE05x over I2C.
pub struct Se05x<I2C, D> {
    link: T1<I2C, D>,
    tx: Vec<u8>,
    rx: Vec<u8>,
}

fn result_byte(command: &'static str, value: &[u8]) -> Result<bool, Se05xError> {
    match value {
        [RESULT_SUCCESS] => Ok(true),
        [RESULT_FAILURE] => Ok(false),
        _ => Err(Se05xError::bad_field(
            command,
            "result",
            "not a 1-byte result",
        )),
    }
}

impl<I2C: I2c, D: DelayNs> Se05x<I2C, D> {
    /// A driver over `i2c` with default link parameters (call [`Self::soft_reset`] first).
    pub fn new(i2c: I2C, delay: D) -> Self {
        Self::with_config(i2c, delay, LinkConfig::default())
    }

    /// A driver with explicit link parameters.
    pub fn with_config(i2c: I2C, delay: D, config: LinkConfig) -> Self {
        Self {
            link: T1::with_config(i2c, delay, config),
            tx: Vec::new(),
            rx: Vec::new(),
        }
    }

    /// The T=1 link.
    pub fn link(&self) -> &T1<I2C, D> {
        &self.link
    }

    /// The T=1 link, mutable (e.g. to reach a simulator's controls through `i2c_mut`).
    pub fn link_mut(&mut self) -> &mut T1<I2C, D> {
        &mut self.link
    }

    /// Heap bytes held by the driver's buffers (APDU buffers and the link's frame buffers).
    pub fn buffer_bytes(&self) -> usize {
        self.tx.capacity() + self.rx.capacity() + self.link.buffer_bytes()
    }

    /// Link counters.
    pub fn stats(&self) -> LinkStats {
        self.link.stats()
    }

    /// Interface soft reset; returns the parsed ATR.
    ///
    /// # Errors
    /// [`Se05xError::Transport`] when the link fails.
    pub fn soft_reset(&mut self) -> Result<Atr, Se05xError> {
        self.link
            .soft_reset()
            .map_err(|source| Se05xError::Transport {
                command: "soft reset",
                source,
            })
    }

    /// Sends raw APDU bytes and returns the raw response (data and status word).
    ///
    /// # Errors
    /// [`TransportError`] when the link fails.
    pub fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut response = Vec::new();
        self.link.transceive(apdu, &mut response)?;
        Ok(response)
    }

    /// Runs one command and returns the response data after checking the status word.
    fn run(&mut self, name: &'static str, command: &Command<'_>) -> Result<&[u8], Se05xError> {
        // Thousands of drivers live in one lab process: give back what a large APDU grew.
        for buffer in [&mut self.tx, &mut self.rx] {
            if buffer.capacity() > 1024 {
                buffer.clear();
                buffer.shrink_to(300);
            }
        }
        self.tx.clear();
        command
            .encode_into(&mut self.tx)
            .map_err(|source| Se05xError::Command {
                command: name,
                source,
            })?;
        self.link
            .transceive(&self.tx, &mut self.rx)
            .map_err(|source| Se05xError::Transport {
                command: name,
                source,
            })?;
        let response = Response::parse(&self.rx).map_err(|source| Se05xError::Response {
            command: name,
            source,
        })?;
        StatusError::check(response.sw).map_err(|source| Se05xError::Status {
            command: name,
            source,
        })?;
        Ok(response.data)
    }

    fn run_tag1(&mut self, name: &'static str, command: &Command<'_>) -> Result<&[u8], Se05xError> {
        let data = self.run(name, command)?;
        apdu::find_tlv(data, TAG_1).map_err(|source| Se05xError::Response {
            command: name,
            source,
        })
    }

    /// SELECT the IoT applet; returns its version.
    ///
    /// # Errors
    /// [`Se05xError`] when the applet is missing or the answer is malformed.
    pub fn select(&mut self) -> Result<AppletVersion, Se05xError> {
        const NAME: &str = "select applet";
        let command = Command {
            cla: 0x00,
            ins: 0xA4,
            p1: 0x04,
            p2: 0x00,
            data: &APPLET_AID,
            ne: 256,
        };
        AppletVersion::from_bytes(self.run(NAME, &command)?)
            .ok_or_else(|| Se05xError::bad_field(NAME, "version", "shorter than 7 bytes"))
    }

    /// `len` random bytes from the SE's generator.
    ///
    /// # Errors
    /// [`Se05xError`] on failure or when the SE returns another length.
    pub fn random(&mut self, len: u16) -> Result<Vec<u8>, Se05xError> {
        const NAME: &str = "get random";
        let mut data = Vec::with_capacity(4);
        apdu::push_tlv(&mut data, TAG_1, &len.to_be_bytes());
        let command = Command {
            cla: CLA,
            ins: INS_MGMT,
            p1: P1_DEFAULT,
            p2: P2_RANDOM,
            data: &data,
            ne: 65_536,
        };
        let random = self.run_tag1(NAME, &command)?;
        if random.len() != usize::from(len) {
            return Err(Se05xError::bad_field(
                NAME,
                "random",
                "length differs from request",
            ));
        }
        Ok(random.to_vec())
    }

    /// Generates a NIST P-256 key pair inside the SE under `id`.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn generate_p256(&mut self, id: ObjectId) -> Result<(), Se05xError> {
        let mut data = Vec::with_capacity(9);
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        apdu::push_tlv(&mut data, TAG_2, &[CURVE_NIST_P256]);
        let command = Command {
            cla: CLA,
            ins: INS_WRITE,
            p1: P1_EC_KEY_PAIR,
            p2: P2_DEFAULT,
            data: &data,
            ne: 0,
        };
        self.run("generate P-256 key pair", &command).map(|_| ())
    }

    /// Reads the public key of the key pair `id` as an uncompressed SEC1 point.
    ///
    /// # Errors
    /// [`Se05xError`] on failure or when the object holds no P-256 public key.
    pub fn read_public_key(&mut self, id: ObjectId) -> Result<P256PublicKey, Se05xError> {
        const NAME: &str = "read public key";
        let mut data = Vec::with_capacity(6);
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        let command = Command {
            cla: CLA,
            ins: INS_READ,
            p1: P1_DEFAULT,
            p2: P2_DEFAULT,
            data: &data,
            ne: 256,
        };
        let point = self.run_tag1(NAME, &command)?;
        match P256PublicKey::try_from(point) {
            Ok(point) if point[0] == 0x04 => Ok(point),
            _ => Err(Se05xError::bad_field(
                NAME,
                "public key",
                "not an uncompressed P-256 point",
            )),
        }
    }

    /// Signs a SHA-256 digest computed by the host with key `id`; returns a DER ECDSA signature.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn sign_sha256_digest(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, Se05xError> {
        const NAME: &str = "ECDSA sign";
        let mut data = Vec::with_capacity(6 + 3 + 34);
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        apdu::push_tlv(&mut data, TAG_2, &[SIG_ECDSA_SHA_256]);
        apdu::push_tlv(&mut data, TAG_3, digest);
        let command = Command {
            cla: CLA,
            ins: INS_CRYPTO,
            p1: P1_SIGNATURE,
            p2: P2_SIGN,
            data: &data,
            ne: 256,
        };
        let signature = self.run_tag1(NAME, &command)?;
        if signature.first() != Some(&0x30) || signature.len() < 8 || signature.len() > 72 {
            return Err(Se05xError::bad_field(
                NAME,
                "signature",
                "not a DER ECDSA signature",
            ));
        }
        Ok(signature.to_vec())
    }

    /// Verifies a DER ECDSA signature of a SHA-256 digest with key `id`, inside the SE.
    ///
    /// # Errors
    /// [`Se05xError`] on failure (an invalid signature is `Ok(false)`).
    pub fn verify(
        &mut self,
        id: ObjectId,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<bool, Se05xError> {
        const NAME: &str = "ECDSA verify";
        let mut data = Vec::with_capacity(6 + 3 + 34 + 2 + signature.len());
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        apdu::push_tlv(&mut data, TAG_2, &[SIG_ECDSA_SHA_256]);
        apdu::push_tlv(&mut data, TAG_3, digest);
        apdu::push_tlv(&mut data, TAG_5, signature);
        let command = Command {
            cla: CLA,
            ins: INS_CRYPTO,
            p1: P1_SIGNATURE,
            p2: P2_VERIFY,
            data: &data,
            ne: 3,
        };
        let result = self.run_tag1(NAME, &command)?;
        result_byte(NAME, result)
    }

    /// Whether an object `id` exists.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn exists(&mut self, id: ObjectId) -> Result<bool, Se05xError> {
        const NAME: &str = "check object exists";
        let mut data = Vec::with_capacity(6);
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        let command = Command {
            cla: CLA,
            ins: INS_MGMT,
            p1: P1_DEFAULT,
            p2: P2_EXIST,
            data: &data,
            ne: 256,
        };
        let result = self.run_tag1(NAME, &command)?;
        result_byte(NAME, result)
    }

    /// Deletes object `id`.
    ///
    /// # Errors
    /// [`Se05xError`] on failure ([`StatusError::NotFound`] when absent).
    pub fn delete(&mut self, id: ObjectId) -> Result<(), Se05xError> {
        let mut data = Vec::with_capacity(6);
        apdu::push_tlv(&mut data, TAG_1, &id.0.to_be_bytes());
        let command = Command {
            cla: CLA,
            ins: INS_MGMT,
            p1: P1_DEFAULT,
            p2: P2_DELETE_OBJECT,
            data: &data,
            ne: 0,
        };
        self.run("delete object", &command).map(|_| ())
    }
}
