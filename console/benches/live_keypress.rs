//! Keypress to frame while live status pours in (issue 19): at a million devices of the
//! realistic synthetic fleet, 5,000 agent status messages a second (one in ten reporting
//! another firmware version) and 500 lifecycle events a second (connects and disconnects)
//! arrive for the whole run, while keys are pressed in the devices view. Everything but the
//! terminal and the network is the console's own path:
//!
//! - an "MQTT" thread writes each message as an agent does (`StatusMessage::to_json`, AWS IoT's
//!   lifecycle JSON) and reads it back as the console's connections do
//!   (`backend::live::parse_publish`), into a queue as deep as the console's;
//! - the model thread applies each through `interactive::screen::Screen` — the model updated,
//!   every message counted, the device table's rows patched in place and the overview sent
//!   every 0.5 s;
//! - the UI runs `tui::event_loop::run_on` on ratatui's `TestBackend` at 160x48: the update
//!   thread, the filter thread and the `App`, as on a terminal;
//! - a key thread presses a key every 25 ms: `j` mostly, `PageDown` every 25th, `k` every
//!   7th, and `o` (the next sort order: thing, expiry, status, none) every 200th — under the
//!   order by status every patched status makes the filter thread order the table again.
//!
//! Keypress to frame is from the key queued to the end of the first frame drawn after the
//! loop handled it. Prints its p50 / p99 / max, the frames, what the model thread did and
//! every message's fate (sent, received, applied).
//!
//! Run: `cargo bench -p fleetid --bench live_keypress` (arguments: devices, seconds; default
//! `1000000 30`).

/// The allocator the `fleetid` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use fleetid::backend::BackendUpdate;
use fleetid::backend::live::{LiveEvent, parse_publish};
use fleetid::interactive::screen::Screen;
use fleetid::model::synthetic::realistic::{FIRMWARE, RealisticFleet};
use fleetid::model::{FleetState, UnixTime};
use fleetid::tui::data::TuiUpdate;
use fleetid::tui::event_loop::run_on;
use fleetid::tui::feed::overview;
use fleetid::tui::fixture;
use fleetid_agent::wire::StatusMessage;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

/// Status messages a second.
const STATUS_RATE: u64 = 5_000;
/// Lifecycle events a second.
const PRESENCE_RATE: u64 = 500;
/// Between two keys.
const KEY_EVERY: Duration = Duration::from_millis(25);
/// The console's live queue (`interactive::LIVE_QUEUE`).
const LIVE_QUEUE: usize = 8_192;

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The fleet's things and the firmware each runs.
fn things(state: &FleetState, devices: usize) -> Vec<(String, String)> {
    (0..devices)
        .map(|i| {
            let name = RealisticFleet::thing_name(i);
            let firmware = state
                .thing(&name)
                .and_then(|t| t.firmware)
                .unwrap_or(FIRMWARE[0])
                .to_owned();
            (name, firmware)
        })
        .collect()
}

fn presence_json(thing: &str, connected: bool, at_ms: i64) -> Vec<u8> {
    let kind = if connected {
        "connected"
    } else {
        "disconnected"
    };
    format!(
        r#"{{"clientId":"{thing}","thingName":"{thing}","eventType":"{kind}","timestamp":{at_ms},"disconnectReason":"CONNECTION_LOST","versionNumber":1}}"#
    )
    .into_bytes()
}

/// Writes and reads back `STATUS_RATE` status messages and `PRESENCE_RATE` lifecycle events a
/// second for `run`; the number of each sent.
fn mqtt(
    things: &[(String, String)],
    queue: &mpsc::SyncSender<BackendUpdate>,
    run: Duration,
) -> (u64, u64) {
    let started = Instant::now();
    let (mut status, mut presence) = (0u64, 0u64);
    let n = things.len() as u64;
    while started.elapsed() < run {
        let elapsed = started.elapsed().as_secs_f64();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (status_due, presence_due) = (
            (elapsed * STATUS_RATE as f64) as u64,
            (elapsed * PRESENCE_RATE as f64) as u64,
        );
        while status < status_due {
            #[allow(clippy::cast_possible_truncation)]
            let (thing, firmware) = &things[(status * 7_919 % n) as usize];
            let firmware = if status.is_multiple_of(10) {
                FIRMWARE[(status / 10) as usize % FIRMWARE.len()]
            } else {
                firmware
            };
            let payload = StatusMessage::new(thing.as_str(), status, firmware).to_json();
            let event = parse_publish(&format!("fleetid/v1/{thing}/status"), &payload);
            if let Some(event) = event
                && queue.send(BackendUpdate::Live(event)).is_err()
            {
                return (status, presence);
            }
            status += 1;
        }
        while presence < presence_due {
            #[allow(clippy::cast_possible_truncation)]
            let (thing, _) = &things[(presence * 104_729 % n) as usize];
            let kind = if presence.is_multiple_of(2) {
                "connected"
            } else {
                "disconnected"
            };
            // Newer than the status messages' receipt times, as a real event would be.
            let at_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
                + 1_000;
            let payload = presence_json(thing, presence.is_multiple_of(2), at_ms);
            let event = parse_publish(&format!("$aws/events/presence/{kind}/{thing}"), &payload);
            if let Some(event) = event
                && queue.send(BackendUpdate::Live(event)).is_err()
            {
                return (status, presence);
            }
            presence += 1;
        }
        thread::sleep(Duration::from_millis(2));
    }
    (status, presence)
}

/// What the model thread did.
#[derive(Debug, Default)]
struct ModelSide {
    received: u64,
    lifecycle: u64,
    sends: Vec<Duration>,
    applying: Duration,
}

/// The console's model thread: applies what arrives, sends the screen its picture when due.
fn model(
    mut state: FleetState,
    mut screen: Screen,
    live: &mpsc::Receiver<BackendUpdate>,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> (ModelSide, Screen) {
    let mut side = ModelSide::default();
    loop {
        match live.recv_timeout(Duration::from_millis(100)) {
            Ok(update) => {
                side.received += 1;
                if matches!(update, BackendUpdate::Live(LiveEvent::Presence(_))) {
                    side.lifecycle += 1;
                }
                let started = Instant::now();
                screen.apply(&mut state, update);
                side.applying += started.elapsed();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                let _ = screen.send(&mut state, updates, |_| {});
                return (side, screen);
            }
        }
        if screen.due() {
            let started = Instant::now();
            if screen.send(&mut state, updates, |_| {}).is_none() {
                return (side, screen);
            }
            side.sends.push(started.elapsed());
        }
    }
}

/// The key pressed `k`-th (0-based).
fn key(k: usize) -> KeyCode {
    if k % 200 == 199 {
        KeyCode::Char('o')
    } else if k % 25 == 24 {
        KeyCode::PageDown
    } else if k % 7 == 6 {
        KeyCode::Char('k')
    } else {
        KeyCode::Char('j')
    }
}

fn run(devices: usize, seconds: u64) {
    let now = UnixTime(1_795_600_000);
    let started = Instant::now();
    let mut state = FleetState::from_parts(RealisticFleet { devices, now }.parts());
    state.prepare_lookups();
    let things = things(&state, devices);
    let screen = Screen::new(&mut state);
    let table = Arc::clone(screen.table());
    println!(
        "{devices} devices: model, look-ups and device table in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let app = fixture::app("prod", overview(&state.summary(), now), now.0);
    let (updates_tx, updates_rx) = mpsc::sync_channel::<TuiUpdate>(8);
    updates_tx
        .send(TuiUpdate::Devices(table))
        .unwrap_or_else(|e| panic!("{e}"));
    let (live_tx, live_rx) = mpsc::sync_channel::<BackendUpdate>(LIVE_QUEUE);
    let run = Duration::from_secs(seconds);

    let sent_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let keys_sent = Arc::clone(&sent_at);
    let mut latencies = Vec::new();
    let mut frames = 0u64;
    let mut handled = 0usize;
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| panic!("{e}"));

    let (sent, (side, screen)) = thread::scope(|scope| {
        let things = &things;
        let mqtt = scope.spawn(move || mqtt(things, &live_tx, run));
        let model = scope.spawn(move || model(state, screen, &live_rx, &updates_tx));
        let result = run_on(
            app,
            &mut terminal,
            updates_rx,
            None,
            |queue| {
                thread::spawn(move || {
                    let press = |code: KeyCode| {
                        keys_sent
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(Instant::now());
                        queue.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
                    };
                    press(KeyCode::Char('5'));
                    let start = Instant::now();
                    let mut k = 0;
                    while start.elapsed() < run {
                        thread::sleep(KEY_EVERY);
                        if !press(key(k)) {
                            return;
                        }
                        k += 1;
                    }
                    press(KeyCode::Char('q'));
                });
                Ok(())
            },
            |drawn| {
                frames += 1;
                let now = Instant::now();
                let sent = sent_at.lock().unwrap_or_else(PoisonError::into_inner);
                let keys = usize::try_from(drawn.keys).unwrap_or(usize::MAX);
                while handled < keys.min(sent.len()) {
                    latencies.push(now - sent[handled]);
                    handled += 1;
                }
            },
        );
        result.unwrap_or_else(|e| panic!("{e}"));
        let sent = mqtt.join().unwrap_or_else(|_| panic!("mqtt thread"));
        let side = model.join().unwrap_or_else(|_| panic!("model thread"));
        (sent, side)
    });

    // The first key ('5') shows the devices view: its frame is not a keypress in the view.
    latencies.remove(0);
    latencies.sort();
    let mut sends = side.sends.clone();
    sends.sort();
    let live = screen.live();
    println!(
        "keypress to frame, 160x48, {} keys over {seconds} s: p50 {}, p99 {}, max {} ({frames} frames)",
        latencies.len(),
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );
    println!(
        "messages: {} status + {} lifecycle sent; {} received by the model thread ({} lifecycle); \
         status counted {} received, {} applied, {} of unknown things, {} unreadable",
        sent.0,
        sent.1,
        side.received,
        side.lifecycle,
        live.received,
        live.applied,
        live.unknown_thing,
        live.unreadable,
    );
    #[allow(clippy::cast_precision_loss)]
    let per_message = side.applying.as_secs_f64() * 1e6 / side.received.max(1) as f64;
    println!(
        "model thread: {per_message:.1} µs per message applied; {} pictures sent (rows patched, overview): p50 {}, max {}",
        sends.len(),
        ms(quantile(&sends, 0.5)),
        ms(sends[sends.len() - 1]),
    );
    assert_eq!(
        live.received, sent.0,
        "every status message sent was received and counted"
    );
    assert_eq!(
        side.received,
        sent.0 + sent.1,
        "every message reached the model"
    );
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let devices = args
        .first()
        .map_or(1_000_000, |&d| usize::try_from(d).unwrap_or(1_000_000));
    let seconds = args.get(1).copied().unwrap_or(30);
    run(devices, seconds);
}
