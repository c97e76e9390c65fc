//! Every state against every event: the outcome of each pair is recorded in a snapshot
//! (reviewed like code), and invariants are checked for each.

use std::fmt::Write as _;

use super::support::*;
use crate::core::{Action, ConnectFailure, Event};
use crate::wire::StatusMessage;

fn states() -> Vec<(&'static str, Device)> {
    let claim = || {
        let mut d = Device::new(claim_policy());
        d.send(Event::Boot);
        d
    };
    let registering = || {
        let mut d = Device::new(factory_policy());
        d.send(Event::Boot);
        d
    };
    let rotating = |steps: usize| {
        let mut d = Device::active();
        let script = [
            rotate_job("rot-m"),
            Event::KeyGenerated { slot: SLOT_B },
            Event::CsrSigned {
                slot: SLOT_B,
                csr_pem: "CSR".into(),
            },
            created(&pki().device_pems[1]),
            provisioned("fleetid-rotate"),
            Event::Connected,
        ];
        for event in script.into_iter().take(steps) {
            d.send(event);
        }
        d
    };
    let mut offline = Device::active();
    offline.send(Event::Disconnected {
        reason: "lost".into(),
    });
    let mut revoked = Device::active();
    revoked.send(Event::Disconnected {
        reason: "lost".into(),
    });
    revoked.tick_to_deadline();
    revoked.send(definite_refusal());
    let mut fallback = registering();
    for _ in 0..5 {
        fallback.send(refusal());
        fallback.tick_to_deadline();
    }
    let mut error = claim();
    error.send(Event::SecureElementFailed {
        slot: SLOT_A,
        error: "0x6985".into(),
    });
    let mut finalizing = rotating(6);
    finalizing.send(update_answer("rot-m", "verify", true));
    finalizing.send(update_answer("rot-m", "report", true));
    finalizing.send(finalize_job("fin-m"));
    vec![
        ("unprovisioned", claim()),
        ("registering", registering()),
        ("active", Device::active()),
        ("active offline", offline),
        ("rotating generating_key", rotating(1)),
        ("rotating signing_csr", rotating(2)),
        ("rotating creating_certificate", rotating(3)),
        ("rotating provisioning", rotating(4)),
        ("rotating verifying (connecting)", rotating(5)),
        ("rotating verifying (online)", rotating(6)),
        ("rotating finalizing", finalizing),
        ("revoked", revoked),
        ("fallback", fallback),
        ("error", error),
    ]
}

fn refusal() -> Event {
    Event::ConnectFailed(ConnectFailure::Refused {
        definite: false,
        detail: "closed".into(),
    })
}

fn definite_refusal() -> Event {
    Event::ConnectFailed(ConnectFailure::Refused {
        definite: true,
        detail: "not authorized".into(),
    })
}

fn events() -> Vec<(&'static str, Event)> {
    vec![
        ("boot", Event::Boot),
        ("tick", Event::Tick),
        ("connected", Event::Connected),
        (
            "unreachable",
            Event::ConnectFailed(ConnectFailure::Unreachable("dns".into())),
        ),
        ("refused", refusal()),
        ("refused definite", definite_refusal()),
        (
            "disconnected",
            Event::Disconnected {
                reason: "lost".into(),
            },
        ),
        ("rotate job", rotate_job("rot-x")),
        ("created", created(&pki().device_pems[2])),
        ("provisioned", provisioned("fleetid-rotate")),
        ("verify answer", update_answer("rot-m", "verify", true)),
        ("report answer", update_answer("rot-m", "report", true)),
        ("key generated", Event::KeyGenerated { slot: SLOT_B }),
        (
            "csr signed",
            Event::CsrSigned {
                slot: SLOT_B,
                csr_pem: "CSR".into(),
            },
        ),
        ("key deleted", Event::KeyDeleted { slot: SLOT_A }),
        (
            "se failed",
            Event::SecureElementFailed {
                slot: SLOT_B,
                error: "0x6985".into(),
            },
        ),
    ]
}

/// A short text for the outcome: state, certificate slots, and the kinds of actions.
fn outcome(device: &Device, actions: &[Action]) -> String {
    let state = device.agent.persisted();
    let slot = |c: &Option<crate::core::Credential>| {
        c.as_ref()
            .map_or("-".to_owned(), |c| format!("{:x}", c.slot & 0xf))
    };
    let kinds: Vec<String> = actions
        .iter()
        .map(|a| match a {
            Action::Persist => "P".into(),
            Action::Connect { slot, .. } => format!("C{:x}", slot & 0xf),
            Action::Disconnect => "D".into(),
            Action::Subscribe(_) => "S".into(),
            Action::Publish { topic, .. } => {
                let last = topic.rsplit('/').next().unwrap_or_default();
                format!("pub:{last}")
            }
            Action::GenerateKey { slot } => format!("gen{:x}", slot & 0xf),
            Action::SignCsr { .. } => "csr".into(),
            Action::DeleteKey { slot } => format!("del{:x}", slot & 0xf),
            Action::SetLed(p) => format!("led:{p:?}"),
        })
        .collect();
    format!(
        "{:?} a={} p={} [{}]",
        device.agent.agent_state(),
        slot(&state.active),
        slot(&state.previous),
        kinds.join(" ")
    )
}

#[test]
fn every_state_against_every_event() {
    let mut table = String::new();
    for (state_name, start) in states() {
        writeln!(table, "## {state_name}").unwrap();
        for (event_name, event) in events() {
            // Each pair starts from a fresh copy of the state.
            let mut device = start.clone();
            let before = device.state().active.clone();
            let actions = device.send(event);
            let after = &device.state().active;
            if before.is_some() {
                assert!(
                    after.is_some(),
                    "{state_name} x {event_name} lost the certificate"
                );
            }
            for action in &actions {
                if let (Action::GenerateKey { slot } | Action::DeleteKey { slot }, Some(b)) =
                    (action, &before)
                {
                    assert_ne!(
                        *slot, b.slot,
                        "{state_name} x {event_name} touches the active key"
                    );
                }
            }
            let json = device.agent.status().to_json();
            assert!(StatusMessage::from_json(&json).is_ok());
            writeln!(table, "{event_name:>16}: {}", outcome(&device, &actions)).unwrap();
        }
    }
    insta::assert_snapshot!(table);
}
