//! T=1 over I2C (UM11225): block exchange with chaining both ways, retransmission of lost or
//! corrupted blocks, waiting-time extensions, busy polling bounded by the block waiting time.
//!
//! Every wait is bounded: a read of one block polls at most BWT (times the WTX multiplier the
//! SE asked for); every block is retried at most [`LinkConfig::max_retries`] times; a failed
//! exchange is restarted once after a RESYNCH. So an APDU either completes or ends in a
//! [`TransportError`] in bounded time, whatever bytes the chip sends.

use alloc::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{Error as _, ErrorKind, I2c, NoAcknowledgeSource};

use crate::frame::{
    self, CRC_LEN, FrameError, HEADER_LEN, MAX_INF_LEN, NAD_HOST_TO_SE, NAD_SE_TO_HOST, Pcb,
    RBlockError, SBlockKind,
};

/// 7-bit I2C address of the SE05x.
pub const SE05X_I2C_ADDRESS: u8 = 0x48;

/// Link parameters. Defaults are those of the SE050 ATR; a soft reset replaces them with the
/// values the chip announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// 7-bit I2C address.
    pub address: u8,
    /// Block waiting time: longest wait for one block, in milliseconds.
    pub bwt_ms: u32,
    /// Minimum polling time between two reads while the SE is busy, in microseconds.
    pub mpot_us: u32,
    /// Largest information field the SE accepts (IFSC).
    pub ifsc: usize,
    /// Retransmissions of one block before the exchange is given up.
    pub max_retries: u8,
    /// Waiting-time extensions honoured while waiting for one block.
    pub max_wtx: u8,
    /// Largest response accepted (data and status word).
    pub max_response_len: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            address: SE05X_I2C_ADDRESS,
            bwt_ms: 1000,
            mpot_us: 1000,
            ifsc: MAX_INF_LEN,
            max_retries: 3,
            max_wtx: 8,
            max_response_len: 65_538,
        }
    }
}

impl LinkConfig {
    /// Longest time one exchange of an APDU can take, in microseconds, given the number of
    /// blocks in each direction. Used to state (and test) the bound.
    #[must_use]
    pub fn worst_case_us(&self, command_len: usize, response_len: usize) -> u64 {
        let ifsc = self.ifsc.clamp(1, MAX_INF_LEN);
        let blocks = command_len.div_ceil(ifsc).max(1) + response_len.div_ceil(MAX_INF_LEN).max(1);
        let bwt_us = u64::from(self.bwt_ms) * 1000;
        // Per block: each try waits up to BWT to write and BWT to read; WTX adds multiplier x BWT
        // (the multiplier is one byte); plus a RESYNCH and one restart of the whole exchange.
        let per_block = u64::from(self.max_retries) + 1;
        let wtx = u64::from(self.max_wtx) * 255 * bwt_us;
        let one_try = blocks as u64 * (per_block * 2 * bwt_us + wtx);
        2 * one_try + 2 * (per_block * 2 * bwt_us)
    }
}

/// Counters of what the link has been through; cheap to keep, useful in the lab's views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames written.
    pub frames_sent: u64,
    /// Valid frames read.
    pub frames_received: u64,
    /// Blocks sent again or re-requested after a CRC error, loss or timeout.
    pub retransmissions: u64,
    /// Waiting-time extensions answered.
    pub wtx: u64,
    /// Reads or writes the SE refused while busy.
    pub busy_polls: u64,
    /// RESYNCH exchanges.
    pub resynchs: u64,
    /// Total time spent in delays, in microseconds.
    pub waited_us: u64,
}

/// What one read produced.
enum Incoming {
    /// A valid frame; its information field is in `T1::rx[HEADER_LEN..HEADER_LEN + len]`.
    Block(Pcb, usize),
    /// Bytes arrived but were not a valid frame.
    Corrupt(BlockProblem),
    /// Nothing arrived within the waiting time.
    Silent,
}

/// The T=1 over I2C link to one SE.
pub struct T1<I2C, D> {
    i2c: I2C,
    delay: D,
    config: LinkConfig,
    /// N(S) of the next I-block the host sends.
    ns: bool,
    /// N(S) expected in the next I-block from the SE.
    nr: bool,
    /// Last block sent that a retransmission request repeats.
    last_sent: Vec<u8>,
    /// Receive buffer for one frame.
    rx: Vec<u8>,
    stats: LinkStats,
}

impl<I2C: I2c, D: DelayNs> T1<I2C, D> {
    /// A link over `i2c` using `delay` for polling, with default parameters.
    pub fn new(i2c: I2C, delay: D) -> Self {
        Self::with_config(i2c, delay, LinkConfig::default())
    }

    /// A link with explicit parameters.
    pub fn with_config(i2c: I2C, delay: D, config: LinkConfig) -> Self {
        Self {
            i2c,
            delay,
            config,
            ns: false,
            nr: false,
            last_sent: Vec::new(),
            rx: Vec::new(),
            stats: LinkStats::default(),
        }
    }

    /// Current parameters.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Counters since creation.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Heap bytes held by the link's buffers.
    pub fn buffer_bytes(&self) -> usize {
        self.last_sent.capacity() + self.rx.capacity()
    }

    /// The bus, e.g. to reach a simulator's controls.
    pub fn i2c_mut(&mut self) -> &mut I2C {
        &mut self.i2c
    }

    /// Gives the bus and the delay back.
    pub fn release(self) -> (I2C, D) {
        (self.i2c, self.delay)
    }

    fn bwt_us(&self) -> u64 {
        u64::from(self.config.bwt_ms.max(1)) * 1000
    }

    fn poll_wait(&mut self, waited: &mut u64) {
        let mpot = self.config.mpot_us.max(1);
        self.delay.delay_us(mpot);
        *waited += u64::from(mpot);
        self.stats.waited_us += u64::from(mpot);
        self.stats.busy_polls += 1;
    }

    fn is_busy(kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address | NoAcknowledgeSource::Unknown)
        )
    }

    /// Writes `bytes` as one I2C write, polling while the SE NACKs its address.
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let bound_us = self.bwt_us();
        let mut waited = 0;
        loop {
            match self.i2c.write(self.config.address, bytes) {
                Ok(()) => {
                    self.stats.frames_sent += 1;
                    return Ok(());
                }
                Err(err) if Self::is_busy(err.kind()) && waited < bound_us => {
                    self.poll_wait(&mut waited);
                }
                Err(err) if Self::is_busy(err.kind()) => {
                    return Err(TransportError::Timeout {
                        operation: "write",
                        waited_us: waited,
                        bound_us,
                    });
                }
                Err(err) => {
                    return Err(TransportError::Bus {
                        operation: "write",
                        kind: err.kind(),
                    });
                }
            }
        }
    }

    /// Encodes and sends a block, remembering it for retransmission.
    fn send_block(&mut self, pcb: Pcb, inf: &[u8]) -> Result<(), TransportError> {
        self.last_sent.clear();
        frame::encode_into(NAD_HOST_TO_SE, pcb, inf, &mut self.last_sent)
            .map_err(TransportError::Frame)?;
        let bytes = core::mem::take(&mut self.last_sent);
        let result = self.write_raw(&bytes);
        self.last_sent = bytes;
        result
    }

    /// Sends a block that is not remembered (R-blocks asking for retransmission, WTX answers).
    fn send_control(&mut self, pcb: Pcb, inf: &[u8]) -> Result<(), TransportError> {
        let mut out = Vec::with_capacity(HEADER_LEN + inf.len() + CRC_LEN);
        frame::encode_into(NAD_HOST_TO_SE, pcb, inf, &mut out).map_err(TransportError::Frame)?;
        self.write_raw(&out)
    }

    fn resend_last(&mut self) -> Result<(), TransportError> {
        self.stats.retransmissions += 1;
        let bytes = core::mem::take(&mut self.last_sent);
        let result = self.write_raw(&bytes);
        self.last_sent = bytes;
        result
    }

    /// Reads one frame: the header, then the information field and CRC. Polls while busy for
    /// at most `bound_us`.
    fn receive(&mut self, bound_us: u64) -> Result<Incoming, TransportError> {
        let mut header = [0u8; HEADER_LEN];
        let mut waited = 0;
        loop {
            match self.i2c.read(self.config.address, &mut header) {
                Ok(()) => break,
                Err(err) if Self::is_busy(err.kind()) => {
                    if waited >= bound_us {
                        return Ok(Incoming::Silent);
                    }
                    self.poll_wait(&mut waited);
                }
                Err(err) => {
                    return Err(TransportError::Bus {
                        operation: "read",
                        kind: err.kind(),
                    });
                }
            }
        }
        if header[0] != NAD_SE_TO_HOST {
            return Ok(Incoming::Corrupt(BlockProblem::WrongNodeAddress));
        }
        let len = usize::from(header[2]);
        if len > MAX_INF_LEN {
            return Ok(Incoming::Corrupt(BlockProblem::Malformed));
        }
        self.rx.clear();
        self.rx.extend_from_slice(&header);
        self.rx.resize(HEADER_LEN + len + CRC_LEN, 0);
        match self
            .i2c
            .read(self.config.address, &mut self.rx[HEADER_LEN..])
        {
            Ok(()) => {}
            Err(err) if Self::is_busy(err.kind()) => {
                return Ok(Incoming::Corrupt(BlockProblem::CutShort));
            }
            Err(err) => {
                return Err(TransportError::Bus {
                    operation: "read",
                    kind: err.kind(),
                });
            }
        }
        match frame::decode(&self.rx) {
            Ok(decoded) => {
                self.stats.frames_received += 1;
                Ok(Incoming::Block(decoded.pcb, decoded.inf.len()))
            }
            Err(FrameError::Crc { .. }) => Ok(Incoming::Corrupt(BlockProblem::BadCrc)),
            Err(_) => Ok(Incoming::Corrupt(BlockProblem::Malformed)),
        }
    }

    fn inf(&self, len: usize) -> &[u8] {
        &self.rx[HEADER_LEN..HEADER_LEN + len]
    }

    /// Answers the requests the SE may send instead of the awaited block (WTX, IFS); returns
    /// the waiting time for the next block when `incoming` was one of them.
    fn answer_se_request(
        &mut self,
        incoming: &Incoming,
        wtx_count: &mut u8,
    ) -> Result<Option<u64>, TransportError> {
        match *incoming {
            Incoming::Block(
                Pcb::S {
                    kind: SBlockKind::Wtx,
                    response: false,
                },
                len,
            ) => self.grant_wtx(len, wtx_count).map(Some),
            Incoming::Block(
                Pcb::S {
                    kind: SBlockKind::Ifs,
                    response: false,
                },
                len,
            ) => {
                self.accept_ifsc(len)?;
                Ok(Some(self.bwt_us()))
            }
            _ => Ok(None),
        }
    }

    /// Counts one more failed attempt at `block`; an error once
    /// [`LinkConfig::max_retries`] retries were spent.
    fn count_failure(
        &self,
        failures: &mut u8,
        block: &'static str,
        last: BlockProblem,
    ) -> Result<(), TransportError> {
        // Checked before counting, so `max_retries = 255` cannot overflow the count.
        if *failures >= self.config.max_retries {
            return Err(TransportError::RetriesExhausted {
                block,
                attempts: failures.saturating_add(1),
                last,
            });
        }
        *failures += 1;
        Ok(())
    }

    /// Answers a WTX request; returns the waiting time granted for the next block.
    fn grant_wtx(&mut self, len: usize, wtx_count: &mut u8) -> Result<u64, TransportError> {
        // Checked before counting, so `max_wtx = 255` cannot overflow the count.
        if *wtx_count >= self.config.max_wtx {
            return Err(TransportError::TooManyWtx(self.config.max_wtx));
        }
        *wtx_count += 1;
        let multiplier = self.inf(len).first().copied().unwrap_or(1).max(1);
        self.stats.wtx += 1;
        self.send_control(
            Pcb::S {
                kind: SBlockKind::Wtx,
                response: true,
            },
            &[multiplier],
        )?;
        Ok(self.bwt_us() * u64::from(multiplier))
    }

    /// Answers the SE's IFS request (a new IFSC) with the same value and adopts it. Invalid
    /// sizes (0, 255) are not confirmed: the SE repeats or times out.
    fn accept_ifsc(&mut self, len: usize) -> Result<(), TransportError> {
        if let [size @ 1..=254] = *self.inf(len) {
            self.config.ifsc = usize::from(size);
            self.send_control(
                Pcb::S {
                    kind: SBlockKind::Ifs,
                    response: true,
                },
                &[size],
            )?;
        }
        Ok(())
    }

    /// Asks the SE to repeat its last block after a corrupted or missing one.
    fn request_repeat(&mut self, problem: BlockProblem) -> Result<(), TransportError> {
        self.stats.retransmissions += 1;
        let error = if problem == BlockProblem::BadCrc {
            RBlockError::Crc
        } else {
            RBlockError::Other
        };
        self.send_control(Pcb::R { nr: self.nr, error }, &[])
    }
}

mod error;
mod exchange;
mod supervisory;

pub use error::{BlockProblem, TransportError};
