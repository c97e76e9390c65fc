//! The fleet model at one million devices: memory per device (resident set growth while the
//! model is built, so allocator overhead counts) and the time of the operations the views
//! use. Run: `cargo bench -p fleetid --bench model`.
//!
//! The memory figure fails the benchmark when it exceeds 1 KiB per device.

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetid::model::{
    CertQuery, CertStatus, FleetState, FleetUpdate, HealthPolicy, SECONDS_PER_DAY, UnixTime,
    synthetic,
};

const DEVICES: usize = 1_000_000;
const NOW: UnixTime = UnixTime(1_795_593_600);
const BUDGET_BYTES_PER_DEVICE: usize = 1024;

/// Resident set size in bytes (Linux), read from /proc/self/statm.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Builds the fleet page by page (as the backend delivers it), dropping each page after use.
fn build(devices: usize) -> FleetState {
    let mut state = FleetState::new();
    let page = 1000;
    state.apply(FleetUpdate::Cas(synthetic::cas(NOW)));
    for start in (0..devices).step_by(page) {
        let range = start..(start + page).min(devices);
        state.apply(FleetUpdate::Certificates(
            range
                .clone()
                .map(|i| synthetic::certificate(i, NOW))
                .collect(),
        ));
        state.apply(FleetUpdate::Things(
            range.clone().map(synthetic::thing).collect(),
        ));
        state.apply(FleetUpdate::Attachments(
            range
                .map(|i| (synthetic::cert_id(i), vec![format!("dev-{i:07}").into()]))
                .collect(),
        ));
    }
    state
}

fn model(c: &mut Criterion) {
    let before = resident_bytes();
    let started = Instant::now();
    let state = build(DEVICES);
    let built_in = started.elapsed();
    let grown = resident_bytes().saturating_sub(before);
    let per_device = grown / DEVICES;
    eprintln!(
        "fleet model: {DEVICES} devices built in {built_in:.2?}; resident set grew {} MiB = {per_device} bytes per device (budget {BUDGET_BYTES_PER_DEVICE})",
        grown / (1024 * 1024)
    );
    assert!(
        per_device <= BUDGET_BYTES_PER_DEVICE,
        "{per_device} bytes per device exceeds the budget of {BUDGET_BYTES_PER_DEVICE}"
    );

    let mut state = state;
    let mut group = c.benchmark_group("model_1m");
    group.sample_size(10);
    group.bench_function("status_change_1000_certs", |b| {
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            let status = if flip {
                CertStatus::Inactive
            } else {
                CertStatus::Active
            };
            let changes = (0..1000)
                .map(|i| (synthetic::cert_id(i * 997 % DEVICES), status))
                .collect();
            state.apply(FleetUpdate::StatusChanged(changes));
        });
    });
    group.bench_function("health", |b| {
        b.iter(|| black_box(state.health(NOW, HealthPolicy::default())));
    });
    group.bench_function("certs_expiring_within_7d", |b| {
        let query = CertQuery {
            expiring_within: Some(7 * SECONDS_PER_DAY),
            ..CertQuery::default()
        };
        b.iter(|| black_box(state.query_certificates(&query, NOW).map(|r| r.len())));
    });
    group.bench_function("ca_tree", |b| b.iter(|| black_box(state.ca_tree())));
    group.finish();
}

criterion_group!(benches, model);
criterion_main!(benches);
