//! Property: no sequence of events, with crashes (restore from the saved state) between any
//! two, loses the active key or certificate, touches its slot, or panics.

use proptest::prelude::*;

use super::support::*;
use crate::core::{Action, ConnectFailure, Event, PersistedState};
use crate::wire::{STATUS_MAX_BYTES, jobs_topic};

#[derive(Debug, Clone)]
enum Step {
    Event(Event),
    Crash,
    Wait(u64),
    ToDeadline,
}

fn slot() -> impl Strategy<Value = u32> {
    prop_oneof![Just(SLOT_A), Just(SLOT_B), Just(CLAIM_SLOT)]
}

fn job_id() -> impl Strategy<Value = String> {
    prop_oneof![Just("j1".to_owned()), Just("j2".to_owned())]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Boot),
        Just(Event::Tick),
        Just(Event::Connected),
        Just(Event::Connected),
        Just(Event::ConnectFailed(ConnectFailure::Unreachable(
            "x".into()
        ))),
        any::<bool>().prop_map(|definite| Event::ConnectFailed(ConnectFailure::Refused {
            definite,
            detail: "refused".into()
        })),
        Just(Event::Disconnected {
            reason: "lost".into()
        }),
        Just(start_next_rejected()),
        job_id().prop_map(|j| rotate_job(&j)),
        job_id().prop_map(|j| finalize_job(&j)),
        (0..4usize).prop_map(|i| created(&pki().device_pems[i])),
        Just(created("garbage")),
        Just(provisioned("fleetid-rotate")),
        Just(message(
            "$aws/provisioning-templates/t/provision/json/rejected",
            &serde_json::json!({"errorMessage": "no"})
        )),
        (
            job_id(),
            prop_oneof![Just("verify"), Just("report")],
            any::<bool>()
        )
            .prop_map(|(j, t, ok)| update_answer(&j, t, ok)),
        slot().prop_map(|slot| Event::KeyGenerated { slot }),
        slot().prop_map(|slot| Event::CsrSigned {
            slot,
            csr_pem: "CSR".into()
        }),
        slot().prop_map(|slot| Event::KeyDeleted { slot }),
        slot().prop_map(|slot| Event::SecureElementFailed {
            slot,
            error: "0x6985".into()
        }),
        Just(Event::Message {
            topic: jobs_topic(THING, "notify-next"),
            payload: b"{\"execution\":{\"jobId\":\"j1\"}}".to_vec()
        }),
        Just(Event::Message {
            topic: jobs_topic(THING, "start-next/accepted"),
            payload: b"not json".to_vec()
        }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => event().prop_map(Step::Event),
        1 => Just(Step::Crash),
        1 => (0..200_000u64).prop_map(Step::Wait),
        1 => Just(Step::ToDeadline),
    ]
}

fn is_verify_answer(event: &Event) -> bool {
    matches!(event, Event::Message { topic, payload }
        if topic.contains("/update/") && payload.windows(6).any(|w| w == b"verify"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn no_event_sequence_loses_the_active_certificate(
        claim in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let policy = if claim { claim_policy() } else { factory_policy() };
        let mut device = Device::new(policy);
        device.send(Event::Boot);
        for step in steps {
            let before = device.state().clone();
            let (actions, verify) = match step {
                Step::Event(event) => {
                    let verify = is_verify_answer(&event);
                    (device.send(event), verify)
                }
                Step::Crash => (device.crash(), false),
                Step::Wait(ms) => (device.advance(ms), false),
                Step::ToDeadline => (device.tick_to_deadline(), false),
            };
            let after = device.state().clone();
            if let Some(old) = &before.active {
                let new = after.active.as_ref();
                prop_assert!(new.is_some(), "active certificate lost");
                if new != Some(old) {
                    prop_assert!(verify, "active changed without a verified round trip");
                    prop_assert_eq!(after.previous.as_ref(), Some(old));
                }
                for action in &actions {
                    if let Action::GenerateKey { slot } | Action::DeleteKey { slot } = action {
                        prop_assert_ne!(*slot, old.slot, "the active key was touched");
                    }
                    if let (Action::GenerateKey { slot }, Some(previous)) = (action, &before.previous) {
                        prop_assert_ne!(*slot, previous.slot, "the previous key was overwritten");
                    }
                }
            }
            // What the driver saved reads back to what the agent holds.
            if let Some(saved) = &device.saved {
                let restored = PersistedState::from_json(saved).expect("saved state reads back");
                prop_assert_eq!(&restored, device.state());
            }
            prop_assert!(device.agent.status().to_json().len() <= STATUS_MAX_BYTES);
            for action in &actions {
                if let Action::Subscribe(filters) = action {
                    prop_assert!(filters.len() <= 8);
                }
            }
        }
    }
}
