//! Measures the memory of many agents in one process, as the lab runs them: N agents, each
//! with its own simulated SE05x and state, connected over mTLS to one mosquitto on loopback.
//!
//! `FLEETID_MOSQUITTO=$(command -v mosquitto) cargo run -p fleetid-agent --example agent_memory -- 200`
//! prints the resident set size before and after, per agent.

#[path = "../tests/broker/mod.rs"]
mod broker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetid_agent::core::{FirstIdentity, PersistedState, Phase, Policy};
use fleetid_agent::driver::{
    self, DeviceParts, DriverConfig, Endpoint, KeyStore, LogLed, MemoryStore, SecureElementKeys,
};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let fixture = broker::Fixture::new().await;
    // Keys and certificates first, so that only the running agents are measured.
    let mut devices = Vec::with_capacity(count);
    for index in 0..count {
        let thing = format!("mem-{index:05}");
        let keys = SecureElementKeys::simulated().expect("simulated SE");
        keys.generate_p256(broker::SLOT_A).expect("key");
        let pem = fixture.ca.leaf_for_key(
            &thing,
            keys.public_key(broker::SLOT_A).expect("public key"),
            index as u64 + 1,
        );
        devices.push((thing, keys, pem));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();
    let started = Instant::now();
    // At most 64 handshakes at once, as the lab limits its boot storm.
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut stores = Vec::with_capacity(count);
    let mut stops = Vec::with_capacity(count);
    for (thing, keys, pem) in devices {
        let mut policy = Policy::new(
            thing,
            FirstIdentity::Factory {
                slot: broker::SLOT_A,
                certificate_pem: pem,
            },
            fixture.ca.pem(),
        );
        policy.slots = [broker::SLOT_A, broker::SLOT_B];
        let store = MemoryStore::new();
        stores.push(store.clone());
        let keys: Arc<dyn KeyStore> = Arc::new(keys);
        let device = DeviceParts {
            keys,
            store: Box::new(store),
            led: Box::new(LogLed::default()),
        };
        let config = DriverConfig {
            policy,
            endpoint: Endpoint::new("127.0.0.1", fixture.broker.port),
            seed: Some(stops.len() as u64),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        tokio::spawn(driver::run_gated(
            config,
            device,
            Some(gate.clone()),
            async move {
                let _ = stopped.await;
            },
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let active = stores
            .iter()
            .filter(|s| {
                s.bytes()
                    .and_then(|b| PersistedState::from_json(&b).ok())
                    .is_some_and(|state| state.phase == Phase::Active)
            })
            .count();
        if active == count {
            break;
        }
        if Instant::now() >= deadline {
            let mut phases = std::collections::BTreeMap::new();
            for state in stores
                .iter()
                .filter_map(MemoryStore::bytes)
                .filter_map(|b| PersistedState::from_json(&b).ok())
            {
                *phases
                    .entry(format!("{:?} {:?}", state.phase, state.last_disconnect))
                    .or_insert(0) += 1;
            }
            panic!("only {active} of {count} agents active: {phases:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    let per_agent = (after.saturating_sub(before)) as f64 / count as f64;
    println!(
        "{count} agents active in {:.1} s; RSS {before} KiB -> {after} KiB; {per_agent:.1} KiB per agent",
        elapsed.as_secs_f64()
    );
    drop(stops);
}
