//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run, on stable Rust: every input that libFuzzer kept stays covered by the
//! ordinary test run, without a nightly toolchain.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/checks/job_document.rs"]
mod job_document;
#[path = "../fuzz/checks/status_message.rs"]
mod status_message;

use std::path::Path;

/// Runs `check` over every file of the target's corpus; the corpus must not be empty.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        check(&data);
        count += 1;
    }
    assert!(count > 0, "{} holds no inputs", dir.display());
}

#[test]
fn status_message_corpus() {
    replay("status_message", status_message::check);
}

#[test]
fn job_document_corpus() {
    replay("job_document", job_document::check);
}
