//! AWS IoT lifecycle events for the ops code: a task of its own follows live status and hands
//! every presence event (and, to a rotation, every agent status message) to a callback, so a
//! long apply or a slow gate never stalls the MQTT reader. Verify stamps disconnects with it; a
//! rotation records the certificates devices connect with and the trust anchors they report.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::backend::aws::AwsBackend;
use crate::backend::live::{LiveEvent, PresenceEvent};
use crate::backend::{BackendUpdate, FleetBackend};

/// How long to wait for the live connection before going on without it.
const READY_WAIT: Duration = Duration::from_secs(5);

/// Follows presence events into `on_event` until the returned task is aborted; `None` when
/// the backend has no live status or it did not connect within [`READY_WAIT`].
pub async fn follow_presence(
    backend: &AwsBackend,
    mut on_event: impl FnMut(PresenceEvent) + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    follow_live_events(backend, move |event| {
        if let LiveEvent::Presence(event) = event {
            on_event(event);
        }
    })
    .await
}

/// Follows presence events and agents' status messages into `on_event`, as
/// [`follow_presence`] does presence events alone.
pub async fn follow_live_events(
    backend: &AwsBackend,
    mut on_event: impl FnMut(LiveEvent) + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if !backend.has_live() {
        return None;
    }
    let (tx, mut events) = mpsc::channel(4096);
    let follower = backend.clone();
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let follow = follower.follow_live(tx);
        let read = async {
            let mut ready = Some(ready_tx);
            while let Some(update) = events.recv().await {
                match update {
                    BackendUpdate::Live(LiveEvent::Connected) => {
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(());
                        }
                    }
                    BackendUpdate::Live(
                        event @ (LiveEvent::Presence(_) | LiveEvent::Status { .. }),
                    ) => on_event(event),
                    _ => {}
                }
            }
        };
        let _ = tokio::join!(follow, read);
    });
    if tokio::time::timeout(READY_WAIT, ready_rx).await != Ok(Ok(())) {
        task.abort();
        return None;
    }
    Some(task)
}
