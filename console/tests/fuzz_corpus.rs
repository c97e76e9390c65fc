//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run, on stable Rust: every input that libFuzzer kept stays covered by the
//! ordinary test run, without a nightly toolchain.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/checks/campaign_file.rs"]
mod campaign_file;
#[path = "../fuzz/checks/config_theme_keymap.rs"]
mod config_theme_keymap;
#[path = "../fuzz/checks/x509_facts.rs"]
mod x509_facts;

use std::path::Path;

/// Runs `check` over every file of the target's corpus; the corpus must not be empty.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        check(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count > 0, "{} holds no inputs", dir.display());
}

#[test]
fn x509_facts_corpus() {
    replay("x509_facts", x509_facts::check);
}

#[test]
fn config_theme_keymap_corpus() {
    replay("config_theme_keymap", config_theme_keymap::check);
}

#[test]
fn campaign_file_corpus() {
    replay("campaign_file", campaign_file::check);
}
