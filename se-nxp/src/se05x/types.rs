//! Value types of the applet interface: object ids, the applet version, public keys and the
//! command error.

use core::fmt;

use crate::apdu::{CommandError, ResponseError};
use crate::status::StatusError;
use crate::t1::TransportError;

/// Identifier of a secure object (4 bytes on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

/// Uncompressed SEC1 P-256 point: `04 || X || Y`.
pub type P256PublicKey = [u8; 65];

/// Applet version from SELECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppletVersion {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Patch version.
    pub patch: u8,
    /// Applet configuration (feature bits).
    pub config: u16,
    /// Secure box version.
    pub secure_box: u16,
}

impl AppletVersion {
    /// Parses the 7 version bytes SELECT and GetVersion answer (more bytes are ignored: later
    /// applets append fields).
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match *bytes {
            [major, minor, patch, c1, c2, s1, s2, ..] => Some(Self {
                major,
                minor,
                patch,
                config: u16::from_be_bytes([c1, c2]),
                secure_box: u16::from_be_bytes([s1, s2]),
            }),
            _ => None,
        }
    }
}

/// A failed SE05x command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Se05xError {
    /// The link failed.
    #[error("{command}: {source}")]
    Transport {
        /// Command being run.
        command: &'static str,
        /// Link error.
        source: TransportError,
    },
    /// The SE answered with an error status word.
    #[error("{command} refused by the secure element: {source}")]
    Status {
        /// Command being run.
        command: &'static str,
        /// Status word.
        source: StatusError,
    },
    /// The SE's answer was malformed.
    #[error("{command}: malformed response: {source}")]
    Response {
        /// Command being run.
        command: &'static str,
        /// What is wrong.
        source: ResponseError,
    },
    /// The command could not be encoded.
    #[error("{command}: {source}")]
    Command {
        /// Command being run.
        command: &'static str,
        /// What is wrong.
        source: CommandError,
    },
}

impl Se05xError {
    /// `command`'s answer had a field that is not what the command returns.
    pub(crate) fn bad_field(
        command: &'static str,
        field: &'static str,
        reason: &'static str,
    ) -> Self {
        Self::Response {
            command,
            source: ResponseError::BadField { field, reason },
        }
    }
}
