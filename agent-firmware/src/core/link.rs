//! Connections: which certificate to connect with, backoff, JITR retries, Fallback, the
//! revocation rule and timers.

use super::{Action, Agent, ConnectFailure, Link, Phase, Using};
use crate::wire::{RotationStep, jobs_topic};

/// Topic filters subscribed on a device-certificate connection (two SUBSCRIBEs: AWS allows at
/// most 8 filters in one).
fn job_filters(thing: &str) -> Vec<String> {
    ["notify-next", "start-next/accepted", "start-next/rejected"]
        .into_iter()
        .chain(["+/update/accepted", "+/update/rejected"])
        .map(|suffix| jobs_topic(thing, suffix))
        .collect()
}

fn provisioning_filters() -> Vec<String> {
    vec![
        "$aws/certificates/create-from-csr/json/accepted".into(),
        "$aws/certificates/create-from-csr/json/rejected".into(),
        "$aws/provisioning-templates/+/provision/json/accepted".into(),
        "$aws/provisioning-templates/+/provision/json/rejected".into(),
    ]
}

impl Agent {
    /// Connects with the certificate the state calls for: the pending one while verifying a
    /// rotation, else the active one, else the claim certificate while provisioning.
    pub(super) fn connect(&mut self) {
        let verifying = self
            .state
            .rotation
            .as_ref()
            .filter(|r| r.step == RotationStep::Verifying)
            .and_then(|r| r.pending.as_ref());
        let (using, slot, certificate_pem) = if let Some(pending) = verifying {
            (
                Using::Pending,
                pending.slot,
                pending.certificate_pem.clone(),
            )
        } else if let Some(active) = &self.state.active {
            (Using::Active, active.slot, active.certificate_pem.clone())
        } else if let (
            true,
            super::FirstIdentity::Claim {
                slot,
                certificate_pem,
                ..
            },
        ) = (self.rotation_in_progress(), &self.policy.first_identity)
        {
            (Using::Claim, *slot, certificate_pem.clone())
        } else {
            self.link = Link::Offline { retry_at: None };
            return;
        };
        let mut anchors = vec![self.state.anchors.current.pem.clone()];
        anchors.extend(self.state.anchors.next.as_ref().map(|a| a.pem.clone()));
        self.out.push(Action::Connect {
            slot,
            certificate_pem,
            anchors,
        });
        self.link = Link::Connecting { using };
        self.stable_at = None;
        self.request_at = None;
    }

    pub(super) fn on_connected(&mut self) {
        let Link::Connecting { using } = self.link else {
            return;
        };
        self.state.connects = self.state.connects.saturating_add(1);
        self.dirty = true;
        self.link = Link::Online {
            using,
            since: self.now,
            verified: false,
        };
        self.stable_at = Some(self.now + self.policy.stable_after_ms);
        self.status_at = self.now;
        self.status_hash = 0;
        let thing = self.policy.thing.clone();
        if using != Using::Claim {
            self.out.push(Action::Subscribe(job_filters(&thing)));
        }
        self.out.push(Action::Subscribe(provisioning_filters()));
        match using {
            Using::Pending => self.send_verify_request(),
            Using::Active => {
                self.send_start_next();
                self.request_at = Some(self.now + self.policy.request_timeout_ms);
                self.send_report();
                self.send_rotation_request();
            }
            Using::Claim => self.send_rotation_request(),
        }
    }

    pub(super) fn on_connect_failed(&mut self, failure: &ConnectFailure) {
        let Link::Connecting { using } = self.link else {
            return;
        };
        let (refused, definite, detail) = match failure {
            ConnectFailure::Unreachable(detail) => (false, false, detail),
            ConnectFailure::Refused { definite, detail } => (true, *definite, detail),
        };
        self.state.disconnects = self.state.disconnects.saturating_add(1);
        self.state.last_disconnect = Some(detail.clone());
        self.dirty = true;
        match using {
            // Verification has its own deadline (checked on Tick); keep trying until then.
            Using::Pending => {}
            Using::Claim => self.count_failure(),
            Using::Active => match self.state.phase {
                Phase::Registering | Phase::Fallback if refused => self.count_failure(),
                Phase::Active | Phase::Revoked if refused => self.count_refusal(definite),
                _ => {}
            },
        }
        self.schedule_retry();
    }

    pub(super) fn on_disconnected(&mut self, reason: String) {
        let Link::Online {
            using, verified, ..
        } = self.link
        else {
            return;
        };
        self.state.disconnects = self.state.disconnects.saturating_add(1);
        self.state.last_disconnect = Some(reason);
        self.dirty = true;
        // JITR drops the first connection of a new certificate, possibly after CONNACK.
        if !verified && (using == Using::Claim || self.state.phase == Phase::Registering) {
            self.count_failure();
        }
        self.schedule_retry();
    }

    /// A failed attempt at getting a certificate to work; too many mean Fallback.
    pub(super) fn count_failure(&mut self) {
        self.state.failures = self.state.failures.saturating_add(1);
        if self.state.failures >= self.policy.fallback_after
            && matches!(self.state.phase, Phase::Unprovisioned | Phase::Registering)
        {
            self.state.phase = Phase::Fallback;
        }
    }

    /// A refused connection with a certificate that used to work; the revocation rule.
    fn count_refusal(&mut self, definite: bool) {
        if self.refusals == 0
            || self.now.saturating_sub(self.first_refusal_at) > self.policy.revoked_window_ms
        {
            self.refusals = 0;
            self.first_refusal_at = self.now;
        }
        self.refusals += 1;
        if definite || self.refusals >= self.policy.revoked_after {
            self.state.phase = Phase::Revoked;
        }
    }

    /// Goes offline and picks when to try again: backoff normally, slowly when the agent
    /// must not hammer the endpoint.
    pub(super) fn schedule_retry(&mut self) {
        let delay = match self.state.phase {
            Phase::Revoked | Phase::Fallback | Phase::Error => self.slow_delay(),
            _ => self.backoff.next_delay(&mut self.jitter),
        };
        self.link = Link::Offline {
            retry_at: Some(self.now + delay),
        };
        self.stable_at = None;
        self.request_at = None;
    }

    /// Marks the connection as proven by a round trip; ends Registering, Fallback and Revoked.
    pub(super) fn verified(&mut self) {
        if let Link::Online {
            using: Using::Active,
            ref mut verified,
            ..
        } = self.link
        {
            *verified = true;
            self.refusals = 0;
            if self.state.phase != Phase::Active || self.state.failures != 0 {
                self.state.phase = Phase::Active;
                self.state.failures = 0;
                self.dirty = true;
            }
        }
    }

    pub(super) fn tick(&mut self) {
        let now = self.now;
        if self.stable_at.is_some_and(|at| at <= now) {
            self.stable_at = None;
            self.backoff.reset();
        }
        if self.request_at.is_some_and(|at| at <= now) {
            self.request_at = None;
            self.request_timed_out();
        }
        let verify_expired = self.state.rotation.as_ref().is_some_and(|r| {
            r.step == RotationStep::Verifying && r.verify_by.is_some_and(|at| at <= now)
        });
        if verify_expired {
            self.roll_back("the new certificate was not verified before the deadline");
        }
        if let Link::Offline { retry_at: Some(at) } = self.link
            && at <= now
        {
            self.link = Link::Offline { retry_at: None };
            self.start();
        }
    }

    /// Whether a connection with the device (not claim) certificate is up.
    pub(super) fn online_as(&self, wanted: Using) -> bool {
        matches!(self.link, Link::Online { using, .. } if using == wanted)
    }
}
