//! Fuzzes the config, theme and key chord parsers; see `checks/config_theme_keymap.rs`.
#![no_main]

#[path = "../checks/config_theme_keymap.rs"]
mod config_theme_keymap;

libfuzzer_sys::fuzz_target!(|data: &[u8]| config_theme_keymap::check(data));
