//! What must hold for every parser of bytes that come from the chip: frames (and PCBs), the
//! ATR, response APDUs and their TLVs never panic, and valid frames and ATRs re-encode to what
//! was read. Shared by the fuzz target and the corpus replay test (`tests/fuzz_corpus.rs`).

use se_nxp::apdu::{Response, find_tlv, tlvs};
use se_nxp::atr::Atr;
use se_nxp::frame;

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    if let Ok(decoded) = frame::decode(data) {
        let encoded =
            frame::encode(decoded.nad, decoded.pcb, decoded.inf).expect("decoded INF fits");
        assert_eq!(encoded, data);
    }
    if let Ok(atr) = Atr::parse(data) {
        let again = Atr::parse(&atr.encode()).expect("encoded ATR parses");
        assert_eq!(again, atr);
    }
    if let Ok(response) = Response::parse(data) {
        for item in tlvs(response.data) {
            if item.is_err() {
                break;
            }
        }
        let _ = find_tlv(response.data, 0x41);
    }
}
