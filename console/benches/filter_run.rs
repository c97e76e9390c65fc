//! The filter run alone, key by key, on a fixed number of threads (one by default): each
//! query typed one character at a time into a fresh `FilterSession` (so typing on narrows from
//! the key before, as in the console) over the realistic synthetic fleet's device table, built
//! as the console builds it. Without the app, the frame and the second core it shows what a key
//! costs the filter itself, steadier than the keystroke benchmark's wall time on a shared
//! machine: the numbers docs/benchmarks.md gives per core for each change to the scorer.
//!
//! `CARGO_PROFILE_RELEASE_LTO=false cargo bench --profile release -p fleetid
//! --no-default-features --bench filter_run -- [--rows N] [--threads N] [QUERY...]` (default
//! 1,000,000 rows, one thread, the keystroke benchmark's queries `d9f3 euw1 0004
//! thermostat-e`); five repetitions; prints each prefix's fastest and median time.

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use fleetid::model::synthetic::realistic::RealisticFleet;
use fleetid::model::{FleetState, UnixTime};
use fleetid::tui::data::{DeviceQuery, DeviceTable};
use fleetid::tui::feed::device_table;
use fleetid::tui::filter::{FilterJob, FilterSession, SortKey};

const NOW: i64 = 1_795_600_000;
const REPETITIONS: usize = 5;
const QUERIES: [&str; 4] = ["d9f3", "euw1", "0004", "thermostat-e"];

struct Options {
    rows: usize,
    threads: usize,
    queries: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        threads: 1,
        queries: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let number = |name: &str, value: Option<String>| -> usize {
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => options.rows = number("--rows", args.next()),
            "--threads" => options.threads = number("--threads", args.next()),
            // `cargo bench` passes `--bench` on.
            "--bench" => {}
            _ => options.queries.push(arg),
        }
    }
    if options.queries.is_empty() {
        options.queries = QUERIES.iter().map(|q| (*q).to_owned()).collect();
    }
    options
}

fn table(rows: usize) -> Arc<DeviceTable> {
    let parts = RealisticFleet {
        devices: rows,
        now: UnixTime(NOW),
    }
    .parts();
    device_table(&FleetState::from_parts(parts))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let options = options();
    let table = table(options.rows);
    let latest = AtomicU64::new(0);
    let mut times = BTreeMap::<String, Vec<Duration>>::new();
    for _ in 0..REPETITIONS {
        for query in &options.queries {
            let mut session = FilterSession::with_threads(options.threads);
            for end in query.char_indices().map(|(i, c)| i + c.len_utf8()) {
                let text = &query[..end];
                let job = FilterJob {
                    generation: 0,
                    table: Arc::clone(&table),
                    query: DeviceQuery {
                        text: text.to_owned(),
                        ..DeviceQuery::default()
                    },
                    sort: SortKey::Natural,
                };
                let started = Instant::now();
                let result = session.run(&job, &latest, Duration::MAX, &|_| {});
                assert!(result.is_some_and(|r| r.complete), "complete result");
                times
                    .entry(text.to_owned())
                    .or_default()
                    .push(started.elapsed());
            }
        }
    }
    println!(
        "filter run: {} rows, {} thread(s), {REPETITIONS} repetitions",
        table.len(),
        options.threads
    );
    for (text, mut samples) in times {
        samples.sort();
        println!(
            "{text:>16}  fastest {:6.1} ms  median {:6.1} ms",
            ms(samples[0]),
            ms(samples[samples.len() / 2])
        );
    }
}
