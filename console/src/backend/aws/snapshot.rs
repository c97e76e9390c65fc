//! One snapshot load: every source side by side — CAs, the certificate listing and the
//! policy side together (certificates are linked to their CA before they are sent), things
//! and groups, policies, fleet indexing, Device Defender, CloudWatch. Each source reports how
//! it ended; none stops another. A source remembered as unavailable is not asked
//! ([`super::budget`]).

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::AwsBackend;
use super::budget::{Outages, skipped_reason};
use super::cas::{CaIndex, LoadedCas, load_cas};
use super::certificates::{self, ReadPlan};
use super::{attachments, defender, indexing, inventory, metrics};
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
    update: impl FnOnce(Vec<T>) -> BackendUpdate,
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
    finish_at(updates, source, state, now_secs()).await;
}

/// Reports a source's state as of `at` (a remembered outage keeps the time it was found).
async fn finish_at(
    updates: &mpsc::Sender<BackendUpdate>,
    source: Source,
    state: SourceState,
    at: i64,
) {
    emit(updates, BackendUpdate::SourceFinished { source, state, at }).await;
}

pub(super) async fn load(
    backend: &AwsBackend,
    request: &SnapshotRequest,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SnapshotSummary {
    let (iot, first) = (&backend.iot, &backend.iot_first);
    let settings = &backend.settings;
    let outages = Outages::new(&request.outages, now_secs());
    let wants = |source| request.wants(source);
    // A source remembered as unavailable is not asked; it reports the remembered reason.
    let mut skipped = Vec::new();
    for source in Source::ALL {
        if source == Source::CaCertificates || !wants(source) {
            continue;
        }
        if let Some(outage) = outages.remembered(source) {
            let state = SourceState::Unavailable {
                reason: skipped_reason(outage, now_secs()),
            };
            finish_at(updates, source, state.clone(), outage.since).await;
            skipped.push((source, state));
        }
    }
    let runs = |source| wants(source) && outages.remembered(source).is_none();

    // CAs, the certificate listing and the policy side run side by side; certificates are
    // linked to their CA once both are in.
    let registry = async {
        let mut states = Vec::new();
        let mut progress = Progress::default();
        if !wants(Source::CaCertificates) && !wants(Source::Certificates) {
            return (states, progress);
        }
        let cas = async {
            let remembered = outages.remembered(Source::CaCertificates);
            let skip = remembered.map(|o| skipped_reason(o, now_secs()));
            let (loaded, failed_listing) = load_cas(first, iot, &request.known_ca_ids, skip).await;
            if let Some(failure) = failed_listing {
                outages.listing_failed(Source::CaCertificates, &failure);
            }
            let index = CaIndex::new(&loaded.cas);
            if wants(Source::CaCertificates) {
                let state = ca_state(&loaded);
                emit(updates, BackendUpdate::CaCertificates(loaded.cas)).await;
                // A remembered outage keeps the time it was found, so its age stays honest.
                let at = match (&state, remembered) {
                    (SourceState::Unavailable { .. }, Some(outage)) => outage.since,
                    _ => now_secs(),
                };
                finish_at(updates, Source::CaCertificates, state.clone(), at).await;
                states.push((Source::CaCertificates, state));
            }
            index
        };
        let certificates = async {
            if !runs(Source::Certificates) {
                return None;
            }
            let listing = certificates::list(
                first,
                iot,
                &request.known_certificates,
                &mut progress,
                updates,
            );
            let policies = attachments::policies_by_certificate(first, iot);
            let (listing, policies) = tokio::join!(listing, policies);
            Some((listing, policies))
        };
        let (index, certificates) = tokio::join!(cas, certificates);
        if let Some((listing, policies)) = certificates {
            let state = match listing {
                Err(failure) => {
                    outages.listing_failed(Source::Certificates, &failure);
                    SourceState::Unavailable {
                        reason: failure.call.to_string(),
                    }
                }
                Ok(listing) => {
                    let plan = ReadPlan {
                        iot,
                        slots: &backend.describe_slots,
                        concurrency: settings.describe_concurrency,
                        cas: &index,
                        known_policy_targets: &request.known_policy_targets,
                    };
                    certificates::read(plan, listing, policies, &mut progress, updates).await
                }
            };
            finish(updates, Source::Certificates, state.clone()).await;
            states.push((Source::Certificates, state));
        }
        (states, progress)
    };
    let inventory = async {
        if runs(Source::Things) || runs(Source::ThingGroups) {
            inventory::load_things_and_groups(
                first,
                iot,
                (runs(Source::ThingGroups), runs(Source::Things)),
                &outages,
                updates,
            )
            .await
        } else {
            Vec::new()
        }
    };
    let policies = async {
        if runs(Source::Policies) {
            vec![(
                Source::Policies,
                inventory::load_policies(first, &outages, updates).await,
            )]
        } else {
            Vec::new()
        }
    };
    let indexing = async {
        if runs(Source::FleetIndexing) {
            vec![(
                Source::FleetIndexing,
                indexing::load_connectivity(first, iot, &outages, updates).await,
            )]
        } else {
            Vec::new()
        }
    };
    let defender = async {
        let detect = runs(Source::DefenderDetect);
        let audit = runs(Source::DefenderAudit);
        if detect || audit {
            defender::load_defender(
                first,
                settings,
                (detect, audit),
                backend.live.as_ref(),
                &outages,
                updates,
            )
            .await
        } else {
            Vec::new()
        }
    };
    let metrics = async {
        if runs(Source::Metrics) {
            let state =
                metrics::load_metrics(&backend.cloudwatch_first, settings, &outages, updates).await;
            vec![(Source::Metrics, state)]
        } else {
            Vec::new()
        }
    };

    let ((registry_states, progress), inventory, policies, indexing, defender, metrics) =
        tokio::join!(registry, inventory, policies, indexing, defender, metrics);
    let mut sources = registry_states;
    for states in [skipped, inventory, policies, indexing, defender, metrics] {
        sources.extend(states);
    }
    SnapshotSummary {
        sources,
        progress,
        outages: outages.into_vec(),
    }
}

fn ca_state(loaded: &LoadedCas) -> SourceState {
    let items = loaded.cas.len();
    match (&loaded.listing_failure, loaded.describe_failures.first()) {
        (None, None) => SourceState::Loaded { items },
        (Some(listing), _) if items == 0 => SourceState::Unavailable {
            reason: listing.clone(),
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
