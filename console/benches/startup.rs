//! fleetid from the cache to the screen, the path production runs, at 10k, 100k and 1M
//! devices of the realistic synthetic fleet (`model::synthetic::realistic`): the snapshot's
//! summary to the dashboard's first frame, the model's load (SQLite blocks decoded into the
//! model in bulk) and its look-up tables, the device table and its search text, and the saves
//! (a whole base, and a refresh that changed ten certificates). Memory per device is reported
//! for the model (with its look-up tables), the TUI's device table and its search index
//! separately, each measured in a process of its own (this binary
//! runs itself) so freed memory of an earlier step does not hide growth.
//!
//! Run: `cargo bench -p fleetid --bench startup` (sizes: `-- 10000 100000`). With
//! `STARTUP_BENCH_DIR` set, the caches are written there and kept, and the memory of one can be
//! measured again alone: `<bench binary> memory 1000000 $STARTUP_BENCH_DIR/1000000.sqlite3`.

/// The allocator the `fleetid` binary uses: memory per device is the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use fleetid::model::synthetic::realistic::RealisticFleet;
use fleetid::model::{CertStatus, FleetState, FleetSummary, FleetUpdate, UnixTime};
use fleetid::store::Store;
use fleetid::tui::app::App;
use fleetid::tui::data::{DeviceQuery, DeviceTable, TuiUpdate};
use fleetid::tui::feed::{device_table, overview};
use fleetid::tui::filter::{FilterJob, SortKey, run_job};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const NOW: UnixTime = UnixTime(1_795_600_000);
const ENV: &str = "bench";
const BUDGET_BYTES_PER_DEVICE: usize = 1024;
const RUNS: usize = 3;

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn app(summary: &FleetSummary) -> App {
    fleetid::tui::fixture::app(ENV, overview(summary, NOW), NOW.0)
}

fn draw(app: &App, width: u16, height: u16) {
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| panic!("{e}"));
    term.draw(|f| app.render(f))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The summary the first frame is drawn from.
fn load_summary(path: &Path) -> FleetSummary {
    Store::open(path)
        .and_then(|s| s.load_summary(ENV))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no summary in {}", path.display()))
        .summary
}

fn load(path: &Path) -> FleetState {
    Store::open(path)
        .and_then(|s| s.load(ENV))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no snapshot in {}", path.display()))
        .state
}

/// A query that makes the table build its search text (and matches some devices).
fn search(table: &Arc<DeviceTable>) -> usize {
    let job = FilterJob {
        generation: 1,
        table: Arc::clone(table),
        query: DeviceQuery {
            text: "meter-use1".to_owned(),
            ..DeviceQuery::default()
        },
        sort: SortKey::Natural,
    };
    run_job(&job, &AtomicU64::new(1))
        .and_then(|r| r.rows)
        .map_or(0, |rows| rows.len())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                black_box(f());
                started.elapsed()
            })
            .collect(),
    )
}

fn write_cache(devices: usize, path: &Path) -> Duration {
    let state = FleetState::from_parts(RealisticFleet { devices, now: NOW }.parts());
    let mut store = Store::open(path).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    store
        .save(ENV, &state, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    started.elapsed()
}

fn timings(devices: usize, path: &Path) {
    let full_save = write_cache(devices, path);
    let to_first_frame = time(|| {
        let summary = load_summary(path);
        draw(&app(&summary), 80, 24);
        summary
    });
    let summary = load_summary(path);
    let summary_load = time(|| load_summary(path));
    let state = load(path);
    let store_load = time(|| load(path));
    let lookups = time(|| load(path).prepare_lookups()).saturating_sub(store_load);
    let first_frame = time(|| draw(&app(&summary), 80, 24));
    let table = time(|| device_table(&state));
    let mut shown = app(&summary);
    shown.on_key(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::NONE));
    let devices_frame = time(|| {
        shown.on_update(TuiUpdate::Devices(device_table(&state)));
        draw(&shown, 160, 48);
    });
    let search_first = time(|| search(&device_table(&state))).saturating_sub(table);
    let mut store = Store::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut changed = load(path);
    let ten_changed = time(|| {
        changed.apply(FleetUpdate::StatusChanged(
            (0..10)
                .map(|i| {
                    (
                        RealisticFleet::cert_id(i * 7919 % devices),
                        CertStatus::Inactive,
                    )
                })
                .collect(),
        ));
        let version = store
            .save(ENV, &changed, NOW)
            .unwrap_or_else(|e| panic!("{e}"));
        changed.mark_saved(version);
    });
    let file = std::fs::metadata(path).map_or(0, |m| m.len());
    eprintln!(
        "startup {devices}: cache {} MiB; summary to first frame {to_first_frame:.2?} (summary \
         load {summary_load:.2?}, overview + first frame {first_frame:.2?}); model load \
         {store_load:.2?}, its look-up tables {lookups:.2?}; device table {table:.2?}, table to \
         devices frame {devices_frame:.2?}, search text + first query {search_first:.2?}; \
         save: whole base {full_save:.2?}, ten certificates changed {ten_changed:.2?}",
        file / (1024 * 1024)
    );
}

/// Runs in a process of its own: resident set growth of the model, the table, the search text.
fn memory(devices: usize, path: &Path) {
    let before = resident_bytes();
    let state = load(path);
    let model = resident_bytes().saturating_sub(before);
    let before = resident_bytes();
    state.prepare_lookups();
    let lookups = resident_bytes().saturating_sub(before);
    let model = model + lookups;
    let before = resident_bytes();
    let table = device_table(&state);
    let table_bytes = resident_bytes().saturating_sub(before);
    let before = resident_bytes();
    let matches = search(&table);
    let search_bytes = resident_bytes().saturating_sub(before);
    let per = |bytes: usize| bytes / devices;
    eprintln!(
        "memory {devices}: model {} B/device ({} MiB; its look-up tables {} B/device), device \
         table {} B/device ({} MiB), search index {} B/device ({} MiB; {matches} matches); \
         budget {BUDGET_BYTES_PER_DEVICE} each",
        per(model),
        model >> 20,
        per(lookups),
        per(table_bytes),
        table_bytes >> 20,
        per(search_bytes),
        search_bytes >> 20,
    );
    for (what, bytes) in [
        ("model", model),
        ("device table", table_bytes),
        ("search index", search_bytes),
    ] {
        assert!(
            per(bytes) <= BUDGET_BYTES_PER_DEVICE,
            "{what}: {} bytes per device exceeds {BUDGET_BYTES_PER_DEVICE}",
            per(bytes)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [mode, devices, path] = args.as_slice()
        && mode == "memory"
    {
        memory(
            devices.parse().unwrap_or_else(|e| panic!("{e}")),
            Path::new(path),
        );
        return;
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        args.iter()
            .map(|a| a.parse().unwrap_or_else(|e| panic!("{a}: {e}")))
            .collect()
    };
    let temporary = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kept = std::env::var_os("STARTUP_BENCH_DIR").map(PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temporary.path());
    let mut over_budget = Vec::new();
    for devices in sizes {
        let path: PathBuf = dir.join(format!("{devices}.sqlite3"));
        let _ = std::fs::remove_file(&path);
        timings(devices, &path);
        let status =
            std::process::Command::new(std::env::current_exe().unwrap_or_else(|e| panic!("{e}")))
                .args(["memory", &devices.to_string(), &path.to_string_lossy()])
                .status()
                .unwrap_or_else(|e| panic!("{e}"));
        if !status.success() {
            over_budget.push(devices);
        }
        if kept.is_none() {
            let _ = std::fs::remove_file(&path);
        }
    }
    assert!(
        over_budget.is_empty(),
        "memory over the budget (or the run failed) at {over_budget:?} devices"
    );
}
