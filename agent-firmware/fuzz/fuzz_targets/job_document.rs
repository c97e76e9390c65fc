//! Fuzzes the job parsers (`StartNextAccepted`, `JobDocument::from_value`); see
//! `checks/job_document.rs`.
#![no_main]

#[path = "../checks/job_document.rs"]
mod job_document;

libfuzzer_sys::fuzz_target!(|data: &[u8]| job_document::check(data));
