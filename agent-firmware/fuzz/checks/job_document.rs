//! What must hold for any bytes an agent reads as a job: the `start-next/accepted` payload and
//! the job document inside it. Parsing never panics, and a document that parses writes back to
//! JSON that parses to the same document. Shared by the fuzz target and the corpus replay test
//! (`tests/fuzz_corpus.rs`).

use fleetid_agent::wire::{JobDocument, StartNextAccepted};
use serde_json::Value;

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    // The agent reads the MQTT payload as a start-next notice first (core/jobs.rs) ...
    if let Ok(accepted) = serde_json::from_slice::<StartNextAccepted>(data)
        && let Some(execution) = accepted.execution
    {
        round_trip(&execution.job_document);
    }
    // ... and the bytes as a bare document too, so the fuzzer reaches it without the envelope.
    if let Ok(document) = serde_json::from_slice::<Value>(data) {
        round_trip(&document);
    }
}

fn round_trip(document: &Value) {
    let Ok(job) = JobDocument::from_value(document) else {
        return;
    };
    let again = JobDocument::from_value(&job.to_value()).expect("a written job document parses");
    assert_eq!(again, job, "job document changed on a round trip");
}
