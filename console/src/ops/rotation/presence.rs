//! The cloud's side of "on the new certificate", and the agents' own word on their trust
//! anchors: while a console drives a campaign it follows AWS IoT's lifecycle events and keeps,
//! per client, the certificates it was seen connecting with (`principalIdentifier` of
//! `$aws/events/presence/connected/<clientId>`), and per thing the anchors its latest status
//! message (`fleetid/v1/<thing>/status`) reported.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::backend::aws::AwsBackend;
use crate::backend::live::{LiveEvent, PresenceKind};
use crate::ops::presence_feed::follow_live_events;

type Seen = Arc<Mutex<HashMap<String, HashSet<String>>>>;
/// Per thing: the current anchor's fingerprint and the next one's, as last reported.
type Anchors = Arc<Mutex<HashMap<String, (String, Option<String>)>>>;

/// Connections and status messages seen while the log runs; stops following when dropped.
#[derive(Debug)]
pub struct PresenceLog {
    task: tokio::task::JoinHandle<()>,
    seen: Seen,
    anchors: Anchors,
}

impl Drop for PresenceLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PresenceLog {
    /// Starts following lifecycle events and status messages; `None` when the backend has no
    /// live connection or it did not come up in time (the registry check stands in then).
    pub async fn start(backend: &AwsBackend) -> Option<Self> {
        let seen: Seen = Arc::default();
        let anchors: Anchors = Arc::default();
        let (map, anchor_map) = (Arc::clone(&seen), Arc::clone(&anchors));
        let task = follow_live_events(backend, move |event| match event {
            LiveEvent::Presence(event) => {
                if event.kind == PresenceKind::Connected
                    && let (Some(cert), Ok(mut map)) = (event.certificate_id, map.lock())
                {
                    let client = event.thing.unwrap_or(event.client_id);
                    map.entry(client).or_default().insert(cert);
                }
            }
            LiveEvent::Status { thing, message } => {
                // The topic names the thing; a message naming another is not this device's.
                if message.thing == thing
                    && let Ok(mut map) = anchor_map.lock()
                {
                    let anchors = &message.anchors;
                    map.insert(thing, (anchors.current.clone(), anchors.next.clone()));
                }
            }
            _ => {}
        })
        .await?;
        Some(Self {
            task,
            seen,
            anchors,
        })
    }

    /// Whether `thing` was seen connecting with `certificate`.
    #[must_use]
    pub fn saw(&self, thing: &str, certificate: &str) -> bool {
        self.seen
            .lock()
            .is_ok_and(|m| m.get(thing).is_some_and(|c| c.contains(certificate)))
    }

    /// Whether the latest status message of `thing` reported `fingerprint` among its trust
    /// anchors (next, or current once promoted); `None` when no status message of it was seen.
    #[must_use]
    pub fn reports_anchor(&self, thing: &str, fingerprint: &str) -> Option<bool> {
        let map = self.anchors.lock().ok()?;
        let (current, next) = map.get(thing)?;
        Some(current == fingerprint || next.as_deref() == Some(fingerprint))
    }
}
