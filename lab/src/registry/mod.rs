//! The lab's control plane in memory: CAs, certificates, things, groups, policies, jobs.
//!
//! One `Registry` is shared by the HTTP API, the identity gateway and the fleet. The state sits
//! behind one mutex that is never held across an await; changes that the gateway must act on
//! (a certificate leaving ACTIVE, a policy attached) go out on a broadcast channel.

mod certs;
mod job_status;
mod jobs;
mod policies;
mod things;

pub use certs::{CaRecord, CertRecord, CertStatus};
pub use job_status::{ExecutionStatus, JobStatus};
pub use jobs::{DeviceExecution, JobExecution, JobRecord, NewJob};
pub use policies::PolicyRecord;
pub use things::{GroupProperties, GroupRecord, ThingRecord};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::pki::random_bytes;

/// The account the lab pretends to be.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region in every ARN the lab makes.
pub const REGION: &str = "us-east-1";

/// Why a control-plane call was refused; each maps to one AWS IoT error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// `ResourceNotFoundException`.
    #[error("{kind} {id} does not exist")]
    NotFound {
        /// What was looked up (certificate, thing, ...).
        kind: &'static str,
        /// Its id or name.
        id: String,
    },
    /// `ResourceAlreadyExistsException`.
    #[error("{kind} {id} already exists")]
    AlreadyExists {
        /// What was being created.
        kind: &'static str,
        /// Its id or name.
        id: String,
    },
    /// `InvalidRequestException`.
    #[error("{0}")]
    InvalidRequest(String),
    /// `CertificateStateException`: the transition is not allowed.
    #[error("{0}")]
    CertificateState(String),
    /// `CertificateValidationException`: the PEM is not a usable certificate.
    #[error("{0}")]
    CertificateValidation(String),
    /// `MalformedPolicyException`.
    #[error("{0}")]
    MalformedPolicy(String),
}

/// Something the gateway (or a test) may need to react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// A certificate changed status.
    CertificateStatus {
        /// Certificate id.
        certificate_id: String,
        /// Its new status.
        status: CertStatus,
    },
    /// The policies in force for a target changed (certificate or thing-group ARN): a policy
    /// was attached or detached, or (for a certificate) one of its things joined or left a
    /// group.
    PoliciesChanged {
        /// The target's ARN.
        target: String,
    },
    /// A job execution was queued for a thing.
    JobQueued {
        /// The thing.
        thing_name: String,
        /// The job.
        job_id: String,
    },
}

#[derive(Default)]
pub(crate) struct State {
    cas: Vec<CaRecord>,
    certs: Vec<CertRecord>,
    cert_index: HashMap<String, usize>,
    things: BTreeMap<String, ThingRecord>,
    /// Principal ARN -> names of the things it is attached to (the reverse of
    /// `ThingRecord::principals`, kept with it: the gateway asks on every connect).
    principal_things: HashMap<String, BTreeSet<String>>,
    groups: BTreeMap<String, GroupRecord>,
    policies: BTreeMap<String, PolicyRecord>,
    /// Target ARN -> names of the policies attached to it.
    attachments: BTreeMap<String, BTreeSet<String>>,
    jobs: BTreeMap<String, JobRecord>,
    /// CreateJob requests refused because the job id existed.
    job_create_conflicts: u64,
    connectivity: HashMap<String, Connectivity>,
}

/// Fleet-indexing connectivity of a thing, as the gateway last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connectivity {
    /// Whether a client of the thing is connected.
    pub connected: bool,
    /// When that last changed (epoch milliseconds).
    pub timestamp_ms: i64,
    /// Why it last disconnected (`DisconnectReasonValue`).
    pub disconnect_reason: Option<String>,
    /// The client id of the connection.
    pub client_id: String,
}

/// The shared control plane.
#[derive(Clone)]
pub struct Registry {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<RegistryEvent>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        Self {
            state: Arc::new(Mutex::new(State::default())),
            events,
        }
    }

    /// Changes from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<RegistryEvent> {
        self.events.subscribe()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a thing's connection state (the gateway calls this).
    pub fn set_connectivity(&self, thing: &str, connectivity: Connectivity) {
        self.lock()
            .connectivity
            .insert(thing.to_owned(), connectivity);
    }

    /// A thing's connection state, if it ever connected.
    #[must_use]
    pub fn connectivity(&self, thing: &str) -> Option<Connectivity> {
        self.lock().connectivity.get(thing).cloned()
    }

    pub(crate) fn emit(&self, event: RegistryEvent) {
        // No receiver is fine: nobody is listening yet.
        let _ = self.events.send(event);
    }
}

/// `arn:aws:iot:<region>:<account>:<resource>`.
#[must_use]
pub fn arn(resource: &str) -> String {
    format!("arn:aws:iot:{REGION}:{ACCOUNT_ID}:{resource}")
}

/// The ARN of a device certificate.
#[must_use]
pub fn cert_arn(certificate_id: &str) -> String {
    arn(&format!("cert/{certificate_id}"))
}

/// The certificate id in a certificate ARN, or the text itself when it is not one.
#[must_use]
pub fn cert_id_of(principal: &str) -> &str {
    principal
        .rsplit_once(":cert/")
        .map_or(principal, |(_, id)| id)
}

/// A fresh UUID-like id (random, version 4 layout).
#[must_use]
pub fn new_uuid() -> String {
    let b: [u8; 16] = random_bytes();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Current time (one place, so tests read clearly).
#[must_use]
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// One page of `items` starting at the opaque `marker` (an offset), and the next marker.
pub fn page<T: Clone>(
    items: &[T],
    marker: Option<&str>,
    size: Option<usize>,
    default_size: usize,
) -> Result<(Vec<T>, Option<String>), RegistryError> {
    let start = match marker {
        None | Some("") => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| RegistryError::InvalidRequest(format!("invalid marker {m:?}")))?,
    };
    let size = size.unwrap_or(default_size).max(1);
    let end = (start + size).min(items.len());
    let slice = items.get(start..end).unwrap_or_default().to_vec();
    let next = (end < items.len()).then(|| end.to_string());
    Ok((slice, next))
}

#[cfg(test)]
mod tests;
