//! The terminal event loop: input and backend updates arrive on one bounded queue, filled by
//! their own threads, so the UI thread never waits on the backend; updates are applied in
//! batches and the screen is drawn on change, at most ~30 times a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind,
};
use ratatui::crossterm::execute;

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

fn spawn_input(queue: SyncSender<LoopEvent>, stop: Arc<AtomicBool>) -> Result<(), TuiError> {
    std::thread::Builder::new()
        .name("fleetid-input".to_owned())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(INPUT_POLL) {
                    Ok(true) => match event::read() {
                        Ok(event) => {
                            if queue.send(LoopEvent::Terminal(event)).is_err() {
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
    mut app: App,
    updates: impl UpdateSource,
    requests: Option<&mpsc::Sender<TuiRequest>>,
    mouse: bool,
) -> Result<(), TuiError> {
    let (queue, events) = mpsc::sync_channel::<LoopEvent>(QUEUE);
    let stop = Arc::new(AtomicBool::new(false));
    let filtered = queue.clone();
    let worker = FilterWorker::spawn(move |result| {
        let _ = filtered.send(LoopEvent::Filtered(result));
    })
    .map_err(|source| TuiError::Terminal {
        doing: "starting the filter thread",
        source,
    })?;

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
    spawn_input(queue.clone(), Arc::clone(&stop))?;
    spawn_updates(updates, queue)?;

    let mut dirty = true;
    let mut last_draw = Instant::now()
        .checked_sub(FRAME_INTERVAL)
        .unwrap_or_else(Instant::now);
    let result = loop {
        if dirty && last_draw.elapsed() >= FRAME_INTERVAL {
            if let Err(source) = terminal.draw(|frame| app.render(frame)) {
                break Err(TuiError::Terminal {
                    doing: "drawing",
                    source,
                });
            }
            last_draw = Instant::now();
            dirty = false;
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
                    if let LoopEvent::Update(TuiUpdate::Devices(table)) = &event {
                        worker.prepare(table);
                    }
                    dirty |= handle(&mut app, event);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
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
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    result
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
