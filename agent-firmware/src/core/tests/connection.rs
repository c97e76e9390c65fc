//! Connection scenarios: JITR's dropped first connection, Fallback, the revocation rule,
//! unreachable servers, periodic status and backoff reset.

use super::support::*;
use crate::core::{Action, ConnectFailure, Event, LedPattern, Phase};
use crate::wire::{AgentState, StatusMessage, jobs_topic, status_topic};

fn refused() -> Event {
    Event::ConnectFailed(ConnectFailure::Refused {
        definite: false,
        detail: "tls handshake closed".into(),
    })
}

#[test]
fn factory_device_survives_the_jitr_drop_and_becomes_active() {
    let mut device = Device::new(factory_policy());
    let boot = device.send(Event::Boot);
    assert_eq!(boot[0], Action::Persist);
    assert_eq!(connect_slot(&boot), Some(SLOT_A));
    assert_eq!(device.state().phase, Phase::Registering);
    // JITR drops the first connection: retry after the 1 s floor of the backoff.
    assert!(connect_slot(&device.send(refused())).is_none());
    assert_eq!(device.agent.next_deadline(), Some(device.now + 1_000));
    assert_eq!(connect_slot(&device.tick_to_deadline()), Some(SLOT_A));
    let online = device.send(Event::Connected);
    let topics: Vec<String> = publishes(&online).into_iter().map(|(t, _)| t).collect();
    assert!(
        topics.contains(&jobs_topic(THING, "start-next")),
        "{topics:?}"
    );
    assert_eq!(device.state().phase, Phase::Registering);
    let verified = device.send(start_next_rejected());
    assert_eq!(device.state().phase, Phase::Active);
    assert!(verified.contains(&Action::SetLed(LedPattern::Online)));
    let (topic, body) = publishes(&verified).pop().expect("status published");
    assert_eq!(topic, status_topic(THING));
    let status = StatusMessage::from_json(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(status.state, AgentState::Active);
    assert_eq!(status.active.unwrap().slot, SLOT_A);
    assert_eq!(status.boot_count, 1);
    assert_eq!(status.disconnects, 1);
}

#[test]
fn failed_registration_falls_back_to_slow_retries_and_recovers() {
    let mut device = Device::new(factory_policy());
    device.send(Event::Boot);
    for _ in 0..5 {
        device.send(refused());
        device.tick_to_deadline();
    }
    assert_eq!(device.state().phase, Phase::Fallback);
    assert_eq!(device.agent.led_pattern(), LedPattern::Fallback);
    device.send(refused());
    let wait = device.agent.next_deadline().unwrap() - device.now;
    assert!(wait >= 450_000, "slow retry, not hammering: {wait} ms");
    assert!(device.state().active.is_some(), "the certificate is kept");
    assert_eq!(connect_slot(&device.tick_to_deadline()), Some(SLOT_A));
    device.send(Event::Connected);
    device.send(start_next_rejected());
    assert_eq!(device.state().phase, Phase::Active);
    assert_eq!(device.state().failures, 0);
}

#[test]
fn repeated_refusals_mean_revoked_and_a_working_certificate_recovers() {
    let mut device = Device::active();
    device.send(Event::Disconnected {
        reason: "connection lost".into(),
    });
    for _ in 0..3 {
        device.tick_to_deadline();
        device.send(refused());
    }
    assert_eq!(device.state().phase, Phase::Revoked);
    assert_eq!(device.agent.led_pattern(), LedPattern::Revoked);
    let wait = device.agent.next_deadline().unwrap() - device.now;
    assert!(wait >= 450_000, "slow retry: {wait}");
    device.tick_to_deadline();
    let online = device.send(Event::Connected);
    assert!(
        !publishes(&online)
            .iter()
            .any(|(t, _)| *t == status_topic(THING)),
        "no status while revoked"
    );
    device.send(start_next_rejected());
    assert_eq!(device.state().phase, Phase::Active);
}

#[test]
fn a_definite_refusal_means_revoked_at_once() {
    let mut device = Device::active();
    device.send(Event::Disconnected {
        reason: "lost".into(),
    });
    device.tick_to_deadline();
    device.send(Event::ConnectFailed(ConnectFailure::Refused {
        definite: true,
        detail: "CONNACK not authorized".into(),
    }));
    assert_eq!(device.state().phase, Phase::Revoked);
}

#[test]
fn unreachable_servers_never_mean_revoked() {
    let mut device = Device::active();
    device.send(Event::Disconnected {
        reason: "lost".into(),
    });
    for _ in 0..20 {
        device.tick_to_deadline();
        device.send(Event::ConnectFailed(ConnectFailure::Unreachable(
            "timeout".into(),
        )));
    }
    assert_eq!(device.state().phase, Phase::Active);
    let wait = device.agent.next_deadline().unwrap() - device.now;
    assert!(wait <= 120_000, "backoff capped at 120 s: {wait}");
}

#[test]
fn periodic_status_and_backoff_reset_after_a_stable_connection() {
    let mut device = Device::active();
    let later = device.advance(60_000);
    assert!(
        publishes(&later)
            .iter()
            .any(|(t, _)| *t == status_topic(THING))
    );
    let quiet = device.advance(1_000);
    assert!(
        publishes(&quiet).is_empty(),
        "nothing changed, period not over"
    );
    device.send(Event::Disconnected {
        reason: "lost".into(),
    });
    assert_eq!(device.agent.next_deadline(), Some(device.now + 1_000));
}
