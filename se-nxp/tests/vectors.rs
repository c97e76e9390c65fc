//! The reference test vectors, byte for byte, on the wire between the driver and the
//! simulator (captured by a recording bus) and through the simulator directly.

use embedded_hal::i2c::{ErrorType, I2c, Operation};
use se_nxp::sim::{SimDelay, SimulatedSe};
use se_nxp::{AppletVersion, Se05x};

/// Wraps a bus and records every write, and every successful read, in order.
struct Recorder {
    inner: SimulatedSe,
    writes: Vec<Vec<u8>>,
    reads: Vec<u8>,
}

impl ErrorType for Recorder {
    type Error = <SimulatedSe as ErrorType>::Error;
}

impl I2c for Recorder {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.inner.transaction(address, operations)?;
        for operation in operations {
            match operation {
                Operation::Write(bytes) => self.writes.push(bytes.to_vec()),
                Operation::Read(buffer) => self.reads.extend_from_slice(buffer),
            }
        }
        Ok(())
    }
}

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|byte| u8::from_str_radix(byte, 16).expect("hex byte"))
        .collect()
}

#[test]
fn soft_reset_and_select_match_the_reference_bytes() {
    let recorder = Recorder {
        inner: SimulatedSe::new(),
        writes: Vec::new(),
        reads: Vec::new(),
    };
    let mut se = Se05x::new(recorder, SimDelay);
    let atr = se.soft_reset().expect("soft reset");
    assert_eq!(atr.bwt_ms, 1000);
    assert_eq!(atr.ifsc, 254);
    assert_eq!(atr.mpot_ms, 1);
    assert_eq!(atr.historical, b"JCOP4 ATPO");
    let version = se.select().expect("select");
    assert_eq!(
        version,
        AppletVersion {
            major: 3,
            minor: 1,
            patch: 1,
            config: 0x6FFF,
            secure_box: 0x010B
        }
    );

    let recorder = se.link_mut().i2c_mut();
    assert_eq!(recorder.writes[0], hex("5A CF 00 37 7F"));
    assert_eq!(
        recorder.writes[1],
        hex("5A 00 16 00 A4 04 00 10 A0 00 00 03 96 54 53 00 00 00 01 03 00 00 00 00 00 A8 C8")
    );
    assert_eq!(recorder.writes.len(), 2);
    let select_response = hex("A5 00 09 03 01 01 6F FF 01 0B 90 00 CC 8B");
    assert!(
        recorder.reads.ends_with(&select_response),
        "reads end with {:02X?}",
        &recorder.reads[recorder.reads.len().saturating_sub(14)..]
    );
}

#[test]
fn simulator_answers_resynch_with_the_reference_frame() {
    let mut sim = SimulatedSe::new();
    sim.write(0x48, &hex("5A C0 00 FF FC"))
        .expect("write accepted");
    let mut answer = [0u8; 5];
    sim.read(0x48, &mut answer).expect("answer ready");
    assert_eq!(answer.to_vec(), hex("A5 E0 00 3F 19"));
    // Nothing more to read: the chip NACKs.
    assert!(sim.read(0x48, &mut answer).is_err());
}

#[test]
fn simulator_accepts_split_reads_like_the_chip() {
    let mut sim = SimulatedSe::new();
    sim.write(
        0x48,
        &hex("5A 00 16 00 A4 04 00 10 A0 00 00 03 96 54 53 00 00 00 01 03 00 00 00 00 00 A8 C8"),
    )
    .expect("write accepted");
    let mut header = [0u8; 3];
    sim.read(0x48, &mut header).expect("header");
    assert_eq!(header, [0xA5, 0x00, 0x09]);
    let mut rest = [0u8; 11];
    sim.read(0x48, &mut rest).expect("rest");
    assert_eq!(rest.to_vec(), hex("03 01 01 6F FF 01 0B 90 00 CC 8B"));
}
