//! Exchanging one APDU: I-block chaining towards the SE, the answer or acknowledgement for each
//! block, and the chained response, each block retried a bounded number of times.

use alloc::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use super::{BlockProblem, Incoming, T1, TransportError};
use crate::frame::{HEADER_LEN, MAX_INF_LEN, Pcb, RBlockError};

impl<I2C: I2c, D: DelayNs> T1<I2C, D> {
    /// Exchanges one APDU: `response` receives the response APDU (data and status word).
    ///
    /// # Errors
    /// [`TransportError`] when the exchange cannot be completed, after one RESYNCH and restart.
    pub fn transceive(
        &mut self,
        apdu: &[u8],
        response: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        response.clear();
        match self.exchange(apdu, response) {
            Err(err) if err.restartable() => {
                response.clear();
                self.resynch()?;
                self.exchange(apdu, response)
            }
            other => other,
        }
    }

    fn exchange(&mut self, apdu: &[u8], response: &mut Vec<u8>) -> Result<(), TransportError> {
        let mut offset = 0;
        // Each block makes progress (IFSC >= 1), so this ends after at most len + 1 blocks.
        loop {
            // Read IFSC per block: the SE may change it with an IFS request in the middle.
            let end = (offset + self.config.ifsc.clamp(1, MAX_INF_LEN)).min(apdu.len());
            let last = end == apdu.len();
            let sent_ns = self.ns;
            self.send_block(
                Pcb::I {
                    ns: sent_ns,
                    more: !last,
                },
                &apdu[offset..end],
            )?;
            let more = self.await_reply(sent_ns, !last, response)?;
            self.ns = !self.ns;
            if last {
                return self.receive_chain(more, response);
            }
            offset = end;
        }
    }

    /// Waits for the answer to the I-block with N(S) `sent_ns`: an acknowledgement when
    /// `chaining`, otherwise the first I-block of the response (appended to `response`; returns
    /// its "more" bit).
    fn await_reply(
        &mut self,
        sent_ns: bool,
        chaining: bool,
        response: &mut Vec<u8>,
    ) -> Result<bool, TransportError> {
        let block = if chaining {
            "chained command block"
        } else {
            "command block"
        };
        let mut failures = 0u8;
        let mut wtx = 0u8;
        let mut bound = self.bwt_us();
        loop {
            let incoming = self.receive(bound)?;
            if let Some(next) = self.answer_se_request(&incoming, &mut wtx)? {
                bound = next;
                continue;
            }
            bound = self.bwt_us();
            let problem = match incoming {
                Incoming::Block(Pcb::R { nr, .. }, _) if chaining && nr != sent_ns => {
                    return Ok(false);
                }
                Incoming::Block(Pcb::I { ns, more }, len) if !chaining && ns == self.nr => {
                    self.accept(len, response)?;
                    return Ok(more);
                }
                Incoming::Block(Pcb::R { .. }, _) => BlockProblem::RetransmissionRequested,
                Incoming::Block(..) => BlockProblem::UnexpectedBlock,
                Incoming::Corrupt(problem) => problem,
                Incoming::Silent => BlockProblem::Silent,
            };
            self.count_failure(&mut failures, block, problem)?;
            if problem == BlockProblem::RetransmissionRequested {
                self.resend_last()?;
            } else {
                self.request_repeat(problem)?;
            }
        }
    }

    fn accept(&mut self, len: usize, response: &mut Vec<u8>) -> Result<(), TransportError> {
        if response.len() + len > self.config.max_response_len {
            return Err(TransportError::ResponseTooLong(
                self.config.max_response_len,
            ));
        }
        let start = response.len();
        response.resize(start + len, 0);
        response[start..].copy_from_slice(&self.rx[HEADER_LEN..HEADER_LEN + len]);
        self.nr = !self.nr;
        Ok(())
    }

    /// Receives the remaining blocks of a chained response.
    fn receive_chain(
        &mut self,
        mut more: bool,
        response: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        while more {
            self.send_block(
                Pcb::R {
                    nr: self.nr,
                    error: RBlockError::None,
                },
                &[],
            )?;
            let mut failures = 0u8;
            let mut wtx = 0u8;
            let mut bound = self.bwt_us();
            loop {
                let incoming = self.receive(bound)?;
                if let Some(next) = self.answer_se_request(&incoming, &mut wtx)? {
                    bound = next;
                    continue;
                }
                bound = self.bwt_us();
                let problem = match incoming {
                    Incoming::Block(Pcb::I { ns, more: next }, len) if ns == self.nr => {
                        self.accept(len, response)?;
                        more = next;
                        break;
                    }
                    Incoming::Block(Pcb::I { .. } | Pcb::R { .. }, _) => {
                        BlockProblem::RetransmissionRequested
                    }
                    Incoming::Block(..) => BlockProblem::UnexpectedBlock,
                    Incoming::Corrupt(problem) => problem,
                    Incoming::Silent => BlockProblem::Silent,
                };
                self.count_failure(&mut failures, "chained response block", problem)?;
                if problem == BlockProblem::RetransmissionRequested {
                    self.resend_last()?;
                } else {
                    self.request_repeat(problem)?;
                }
            }
        }
        Ok(())
    }
}
