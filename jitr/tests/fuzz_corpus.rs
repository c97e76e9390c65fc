//! Replays the committed fuzz corpus (`fuzz/corpus/decide/`) through the same check the fuzz
//! target runs, on stable Rust: every input that libFuzzer kept stays covered by the ordinary
//! test run, without a nightly toolchain.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/checks/decide.rs"]
mod decide;

use std::path::Path;

#[test]
fn decide_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decide");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        decide::check(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count > 0, "{} holds no inputs", dir.display());
}
