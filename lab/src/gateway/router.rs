//! The broker's tables: which session holds which client id, and who subscribed to what.
//! Exact topic filters are indexed by topic; the few wildcard filters are scanned.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::mpsc;

use super::mqtt::{Publish, filter_matches};

/// What the gateway tells a session task.
#[derive(Debug)]
pub enum ToSession {
    /// Deliver a message (the session checks `iot:Receive` first).
    Deliver(std::sync::Arc<Publish>),
    /// Close the connection with this `DisconnectReasonValue`.
    Close(&'static str),
    /// Policies may have changed: re-check `iot:Connect`.
    Recheck,
}

/// A connected session as the tables see it.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    /// Unique per connection.
    pub session_id: u64,
    /// Certificate id of the client.
    pub cert_id: String,
    /// Channel to the session task.
    pub tx: mpsc::Sender<ToSession>,
}

#[derive(Default)]
struct Tables {
    sessions: HashMap<String, SessionEntry>,
    exact: HashMap<String, HashMap<String, u8>>,
    wildcard: Vec<(String, String, u8)>,
}

/// Sessions and subscriptions.
#[derive(Default)]
pub struct Router {
    tables: Mutex<Tables>,
}

impl Router {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a session; returns the one it replaces (same client id), which must be closed.
    pub fn register(&self, client_id: &str, entry: SessionEntry) -> Option<SessionEntry> {
        self.lock().sessions.insert(client_id.to_owned(), entry)
    }

    /// Removes a session (only if it is still the one registered) and its subscriptions.
    /// Returns whether it was the current one.
    pub fn unregister(&self, client_id: &str, session_id: u64, filters: &[String]) -> bool {
        let mut t = self.lock();
        let current = t
            .sessions
            .get(client_id)
            .is_some_and(|s| s.session_id == session_id);
        if current {
            t.sessions.remove(client_id);
            for f in filters {
                remove_subscription(&mut t, client_id, f);
            }
        }
        current
    }

    /// Subscribes a client.
    pub fn subscribe(&self, client_id: &str, filter: &str, qos: u8) {
        let mut t = self.lock();
        if filter.contains(['+', '#']) {
            t.wildcard
                .retain(|(f, c, _)| !(f == filter && c == client_id));
            t.wildcard
                .push((filter.to_owned(), client_id.to_owned(), qos));
        } else {
            t.exact
                .entry(filter.to_owned())
                .or_default()
                .insert(client_id.to_owned(), qos);
        }
    }

    /// Unsubscribes a client.
    pub fn unsubscribe(&self, client_id: &str, filter: &str) {
        remove_subscription(&mut self.lock(), client_id, filter);
    }

    /// Delivers to every matching subscriber at min(publish QoS, subscription QoS). A
    /// subscriber whose queue is full misses the message (QoS 0 semantics under load).
    pub fn route(&self, publish: &Publish) -> usize {
        let targets: Vec<(mpsc::Sender<ToSession>, u8)> = {
            let t = self.lock();
            let exact = t.exact.get(&publish.topic).into_iter().flatten();
            let wild = t
                .wildcard
                .iter()
                .filter(|(f, _, _)| filter_matches(f, &publish.topic))
                .map(|(_, c, q)| (c, q));
            exact
                .chain(wild)
                .filter_map(|(client, qos)| {
                    t.sessions
                        .get(client)
                        .map(|s| (s.tx.clone(), (*qos).min(publish.qos)))
                })
                .collect()
        };
        let count = targets.len();
        for (tx, qos) in targets {
            let message = Publish {
                qos,
                ..publish.clone()
            };
            let _ = tx.try_send(ToSession::Deliver(std::sync::Arc::new(message)));
        }
        count
    }

    /// Sessions using a certificate.
    #[must_use]
    pub fn sessions_with_cert(&self, cert_id: &str) -> Vec<(String, SessionEntry)> {
        self.lock()
            .sessions
            .iter()
            .filter(|(_, s)| s.cert_id == cert_id)
            .map(|(c, s)| (c.clone(), s.clone()))
            .collect()
    }

    /// Every session.
    #[must_use]
    pub fn sessions(&self) -> Vec<SessionEntry> {
        self.lock().sessions.values().cloned().collect()
    }

    /// Number of connected sessions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether no session is connected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn remove_subscription(t: &mut Tables, client_id: &str, filter: &str) {
    if let Some(subs) = t.exact.get_mut(filter) {
        subs.remove(client_id);
        if subs.is_empty() {
            t.exact.remove(filter);
        }
    }
    t.wildcard
        .retain(|(f, c, _)| !(f == filter && c == client_id));
}
