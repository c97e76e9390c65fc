//! `SimulatedSe`: a simulated SE05x on an I2C bus that answers byte for byte like the chip
//! (frames, CRCs, chaining, ATR, status words) with real P-256 keys, optional atomic file
//! persistence, and fault injection. Cheap enough to run thousands in one process.
//!
//! ```
//! use se_nxp::sim::{Fault, SimulatedSe, simulated_se05x};
//! use se_nxp::ObjectId;
//!
//! let sim = SimulatedSe::new();
//! let faults = sim.fault_injector();
//! let mut se = simulated_se05x(sim)?;
//! faults.schedule(0, Fault::CorruptAnswer);
//! se.generate_p256(ObjectId(0x7000_0001))?;
//! assert!(se.exists(ObjectId(0x7000_0001))?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod applet;
mod faults;
mod link;
mod persist;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};

pub use faults::{Fault, FaultInjector};
pub use persist::SimStoreError;

use crate::atr::Atr;
use crate::se05x::{Se05x, Se05xError};
use crate::t1::SE05X_I2C_ADDRESS;
use applet::Applet;
use link::{LinkEvent, SeLink};

/// Error of the simulated bus: the address NACK of a busy (or absent) chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimI2cError(ErrorKind);

impl embedded_hal::i2c::Error for SimI2cError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

const NACK: SimI2cError = SimI2cError(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));

/// A delay that does not sleep: simulated time is counted by the driver's
/// [`LinkStats::waited_us`](crate::LinkStats::waited_us).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimDelay;

impl DelayNs for SimDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// The driver over a simulator.
pub type SimSe05x = Se05x<SimulatedSe, SimDelay>;

/// Gives a ready driver over `sim`: soft reset done, applet selected.
///
/// # Errors
/// [`Se05xError`] if the simulator does not answer (e.g. a fault was scheduled).
pub fn simulated_se05x(sim: SimulatedSe) -> Result<SimSe05x, Se05xError> {
    let mut se = Se05x::new(sim, SimDelay);
    se.soft_reset()?;
    se.select()?;
    Ok(se)
}

/// A simulated SE05x behind its I2C address.
pub struct SimulatedSe {
    address: u8,
    link: SeLink,
    applet: Applet,
    /// Frame waiting to be read, and how much of it has been read.
    out: Vec<u8>,
    out_pos: usize,
    /// The real answer held back while WTX requests go out.
    deferred: Vec<u8>,
    wtx_left: u8,
    wtx_multiplier: u8,
    /// Transactions still to NACK.
    busy: u32,
    faults: FaultInjector,
    fault_scratch: Vec<Fault>,
    response_scratch: Vec<u8>,
    store: Option<PathBuf>,
    last_store_error: Option<String>,
    frames_received: u64,
}

impl Default for SimulatedSe {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedSe {
    /// A fresh chip with no objects, kept in memory only.
    #[must_use]
    pub fn new() -> Self {
        Self::with_objects(BTreeMap::new(), None)
    }

    /// A chip whose objects live in the file at `path` (loaded now if it exists, rewritten
    /// atomically after every change).
    ///
    /// # Errors
    /// [`SimStoreError`] when the file exists but cannot be read or parsed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SimStoreError> {
        let path = path.as_ref();
        Ok(Self::with_objects(
            persist::load(path)?,
            Some(path.to_path_buf()),
        ))
    }

    fn with_objects(objects: BTreeMap<u32, applet::SecureObject>, store: Option<PathBuf>) -> Self {
        Self {
            address: SE05X_I2C_ADDRESS,
            link: SeLink::new(),
            applet: Applet::new(objects),
            out: Vec::new(),
            out_pos: 0,
            deferred: Vec::new(),
            wtx_left: 0,
            wtx_multiplier: 1,
            busy: 0,
            faults: FaultInjector::default(),
            fault_scratch: Vec::new(),
            response_scratch: Vec::new(),
            store,
            last_store_error: None,
            frames_received: 0,
        }
    }

    /// A handle to schedule faults, usable after the simulator moved into a driver.
    #[must_use]
    pub fn fault_injector(&self) -> FaultInjector {
        self.faults.clone()
    }

    /// Number of objects in the store.
    #[must_use]
    pub fn object_count(&self) -> usize {
        self.applet.objects.len()
    }

    /// Frames received from the host since creation.
    #[must_use]
    pub fn frames_received(&self) -> u64 {
        self.frames_received
    }

    /// The last persistence failure (the command that caused it was answered with SW 6581).
    #[must_use]
    pub fn last_store_error(&self) -> Option<&str> {
        self.last_store_error.as_deref()
    }

    /// Bytes of state held by this instance, keys excluded: the struct itself, its buffers
    /// and the fault schedule.
    #[must_use]
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.link.heap_bytes()
            + self.out.capacity()
            + self.deferred.capacity()
            + self.response_scratch.capacity()
            + self.fault_scratch.capacity() * std::mem::size_of::<Fault>()
            + self.store.as_ref().map_or(0, |path| path.as_os_str().len())
            + 64
    }

    fn on_write(&mut self, bytes: &[u8]) {
        self.frames_received += 1;
        self.out.clear();
        self.out_pos = 0;
        let mut faults = std::mem::take(&mut self.fault_scratch);
        faults.clear();
        self.faults.take_for_frame(&mut faults);
        self.handle_frame(bytes, &faults);
        self.fault_scratch = faults;
    }

    fn handle_frame(&mut self, bytes: &[u8], faults: &[Fault]) {
        if faults.contains(&Fault::ChipReset) {
            self.link.reset();
            self.applet.power_on();
            self.deferred.clear();
            self.wtx_left = 0;
            return;
        }
        if faults.contains(&Fault::LoseRequest) {
            return;
        }
        let corrupted;
        let bytes = if faults.contains(&Fault::CorruptRequest) && !bytes.is_empty() {
            let mut copy = bytes.to_vec();
            if let Some(last) = copy.last_mut() {
                *last ^= 0x01;
            }
            corrupted = copy;
            &corrupted[..]
        } else {
            bytes
        };
        match self.link.receive(bytes) {
            LinkEvent::Answered => std::mem::swap(&mut self.out, &mut self.link.out),
            LinkEvent::Command => self.run_command(),
            LinkEvent::SoftReset => {
                self.applet.power_on();
                self.deferred.clear();
                self.wtx_left = 0;
                self.link.answer_atr(&Atr::jcop4().encode(), false);
                std::mem::swap(&mut self.out, &mut self.link.out);
            }
            LinkEvent::GetAtr => {
                self.link.answer_atr(&Atr::jcop4().encode(), true);
                std::mem::swap(&mut self.out, &mut self.link.out);
            }
            LinkEvent::WtxAnswered => {
                if self.wtx_left > 0 {
                    self.wtx_left -= 1;
                    self.out = self.link.wtx_request(self.wtx_multiplier);
                } else {
                    std::mem::swap(&mut self.out, &mut self.deferred);
                    self.deferred.clear();
                }
            }
        }
        for fault in faults {
            match *fault {
                Fault::Wtx { count, multiplier } if count > 0 && !self.out.is_empty() => {
                    self.deferred = std::mem::take(&mut self.out);
                    self.wtx_left = count - 1;
                    self.wtx_multiplier = multiplier.max(1);
                    self.out = self.link.wtx_request(self.wtx_multiplier);
                }
                Fault::CorruptAnswer => {
                    if let Some(last) = self.out.last_mut() {
                        *last ^= 0x80;
                    }
                }
                Fault::LoseAnswer => self.out.clear(),
                Fault::Busy { polls } => self.busy = polls,
                _ => {}
            }
        }
    }

    fn run_command(&mut self) {
        let command = self.link.take_command();
        let mut response = std::mem::take(&mut self.response_scratch);
        let outcome = self.applet.process(&command, &mut response);
        self.link.return_command_buffer(command);
        if outcome.store_changed
            && let Some(path) = &self.store
        {
            match persist::save(path, &self.applet.objects) {
                Ok(()) => self.last_store_error = None,
                Err(err) => {
                    self.last_store_error = Some(err.to_string());
                    response.clear();
                    response.extend_from_slice(&[0x65, 0x81]);
                }
            }
        }
        self.link.respond_with(&response);
        response.clear();
        if response.capacity() > 1024 {
            response.shrink_to(256);
        }
        self.response_scratch = response;
        std::mem::swap(&mut self.out, &mut self.link.out);
        self.link.shrink();
    }

    fn on_read(&mut self, buffer: &mut [u8]) -> Result<(), SimI2cError> {
        let pending = &self.out[self.out_pos.min(self.out.len())..];
        if pending.is_empty() {
            return Err(NACK);
        }
        let n = pending.len().min(buffer.len());
        buffer[..n].copy_from_slice(&pending[..n]);
        buffer[n..].fill(0);
        self.out_pos += n;
        Ok(())
    }
}

impl ErrorType for SimulatedSe {
    type Error = SimI2cError;
}

impl I2c for SimulatedSe {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        if address != self.address {
            return Err(NACK);
        }
        if self.busy > 0 {
            self.busy -= 1;
            return Err(NACK);
        }
        for operation in operations {
            match operation {
                Operation::Write(bytes) => self.on_write(bytes),
                Operation::Read(buffer) => self.on_read(buffer)?,
            }
        }
        Ok(())
    }
}
