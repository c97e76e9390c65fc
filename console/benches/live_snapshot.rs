//! What the console's model thread makes every 0.5 s while live status arrives, at 10k, 100k
//! and 1M devices of the realistic synthetic fleet: before, a whole snapshot (the device
//! table built again, every row); now, for live status alone, the overview around the table
//! (dashboard counts, heatmap, CAs, anomalies) with the table kept on screen, rebuilt at most
//! every 10 s. Each step first applies a batch of connectivity changes, as a second of live
//! status would. Prints the median and the worst of the runs.
//!
//! Run: `cargo bench -p fleetid --bench live_snapshot` (sizes: `-- 10000 100000`).

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::{Duration, Instant};

use fleetid::model::synthetic::realistic::RealisticFleet;
use fleetid::model::{FleetState, FleetUpdate, UnixTime};
use fleetid::tui::feed::{overview, snapshot};

const NOW: UnixTime = UnixTime(1_795_600_000);
const RUNS: usize = 7;
/// Connectivity changes applied before each snapshot.
const CHANGES: usize = 5_000;

fn time(mut step: impl FnMut(usize)) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|run| {
            let start = Instant::now();
            step(run);
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[RUNS / 2], times[RUNS - 1])
}

fn connectivity(devices: usize, run: usize) -> FleetUpdate {
    FleetUpdate::Connectivity(
        (0..CHANGES)
            .map(|k| {
                let i = (run * CHANGES + k) * 7_919 % devices;
                (
                    RealisticFleet::thing_name(i).into(),
                    (run + k).is_multiple_of(2),
                    Some(NOW),
                )
            })
            .collect(),
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    println!(
        "devices | whole snapshot (table rebuilt) | overview only (table kept) — median / worst of {RUNS}"
    );
    for devices in sizes {
        let mut state = FleetState::from_parts(RealisticFleet { devices, now: NOW }.parts());
        state.prepare_lookups();
        let (whole, whole_worst) = time(|run| {
            state.apply(connectivity(devices, run));
            black_box(snapshot(&state, NOW));
        });
        let (kept, kept_worst) = time(|run| {
            state.apply(connectivity(devices, run + RUNS));
            black_box(overview(&state.summary(), NOW));
        });
        println!(
            "{devices:>9} | {:>8.1} ms / {:>8.1} ms | {:>8.1} ms / {:>8.1} ms",
            whole.as_secs_f64() * 1e3,
            whole_worst.as_secs_f64() * 1e3,
            kept.as_secs_f64() * 1e3,
            kept_worst.as_secs_f64() * 1e3,
        );
    }
}
