//! Fuzzes the status message parser (`StatusMessage::from_json`); see `checks/status_message.rs`.
#![no_main]

#[path = "../checks/status_message.rs"]
mod status_message;

libfuzzer_sys::fuzz_target!(|data: &[u8]| status_message::check(data));
