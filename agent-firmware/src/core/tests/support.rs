//! A test harness around the core: a CA issuing certificates, canned cloud answers, and an
//! agent whose persisted state is kept the way the driver keeps it, so tests can "crash" it.

use std::sync::OnceLock;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::json;

use crate::core::{Action, Agent, Event, FirstIdentity, Millis, PersistedState, Policy};
use crate::wire::jobs_topic;

pub const THING: &str = "dev-0001";
pub const SLOT_A: u32 = 0x1000_0001;
pub const SLOT_B: u32 = 0x1000_0002;
pub const CLAIM_SLOT: u32 = 0x1000_0009;

/// Certificates made once for all tests (key generation is the slow part).
pub struct Pki {
    pub anchor_pem: String,
    pub next_anchor_pem: String,
    /// Device certificates, all for THING.
    pub device_pems: Vec<String>,
    pub claim_pem: String,
}

fn issue(issuer: &CertifiedIssuer<'static, KeyPair>, cn: &str) -> String {
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(vec![cn.to_owned()]).expect("params");
    params.signed_by(&key, issuer).expect("sign").pem()
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(vec![name.to_owned()]).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = ca("fleetid test root");
        let next = ca("fleetid test root 2");
        Pki {
            anchor_pem: root.pem(),
            next_anchor_pem: next.pem(),
            device_pems: (0..4).map(|_| issue(&root, THING)).collect(),
            claim_pem: issue(&root, "claim"),
        }
    })
}

pub fn factory_policy() -> Policy {
    let pki = pki();
    let mut policy = Policy::new(
        THING.into(),
        FirstIdentity::Factory {
            slot: SLOT_A,
            certificate_pem: pki.device_pems[0].clone(),
        },
        pki.anchor_pem.clone(),
    );
    policy.slots = [SLOT_A, SLOT_B];
    policy.status_interval_ms = 60_000;
    policy
}

pub fn claim_policy() -> Policy {
    let mut policy = factory_policy();
    policy.first_identity = FirstIdentity::Claim {
        slot: CLAIM_SLOT,
        certificate_pem: pki().claim_pem.clone(),
        template: "fleetid-provision".into(),
    };
    policy
}

/// An agent plus what a driver would have saved.
#[derive(Clone)]
pub struct Device {
    pub agent: Agent,
    pub now: Millis,
    pub saved: Option<Vec<u8>>,
    pub seed: u64,
}

impl Device {
    pub fn new(policy: Policy) -> Self {
        Self {
            agent: Agent::new(policy, 1).expect("agent"),
            now: 1_790_000_000_000,
            saved: None,
            seed: 1,
        }
    }

    pub fn send(&mut self, event: Event) -> Vec<Action> {
        let actions = self.agent.handle(self.now, event);
        if actions.first() == Some(&Action::Persist) {
            self.saved = Some(self.agent.persisted().to_json());
        }
        assert!(
            !actions.iter().skip(1).any(|a| *a == Action::Persist),
            "Persist comes first: {actions:?}"
        );
        actions
    }

    pub fn advance(&mut self, ms: u64) -> Vec<Action> {
        self.now += ms;
        self.send(Event::Tick)
    }

    /// Advances to the next deadline and ticks.
    pub fn tick_to_deadline(&mut self) -> Vec<Action> {
        if let Some(at) = self.agent.next_deadline() {
            self.now = self.now.max(at);
        }
        self.send(Event::Tick)
    }

    /// Kills the agent and starts it again from what was saved.
    pub fn crash(&mut self) -> Vec<Action> {
        let policy = self.agent.policy().clone();
        self.seed += 1;
        self.agent = match &self.saved {
            Some(bytes) => Agent::restore(
                policy,
                PersistedState::from_json(bytes).expect("saved state reads back"),
                self.seed,
            ),
            None => Agent::new(policy, self.seed).expect("agent"),
        };
        self.send(Event::Boot)
    }

    pub fn state(&self) -> &PersistedState {
        self.agent.persisted()
    }

    /// Boots a factory device and brings it to Active.
    pub fn active() -> Self {
        let mut device = Self::new(factory_policy());
        device.send(Event::Boot);
        device.send(Event::Connected);
        device.send(start_next_rejected());
        device
    }
}

pub fn message(topic: impl Into<String>, body: &serde_json::Value) -> Event {
    Event::Message {
        topic: topic.into(),
        payload: serde_json::to_vec(body).expect("json"),
    }
}

pub fn start_next_rejected() -> Event {
    message(
        jobs_topic(THING, "start-next/rejected"),
        &json!({"code": "ResourceNotFound"}),
    )
}

pub fn start_next_with(job_id: &str, document: &serde_json::Value) -> Event {
    message(
        jobs_topic(THING, "start-next/accepted"),
        &json!({"execution": {"jobId": job_id, "status": "IN_PROGRESS",
            "jobDocument": document, "versionNumber": 1}}),
    )
}

pub fn rotate_job(job_id: &str) -> Event {
    start_next_with(
        job_id,
        &json!({"operation": "fleetid.rotate.v1", "action": "rotate",
            "template": "fleetid-rotate", "deadlineSeconds": 30}),
    )
}

pub fn finalize_job(job_id: &str) -> Event {
    start_next_with(
        job_id,
        &json!({"operation": "fleetid.rotate.v1", "action": "finalize"}),
    )
}

pub fn created(certificate_pem: &str) -> Event {
    message(
        "$aws/certificates/create-from-csr/json/accepted",
        &json!({"certificateId": "x", "certificatePem": certificate_pem,
            "certificateOwnershipToken": "token-1"}),
    )
}

pub fn provisioned(template: &str) -> Event {
    message(
        format!("$aws/provisioning-templates/{template}/provision/json/accepted"),
        &json!({"thingName": THING, "deviceConfiguration": {}}),
    )
}

pub fn update_answer(job_id: &str, token: &str, accepted: bool) -> Event {
    let result = if accepted { "accepted" } else { "rejected" };
    message(
        jobs_topic(THING, &format!("{job_id}/update/{result}")),
        &json!({"clientToken": token, "timestamp": 1}),
    )
}

/// The publishes among `actions`, as (topic, JSON).
pub fn publishes(actions: &[Action]) -> Vec<(String, serde_json::Value)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Publish { topic, payload, .. } => Some((
                topic.clone(),
                serde_json::from_slice(payload).unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

/// The job update published for `job_id`, if any: (status, statusDetails).
pub fn job_update(actions: &[Action], job_id: &str) -> Option<serde_json::Value> {
    let topic = jobs_topic(THING, &format!("{job_id}/update"));
    publishes(actions)
        .into_iter()
        .find(|(t, _)| *t == topic)
        .map(|(_, body)| body)
}

/// The slot of a Connect among `actions`.
pub fn connect_slot(actions: &[Action]) -> Option<u32> {
    actions.iter().find_map(|action| match action {
        Action::Connect { slot, .. } => Some(*slot),
        _ => None,
    })
}
