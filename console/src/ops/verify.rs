//! Verify: after apply, read every target back (status, attached policies, groups) and
//! observe the disconnect of the devices the operation cut off — through the lifecycle
//! events of live status (`$aws/events/presence/disconnected/<client id>`, which AWS IoT and
//! the lab's gateway publish), watched from before the first call so none is missed. The
//! report says per target what is in effect, whether the device is disconnected
//! (true/false/unknown) and how long it took.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};
use tokio::sync::Notify;

use super::apply::{Applied, CallResult};
use super::fan_out::fan_out;
use super::plan::{Call, OpKind, Plan, Target};
use super::presence_feed::follow_presence;
use super::{DENY_ALL_POLICY, QUARANTINE_GROUP};
use crate::backend::aws::AwsBackend;
use crate::backend::live::PresenceKind;
use crate::model::{CaStatus, CertStatus};

/// Whether a device is off the broker after the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnected {
    /// Observed (or it was not connected when its session was to be cut).
    Yes,
    /// Still connected when the wait ended.
    No,
    /// Not observable here (no live status, or the device has no thing).
    Unknown,
}

impl Serialize for Disconnected {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Yes => s.serialize_bool(true),
            Self::No => s.serialize_bool(false),
            Self::Unknown => s.serialize_str("unknown"),
        }
    }
}

impl Disconnected {
    /// `true`, `false` or `unknown`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "true",
            Self::No => "false",
            Self::Unknown => "unknown",
        }
    }
}

/// One target after the operation.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// Certificate id.
    pub certificate_id: String,
    /// Its things.
    pub things: Vec<String>,
    /// Each call made for it.
    pub calls: Vec<CallResult>,
    /// Status read back (`None`: could not be read).
    pub status_after: Option<CertStatus>,
    /// Whether `fleetid-deny-all` is attached, read back.
    pub deny_all_attached: Option<bool>,
    /// Whether every thing is in `fleetid-quarantine`, read back.
    pub quarantined: Option<bool>,
    /// Off the broker?
    pub disconnected: Disconnected,
    /// From the target's first call to the disconnect observed.
    pub time_to_effect_ms: Option<u64>,
    /// Every call in effect and everything read back as the operation intends.
    pub verified: bool,
}

/// Watches lifecycle events from before the first call; `None` without live status. A task
/// of its own reads the live channel the whole time and stamps each disconnect when it
/// arrives (status messages are dropped), so a long apply neither delays the stamps nor
/// stalls the MQTT reader.
pub struct DisconnectWatch {
    task: tokio::task::JoinHandle<()>,
    /// Client id -> when its disconnect arrived.
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    /// Signalled on every presence event.
    changed: Arc<Notify>,
}

impl Drop for DisconnectWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DisconnectWatch {
    /// Starts following live status and waits (briefly) until it is connected.
    pub async fn start(backend: &AwsBackend) -> Option<Self> {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let changed = Arc::new(Notify::new());
        let (map, notify) = (Arc::clone(&seen), Arc::clone(&changed));
        let task = follow_presence(backend, move |event| {
            if let Ok(mut map) = map.lock() {
                match event.kind {
                    PresenceKind::Disconnected => {
                        map.entry(event.client_id).or_insert_with(Instant::now);
                    }
                    PresenceKind::Connected => {
                        map.remove(&event.client_id);
                    }
                    PresenceKind::ConnectFailed => {}
                }
            }
            notify.notify_waiters();
        })
        .await?;
        Some(Self {
            task,
            seen,
            changed,
        })
    }

    /// When `client` was seen disconnecting, if it was.
    fn seen(&self, client: &str) -> Option<Instant> {
        self.seen.lock().ok().and_then(|m| m.get(client).copied())
    }

    /// Waits until every client in `wanted` was seen disconnecting, or `deadline`.
    async fn wait_for(&self, wanted: &[String], deadline: Instant) {
        loop {
            let changed = self.changed.notified();
            if wanted.iter().all(|c| self.seen(c).is_some()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, changed).await.is_err() {
                return;
            }
        }
    }
}

/// Reads every target back and observes the disconnects (`watch`: started before apply).
pub async fn verify(
    backend: &AwsBackend,
    plan: &Plan,
    applied: &Applied,
    watch: Option<&DisconnectWatch>,
    disconnect_wait: Duration,
) -> Vec<TargetReport> {
    let mut reports = Vec::with_capacity(plan.targets.len());
    let cut_off = awaited_disconnects(plan, applied);
    if let Some(watch) = watch {
        watch
            .wait_for(&cut_off, Instant::now() + disconnect_wait)
            .await;
    }
    let reads = read_back_all(backend, plan).await;
    for (i, target) in plan.targets.iter().enumerate() {
        let calls: Vec<CallResult> = plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.target == Some(i))
            .filter_map(|(step, _)| applied.calls[step].clone())
            .collect();
        let all_calls = calls.iter().all(CallResult::ok);
        let ReadBack {
            status_after,
            deny_all_attached,
            quarantined,
        } = reads[i].clone();
        let (disconnected, time_to_effect_ms) =
            disconnect_of(plan.kind, target, &calls, watch, applied.started[i]);
        let effect = plan.kind.effect();
        let intended = effect
            .status
            .is_none_or(|s| status_after == Some(CertStatus::from(s)))
            && effect.deny_all.is_none_or(|d| deny_all_attached == Some(d))
            // Unknown group membership (no thing) does not count against it.
            && effect.quarantined.is_none_or(|q| quarantined != Some(!q));
        reports.push(TargetReport {
            certificate_id: target.certificate_id.clone(),
            things: target.things.clone(),
            calls,
            status_after,
            deny_all_attached,
            quarantined,
            disconnected,
            time_to_effect_ms,
            verified: all_calls && intended && disconnected != Disconnected::No,
        });
    }
    reports
}

/// The things whose disconnect verify waits for: those whose session DeleteConnection cut,
/// and those online when planned. A thing that was offline (or unknown) and had no session to
/// cut is not waited for: no event will come, and waiting would hold every report for the
/// whole `disconnect_wait`.
fn awaited_disconnects(plan: &Plan, applied: &Applied) -> Vec<String> {
    if !plan.kind.disconnects() {
        return Vec::new();
    }
    let mut cut = std::collections::HashSet::new();
    for (step, s) in plan.steps.iter().enumerate() {
        if let Call::DeleteConnection { client_id } = &s.call
            && applied.calls[step]
                .as_ref()
                .is_some_and(|c| c.result == "done")
        {
            cut.insert(client_id.as_str());
        }
    }
    let mut awaited = Vec::new();
    for target in &plan.targets {
        let online = target.online == Some(true);
        awaited.extend(
            target
                .things
                .iter()
                .filter(|thing| online || cut.contains(thing.as_str()))
                .cloned(),
        );
    }
    awaited
}

/// Targets read back at once: reads have quotas of their own, which the SDK's adaptive retry
/// respects.
const READ_CONCURRENCY: usize = 16;

/// What one target reads back as.
#[derive(Debug, Clone, Default)]
struct ReadBack {
    status_after: Option<CertStatus>,
    deny_all_attached: Option<bool>,
    quarantined: Option<bool>,
}

/// Reads every target back, [`READ_CONCURRENCY`] at a time, in the plan's order.
async fn read_back_all(backend: &AwsBackend, plan: &Plan) -> Vec<ReadBack> {
    fan_out(plan.targets.clone(), READ_CONCURRENCY, |target| {
        let backend = backend.clone();
        async move { read_back(&backend, &target).await }
    })
    .await
}

async fn read_back(backend: &AwsBackend, target: &Target) -> ReadBack {
    let status_after = backend
        .describe_certificate(&target.certificate_id)
        .await
        .ok()
        .map(|c| c.status);
    let deny_all_attached = backend
        .attached_policies(&target.certificate_arn)
        .await
        .ok()
        .map(|p| p.iter().any(|p| p == DENY_ALL_POLICY));
    let quarantined = if target.things.is_empty() {
        None
    } else {
        let mut all = Some(true);
        for thing in &target.things {
            match backend.thing_groups_of(thing).await {
                Ok(groups) => {
                    if !groups.iter().any(|g| g == QUARANTINE_GROUP) {
                        all = all.map(|_| false);
                    }
                }
                Err(_) => all = None,
            }
        }
        all
    };
    ReadBack {
        status_after,
        deny_all_attached,
        quarantined,
    }
}

/// The CA of a CA operation, read back.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorityReport {
    /// CA certificate id.
    pub ca_certificate_id: String,
    /// The call that changed it.
    pub call: Option<CallResult>,
    /// Its status read back (`None`: could not be read).
    pub status_after: Option<CaStatus>,
    /// Auto-registration read back.
    pub auto_registration_after: Option<bool>,
    /// The CA reads back as the operation meant.
    pub verified: bool,
}

/// Reads the CA of a CA operation back; `None` for the other operations.
pub async fn verify_authority(
    backend: &AwsBackend,
    plan: &Plan,
    applied: &Applied,
) -> Option<AuthorityReport> {
    let ca = plan.authority.as_ref()?;
    let (step, wanted) = plan
        .steps
        .iter()
        .enumerate()
        .find_map(|(i, s)| match &s.call {
            Call::UpdateCaCertificate {
                deactivate,
                disable_auto_registration,
                ..
            } => Some((i, (*deactivate, *disable_auto_registration))),
            _ => None,
        })?;
    let call = applied.calls.get(step).cloned().flatten();
    let read = backend.describe_ca(&ca.ca_certificate_id).await.ok();
    let status_after = read.as_ref().map(|r| r.status);
    let auto_registration_after = read.as_ref().map(|r| r.auto_registration);
    let (deactivate, disable) = wanted;
    let verified = call.as_ref().is_some_and(CallResult::ok)
        && (!deactivate || status_after == Some(CaStatus::Inactive))
        && (!disable || auto_registration_after == Some(false));
    Some(AuthorityReport {
        ca_certificate_id: ca.ca_certificate_id.clone(),
        call,
        status_after,
        auto_registration_after,
        verified,
    })
}

fn disconnect_of(
    kind: OpKind,
    target: &Target,
    calls: &[CallResult],
    watch: Option<&DisconnectWatch>,
    started: Option<Instant>,
) -> (Disconnected, Option<u64>) {
    if !kind.disconnects() || target.things.is_empty() {
        return (Disconnected::Unknown, None);
    }
    // DeleteConnection answered "not connected": the device was off the broker already
    // (dropped by the deny-all or the status change first, or never connected).
    let was_off = calls
        .iter()
        .any(|c| c.operation == "iot:DeleteConnection" && c.result == "not connected");
    let mut latest: Option<Instant> = None;
    for thing in &target.things {
        match watch.and_then(|w| w.seen(thing)) {
            Some(at) => latest = latest.max(Some(at)),
            None if was_off => {}
            None if watch.is_some() => return (Disconnected::No, None),
            None => return (Disconnected::Unknown, None),
        }
    }
    let ms = match (latest, started) {
        (Some(at), Some(started)) => Some(
            u64::try_from(at.saturating_duration_since(started).as_millis()).unwrap_or(u64::MAX),
        ),
        _ => None,
    };
    (Disconnected::Yes, ms)
}
