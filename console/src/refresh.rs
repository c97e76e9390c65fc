//! Bringing the fleet state up to date from AWS: the cached snapshot goes in, the backend
//! loads what is new or changed (page by page through a bounded channel), the model applies
//! it, and progress is shown on stderr while it runs.

use std::io::IsTerminal;

use tokio::sync::mpsc;

use crate::backend::aws::AwsBackend;
use crate::backend::{BackendUpdate, FleetBackend, SourceOutage};
use crate::feed;
use crate::model::{FleetState, FleetUpdate, Source, SourceState, UnixTime};
use crate::safe_text::SafeText;

/// Updates waiting between the backend and the model; a slow model slows the load.
const CHANNEL_DEPTH: usize = 64;

/// What a refresh learnt besides the fleet itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    /// Why the certificate source was unavailable, if it was.
    pub certificate_problem: Option<String>,
    /// The sources remembered as unavailable after the load, to hand to the next one.
    pub outages: Vec<SourceOutage>,
}

/// Loads a snapshot from `backend` on top of `state`. Progress goes to stderr when it is a
/// terminal. `sources` limits the load (empty: every source but live); `outages` are the
/// sources remembered as unavailable (they are not asked until their time has passed).
pub async fn refresh(
    backend: &impl FleetBackend,
    state: &mut FleetState,
    sources: Vec<crate::backend::Source>,
    outages: Vec<SourceOutage>,
) -> Refreshed {
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(CHANNEL_DEPTH);
    let mut request = feed::snapshot_request(state);
    request.sources = sources;
    request.outages = outages;
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
    let (summary, ()) = tokio::join!(load, apply);
    if show_progress {
        crate::stderr::clear_progress();
    }
    let certificate_problem = match state.sources().get(&Source::Certificates).map(|s| &s.state) {
        Some(SourceState::Unavailable { reason }) => Some(reason.to_string()),
        _ => None,
    };
    Refreshed {
        certificate_problem,
        outages: summary.outages,
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
        crate::stderr::progress(&SafeText::from_string(format!(
            "loading certificates: {done}/{total}"
        )));
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
            crate::stderr::message(&format!("live status: {e}"));
        }
    });
    std::iter::from_fn(move || rx.blocking_recv())
        .flat_map(|update| feed::fleet_updates(update, UnixTime::now()))
}
