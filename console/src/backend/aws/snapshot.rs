//! One snapshot load: CAs first (certificates are linked to them), then certificates, while
//! the other sources load alongside. Each source reports how it ended; none stops another.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::AwsBackend;
use super::cas::{CaIndex, load_cas};
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

    let registry = async {
        let loaded = load_cas(iot, &request.known_ca_ids).await;
        let index = CaIndex::new(&loaded.cas);
        let items = loaded.cas.len();
        let ca_state = match (&loaded.listing_failure, loaded.describe_failures.first()) {
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
        };
        emit(updates, BackendUpdate::CaCertificates(loaded.cas)).await;
        finish(updates, Source::CaCertificates, ca_state.clone()).await;
        let (cert_state, progress) = load_certificates(
            iot,
            &backend.describe_slots,
            settings.describe_concurrency,
            &index,
            &request.known_certificates,
            updates,
        )
        .await;
        finish(updates, Source::Certificates, cert_state.clone()).await;
        (ca_state, cert_state, progress)
    };

    let (
        (ca_state, cert_state, progress),
        inventory_states,
        policy_state,
        indexing_state,
        defender_states,
        metric_state,
    ): ((SourceState, SourceState, Progress), _, _, _, _, _) = tokio::join!(
        registry,
        inventory::load_things_and_groups(iot, updates),
        inventory::load_policies(iot, updates),
        indexing::load_connectivity(iot, updates),
        defender::load_defender(iot, settings, updates),
        metrics::load_metrics(&backend.cloudwatch, settings, updates),
    );

    let mut sources = vec![
        (Source::CaCertificates, ca_state),
        (Source::Certificates, cert_state),
    ];
    sources.extend(inventory_states);
    sources.push((Source::Policies, policy_state));
    sources.push((Source::FleetIndexing, indexing_state));
    sources.extend(defender_states);
    sources.push((Source::Metrics, metric_state));
    SnapshotSummary { sources, progress }
}
