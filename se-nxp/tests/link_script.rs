//! The link against a scripted chip: S-block requests the simulator never sends (IFS from the
//! SE) and the exact bytes of the host's answers to WTX and IFS requests.

use std::collections::VecDeque;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use se_nxp::frame::{self, NAD_HOST_TO_SE, NAD_SE_TO_HOST, Pcb, SBlockKind};
use se_nxp::sim::SimDelay;
use se_nxp::t1::T1;

/// After each write the next scripted frame becomes readable; with none, reads NACK.
struct ScriptedChip {
    answers: VecDeque<Vec<u8>>,
    current: Vec<u8>,
    writes: Vec<Vec<u8>>,
}

impl ScriptedChip {
    fn new(answers: Vec<Vec<u8>>) -> Self {
        Self {
            answers: answers.into(),
            current: Vec::new(),
            writes: Vec::new(),
        }
    }
}

impl ErrorType for ScriptedChip {
    type Error = ErrorKind;
}

impl I2c for ScriptedChip {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), ErrorKind> {
        for operation in operations {
            match operation {
                Operation::Write(bytes) => {
                    self.writes.push(bytes.to_vec());
                    self.current = self.answers.pop_front().unwrap_or_default();
                }
                Operation::Read(buffer) => {
                    if self.current.is_empty() {
                        return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
                    }
                    let n = buffer.len().min(self.current.len());
                    buffer[..n].copy_from_slice(&self.current[..n]);
                    self.current.drain(..n);
                }
            }
        }
        Ok(())
    }
}

fn se_frame(pcb: Pcb, inf: &[u8]) -> Vec<u8> {
    frame::encode(NAD_SE_TO_HOST, pcb, inf).expect("fits")
}

fn host_frame(pcb: Pcb, inf: &[u8]) -> Vec<u8> {
    frame::encode(NAD_HOST_TO_SE, pcb, inf).expect("fits")
}

#[test]
fn the_host_answers_wtx_and_ifs_requests_and_adopts_the_new_ifsc() {
    let chip = ScriptedChip::new(vec![
        se_frame(
            Pcb::S {
                kind: SBlockKind::Wtx,
                response: false,
            },
            &[3],
        ),
        se_frame(
            Pcb::S {
                kind: SBlockKind::Ifs,
                response: false,
            },
            &[0x20],
        ),
        se_frame(
            Pcb::I {
                ns: false,
                more: false,
            },
            &[0x90, 0x00],
        ),
    ]);
    let mut link = T1::new(chip, SimDelay);
    let mut response = Vec::new();
    link.transceive(&[0x80, 0x04, 0x00, 0x49], &mut response)
        .expect("exchange");
    assert_eq!(response, [0x90, 0x00]);
    assert_eq!(link.config().ifsc, 0x20);
    assert_eq!(link.stats().wtx, 1);
    let chip = link.i2c_mut();
    assert_eq!(
        chip.writes[0],
        host_frame(
            Pcb::I {
                ns: false,
                more: false
            },
            &[0x80, 0x04, 0x00, 0x49]
        )
    );
    assert_eq!(
        chip.writes[1],
        host_frame(
            Pcb::S {
                kind: SBlockKind::Wtx,
                response: true
            },
            &[3]
        )
    );
    assert_eq!(
        chip.writes[2],
        host_frame(
            Pcb::S {
                kind: SBlockKind::Ifs,
                response: true
            },
            &[0x20]
        )
    );
    assert_eq!(chip.writes.len(), 3);
}

#[test]
fn commands_are_chained_at_the_adopted_ifsc() {
    let ack = |nr| {
        se_frame(
            Pcb::R {
                nr,
                error: frame::RBlockError::None,
            },
            &[],
        )
    };
    let chip = ScriptedChip::new(vec![
        se_frame(
            Pcb::S {
                kind: SBlockKind::Ifs,
                response: false,
            },
            &[0x10],
        ),
        ack(true),
        ack(false),
        se_frame(
            Pcb::I {
                ns: false,
                more: false,
            },
            &[0x90, 0x00],
        ),
    ]);
    let mut link = T1::new(chip, SimDelay);
    let mut response = Vec::new();
    // The first block goes out at 254; the SE lowers IFSC to 16 before acknowledging it.
    let apdu = vec![0xAB; 254 + 20];
    link.transceive(&apdu, &mut response).expect("exchange");
    assert_eq!(response, [0x90, 0x00]);
    let chip = link.i2c_mut();
    let inf_lengths: Vec<usize> = chip.writes.iter().map(|w| usize::from(w[2])).collect();
    assert_eq!(inf_lengths, [254, 1, 16, 4]);
}

#[test]
fn a_chip_asking_for_wtx_forever_is_refused_even_at_the_largest_budget() {
    let wtx = se_frame(
        Pcb::S {
            kind: SBlockKind::Wtx,
            response: false,
        },
        &[1],
    );
    let config = se_nxp::t1::LinkConfig {
        max_wtx: u8::MAX,
        ..se_nxp::t1::LinkConfig::default()
    };
    let mut link = T1::with_config(ScriptedChip::new(vec![wtx; 2_000]), SimDelay, config);
    let mut response = Vec::new();
    let result = link.transceive(&[0x80, 0x04, 0x00, 0x49], &mut response);
    assert!(
        matches!(result, Err(se_nxp::t1::TransportError::TooManyWtx(u8::MAX))),
        "{result:?}"
    );
}

#[test]
fn a_chip_answering_garbage_forever_exhausts_even_the_largest_retry_budget() {
    let config = se_nxp::t1::LinkConfig {
        max_retries: u8::MAX,
        ..se_nxp::t1::LinkConfig::default()
    };
    let garbage = vec![0x00, 0x00, 0x00, 0x00, 0x00];
    let mut link = T1::with_config(ScriptedChip::new(vec![garbage; 2_000]), SimDelay, config);
    let mut response = Vec::new();
    let result = link.transceive(&[0x80, 0x04, 0x00, 0x49], &mut response);
    assert!(
        matches!(
            result,
            Err(se_nxp::t1::TransportError::RetriesExhausted {
                attempts: u8::MAX,
                ..
            })
        ),
        "{result:?}"
    );
}
