//! Fuzzes the whole driver against a chip that answers the fuzzer's bytes; see
//! `checks/driver_over_chip_bytes.rs`.
#![no_main]

#[path = "../checks/driver_over_chip_bytes.rs"]
mod driver_over_chip_bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| driver_over_chip_bytes::check(data));
