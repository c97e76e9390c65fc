//! Fuzzes the JITR decision on arbitrary device and CA certificates; see `checks/decide.rs`.
#![no_main]

#[path = "../checks/decide.rs"]
mod decide;

libfuzzer_sys::fuzz_target!(|data: &[u8]| decide::check(data));
