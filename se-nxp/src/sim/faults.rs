//! Fault injection for the simulated SE: busy NACKs, WTX requests, corrupted and lost frames,
//! chip resets, scheduled relative to the frames the simulator receives.

use std::sync::{Arc, Mutex, PoisonError};

/// One fault, applied while the simulator handles a host frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// After the frame, NACK the next `polls` I2C transactions as a busy chip does.
    Busy {
        /// Transactions refused.
        polls: u32,
    },
    /// Ask for `count` waiting-time extensions (multiplier `multiplier`) before answering.
    Wtx {
        /// WTX requests sent one after another.
        count: u8,
        /// BWT multiplier asked for.
        multiplier: u8,
    },
    /// Answer with one CRC bit flipped.
    CorruptAnswer,
    /// Process the frame but lose the answer: nothing to read.
    LoseAnswer,
    /// The frame is lost on the bus: not processed, no answer.
    LoseRequest,
    /// The frame arrives with a flipped bit: the SE sees a CRC error.
    CorruptRequest,
    /// The chip resets while receiving the frame: link state lost, objects kept, no answer.
    ChipReset,
}

#[derive(Debug, Default)]
struct Schedule {
    /// `(host frames still to skip, fault)`.
    pending: Vec<(u64, Fault)>,
    fired: u64,
}

/// A handle to schedule faults on a simulator, cloneable and usable after the simulator has
/// been moved into a driver.
#[derive(Clone, Debug, Default)]
pub struct FaultInjector {
    schedule: Arc<Mutex<Schedule>>,
}

impl FaultInjector {
    /// Applies `fault` to the host frame that arrives after `after_frames` more frames
    /// (0 = the next frame). Several faults may hit the same frame.
    pub fn schedule(&self, after_frames: u64, fault: Fault) {
        self.lock().pending.push((after_frames, fault));
    }

    /// Forgets every fault not applied yet.
    pub fn clear(&self) {
        self.lock().pending.clear();
    }

    /// Faults not applied yet.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// Faults applied so far.
    #[must_use]
    pub fn fired(&self) -> u64 {
        self.lock().fired
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called once per host frame: returns the faults for this frame and counts down the rest.
    pub(crate) fn take_for_frame(&self, out: &mut Vec<Fault>) {
        let mut schedule = self.lock();
        if schedule.pending.is_empty() {
            return;
        }
        let before = out.len();
        schedule.pending.retain_mut(|(remaining, fault)| {
            if *remaining == 0 {
                out.push(*fault);
                false
            } else {
                *remaining -= 1;
                true
            }
        });
        schedule.fired += (out.len() - before) as u64;
    }
}
