//! Bringing the fleet state up to date from AWS: the cached snapshot goes in, the backend
//! loads what is new or changed (page by page through a bounded channel), the model applies
//! it, and progress is shown on stderr while it runs.

use std::io::{IsTerminal, Write};

use tokio::sync::mpsc;

use crate::backend::aws::AwsBackend;
use crate::backend::{BackendUpdate, FleetBackend};
use crate::feed;
use crate::model::{FleetState, FleetUpdate, Source, SourceState, UnixTime};

/// Updates waiting between the backend and the model; a slow model slows the load.
const CHANNEL_DEPTH: usize = 64;

/// Loads a snapshot from `backend` on top of `state`. Progress goes to stderr when it is a
/// terminal. Returns why the certificate source was unavailable, if it was.
/// `sources` limits the load (empty: every source but live).
pub async fn refresh(
    backend: &impl FleetBackend,
    state: &mut FleetState,
    sources: Vec<crate::backend::Source>,
) -> Option<String> {
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(CHANNEL_DEPTH);
    let mut request = feed::snapshot_request(state);
    request.sources = sources;
    let show_progress = std::io::stderr().is_terminal();
    let load = backend.load_snapshot(request, tx);
    let apply = async {
        while let Some(update) = rx.recv().await {
            for change in feed::fleet_updates(update, UnixTime::now()) {
                if show_progress {
                    progress(&change);
                }
                state.apply(change);
            }
        }
    };
    let (_summary, ()) = tokio::join!(load, apply);
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    match state.sources().get(&Source::Certificates).map(|s| &s.state) {
        Some(SourceState::Unavailable { reason }) => Some(reason.to_string()),
        _ => None,
    }
}

fn progress(change: &FleetUpdate) {
    if let FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Loading { done, total },
        ..
    } = change
    {
        let total = total.map_or_else(|| "?".to_owned(), |t| t.to_string());
        eprint!("\rloading certificates: {done}/{total}");
        let _ = std::io::stderr().flush();
    }
}

/// Follows live events into a blocking iterator of model updates (for `anomalies --follow`).
/// The runtime must outlive the iterator.
pub fn follow(
    runtime: &tokio::runtime::Runtime,
    backend: AwsBackend,
) -> impl Iterator<Item = FleetUpdate> {
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(CHANNEL_DEPTH);
    runtime.spawn(async move {
        if let Err(e) = backend.follow_live(tx).await {
            eprintln!("fleetid: live status: {e}");
        }
    });
    std::iter::from_fn(move || rx.blocking_recv())
        .flat_map(|update| feed::fleet_updates(update, UnixTime::now()))
}
