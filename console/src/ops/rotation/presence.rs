//! The cloud's side of "on the new certificate": while a console drives a campaign it follows
//! AWS IoT's lifecycle events and keeps, per client, the certificates it was seen connecting
//! with (`principalIdentifier` of `$aws/events/presence/connected/<clientId>`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::backend::aws::AwsBackend;
use crate::backend::live::{LiveEvent, PresenceKind};
use crate::backend::{BackendUpdate, FleetBackend};

/// How long to wait for the live connection before going on without it.
const READY_WAIT: Duration = Duration::from_secs(5);

type Seen = Arc<Mutex<HashMap<String, HashSet<String>>>>;

/// Connections seen while the log runs; stops following when dropped.
#[derive(Debug)]
pub struct PresenceLog {
    task: tokio::task::JoinHandle<()>,
    seen: Seen,
}

impl Drop for PresenceLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PresenceLog {
    /// Starts following lifecycle events; `None` when the backend has no live connection or it
    /// did not come up in time (the registry check stands in then).
    pub async fn start(backend: &AwsBackend) -> Option<Self> {
        if !backend.has_live() {
            return None;
        }
        let (tx, mut events) = mpsc::channel(4096);
        let follower = backend.clone();
        let seen: Seen = Arc::default();
        let (ready_tx, ready_rx) = oneshot::channel();
        let map = Arc::clone(&seen);
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
                        BackendUpdate::Live(LiveEvent::Presence(event))
                            if event.kind == PresenceKind::Connected =>
                        {
                            if let (Some(cert), Ok(mut map)) = (event.certificate_id, map.lock()) {
                                let client = event.thing.unwrap_or(event.client_id);
                                map.entry(client).or_default().insert(cert);
                            }
                        }
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
        Some(Self { task, seen })
    }

    /// Whether `thing` was seen connecting with `certificate`.
    #[must_use]
    pub fn saw(&self, thing: &str, certificate: &str) -> bool {
        self.seen
            .lock()
            .is_ok_and(|m| m.get(thing).is_some_and(|c| c.contains(certificate)))
    }
}
