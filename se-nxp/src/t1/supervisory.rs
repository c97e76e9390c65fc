//! Supervisory exchanges: soft reset with the ATR, RESYNCH, IFS negotiation, end of APDU
//! session.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use super::{BlockProblem, Incoming, T1, TransportError};
use crate::atr::Atr;
use crate::frame::{MAX_INF_LEN, Pcb, SBlockKind};

impl<I2C: I2c, D: DelayNs> T1<I2C, D> {
    /// Sends an S-block request and returns the length of the response's information field
    /// (readable with [`Self::supervisory_inf`] until the next exchange).
    fn supervisory(&mut self, kind: SBlockKind, inf: &[u8]) -> Result<usize, TransportError> {
        self.send_block(
            Pcb::S {
                kind,
                response: false,
            },
            inf,
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
                Incoming::Block(
                    Pcb::S {
                        kind: got,
                        response: true,
                    },
                    len,
                ) if got == kind => {
                    return Ok(len);
                }
                Incoming::Block(..) => BlockProblem::UnexpectedBlock,
                Incoming::Corrupt(problem) => problem,
                Incoming::Silent => BlockProblem::Silent,
            };
            self.count_failure(&mut failures, "supervisory block", problem)?;
            self.resend_last()?;
        }
    }

    fn supervisory_inf(&self, len: usize) -> &[u8] {
        self.inf(len)
    }

    /// Interface soft reset: the SE answers with its ATR, whose BWT, IFSC and MPOT are adopted.
    ///
    /// # Errors
    /// [`TransportError`] when the exchange fails or the ATR is malformed.
    pub fn soft_reset(&mut self) -> Result<Atr, TransportError> {
        let len = self.supervisory(SBlockKind::SoftReset, &[])?;
        let atr = Atr::parse(self.supervisory_inf(len)).map_err(TransportError::Atr)?;
        if atr.bwt_ms > 0 {
            self.config.bwt_ms = u32::from(atr.bwt_ms);
        }
        if atr.mpot_ms > 0 {
            self.config.mpot_us = u32::from(atr.mpot_ms) * 1000;
        }
        if atr.ifsc > 0 {
            self.config.ifsc = usize::from(atr.ifsc).min(MAX_INF_LEN);
        }
        self.ns = false;
        self.nr = false;
        Ok(atr)
    }

    /// RESYNCH: both sides restart their sequence numbers at 0.
    ///
    /// # Errors
    /// [`TransportError`] when the SE does not confirm.
    pub fn resynch(&mut self) -> Result<(), TransportError> {
        self.stats.resynchs += 1;
        self.supervisory(SBlockKind::Resynch, &[])?;
        self.ns = false;
        self.nr = false;
        Ok(())
    }

    /// IFS request: tells the SE the largest information field the host accepts (IFSD);
    /// the SE confirms with the same value and chains its responses accordingly.
    ///
    /// # Errors
    /// [`TransportError`] when the SE does not confirm the same size.
    pub fn negotiate_ifsd(&mut self, ifsd: u8) -> Result<(), TransportError> {
        let len = self.supervisory(SBlockKind::Ifs, &[ifsd])?;
        if self.supervisory_inf(len) == [ifsd] {
            Ok(())
        } else {
            Err(TransportError::IfsNotConfirmed(ifsd))
        }
    }

    /// END OF APDU SESSION: tells the SE it may go to sleep.
    ///
    /// # Errors
    /// [`TransportError`] when the SE does not confirm.
    pub fn end_apdu_session(&mut self) -> Result<(), TransportError> {
        self.supervisory(SBlockKind::EndApduSession, &[])
            .map(|_| ())
    }
}
