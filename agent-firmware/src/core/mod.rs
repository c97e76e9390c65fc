//! The sans-IO identity state machine: `Agent::handle(now, Event) -> Vec<Action>`.
//!
//! The core does no I/O and reads no clock and no randomness of its own: the caller passes the
//! time with every event and seeds the jitter. All persistent state lives in one
//! [`PersistedState`]; whenever it changes, the first action returned is [`Action::Persist`],
//! and the caller saves the state before executing the rest, so a kill between any two events
//! resumes from [`Agent::restore`].

mod backoff;
mod cert;
mod io;
mod jobs;
mod link;
mod policy;
mod report;
mod rotation;
mod state;

pub use backoff::{Backoff, Jitter};
pub use cert::{CertificateFacts, certificate_facts, fingerprint_der};
pub use io::{Action, ConnectFailure, Event, LedPattern, Millis, Qos};
pub use policy::{FirstIdentity, Policy};
pub use state::{
    Anchor, Anchors, Credential, JobReport, PersistedState, Phase, Purpose, Rotation, STATE_VERSION,
};

/// Which certificate the current connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Using {
    /// The active device certificate.
    Active,
    /// The pending certificate of a rotation being verified.
    Pending,
    /// The claim certificate, for provisioning by claim.
    Claim,
}

/// The connection as the core sees it (not persisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not connected; connect at `retry_at` if set.
    Offline { retry_at: Option<Millis> },
    /// A `Connect` is under way.
    Connecting { using: Using },
    /// Connected; `verified` once a request made a round trip.
    Online {
        using: Using,
        since: Millis,
        verified: bool,
    },
}

/// One device agent.
#[derive(Debug, Clone)]
pub struct Agent {
    policy: Policy,
    state: PersistedState,
    now: Millis,
    jitter: Jitter,
    backoff: Backoff,
    link: Link,
    dirty: bool,
    out: Vec<Action>,
    led: Option<LedPattern>,
    stable_at: Option<Millis>,
    status_at: Millis,
    status_hash: u64,
    sequence: u32,
    refusals: u32,
    first_refusal_at: Millis,
    request_at: Option<Millis>,
}

impl Agent {
    /// An agent on a device that has never run.
    ///
    /// # Errors
    /// When the policy's trust anchor is not a readable certificate.
    pub fn new(policy: Policy, seed: u64) -> Result<Self, String> {
        let facts = certificate_facts(&policy.anchor_pem)
            .map_err(|e| format!("reading the trust anchor: {e}"))?;
        let anchor = Anchor {
            fingerprint: facts.fingerprint,
            pem: policy.anchor_pem.clone(),
        };
        let state = PersistedState::fresh(&policy.thing, anchor);
        Ok(Self::restore(policy, state, seed))
    }

    /// An agent resuming from saved state.
    #[must_use]
    pub fn restore(policy: Policy, state: PersistedState, seed: u64) -> Self {
        let backoff = Backoff::new(policy.backoff_floor_ms, policy.backoff_cap_ms);
        Self {
            policy,
            state,
            now: 0,
            jitter: Jitter::new(seed),
            backoff,
            link: Link::Offline { retry_at: None },
            dirty: false,
            out: Vec::new(),
            led: None,
            stable_at: None,
            status_at: 0,
            status_hash: 0,
            sequence: 0,
            refusals: 0,
            first_refusal_at: 0,
            request_at: None,
        }
    }

    /// The state to save when [`Action::Persist`] is returned.
    #[must_use]
    pub fn persisted(&self) -> &PersistedState {
        &self.state
    }

    /// The policy the agent runs with.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// When the caller must send [`Event::Tick`] at the latest, if anything is scheduled.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Millis> {
        let retry = match self.link {
            Link::Offline { retry_at } => retry_at,
            _ => None,
        };
        let status = matches!(self.link, Link::Online { .. }).then_some(self.status_at);
        let verify = self
            .state
            .rotation
            .as_ref()
            .filter(|r| r.in_progress())
            .and_then(|r| r.verify_by);
        [retry, status, verify, self.stable_at, self.request_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Handles one event at time `now` and returns what to do, in order.
    pub fn handle(&mut self, now: Millis, event: Event) -> Vec<Action> {
        self.now = now;
        match event {
            Event::Boot => self.boot(),
            Event::Tick => self.tick(),
            Event::Connected => self.on_connected(),
            Event::ConnectFailed(failure) => self.on_connect_failed(&failure),
            Event::Disconnected { reason } => self.on_disconnected(reason),
            Event::Message { topic, payload } => self.on_message(&topic, &payload),
            Event::KeyGenerated { slot } => self.on_key_generated(slot),
            Event::CsrSigned { slot, csr_pem } => self.on_csr_signed(slot, csr_pem),
            Event::KeyDeleted { slot } => self.on_key_deleted(slot),
            Event::SecureElementFailed { slot, error } => self.on_se_failed(slot, &error),
        }
        self.publish_status_if_due();
        self.update_led();
        let mut actions = std::mem::take(&mut self.out);
        if std::mem::take(&mut self.dirty) {
            actions.insert(0, Action::Persist);
        }
        actions
    }

    fn boot(&mut self) {
        self.state.boot_count = self.state.boot_count.saturating_add(1);
        self.dirty = true;
        self.link = Link::Offline { retry_at: None };
        self.start();
    }

    /// Starts (or resumes) whatever the persisted state says is next.
    fn start(&mut self) {
        if self.state.phase == Phase::Error {
            self.state.phase = if self.state.active.is_some() {
                Phase::Registering
            } else {
                Phase::Unprovisioned
            };
            self.state.fault = None;
            self.dirty = true;
        }
        if self.state.active.is_none() && self.state.rotation.is_none() {
            match self.policy.first_identity.clone() {
                FirstIdentity::Factory {
                    slot,
                    certificate_pem,
                } => match Credential::from_pem(slot, &certificate_pem) {
                    Ok(credential) => {
                        self.state.active = Some(credential);
                        self.state.phase = Phase::Registering;
                        self.dirty = true;
                    }
                    Err(e) => return self.fault(format!("reading the factory certificate: {e}")),
                },
                FirstIdentity::Claim { template, .. } => {
                    self.begin_rotation(Purpose::Provision, String::new(), template, 0);
                    return;
                }
            }
        }
        if self.rotation_in_progress() {
            self.resume_rotation();
        } else {
            self.connect();
        }
    }

    /// Enters Error: stop, show it, retry slowly from the persisted state.
    fn fault(&mut self, reason: String) {
        self.state.phase = Phase::Error;
        self.state.fault = Some(reason);
        self.dirty = true;
        self.out.push(Action::Disconnect);
        let delay = self.slow_delay();
        self.link = Link::Offline {
            retry_at: Some(self.now + delay),
        };
    }

    fn rotation_in_progress(&self) -> bool {
        self.state
            .rotation
            .as_ref()
            .is_some_and(Rotation::in_progress)
    }

    fn slow_delay(&mut self) -> u64 {
        let slow = self.policy.slow_retry_ms;
        self.jitter.between(slow / 2, slow)
    }
}

#[cfg(test)]
mod tests;
