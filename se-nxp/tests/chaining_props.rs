//! Property tests: random APDUs of 0..2000 bytes go through chaining over the simulator with
//! random faults and either succeed or end in a typed error within the stated time bound;
//! and a bus that answers random bytes never makes the driver panic or loop without bound.

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use proptest::collection::vec;
use proptest::prelude::*;
use se_nxp::sim::{Fault, SimDelay, SimulatedSe, simulated_se05x};
use se_nxp::{MemoryKind, ObjectFilter, ObjectId, Se05x};

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        (0u32..1500).prop_map(|polls| Fault::Busy { polls }),
        (1u8..4, 1u8..3).prop_map(|(count, multiplier)| Fault::Wtx { count, multiplier }),
        Just(Fault::CorruptAnswer),
        Just(Fault::LoseAnswer),
        Just(Fault::LoseRequest),
        Just(Fault::CorruptRequest),
        Just(Fault::ChipReset),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_apdus_complete_or_fail_typed_within_the_bound(
        apdu in vec(any::<u8>(), 0..2000),
        faults in vec((0u64..12, fault()), 0..4),
    ) {
        let sim = SimulatedSe::new();
        let injector = sim.fault_injector();
        let mut se = simulated_se05x(sim).expect("ready");
        for (after, fault) in &faults {
            injector.schedule(*after, *fault);
        }
        let before = se.stats().waited_us;
        let result = se.transmit_raw(&apdu);
        let waited = se.stats().waited_us - before;
        let bound = se.link().config().worst_case_us(apdu.len(), 8);
        prop_assert!(waited <= bound, "waited {} us, bound {} us", waited, bound);
        if let Ok(response) = &result {
            // Random bytes are no valid command: the chip answers with a status word only.
            prop_assert_eq!(response.len(), 2, "response {:02X?}", response);
            prop_assert_ne!(&response[..], &[0x90, 0x00]);
        }
        // Whatever happened, the link recovers once the faults are gone.
        injector.clear();
        prop_assert_eq!(se.random(16).expect("link recovers").len(), 16);
    }

    #[test]
    fn chained_responses_arrive_whole_or_fail_typed(
        len in 0u16..2000,
        faults in vec((0u64..10, fault()), 0..4),
    ) {
        let sim = SimulatedSe::new();
        let injector = sim.fault_injector();
        let mut se = simulated_se05x(sim).expect("ready");
        for (after, fault) in &faults {
            injector.schedule(*after, *fault);
        }
        let before = se.stats().waited_us;
        let result = se.random(len);
        let waited = se.stats().waited_us - before;
        let bound = se.link().config().worst_case_us(9, usize::from(len) + 6);
        prop_assert!(waited <= bound, "waited {} us, bound {} us", waited, bound);
        match result {
            Ok(bytes) => prop_assert_eq!(bytes.len(), usize::from(len)),
            Err(err) => prop_assert!(matches!(err, se_nxp::Se05xError::Transport { .. }), "{}", err),
        }
    }
}

/// A bus whose chip answers arbitrary bytes and NACKs at random.
struct ChaosBus {
    bytes: Vec<u8>,
    position: usize,
    transactions: u32,
}

impl ChaosBus {
    fn next(&mut self) -> u8 {
        let byte = self
            .bytes
            .get(self.position % self.bytes.len().max(1))
            .copied()
            .unwrap_or(0);
        self.position += 1;
        byte
    }
}

impl ErrorType for ChaosBus {
    type Error = ErrorKind;
}

impl I2c for ChaosBus {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), ErrorKind> {
        self.transactions += 1;
        if self.next().is_multiple_of(4) {
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

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_chip_bytes_never_panic_and_stay_bounded(bytes in vec(any::<u8>(), 1..600)) {
        let bus = ChaosBus { bytes, position: 0, transactions: 0 };
        let mut se = Se05x::new(bus, SimDelay);
        let _ = se.soft_reset();
        let _ = se.select();
        let _ = se.random(300);
        let _ = se.read_public_key(ObjectId(1));
        let _ = se.sign_sha256_digest(ObjectId(1), &[0; 32]);
        let _ = se.exists(ObjectId(1));
        let _ = se.read_id_list(0, ObjectFilter::All);
        let _ = se.read_binary(ObjectId(1), 4, Some(8));
        let _ = se.read_size(ObjectId(1));
        let _ = se.get_version();
        let _ = se.free_memory(MemoryKind::Persistent);
        let config = *se.link().config();
        let waited = se.stats().waited_us;
        // Eleven commands, none longer than 300 bytes.
        let bound = 11 * config.worst_case_us(300, config.max_response_len);
        prop_assert!(waited <= bound, "waited {} us", waited);
    }
}
