//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run, on stable Rust: every input that libFuzzer kept stays covered by the
//! ordinary test run, without a nightly toolchain.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/checks/driver_over_chip_bytes.rs"]
mod driver_over_chip_bytes;
#[path = "../fuzz/checks/frame_and_response_parsers.rs"]
mod frame_and_response_parsers;

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
fn frame_and_response_parsers_corpus() {
    replay(
        "frame_and_response_parsers",
        frame_and_response_parsers::check,
    );
}

#[test]
fn driver_over_chip_bytes_corpus() {
    replay("driver_over_chip_bytes", driver_over_chip_bytes::check);
}
