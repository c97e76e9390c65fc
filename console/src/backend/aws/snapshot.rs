//! One snapshot load: CAs first (certificates are linked to them), then certificates, while
//! the other sources load alongside. Each source reports how it ended; none stops another.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::AwsBackend;
use super::cas::{CaIndex, LoadedCas, load_cas};
use super::certificates::load_certificates;
use super::{defender, indexing, inventory, metrics};
use crate::backend::update::{
    BackendUpdate, Progress, SnapshotRequest, SnapshotSummary, Source, SourceState,
};

/// Sends an update; `false` when the receiver is gone (the load should stop).
pub(super) async fn emit(updates: &mpsc::Sender<BackendUpdate>, update: BackendUpdate) -> bool {
    updates.send(update).await.is_ok()
}

/// Seconds since the Unix epoch now.
pub(super) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Sends what a source read (or why it could not), reports that it finished, and returns
/// its final state.
pub(super) async fn deliver<T, E: std::fmt::Display>(
    updates: &mpsc::Sender<BackendUpdate>,
    source: Source,
    read: Result<Vec<T>, E>,
    update: fn(Vec<T>) -> BackendUpdate,
) -> SourceState {
    let state = match read {
        Ok(records) => {
            let items = records.len();
            emit(updates, update(records)).await;
            SourceState::Loaded { items }
        }
        Err(failure) => SourceState::Unavailable {
            reason: failure.to_string(),
        },
    };
    finish(updates, source, state.clone()).await;
    state
}

/// Reports that a source finished.
pub(super) async fn finish(
    updates: &mpsc::Sender<BackendUpdate>,
    source: Source,
    state: SourceState,
) {
    emit(
        updates,
        BackendUpdate::SourceFinished {
            source,
            state,
            at: now_secs(),
        },
    )
    .await;
}

pub(super) async fn load(
    backend: &AwsBackend,
    request: &SnapshotRequest,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SnapshotSummary {
    let iot = &backend.iot;
    let settings = &backend.settings;
    let wants = |source| request.wants(source);

    // CAs come first even when only certificates are wanted: certificates are linked to them.
    let registry = async {
        let mut states = Vec::new();
        let mut progress = Progress::default();
        if !wants(Source::CaCertificates) && !wants(Source::Certificates) {
            return (states, progress);
        }
        let loaded = load_cas(iot, &request.known_ca_ids).await;
        let index = CaIndex::new(&loaded.cas);
        if wants(Source::CaCertificates) {
            let state = ca_state(&loaded);
            emit(updates, BackendUpdate::CaCertificates(loaded.cas)).await;
            finish(updates, Source::CaCertificates, state.clone()).await;
            states.push((Source::CaCertificates, state));
        }
        if wants(Source::Certificates) {
            let (state, done) = load_certificates(
                iot,
                &backend.describe_slots,
                settings.describe_concurrency,
                &index,
                &request.known_certificates,
                updates,
            )
            .await;
            finish(updates, Source::Certificates, state.clone()).await;
            states.push((Source::Certificates, state));
            progress = done;
        }
        (states, progress)
    };
    let inventory = async {
        if wants(Source::Things) || wants(Source::ThingGroups) {
            inventory::load_things_and_groups(iot, updates).await
        } else {
            Vec::new()
        }
    };
    let policies = async {
        if wants(Source::Policies) {
            vec![(
                Source::Policies,
                inventory::load_policies(iot, updates).await,
            )]
        } else {
            Vec::new()
        }
    };
    let indexing = async {
        if wants(Source::FleetIndexing) {
            vec![(
                Source::FleetIndexing,
                indexing::load_connectivity(iot, updates).await,
            )]
        } else {
            Vec::new()
        }
    };
    let defender = async {
        if wants(Source::DefenderDetect) || wants(Source::DefenderAudit) {
            defender::load_defender(iot, settings, updates).await
        } else {
            Vec::new()
        }
    };
    let metrics = async {
        if wants(Source::Metrics) {
            let state = metrics::load_metrics(&backend.cloudwatch, settings, updates).await;
            vec![(Source::Metrics, state)]
        } else {
            Vec::new()
        }
    };

    let ((registry_states, progress), inventory, policies, indexing, defender, metrics) =
        tokio::join!(registry, inventory, policies, indexing, defender, metrics);
    let mut sources = registry_states;
    for states in [inventory, policies, indexing, defender, metrics] {
        sources.extend(states);
    }
    SnapshotSummary { sources, progress }
}

fn ca_state(loaded: &LoadedCas) -> SourceState {
    let items = loaded.cas.len();
    match (&loaded.listing_failure, loaded.describe_failures.first()) {
        (None, None) => SourceState::Loaded { items },
        (Some(listing), _) if items == 0 => SourceState::Unavailable {
            reason: listing.to_string(),
        },
        (Some(listing), _) => SourceState::Partial {
            items,
            failed: loaded.describe_failures.len(),
            reason: format!("{listing}; showing the {items} CAs known from earlier snapshots"),
        },
        (None, Some(first)) => SourceState::Partial {
            items,
            failed: loaded.describe_failures.len(),
            reason: first.to_string(),
        },
    }
}
