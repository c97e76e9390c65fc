//! Fuzzes the rotation campaign file parser; see `checks/campaign_file.rs`.
#![no_main]

#[path = "../checks/campaign_file.rs"]
mod campaign_file;

libfuzzer_sys::fuzz_target!(|data: &[u8]| campaign_file::check(data));
