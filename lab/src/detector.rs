//! The lab's stand-in for Device Defender: what the gateway observed that looks wrong
//! (publishes to debug topics, bursts of authorization failures, duplicate client ids,
//! flapping connections), kept as active violations and audit findings.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;

use crate::registry::{new_uuid, now};

/// The security profile every lab violation belongs to.
pub const SECURITY_PROFILE: &str = "fleetid-lab";

/// One active violation of a behavior by a thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Stable id.
    pub id: String,
    /// The thing (or client id when no thing is known).
    pub thing_name: String,
    /// Behavior name (`DebugTopicPublish`, `AuthorizationFailures`, ...).
    pub behavior: String,
    /// The cloud-side metric (`aws:num-authorization-failures`, ...).
    pub metric: String,
    /// Last observed value.
    pub count: u64,
    /// When it started.
    pub started: OffsetDateTime,
    /// Last time it was seen.
    pub last: OffsetDateTime,
}

/// An audit finding the detector made (the registry-derived ones are computed on demand).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Stable id.
    pub id: String,
    /// Audit check name (`CONFLICTING_CLIENT_IDS_CHECK`, ...).
    pub check_name: String,
    /// CRITICAL, HIGH, MEDIUM or LOW.
    pub severity: &'static str,
    /// `DEVICE_CERTIFICATE` or `CLIENT_ID`.
    pub resource_type: &'static str,
    /// Certificate id or client id.
    pub resource: String,
    /// Why.
    pub reason: String,
    /// Reason code.
    pub reason_code: &'static str,
    /// When.
    pub found: OffsetDateTime,
    /// The client ids the finding is about besides its resource (AWS's `relatedResources` of
    /// type `CLIENT_ID`): for a shared certificate, every client id seen connected with it.
    pub related_client_ids: Vec<String>,
}

/// How far back the rate rules look.
const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// Authorization failures within [`WINDOW`] that make a burst.
const AUTH_FAILURE_BURST: usize = 5;
/// Connections within [`WINDOW`] that make a flapping device.
const FLAPPING_CONNECTS: usize = 5;

/// What the gateway reports to the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Observation {
    /// A connection was accepted.
    Connect,
    /// A connect, publish or subscribe was denied.
    AuthorizationFailure,
}

#[derive(Default)]
struct DetectorState {
    recent: std::collections::HashMap<
        (String, Observation),
        std::collections::VecDeque<std::time::Instant>,
    >,
    violations: BTreeMap<(String, String), Violation>,
    /// Violations in the order they were raised (the `in-alarm` events).
    raised: Vec<Violation>,
    findings: BTreeMap<(String, String), Finding>,
}

/// Shared detector state.
#[derive(Clone, Default)]
pub struct Detector {
    state: Arc<Mutex<DetectorState>>,
}

impl Detector {
    fn lock(&self) -> MutexGuard<'_, DetectorState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `count` for a behavior of a thing (raising the violation or updating it).
    pub fn violation(&self, thing_name: &str, behavior: &str, metric: &str, count: u64) {
        let at = now();
        let mut guard = self.lock();
        let state = &mut *guard;
        state
            .violations
            .entry((thing_name.to_owned(), behavior.to_owned()))
            .and_modify(|v| {
                v.count = count;
                v.last = at;
            })
            .or_insert_with(|| {
                let v = Violation {
                    id: new_uuid(),
                    thing_name: thing_name.to_owned(),
                    behavior: behavior.to_owned(),
                    metric: metric.to_owned(),
                    count,
                    started: at,
                    last: at,
                };
                state.raised.push(v.clone());
                v
            });
    }

    /// The `in-alarm` events, oldest first (bounded by the number of distinct violations).
    #[must_use]
    pub fn violation_events(&self) -> Vec<Violation> {
        self.lock().raised.clone()
    }

    /// Counts an observation for a thing (or client id) and raises a violation when a rate
    /// rule fires: an authorization-failure burst or a flapping connection.
    pub fn observe(&self, thing: &str, observation: Observation) {
        let at = std::time::Instant::now();
        let count = {
            let mut state = self.lock();
            let times = state
                .recent
                .entry((thing.to_owned(), observation))
                .or_default();
            times.push_back(at);
            while times
                .front()
                .is_some_and(|t| at.duration_since(*t) > WINDOW)
            {
                times.pop_front();
            }
            times.len()
        };
        let count_u64 = u64::try_from(count).unwrap_or(u64::MAX);
        match observation {
            Observation::AuthorizationFailure if count >= AUTH_FAILURE_BURST => {
                self.violation(
                    thing,
                    "AuthorizationFailures",
                    "aws:num-authorization-failures",
                    count_u64,
                );
            }
            Observation::Connect if count >= FLAPPING_CONNECTS => {
                self.violation(thing, "Flapping", "aws:num-connection-attempts", count_u64);
            }
            _ => {}
        }
    }

    /// A publish to a debug topic (any topic level named `debug`).
    pub fn observe_publish(&self, thing: &str, topic: &str) {
        if topic
            .split('/')
            .any(|level| level.eq_ignore_ascii_case("debug"))
        {
            let count = self
                .lock()
                .violations
                .get(&(thing.to_owned(), "DebugTopicPublish".to_owned()))
                .map_or(1, |v| v.count + 1);
            self.violation(thing, "DebugTopicPublish", "aws:num-messages-sent", count);
        }
    }

    /// Records an audit finding (once per check and resource). A finding already recorded
    /// gains the related client ids it did not list yet, with the reason that named them: as
    /// on AWS, a shared certificate's finding names every client that connected with it, not
    /// only the first two.
    pub fn finding(&self, finding: Finding) {
        let key = (finding.check_name.clone(), finding.resource.clone());
        match self.lock().findings.entry(key) {
            Entry::Occupied(mut known) => {
                let known = known.get_mut();
                let listed = known.related_client_ids.len();
                for client_id in finding.related_client_ids {
                    if !known.related_client_ids.contains(&client_id) {
                        known.related_client_ids.push(client_id);
                    }
                }
                if known.related_client_ids.len() > listed {
                    known.reason = finding.reason;
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(finding);
            }
        }
    }

    /// The active violations.
    #[must_use]
    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.values().cloned().collect()
    }

    /// The detector's findings.
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        self.lock().findings.values().cloned().collect()
    }
}

impl Finding {
    /// A finding made now with a fresh id.
    #[must_use]
    pub fn now(
        check_name: &str,
        severity: &'static str,
        resource_type: &'static str,
        resource: &str,
        reason_code: &'static str,
        reason: String,
    ) -> Self {
        Self {
            id: new_uuid(),
            check_name: check_name.to_owned(),
            severity,
            resource_type,
            resource: resource.to_owned(),
            reason,
            reason_code,
            found: now(),
            related_client_ids: Vec::new(),
        }
    }

    /// The same finding about these client ids too (its related resources).
    #[must_use]
    pub fn with_related_client_ids(mut self, client_ids: Vec<String>) -> Self {
        self.related_client_ids = client_ids;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(clients: &[&str]) -> Finding {
        Finding::now(
            "DEVICE_CERTIFICATE_SHARED_CHECK",
            "CRITICAL",
            "DEVICE_CERTIFICATE",
            "c0ffee",
            "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
            format!("clients {} connected", clients.join(", ")),
        )
        .with_related_client_ids(clients.iter().map(|&c| c.to_owned()).collect())
    }

    #[test]
    fn a_finding_again_about_the_same_resource_adds_the_client_ids_it_did_not_list() {
        let detector = Detector::default();
        detector.finding(shared(&["op", "op-1"]));
        let first = detector.findings()[0].id.clone();
        detector.finding(shared(&["op-1", "op-2"]));
        let findings = detector.findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, first, "the finding keeps its id");
        assert_eq!(findings[0].related_client_ids, ["op", "op-1", "op-2"]);
        assert_eq!(findings[0].reason, "clients op-1, op-2 connected");
        // Nothing new: the reason that named the last new client stays.
        detector.finding(shared(&["op"]));
        assert_eq!(
            detector.findings()[0].reason,
            "clients op-1, op-2 connected"
        );
    }
}
