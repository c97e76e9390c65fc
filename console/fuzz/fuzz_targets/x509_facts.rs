//! Fuzzes the console's certificate reader (`backend::x509`); see `checks/x509_facts.rs`.
#![no_main]

#[path = "../checks/x509_facts.rs"]
mod x509_facts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| x509_facts::check(data));
