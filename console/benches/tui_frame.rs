//! TUI speed at 1,000,000 devices: keypress to frame, the fuzzy filter, and the first frame
//! from a loaded model. Targets (issue 9): first frame within 1.5 s, keypress to frame p99
//! under 30 ms, filter results within 100 ms. Results and the command are in
//! docs/benchmarks.md.

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fleetid::model::synthetic::fleet_updates;
use fleetid::model::{FleetState, UnixTime};
use fleetid::tui::app::App;
use fleetid::tui::data::{DeviceQuery, DeviceTable, TuiUpdate};
use fleetid::tui::feed::{device_table as model_table, overview};
use fleetid::tui::filter::{
    FilterJob, FilterSession, PARTIAL_AFTER, SortKey, run_job, run_job_streaming,
};
use fleetid::tui::fixture::{device_table, sample_snapshot};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const DEVICES: usize = 1_000_000;
const NOW: i64 = 1_795_600_000;

fn app(snapshot: fleetid::tui::data::FleetSnapshot) -> App {
    fleetid::tui::fixture::app("prod", snapshot, NOW)
}

fn terminal(width: u16, height: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| panic!("{e}"))
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Percentiles of keypress -> frame over many presses, printed (criterion reports means).
fn keypress_percentiles(app: &mut App, term: &mut Terminal<TestBackend>) {
    let mut samples: Vec<Duration> = (0..500)
        .map(|i| {
            let started = Instant::now();
            key(
                app,
                if i % 50 == 49 {
                    KeyCode::PageDown
                } else {
                    KeyCode::Char('j')
                },
            );
            term.draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
            started.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    eprintln!(
        "tui keypress->frame at 1M, 160x48, 500 presses: p50 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn keypress_to_frame(c: &mut Criterion) {
    let mut app = app(sample_snapshot(DEVICES, NOW));
    key(&mut app, KeyCode::Char('5'));
    let mut term = terminal(160, 48);
    keypress_percentiles(&mut app, &mut term);
    let mut group = c.benchmark_group("tui_keypress_to_frame_1m");
    group.bench_function("devices_down_160x48", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('j'));
            term.draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
        });
    });
    let mut small = terminal(80, 24);
    group.bench_function("devices_page_down_80x24", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::PageDown);
            small
                .draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
        });
    });
    key(&mut app, KeyCode::Char('2'));
    group.bench_function("heatmap_right_160x48", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('l'));
            term.draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
        });
    });
    group.finish();
}

fn text_job(table: &Arc<DeviceTable>, text: &str, sort: SortKey) -> FilterJob {
    FilterJob {
        generation: 1,
        table: Arc::clone(table),
        query: DeviceQuery {
            text: text.to_owned(),
            ..DeviceQuery::default()
        },
        sort,
    }
}

fn filter(c: &mut Criterion) {
    let table = Arc::new(device_table(DEVICES, NOW));
    let latest = AtomicU64::new(1);
    let mut group = c.benchmark_group("tui_filter_1m");
    group.sample_size(10);
    for (name, text, sort) in [
        ("fuzzy_selective_dev-00042", "dev-00042", SortKey::Natural),
        ("fuzzy_broad_d9", "d9", SortKey::Natural),
        ("fuzzy_broad_d9_by_expiry", "d9", SortKey::Expiry),
        ("sort_by_expiry", "", SortKey::Expiry),
        ("sort_by_thing", "", SortKey::Thing),
    ] {
        let job = text_job(&table, text, sort);
        // The first run on the table also builds what it keeps (search text, sort order).
        let first = std::sync::Mutex::new(None);
        let started = Instant::now();
        let done = run_job_streaming(&job, &latest, PARTIAL_AFTER, &|r| {
            let mut first = first.lock().unwrap_or_else(|e| panic!("{e}"));
            first.get_or_insert((started.elapsed(), r.rows.map_or(0, |rows| rows.len())));
        });
        let cold = started.elapsed();
        let started = Instant::now();
        let warm = run_job(&job, &latest);
        let warm_time = started.elapsed();
        assert_eq!(
            done.as_ref().and_then(|d| d.rows.clone()),
            warm.and_then(|w| w.rows)
        );
        eprintln!(
            "tui filter {name} at 1M: first run {cold:?} (partial rows handed over: {:?}), \
             next run {warm_time:?}, {} matches",
            first
                .lock()
                .unwrap_or_else(|e| panic!("{e}"))
                .map(|(at, _)| at),
            done.and_then(|d| d.rows).map_or(DEVICES, |rows| rows.len()),
        );
        group.bench_function(name, |b| b.iter(|| black_box(run_job(&job, &latest))));
    }
    // Typing on: the session narrows the previous query's matches instead of rescanning.
    for (name, before, after) in [
        ("typing_d_then_d9", "d", "d9"),
        ("typing_dev-0004_then_dev-00042", "dev-0004", "dev-00042"),
    ] {
        let earlier = text_job(&table, before, SortKey::Natural);
        let job = text_job(&table, after, SortKey::Natural);
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut session = FilterSession::default();
                    let _ = session.run(&earlier, &latest, PARTIAL_AFTER, &|_| {});
                    session
                },
                |mut session| black_box(session.run(&job, &latest, PARTIAL_AFTER, &|_| {})),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn first_frame(c: &mut Criterion) {
    let mut state = FleetState::new();
    for update in fleet_updates(DEVICES, UnixTime(NOW), 10_000) {
        state.apply(update);
    }
    let mut group = c.benchmark_group("tui_first_frame_1m");
    group.sample_size(10);
    group.bench_function("overview_app_render_80x24", |b| {
        b.iter(|| {
            let app = app(overview(&state.summary(), UnixTime(NOW)));
            let mut term = terminal(80, 24);
            term.draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
        });
    });
    group.bench_function("device_table_from_model", |b| {
        b.iter(|| black_box(model_table(&state)));
    });
    // From the model to the devices view drawn with the table: build, hand over, draw.
    let mut shown = app(overview(&state.summary(), UnixTime(NOW)));
    key(&mut shown, KeyCode::Char('5'));
    let mut term = terminal(160, 48);
    group.bench_function("device_table_to_devices_frame_160x48", |b| {
        b.iter(|| {
            shown.on_update(TuiUpdate::Devices(model_table(&state)));
            term.draw(|f| shown.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(shown.devices().len(), DEVICES);
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = keypress_to_frame, filter, first_frame
}
criterion_main!(benches);
