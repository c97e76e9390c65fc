//! The terminal event loop: input and backend updates arrive on one bounded queue, filled by
//! their own threads, so the UI thread never waits on the backend; updates are applied in
//! batches and the screen is drawn on change, at most ~30 times a second for updates and at
//! once after a key or a mouse event. [`run_on`] is the loop on any ratatui backend (the
//! benchmarks drive it with their own keys on a test backend); `run_loop` puts it on the
//! real terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind,
};
use ratatui::crossterm::execute;
use ratatui::{Terminal, backend::Backend};

use super::TuiError;
use super::app::App;
use super::data::{TuiRequest, TuiUpdate};
use super::filter::{FilterResult, FilterWorker};

/// Shortest time between two frames (~30 frames/s).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// Events handled per wake-up before drawing again.
const MAX_BATCH: usize = 512;
/// Capacity of the loop's queue; a backend that outpaces the UI waits on it.
const QUEUE: usize = 1_024;
/// How often the input thread checks whether the loop has ended.
const INPUT_POLL: Duration = Duration::from_millis(100);

/// Where the loop gets backend updates from; called on a thread of its own, so it may block.
pub trait UpdateSource: Send + 'static {
    /// The next update, or `None` when the backend has gone away.
    fn next_update(&mut self) -> Option<TuiUpdate>;
}

impl UpdateSource for mpsc::Receiver<TuiUpdate> {
    fn next_update(&mut self) -> Option<TuiUpdate> {
        self.recv().ok()
    }
}

/// What wakes the UI thread.
#[derive(Debug)]
enum LoopEvent {
    Terminal(Event),
    Update(TuiUpdate),
    Filtered(FilterResult),
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Where terminal input goes: the loop's queue (the input thread's end, or a benchmark's).
#[derive(Debug, Clone)]
pub struct InputQueue(SyncSender<LoopEvent>);

impl InputQueue {
    /// Queues a terminal event; `false` once the loop has ended.
    pub fn send(&self, event: Event) -> bool {
        self.0.send(LoopEvent::Terminal(event)).is_ok()
    }
}

/// What the loop has done by the time a frame is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    /// Key events handled so far, this frame's included.
    pub keys: u64,
}

fn spawn_input(queue: InputQueue, stop: Arc<AtomicBool>) -> Result<(), TuiError> {
    std::thread::Builder::new()
        .name("fleetid-input".to_owned())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(INPUT_POLL) {
                    Ok(true) => match event::read() {
                        Ok(event) => {
                            if !queue.send(event) {
                                return;
                            }
                        }
                        Err(_) => return,
                    },
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        })
        .map(drop)
        .map_err(|source| TuiError::Terminal {
            doing: "starting the input thread",
            source,
        })
}

fn spawn_updates(
    mut source: impl UpdateSource,
    queue: SyncSender<LoopEvent>,
) -> Result<(), TuiError> {
    std::thread::Builder::new()
        .name("fleetid-updates".to_owned())
        .spawn(move || {
            while let Some(update) = source.next_update() {
                if queue.send(LoopEvent::Update(update)).is_err() {
                    return;
                }
            }
        })
        .map(drop)
        .map_err(|source| TuiError::Terminal {
            doing: "starting the update thread",
            source,
        })
}

/// Restores the terminal however the loop ends.
struct TerminalGuard {
    mouse: bool,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.mouse {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
        }
        ratatui::restore();
    }
}

/// Runs `app` on the real terminal until the user quits.
pub(super) fn run_loop(
    app: App,
    updates: impl UpdateSource,
    requests: Option<&mpsc::Sender<TuiRequest>>,
    mouse: bool,
) -> Result<(), TuiError> {
    let mut terminal = ratatui::try_init().map_err(|source| TuiError::Terminal {
        doing: "switching the terminal to raw mode and the alternate screen",
        source,
    })?;
    let _guard = TerminalGuard { mouse };
    if mouse {
        execute!(std::io::stdout(), EnableMouseCapture).map_err(|source| TuiError::Terminal {
            doing: "enabling mouse capture",
            source,
        })?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let input = Arc::clone(&stop);
    let result = run_on(
        app,
        &mut terminal,
        updates,
        requests,
        |queue| spawn_input(queue, input),
        |_| {},
    );
    stop.store(true, Ordering::Relaxed);
    result
}

/// Runs `app` on `terminal` until the user quits or `updates` and the input both end:
/// `attach_input` is handed the queue terminal events go into (it starts whatever fills it),
/// `drawn` runs after every frame.
///
/// # Errors
/// The filter or update thread could not start, `attach_input` failed, or drawing failed.
pub fn run_on<B: Backend>(
    mut app: App,
    terminal: &mut Terminal<B>,
    updates: impl UpdateSource,
    requests: Option<&mpsc::Sender<TuiRequest>>,
    attach_input: impl FnOnce(InputQueue) -> Result<(), TuiError>,
    mut drawn: impl FnMut(Drawn),
) -> Result<(), TuiError>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (queue, events) = mpsc::sync_channel::<LoopEvent>(QUEUE);
    let filtered = queue.clone();
    let worker = FilterWorker::spawn(move |result| {
        let _ = filtered.send(LoopEvent::Filtered(result));
    })
    .map_err(|source| TuiError::Terminal {
        doing: "starting the filter thread",
        source,
    })?;
    attach_input(InputQueue(queue.clone()))?;
    spawn_updates(updates, queue)?;

    let mut dirty = true;
    // A key or mouse event was handled: draw now, not at the next frame slot.
    let mut urgent = false;
    let mut keys = 0;
    let mut last_draw = Instant::now()
        .checked_sub(FRAME_INTERVAL)
        .unwrap_or_else(Instant::now);
    loop {
        if dirty && (urgent || last_draw.elapsed() >= FRAME_INTERVAL) {
            terminal
                .draw(|frame| app.render(frame))
                .map_err(|e| TuiError::Terminal {
                    doing: "drawing",
                    source: std::io::Error::other(e),
                })?;
            drawn(Drawn { keys });
            last_draw = Instant::now();
            dirty = false;
            urgent = false;
        }
        let timeout = if dirty {
            FRAME_INTERVAL.saturating_sub(last_draw.elapsed())
        } else {
            // Wake once a second so ages stay current.
            Duration::from_millis(1_000)
        };
        match events.recv_timeout(timeout) {
            Ok(first) => {
                for event in std::iter::once(first).chain(events.try_iter().take(MAX_BATCH)) {
                    match &event {
                        LoopEvent::Update(TuiUpdate::Devices(table)) => worker.prepare(table),
                        LoopEvent::Terminal(Event::Key(key))
                            if key.kind != KeyEventKind::Release =>
                        {
                            keys += 1;
                            urgent = true;
                        }
                        LoopEvent::Terminal(Event::Mouse(_)) => urgent = true,
                        _ => {}
                    }
                    dirty |= handle(&mut app, event);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        dirty |= app.set_now(unix_now());
        if let Some(job) = app.take_filter_job() {
            worker.submit(job);
            dirty = true;
        }
        for request in app.take_requests() {
            if let Some(sender) = requests {
                // The other side may be gone (offline mode); the UI carries on.
                let _ = sender.send(request);
            }
        }
        if app.should_quit() {
            return Ok(());
        }
    }
}

/// Applies one event; `true` when the screen may have changed.
fn handle(app: &mut App, event: LoopEvent) -> bool {
    match event {
        LoopEvent::Terminal(Event::Key(key)) if key.kind != KeyEventKind::Release => {
            app.on_key(key);
            true
        }
        LoopEvent::Terminal(Event::Mouse(mouse)) => {
            app.on_mouse(mouse);
            true
        }
        LoopEvent::Terminal(Event::Resize(..)) => true,
        LoopEvent::Terminal(_) => false,
        LoopEvent::Update(update) => {
            app.on_update(update);
            true
        }
        LoopEvent::Filtered(result) => app.on_filter_result(result),
    }
}

/// The current time, for [`App::new`].
#[must_use]
pub fn now() -> i64 {
    unix_now()
}
