//! Keystroke to complete filter result, as the user waits for it: the devices view of the
//! real `App` with the `/` input open on a device table built from the realistic synthetic
//! fleet (`model::synthetic::realistic`, through the model and `feed::device_table` as the
//! console builds it), each key handed to the app, its filter job to a `FilterWorker` (the
//! filter thread), the app waiting until that job's complete result is applied, then a
//! 160x48 frame drawn. Sequences: a broad query typed on, typing on after a result that
//! matched every row, deleting back, a narrow query, a thing name typed in full. The fuzzy
//! scorers — the port of skim's, nucleo-matcher itself and nucleo's score computed on the
//! ASCII fields directly (the default) — run the same keys on the same table, alternating
//! repetition by repetition, each repetition on a fresh filter thread (nothing remembered
//! from the one before). The first query on a new table is printed on its own,
//! with and without its search text prepared by the filter thread; the timed keys run on a
//! table whose search text is built.
//!
//! `CARGO_PROFILE_RELEASE_LTO=false cargo bench --profile release -p fleetid
//! --no-default-features --bench filter_keystrokes -- [SIZES...] [--reps N] [--scorer NAME]`
//! (default sizes 10000 100000 1000000, 12 repetitions, every scorer; `--scorer nucleo-ascii`
//! runs one; `-- 10000 --reps 1` is a smoke run of a second or two). Prints p50/p99/max per sequence and scorer, the filter run's own part, the CPU per
//! key and each key's median. Target (issue 19):
//! every keystroke under 50 ms p99 at 1M. Results in docs/benchmarks.md.

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fleetid::model::synthetic::realistic::RealisticFleet;
use fleetid::model::{FleetState, UnixTime};
use fleetid::tui::app::App;
use fleetid::tui::data::{DeviceTable, FleetSnapshot, TuiUpdate};
use fleetid::tui::feed::{device_table, overview};
use fleetid::tui::filter::{FilterResult, FilterSession, FilterWorker, FuzzyScorer};
use fleetid::tui::fixture;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const NOW: i64 = 1_795_600_000;
const SCORERS: [FuzzyScorer; 3] = [
    FuzzyScorer::SkimPort,
    FuzzyScorer::Nucleo,
    FuzzyScorer::NucleoAscii,
];

/// A named run of keys; the first `setup` keys are typed but not timed.
struct Sequence {
    name: &'static str,
    setup: usize,
    keys: Vec<KeyCode>,
}

fn typed(text: &str) -> impl Iterator<Item = KeyCode> + '_ {
    text.chars().map(KeyCode::Char)
}

fn sequences() -> Vec<Sequence> {
    vec![
        Sequence {
            name: "broad, typed on: d d9 d9f d9f3",
            setup: 0,
            keys: typed("d9f3").collect(),
        },
        Sequence {
            name: "typing on after every row matched: e eu euw euw1",
            setup: 0,
            keys: typed("euw1").collect(),
        },
        Sequence {
            name: "deleting back: d9f3 -> d9f d9 d (empty)",
            setup: 4,
            keys: typed("d9f3")
                .chain(std::iter::repeat_n(KeyCode::Backspace, 4))
                .collect(),
        },
        Sequence {
            name: "deleting, then typing on: d9f3 <- d9f d9 d9a d9a7",
            setup: 4,
            keys: typed("d9f3")
                .chain([KeyCode::Backspace, KeyCode::Backspace])
                .chain(typed("a7"))
                .collect(),
        },
        Sequence {
            name: "narrow: 0 00 ... 0004217",
            setup: 0,
            keys: typed("0004217").collect(),
        },
        Sequence {
            name: "a thing name: t th ... thermostat-euw1",
            setup: 0,
            keys: typed("thermostat-euw1").collect(),
        },
    ]
}

fn app(snapshot: &FleetSnapshot, table: &Arc<DeviceTable>) -> App {
    let mut app = fixture::app("prod", snapshot.clone(), NOW);
    app.on_update(TuiUpdate::Devices(Arc::clone(table)));
    app.on_key(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    app
}

/// CPU time of this process so far, every thread counted (also the scan threads that have
/// ended), from `/proc/self/stat`, in clock ticks of 10 ms: only sums over many keys mean
/// much.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<i64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // utime and stime: fields 14 and 15 of the line, 10 and 11 of the numbers after the
    // state (field 3, the only one that is not a number).
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    Duration::from_millis(u64::try_from(ticks * 10).unwrap_or(0))
}

/// Presses `keys` one by one; the time of each from the press to its complete result drawn,
/// and the filter run's own part of it (zero when the key started none).
fn press(
    app: &mut App,
    worker: &FilterWorker,
    results: &mpsc::Receiver<FilterResult>,
    term: &mut Terminal<TestBackend>,
    keys: &[KeyCode],
) -> Vec<(Duration, Duration)> {
    keys.iter()
        .map(|&code| {
            let started = Instant::now();
            let mut run = Duration::ZERO;
            app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
            if let Some(job) = app.take_filter_job() {
                let generation = job.generation;
                worker.submit(job);
                loop {
                    let result = results
                        .recv_timeout(Duration::from_secs(60))
                        .unwrap_or_else(|e| panic!("no filter result: {e}"));
                    let done = result.complete && result.generation == generation;
                    if done {
                        run = result.elapsed;
                    }
                    app.on_filter_result(result);
                    if done {
                        break;
                    }
                }
            }
            term.draw(|f| app.render(f))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!app.devices().filtering(), "complete result applied");
            (started.elapsed(), run)
        })
        .collect()
}

/// One repetition of `sequence` with `scorer` on a fresh filter thread.
fn repetition(
    snapshot: &FleetSnapshot,
    table: &Arc<DeviceTable>,
    scorer: FuzzyScorer,
    sequence: &Sequence,
    prepare: bool,
) -> (Vec<(Duration, Duration)>, usize, Duration) {
    let (sender, results) = mpsc::channel();
    let session = FilterSession::default().with_scorer(scorer);
    let worker = FilterWorker::spawn_with(session, move |r| {
        let _ = sender.send(r);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    if prepare {
        worker.prepare(table);
        std::thread::sleep(Duration::from_secs(1));
    }
    let mut app = app(snapshot, table);
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| panic!("{e}"));
    let (setup, timed) = sequence.keys.split_at(sequence.setup);
    let _ = press(&mut app, &worker, &results, &mut term, setup);
    let cpu = cpu_time();
    let times = press(&mut app, &worker, &results, &mut term, timed);
    (times, app.devices().len(), cpu_time() - cpu)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    // Nearest rank.
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn summary(samples: &[Duration]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    format!(
        "p50 {} p99 {} max {} ms ({} keys)",
        ms(quantile(&sorted, 0.5)),
        ms(quantile(&sorted, 0.99)),
        ms(sorted[sorted.len() - 1]),
        sorted.len()
    )
}

fn build_table(devices: usize) -> (FleetSnapshot, Arc<DeviceTable>) {
    let started = Instant::now();
    let state = FleetState::from_parts(
        RealisticFleet {
            devices,
            now: UnixTime(NOW),
        }
        .parts(),
    );
    let snapshot = overview(&state.summary(), UnixTime(NOW));
    let table = device_table(&state);
    println!(
        "{devices} devices: model and device table built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (snapshot, table)
}

fn run_size(devices: usize, reps: usize, scorers: &[FuzzyScorer]) {
    let (snapshot, table) = build_table(devices);
    // The first query on a table builds its search text unless the filter thread was asked
    // to prepare it when the table arrived (as the event loop does); copies of the table
    // have none yet.
    for prepared in [false, true] {
        let copy = Arc::new(DeviceTable::clone(&table));
        let (first, _, _) = repetition(
            &snapshot,
            &copy,
            FuzzyScorer::default(),
            &Sequence {
                name: "first query",
                setup: 0,
                keys: vec![KeyCode::Char('x')],
            },
            prepared,
        );
        println!(
            "{devices}: first query on a new table, {}: {} ms",
            if prepared {
                "its search text prepared when it arrived (1 s before)"
            } else {
                "building its search text"
            },
            ms(first[0].0)
        );
    }
    // The timed sequences run on a table whose search text is built.
    let _ = repetition(
        &snapshot,
        &table,
        FuzzyScorer::default(),
        &Sequence {
            name: "warm-up",
            setup: 0,
            keys: vec![KeyCode::Char('x')],
        },
        false,
    );
    let sequences = sequences();
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); scorers.len()];
    let mut all_cpu = vec![Duration::ZERO; scorers.len()];
    for sequence in &sequences {
        let mut times: Vec<Vec<Vec<Duration>>> = vec![Vec::new(); scorers.len()];
        let mut runs: Vec<Vec<Duration>> = vec![Vec::new(); scorers.len()];
        let mut shown = vec![0; scorers.len()];
        let mut cpu = vec![Duration::ZERO; scorers.len()];
        for _ in 0..reps {
            for (s, &scorer) in scorers.iter().enumerate() {
                let (t, rows, used) = repetition(&snapshot, &table, scorer, sequence, false);
                shown[s] = rows;
                cpu[s] += used;
                runs[s].extend(t.iter().map(|k| k.1));
                times[s].push(t.into_iter().map(|k| k.0).collect());
            }
        }
        println!("{devices}: {}", sequence.name);
        for (s, scorer) in scorers.iter().enumerate() {
            let flat: Vec<Duration> = times[s].iter().flatten().copied().collect();
            all[s].extend(&flat);
            // Median of each key over the repetitions.
            let per_key: Vec<String> = (0..times[s][0].len())
                .map(|k| {
                    let mut key: Vec<Duration> = times[s].iter().map(|r| r[k]).collect();
                    key.sort();
                    ms(quantile(&key, 0.5))
                })
                .collect();
            println!(
                "  {:9} {}; filter run alone {}; CPU {} ms per key; per key (median ms): {}; \
                 rows at the end: {}",
                scorer.label(),
                summary(&flat),
                summary(&runs[s]),
                ms(cpu[s] / u32::try_from(flat.len()).unwrap_or(1)),
                per_key.join(" "),
                shown[s]
            );
            all_cpu[s] += cpu[s];
        }
    }
    for (s, scorer) in scorers.iter().enumerate() {
        println!(
            "{devices}: every key, {:9} {}; CPU {} ms per key",
            scorer.label(),
            summary(&all[s]),
            ms(all_cpu[s] / u32::try_from(all[s].len()).unwrap_or(1))
        );
    }
}

fn main() {
    let mut sizes = Vec::new();
    let mut reps = 12;
    let mut scorers = SCORERS.to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scorer" => {
                let name = args.next().unwrap_or_default();
                scorers = vec![
                    *SCORERS
                        .iter()
                        .find(|s| s.label() == name)
                        .unwrap_or_else(|| {
                            panic!("--scorer takes one of skim-port, nucleo, nucleo-ascii")
                        }),
                ];
            }
            "--reps" => {
                reps = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("--reps takes a number"));
            }
            // cargo bench passes --bench; criterion-style filters are not used here.
            a if a.starts_with("--") => {}
            a => sizes.push(a.parse().unwrap_or_else(|e| panic!("size {a:?}: {e}"))),
        }
    }
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    println!(
        "filter keystrokes: {} cores available, {reps} repetitions per sequence and scorer",
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    );
    for devices in sizes {
        run_size(devices, reps.max(1), &scorers);
    }
}
