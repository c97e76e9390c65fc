//! The cloud's side of "on the new certificate": while a console drives a campaign it follows
//! AWS IoT's lifecycle events and keeps, per client, the certificates it was seen connecting
//! with (`principalIdentifier` of `$aws/events/presence/connected/<clientId>`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::backend::aws::AwsBackend;
use crate::backend::live::PresenceKind;
use crate::ops::presence_feed::follow_presence;

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
        let seen: Seen = Arc::default();
        let map = Arc::clone(&seen);
        let task = follow_presence(backend, move |event| {
            if event.kind == PresenceKind::Connected
                && let (Some(cert), Ok(mut map)) = (event.certificate_id, map.lock())
            {
                let client = event.thing.unwrap_or(event.client_id);
                map.entry(client).or_default().insert(cert);
            }
        })
        .await?;
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
