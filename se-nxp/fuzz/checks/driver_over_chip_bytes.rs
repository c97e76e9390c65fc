//! What must hold for the whole driver against a chip that answers arbitrary bytes: the T=1
//! state machine, chaining, ATR and response parsing end in `Ok` or a typed error, never panic
//! or loop without bound. Shared by the fuzz target and the corpus replay test
//! (`tests/fuzz_corpus.rs`).

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use se_nxp::{MemoryKind, ObjectFilter, ObjectId, Se05x};

struct ReplayBus<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl ReplayBus<'_> {
    fn next(&mut self) -> u8 {
        let byte = self.bytes.get(self.position).copied().unwrap_or(0xFF);
        self.position += 1;
        byte
    }
}

impl ErrorType for ReplayBus<'_> {
    type Error = ErrorKind;
}

impl I2c for ReplayBus<'_> {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), ErrorKind> {
        // Past the input the chip stays silent (busy), which exercises the BWT bound.
        if self.position >= self.bytes.len() || self.next() == 0xEE {
            return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        for operation in operations {
            if let Operation::Read(buffer) = operation {
                for slot in buffer.iter_mut() {
                    *slot = self.next();
                }
            }
        }
        Ok(())
    }
}

struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// Runs every driver operation over a bus that answers `data`; panics on a violation.
pub fn check(data: &[u8]) {
    let mut se = Se05x::new(
        ReplayBus {
            bytes: data,
            position: 0,
        },
        NoDelay,
    );
    let _ = se.soft_reset();
    let _ = se.select();
    let _ = se.random(600);
    let _ = se.read_public_key(ObjectId(1));
    let _ = se.sign_sha256_digest(ObjectId(1), &[0; 32]);
    let _ = se.verify(ObjectId(1), &[0; 32], &[0x30; 70]);
    let _ = se.read_id_list(0, ObjectFilter::All);
    let _ = se.read_binary(ObjectId(1), 4, Some(8));
    let _ = se.read_size(ObjectId(1));
    let _ = se.get_version();
    let _ = se.free_memory(MemoryKind::Persistent);
}
