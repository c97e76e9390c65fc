//! Errors of the T=1 link and the reasons a block is exchanged again.

use embedded_hal::i2c::ErrorKind;

use crate::atr::AtrError;
use crate::frame::FrameError;

/// Why an exchange with the SE failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The I2C bus reported an error other than the busy NACK.
    #[error("I2C {operation} to the secure element failed: {kind:?}")]
    Bus {
        /// `read` or `write`.
        operation: &'static str,
        /// Kind reported by the bus driver.
        kind: ErrorKind,
    },
    /// The SE stayed busy longer than the block waiting time.
    #[error(
        "secure element stayed busy for {waited_us} us during {operation} (bound {bound_us} us)"
    )]
    Timeout {
        /// `read` or `write`.
        operation: &'static str,
        /// Time waited.
        waited_us: u64,
        /// The bound (BWT, extended by WTX where granted).
        bound_us: u64,
    },
    /// One block could not be exchanged within the retry budget.
    #[error("gave up on a {block} after {attempts} attempts (last problem: {last})")]
    RetriesExhausted {
        /// What was being exchanged.
        block: &'static str,
        /// Attempts made.
        attempts: u8,
        /// Last problem seen.
        last: BlockProblem,
    },
    /// The SE asked for more waiting-time extensions than allowed.
    #[error("secure element asked for more than {0} waiting-time extensions for one block")]
    TooManyWtx(u8),
    /// The response exceeds [`LinkConfig::max_response_len`].
    #[error("response longer than {0} bytes")]
    ResponseTooLong(usize),
    /// The SE answered an IFS request with another size.
    #[error("secure element did not confirm the information field size {0}")]
    IfsNotConfirmed(u8),
    /// The soft reset answer carried no valid ATR.
    #[error("soft reset answer: {0}")]
    Atr(AtrError),
    /// A frame could not be built (information field too long).
    #[error("building a frame: {0}")]
    Frame(FrameError),
}

/// Why a block had to be exchanged again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockProblem {
    /// The frame's CRC did not match.
    #[error("bad CRC")]
    BadCrc,
    /// The frame's length or PCB was invalid.
    #[error("malformed frame")]
    Malformed,
    /// The frame did not come from the SE (NAD other than 0xA5).
    #[error("wrong node address")]
    WrongNodeAddress,
    /// The SE stopped answering in the middle of a frame.
    #[error("frame cut short")]
    CutShort,
    /// Nothing arrived within the block waiting time.
    #[error("no answer within BWT")]
    Silent,
    /// The other side asked for the block again.
    #[error("retransmission requested")]
    RetransmissionRequested,
    /// A block that does not fit the exchange.
    #[error("unexpected block")]
    UnexpectedBlock,
}

impl TransportError {
    pub(super) fn restartable(self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::RetriesExhausted { .. } | Self::TooManyWtx(_)
        )
    }
}
