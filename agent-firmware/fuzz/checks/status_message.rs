//! What must hold for any bytes read as an agent's status message (the console reads these from
//! every device): parsing never panics, and a message that parses serializes within the
//! protocol's size limit to JSON that parses back and serializes to the same bytes.
//! Shared by the fuzz target and the corpus replay test (`tests/fuzz_corpus.rs`).

use fleetid_agent::wire::{STATUS_MAX_BYTES, StatusMessage};

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Ok(message) = StatusMessage::from_json(data) else {
        return;
    };
    let json = message.to_json();
    assert!(
        json.len() <= STATUS_MAX_BYTES,
        "to_json wrote {} bytes, over the limit",
        json.len()
    );
    let again = StatusMessage::from_json(&json).expect("a serialized status message parses");
    assert_eq!(again.to_json(), json, "serialization is not stable");
}
