//! The SE side of T=1 over I2C: sequence numbers, chaining in both directions, answers to
//! retransmission requests and S-blocks, as the chip behaves.

use crate::frame::{
    self, MAX_INF_LEN, NAD_HOST_TO_SE, NAD_SE_TO_HOST, Pcb, RBlockError, SBlockKind,
};

/// Largest command APDU the simulated chip buffers (extended APDU plus header).
const MAX_COMMAND_LEN: usize = 65_544;

/// What the link layer asks of the simulator after a frame.
pub(crate) enum LinkEvent {
    /// Nothing for the applet; the answer frame is in `SeLink::out`.
    Answered,
    /// A complete command APDU is in `SeLink::command`: run it and call `SeLink::respond`.
    Command,
    /// The host answered a WTX request.
    WtxAnswered,
    /// A soft reset was requested: the answer frame must carry the ATR (`SeLink::answer_atr`).
    SoftReset,
    /// GET ATR: answer with the ATR, no reset.
    GetAtr,
}

/// T=1 state of the simulated chip.
#[derive(Debug)]
pub(crate) struct SeLink {
    /// N(S) expected in the host's next I-block.
    host_ns: bool,
    /// N(S) of the SE's next I-block.
    se_ns: bool,
    /// N(S) of the last I-block sent, if any since the last reset.
    last_i_ns: Option<bool>,
    /// The last I-block sent, for retransmission.
    last_i_frame: Vec<u8>,
    /// Command APDU being received.
    pub(crate) command: Vec<u8>,
    /// Command overflowed the buffer: answer 6700 when complete.
    overflow: bool,
    /// Response APDU being sent, and how much has gone out.
    response: Vec<u8>,
    response_pos: usize,
    /// Largest INF the host accepts.
    ifsd: usize,
    /// The frame to send now.
    pub(crate) out: Vec<u8>,
}

fn encode(out: &mut Vec<u8>, pcb: Pcb, inf: &[u8]) {
    out.clear();
    // INF lengths here are bounded by MAX_INF_LEN by construction.
    if frame::encode_into(NAD_SE_TO_HOST, pcb, inf, out).is_err() {
        out.clear();
    }
}

impl SeLink {
    pub(crate) fn new() -> Self {
        Self {
            host_ns: false,
            se_ns: false,
            last_i_ns: None,
            last_i_frame: Vec::new(),
            command: Vec::new(),
            overflow: false,
            response: Vec::new(),
            response_pos: 0,
            ifsd: MAX_INF_LEN,
            out: Vec::new(),
        }
    }

    /// Forgets all link state, as after power-on, a soft reset or RESYNCH.
    pub(crate) fn reset(&mut self) {
        self.host_ns = false;
        self.se_ns = false;
        self.last_i_ns = None;
        self.last_i_frame.clear();
        self.command.clear();
        self.overflow = false;
        self.response.clear();
        self.response_pos = 0;
        self.ifsd = MAX_INF_LEN;
        self.shrink();
    }

    /// Returns buffers grown by a large APDU to a small size, so idle instances stay small.
    pub(crate) fn shrink(&mut self) {
        for buffer in [&mut self.command, &mut self.response] {
            if buffer.is_empty() && buffer.capacity() > 512 {
                buffer.shrink_to(256);
            }
        }
    }

    /// Bytes held by this link's buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.last_i_frame.capacity()
            + self.command.capacity()
            + self.response.capacity()
            + self.out.capacity()
    }

    fn r_block(&mut self, error: RBlockError) {
        encode(
            &mut self.out,
            Pcb::R {
                nr: self.host_ns,
                error,
            },
            &[],
        );
    }

    fn s_response(&mut self, kind: SBlockKind, inf: &[u8]) {
        encode(
            &mut self.out,
            Pcb::S {
                kind,
                response: true,
            },
            inf,
        );
    }

    /// A WTX request frame.
    pub(crate) fn wtx_request(&self, multiplier: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(6);
        encode(
            &mut out,
            Pcb::S {
                kind: SBlockKind::Wtx,
                response: false,
            },
            &[multiplier],
        );
        out
    }

    /// Handles one frame written by the host.
    pub(crate) fn receive(&mut self, bytes: &[u8]) -> LinkEvent {
        let decoded = match frame::decode(bytes) {
            Ok(decoded) if decoded.nad == NAD_HOST_TO_SE => decoded,
            Err(frame::FrameError::Crc { .. }) => {
                self.r_block(RBlockError::Crc);
                return LinkEvent::Answered;
            }
            Ok(_) | Err(_) => {
                self.r_block(RBlockError::Other);
                return LinkEvent::Answered;
            }
        };
        match decoded.pcb {
            Pcb::I { ns, more } => self.receive_i(ns, more, decoded.inf),
            Pcb::R { nr, .. } => {
                if self.last_i_ns == Some(nr) {
                    self.out.clear();
                    self.out.extend_from_slice(&self.last_i_frame);
                } else if self.response_pos < self.response.len() && nr == self.se_ns {
                    self.send_next_chunk();
                } else {
                    self.r_block(RBlockError::None);
                }
                LinkEvent::Answered
            }
            Pcb::S {
                kind,
                response: false,
            } => self.receive_s(kind, decoded.inf),
            Pcb::S {
                kind: SBlockKind::Wtx,
                response: true,
            } => LinkEvent::WtxAnswered,
            Pcb::S { .. } => {
                self.r_block(RBlockError::Other);
                LinkEvent::Answered
            }
        }
    }

    fn receive_i(&mut self, ns: bool, more: bool, inf: &[u8]) -> LinkEvent {
        if ns != self.host_ns {
            // A repeated block: the host missed our answer to it; repeat that answer.
            if self.last_i_frame.is_empty() {
                self.r_block(RBlockError::Other);
            } else {
                self.out.clear();
                self.out.extend_from_slice(&self.last_i_frame);
            }
            return LinkEvent::Answered;
        }
        if self.command.is_empty() {
            // A new command cancels what was left of the previous response.
            self.response.clear();
            self.response_pos = 0;
        }
        self.host_ns = !self.host_ns;
        if self.command.len() + inf.len() > MAX_COMMAND_LEN {
            self.overflow = true;
        } else {
            self.command.extend_from_slice(inf);
        }
        if more {
            self.r_block(RBlockError::None);
            return LinkEvent::Answered;
        }
        if self.overflow {
            self.overflow = false;
            self.command.clear();
            self.respond_with(&[0x67, 0x00]);
            return LinkEvent::Answered;
        }
        LinkEvent::Command
    }

    fn receive_s(&mut self, kind: SBlockKind, inf: &[u8]) -> LinkEvent {
        match kind {
            SBlockKind::Resynch => {
                self.reset();
                self.s_response(kind, &[]);
            }
            SBlockKind::SoftReset => {
                self.reset();
                return LinkEvent::SoftReset;
            }
            SBlockKind::GetAtr => return LinkEvent::GetAtr,
            SBlockKind::Ifs => match inf {
                [size] if (1..=254).contains(size) => {
                    self.ifsd = usize::from(*size);
                    self.s_response(kind, inf);
                }
                _ => self.r_block(RBlockError::Other),
            },
            SBlockKind::Abort => {
                self.command.clear();
                self.response.clear();
                self.response_pos = 0;
                self.s_response(kind, &[]);
            }
            SBlockKind::EndApduSession => self.s_response(kind, &[]),
            SBlockKind::ChipReset => {
                // The chip confirms, then restarts: nothing of the link survives.
                self.reset();
                self.s_response(kind, &[]);
            }
            SBlockKind::Wtx => self.r_block(RBlockError::Other),
        }
        LinkEvent::Answered
    }

    /// The ATR answer to a soft reset (or GET ATR).
    pub(crate) fn answer_atr(&mut self, atr: &[u8], get_atr: bool) {
        let kind = if get_atr {
            SBlockKind::GetAtr
        } else {
            SBlockKind::SoftReset
        };
        self.s_response(kind, atr);
    }

    /// Starts sending `response` (the applet's answer to `command`).
    pub(crate) fn respond_with(&mut self, response: &[u8]) {
        self.command.clear();
        self.response.clear();
        self.response.extend_from_slice(response);
        self.response_pos = 0;
        self.send_next_chunk();
    }

    /// Takes the completed command out (to hand to the applet without borrowing the link).
    pub(crate) fn take_command(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.command)
    }

    /// Gives the command buffer back for reuse.
    pub(crate) fn return_command_buffer(&mut self, mut buffer: Vec<u8>) {
        buffer.clear();
        self.command = buffer;
    }

    fn send_next_chunk(&mut self) {
        let end = (self.response_pos + self.ifsd.clamp(1, MAX_INF_LEN)).min(self.response.len());
        let more = end < self.response.len();
        let pcb = Pcb::I {
            ns: self.se_ns,
            more,
        };
        encode(&mut self.out, pcb, &self.response[self.response_pos..end]);
        self.last_i_ns = Some(self.se_ns);
        self.last_i_frame.clear();
        self.last_i_frame.extend_from_slice(&self.out);
        self.se_ns = !self.se_ns;
        self.response_pos = end;
        if !more {
            self.response.clear();
            self.response_pos = 0;
            self.shrink();
        }
    }
}
