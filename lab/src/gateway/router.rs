//! The broker's tables: which session holds which client id, and who subscribed to what.
//! Exact topic filters are indexed by topic; wildcard filters by their literal levels before
//! the first wildcard, so a publish looks at the filters under each prefix of its topic only
//! (every device subscribes to wildcard filters of its own Jobs topics: scanning them all on
//! every publish made a fleet's boot quadratic). A shared subscription
//! (`$share/<group>/<filter>`, as AWS IoT has them) delivers each matching publish to one
//! member of the group, in turn.

use std::collections::{BTreeSet, HashMap};
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
    /// Certificate id -> client ids of its sessions (a registry event names a certificate).
    by_cert: HashMap<String, BTreeSet<String>>,
    exact: HashMap<String, HashMap<String, u8>>,
    /// Literal prefix -> (filter, client id) -> QoS.
    wildcard: HashMap<String, HashMap<(String, String), u8>>,
    /// `$share/<group>/<filter>` -> its members in turn.
    shared: HashMap<String, SharedGroup>,
}

/// The members of one shared subscription and whose turn it is.
#[derive(Default)]
struct SharedGroup {
    /// The topic filter after `$share/<group>/`.
    filter: String,
    /// (client id, QoS), in the order they subscribed.
    members: Vec<(String, u8)>,
    next: usize,
}

/// The topic filter of a shared subscription (`$share/<group>/<filter>`), if it is one.
fn shared_filter(filter: &str) -> Option<&str> {
    let rest = filter.strip_prefix("$share/")?;
    let (group, filter) = rest.split_once('/')?;
    (!group.is_empty() && !group.contains(['+', '#']) && !filter.is_empty()).then_some(filter)
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
        let mut t = self.lock();
        t.by_cert
            .entry(entry.cert_id.clone())
            .or_default()
            .insert(client_id.to_owned());
        let replaced = t.sessions.insert(client_id.to_owned(), entry);
        if let Some(old) = &replaced {
            forget_cert(&mut t, &old.cert_id, client_id);
        }
        replaced
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
            if let Some(old) = t.sessions.remove(client_id) {
                forget_cert(&mut t, &old.cert_id, client_id);
            }
            for f in filters {
                remove_subscription(&mut t, client_id, f);
            }
        }
        current
    }

    /// Subscribes a client.
    pub fn subscribe(&self, client_id: &str, filter: &str, qos: u8) {
        let mut t = self.lock();
        if let Some(inner) = shared_filter(filter) {
            let group = t.shared.entry(filter.to_owned()).or_default();
            inner.clone_into(&mut group.filter);
            group.members.retain(|(c, _)| c != client_id);
            group.members.push((client_id.to_owned(), qos));
        } else if filter.contains(['+', '#']) {
            t.wildcard
                .entry(literal_prefix(filter).to_owned())
                .or_default()
                .insert((filter.to_owned(), client_id.to_owned()), qos);
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
            let mut t = self.lock();
            let exact = t.exact.get(&publish.topic).into_iter().flatten();
            let wild = topic_prefixes(&publish.topic)
                .filter_map(|prefix| t.wildcard.get(prefix))
                .flatten()
                .filter(|((f, _), _)| filter_matches(f, &publish.topic))
                .map(|((_, c), q)| (c, q));
            let mut targets: Vec<(mpsc::Sender<ToSession>, u8)> = exact
                .chain(wild)
                .filter_map(|(client, qos)| {
                    t.sessions
                        .get(client)
                        .map(|s| (s.tx.clone(), (*qos).min(publish.qos)))
                })
                .collect();
            let Tables {
                shared, sessions, ..
            } = &mut *t;
            for group in shared.values_mut() {
                if group.members.is_empty() || !filter_matches(&group.filter, &publish.topic) {
                    continue;
                }
                let turn = group.next % group.members.len();
                group.next = group.next.wrapping_add(1);
                let (client, qos) = &group.members[turn];
                if let Some(session) = sessions.get(client) {
                    targets.push((session.tx.clone(), (*qos).min(publish.qos)));
                }
            }
            targets
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

    /// The session holding a client id, if one is connected.
    #[must_use]
    pub fn session(&self, client_id: &str) -> Option<SessionEntry> {
        self.lock().sessions.get(client_id).cloned()
    }

    /// The client id and certificate id of every session.
    #[must_use]
    pub fn session_certificates(&self) -> Vec<(String, String)> {
        self.lock()
            .sessions
            .iter()
            .map(|(client, entry)| (client.clone(), entry.cert_id.clone()))
            .collect()
    }

    /// Sessions using a certificate.
    #[must_use]
    pub fn sessions_with_cert(&self, cert_id: &str) -> Vec<(String, SessionEntry)> {
        let t = self.lock();
        t.by_cert
            .get(cert_id)
            .into_iter()
            .flatten()
            .filter_map(|c| t.sessions.get(c).map(|s| (c.clone(), s.clone())))
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

/// Drops `client_id` from its certificate's index entry, unless the session now registered
/// under that client id uses the same certificate.
fn forget_cert(t: &mut Tables, cert_id: &str, client_id: &str) {
    if t.sessions
        .get(client_id)
        .is_some_and(|s| s.cert_id == cert_id)
    {
        return;
    }
    if let Some(clients) = t.by_cert.get_mut(cert_id) {
        clients.remove(client_id);
        if clients.is_empty() {
            t.by_cert.remove(cert_id);
        }
    }
}

fn remove_subscription(t: &mut Tables, client_id: &str, filter: &str) {
    if shared_filter(filter).is_some() {
        if let Some(group) = t.shared.get_mut(filter) {
            group.members.retain(|(c, _)| c != client_id);
            if group.members.is_empty() {
                t.shared.remove(filter);
            }
        }
        return;
    }
    if let Some(subs) = t.exact.get_mut(filter) {
        subs.remove(client_id);
        if subs.is_empty() {
            t.exact.remove(filter);
        }
    }
    let prefix = literal_prefix(filter);
    if let Some(subs) = t.wildcard.get_mut(prefix) {
        subs.remove(&(filter.to_owned(), client_id.to_owned()));
        if subs.is_empty() {
            t.wildcard.remove(prefix);
        }
    }
}

/// The levels of a filter before its first wildcard level, without the separator after them
/// (`a/b/+/c` -> `a/b`, `#` -> ``).
fn literal_prefix(filter: &str) -> &str {
    let mut end = 0;
    for (index, level) in filter.split('/').enumerate() {
        if level == "+" || level == "#" {
            break;
        }
        end += level.len() + usize::from(index > 0);
    }
    &filter[..end]
}

/// Every prefix of whole levels of a topic, the empty one first (`a/b` -> ``, `a`, `a/b`).
fn topic_prefixes(topic: &str) -> impl Iterator<Item = &str> {
    std::iter::once("")
        .chain(topic.match_indices('/').map(move |(i, _)| &topic[..i]))
        .chain(std::iter::once(topic).filter(|t| !t.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(session_id: u64, cert_id: &str) -> SessionEntry {
        SessionEntry {
            session_id,
            cert_id: cert_id.to_owned(),
            tx: mpsc::channel(1).0,
        }
    }

    fn clients_of(router: &Router, cert_id: &str) -> Vec<String> {
        let mut clients: Vec<String> = router
            .sessions_with_cert(cert_id)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        clients.sort();
        clients
    }

    #[test]
    fn wildcard_filters_are_found_under_every_prefix_of_the_topic() {
        assert_eq!(literal_prefix("a/b/+/c"), "a/b");
        assert_eq!(literal_prefix("#"), "");
        assert_eq!(literal_prefix("+/x"), "");
        assert_eq!(literal_prefix("a//+"), "a/");
        assert_eq!(
            topic_prefixes("a/b/c").collect::<Vec<_>>(),
            ["", "a", "a/b", "a/b/c"]
        );
        let router = Router::default();
        let (tx, mut rx) = mpsc::channel(16);
        router.register(
            "op",
            SessionEntry {
                session_id: 1,
                cert_id: "X".into(),
                tx,
            },
        );
        for filter in ["#", "a/+", "a/b/#", "a//+", "z/+", "$aws/things/+/jobs/#"] {
            router.subscribe("op", filter, 0);
        }
        let publish = |topic: &str| Publish {
            topic: topic.into(),
            payload: bytes::Bytes::new(),
            qos: 0,
            pkid: 0,
            retain: false,
        };
        // `#`, `a/+` and `a/b/#` (which also matches its parent level).
        assert_eq!(router.route(&publish("a/b")), 3);
        assert_eq!(router.route(&publish("a//c")), 2, "`#` and `a//+`");
        // `$` topics match no filter that starts with a wildcard.
        assert_eq!(router.route(&publish("$aws/things/d/jobs/get")), 1);
        router.unsubscribe("op", "a/+");
        assert_eq!(router.route(&publish("a/b")), 2);
        let mut delivered = 0;
        while rx.try_recv().is_ok() {
            delivered += 1;
        }
        assert_eq!(delivered, 8);
    }

    #[test]
    fn a_shared_subscription_delivers_each_publish_to_one_member_in_turn() {
        assert_eq!(
            shared_filter("$share/ops/fleetid/v1/+/status"),
            Some("fleetid/v1/+/status")
        );
        assert_eq!(shared_filter("$share//x"), None);
        assert_eq!(shared_filter("fleetid/v1/+/status"), None);
        let router = Router::default();
        let mut inboxes = Vec::new();
        for (i, client) in ["m1", "m2", "m3"].into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(16);
            router.register(
                client,
                SessionEntry {
                    session_id: i as u64,
                    cert_id: "X".into(),
                    tx,
                },
            );
            router.subscribe(client, "$share/ops/fleetid/v1/+/status", 0);
            inboxes.push(rx);
        }
        let (tx, mut plain) = mpsc::channel(16);
        router.register(
            "watcher",
            SessionEntry {
                session_id: 9,
                cert_id: "Y".into(),
                tx,
            },
        );
        router.subscribe("watcher", "fleetid/v1/+/status", 0);
        let publish = Publish {
            topic: "fleetid/v1/dev-1/status".into(),
            payload: bytes::Bytes::new(),
            qos: 0,
            pkid: 0,
            retain: false,
        };
        for _ in 0..6 {
            // One member of the group and the plain subscriber.
            assert_eq!(router.route(&publish), 2);
        }
        for inbox in &mut inboxes {
            let mut got = 0;
            while inbox.try_recv().is_ok() {
                got += 1;
            }
            assert_eq!(got, 2, "each member gets its turn");
        }
        let mut got = 0;
        while plain.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, 6);
        // A member that leaves is out of the turns.
        assert!(router.unregister("m2", 1, &["$share/ops/fleetid/v1/+/status".into()]));
        for _ in 0..4 {
            router.route(&publish);
        }
        let mut counts = [0; 3];
        for (count, inbox) in counts.iter_mut().zip(&mut inboxes) {
            while inbox.try_recv().is_ok() {
                *count += 1;
            }
        }
        assert_eq!(counts, [2, 0, 2]);
    }

    #[test]
    fn sessions_are_found_by_certificate_through_replacements_and_departures() {
        let router = Router::default();
        assert!(router.register("a", entry(1, "X")).is_none());
        assert!(router.register("b", entry(2, "X")).is_none());
        assert!(router.register("c", entry(3, "Y")).is_none());
        assert_eq!(clients_of(&router, "X"), ["a", "b"]);

        // A new connection with client id `a` and another certificate replaces the old one.
        assert_eq!(router.register("a", entry(4, "Y")).unwrap().session_id, 1);
        assert_eq!(clients_of(&router, "X"), ["b"]);
        assert_eq!(clients_of(&router, "Y"), ["a", "c"]);

        // The replaced session's late unregister changes nothing; the current one's does.
        assert!(!router.unregister("a", 1, &[]));
        assert_eq!(clients_of(&router, "Y"), ["a", "c"]);
        assert!(router.unregister("b", 2, &[]));
        assert!(clients_of(&router, "X").is_empty());
        // Same client id, same certificate: still indexed.
        router.register("c", entry(5, "Y"));
        assert_eq!(clients_of(&router, "Y"), ["a", "c"]);
        assert_eq!(router.len(), 2);
    }
}
