//! Fuzzes every parser of bytes that come from the chip; see
//! `checks/frame_and_response_parsers.rs`.
#![no_main]

#[path = "../checks/frame_and_response_parsers.rs"]
mod frame_and_response_parsers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| frame_and_response_parsers::check(data));
