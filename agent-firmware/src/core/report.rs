//! What the agent shows: the status message (on change and periodically) and the LED.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Action, Agent, LedPattern, Link, Phase, Purpose, Qos, Using};
use crate::wire::{AgentState, AnchorFingerprints, RotationStatus, StatusMessage, status_topic};

impl Agent {
    /// The identity state as the status message names it.
    #[must_use]
    pub fn agent_state(&self) -> AgentState {
        let rotating = self
            .state
            .rotation
            .as_ref()
            .is_some_and(|r| r.in_progress() && r.purpose == Purpose::Rotate);
        match self.state.phase {
            Phase::Active if rotating => AgentState::Rotating,
            Phase::Unprovisioned => AgentState::Unprovisioned,
            Phase::Registering => AgentState::Registering,
            Phase::Active => AgentState::Active,
            Phase::Revoked => AgentState::Revoked,
            Phase::Fallback => AgentState::Fallback,
            Phase::Error => AgentState::Error,
        }
    }

    /// The status message describing the agent now (sequence and time not yet set).
    #[must_use]
    pub fn status(&self) -> StatusMessage {
        let state = &self.state;
        StatusMessage {
            state: self.agent_state(),
            active: state.active.as_ref().map(super::Credential::info),
            pending: state
                .rotation
                .as_ref()
                .and_then(|r| r.pending.as_ref())
                .map(super::Credential::info),
            anchors: AnchorFingerprints {
                current: state.anchors.current.fingerprint.clone(),
                next: state.anchors.next.as_ref().map(|a| a.fingerprint.clone()),
            },
            boot_count: state.boot_count,
            connects: state.connects,
            disconnects: state.disconnects,
            last_disconnect: state.last_disconnect.clone(),
            rotation: state
                .rotation
                .as_ref()
                .filter(|r| !r.job_id.is_empty())
                .map(|r| RotationStatus {
                    job_id: r.job_id.clone(),
                    step: r.step,
                    error: r.error.clone(),
                }),
            ..StatusMessage::new(self.policy.thing.clone(), 0, self.policy.firmware.clone())
        }
    }

    /// Publishes the status when it changed or the period elapsed, on a device-certificate
    /// connection, and never while Revoked.
    pub(super) fn publish_status_if_due(&mut self) {
        let Link::Online { using, .. } = self.link else {
            return;
        };
        if using == Using::Claim || self.state.phase == Phase::Revoked {
            return;
        }
        let mut message = self.status();
        let mut hasher = DefaultHasher::new();
        message.to_json().hash(&mut hasher);
        let hash = hasher.finish();
        if hash == self.status_hash && self.now < self.status_at {
            return;
        }
        self.status_hash = hash;
        self.status_at = self.now + self.policy.status_interval_ms;
        self.sequence = self.sequence.wrapping_add(1);
        // Unique across restarts without a write per message: boot count in the high half.
        message.sequence = (self.state.boot_count << 32) | u64::from(self.sequence);
        message.time = i64::try_from(self.now / 1_000).unwrap_or(i64::MAX);
        self.out.push(Action::Publish {
            topic: status_topic(&self.policy.thing),
            payload: message.to_json(),
            qos: Qos::AtMostOnce,
        });
    }

    /// What the LED should show now.
    #[must_use]
    pub fn led_pattern(&self) -> LedPattern {
        match self.agent_state() {
            AgentState::Error | AgentState::Unknown => LedPattern::Error,
            AgentState::Revoked => LedPattern::Revoked,
            AgentState::Fallback => LedPattern::Fallback,
            AgentState::Rotating => LedPattern::Rotating,
            AgentState::Unprovisioned => LedPattern::Provisioning,
            AgentState::Registering | AgentState::Active => match self.link {
                Link::Online { verified: true, .. } => LedPattern::Online,
                _ => LedPattern::Connecting,
            },
        }
    }

    pub(super) fn update_led(&mut self) {
        let pattern = self.led_pattern();
        if self.led != Some(pattern) {
            self.led = Some(pattern);
            self.out.push(Action::SetLed(pattern));
        }
    }
}
