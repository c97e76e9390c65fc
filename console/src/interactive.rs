//! `fleetid` with no subcommand on a terminal: the TUI, fed by a model thread that owns the
//! [`FleetState`]. The cached snapshot shows at once; the thread then refreshes it from AWS
//! (unless `--offline`), follows live events, reads the sources that have no live feed
//! (Device Defender, CloudWatch) again every 30 s, and sends the UI the overview at most every
//! 500 ms — the device table is patched in place by changes ([`screen`]) and sent again only
//! when rows come or go. Detail requests are answered from the model; mutations wait for
//! the ops engine.
//! Rotation campaigns are read and driven beside it ([`campaigns`]), and the operations
//! journal is read for the operations view ([`operations`]).
//! Every decision about a planned mutation and every anomaly triage is written to the
//! store's audit log by the [`recorder`]; the triage is kept per environment and shows again
//! on the next start.

mod act;
mod campaigns;
mod operations;
mod recorder;
mod requests;
pub mod screen;

use crate::safe_text::SafeText;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc as tokio_mpsc;

use std::sync::Arc;

use crate::backend::aws::AwsBackend;
use crate::backend::{
    BackendUpdate, FleetBackend, SnapshotRequest, Source as BackendSource, SourceOutage,
};
use crate::cli::GlobalArgs;
use crate::config::{Config, Environment};
use crate::context::Context;
use crate::feed;
use crate::model::{FleetState, FleetUpdate, UnixTime};
use crate::store::{Store, StoredSummary};
use crate::tui::data::{FleetSnapshot, TuiRequest, TuiUpdate};
use crate::tui::keymap::KeymapOverride;
use crate::tui::widgets::banner::Environment as Banner;
use crate::tui::{self, TuiError, TuiOptions};
use recorder::Recorder;
use requests::{Requests, answer, serve_requests};
use screen::Screen;

/// How long quitting waits for the model thread to write the last requests (it answers them
/// at least every 100 ms).
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// How often the sources with no live feed are read again while the console is open.
const POLL_EVERY: Duration = Duration::from_secs(30);
/// Those sources: Device Defender's violations and findings and the CloudWatch metrics.
const POLLED: [BackendSource; 3] = [
    BackendSource::DefenderDetect,
    BackendSource::DefenderAudit,
    BackendSource::Metrics,
];

/// Live events waiting for the model thread. While it makes an overview (about 0.1 s at a
/// million devices) 5,000 status messages a second pile up 500 deep; a shorter queue would
/// hold up the MQTT connections instead, and the broker behind them.
const LIVE_QUEUE: usize = 8_192;

/// The TUI's options from the configuration, the environment and the flags (`--mouse`,
/// `--ascii` and their `--no-` forms win over the configuration).
#[must_use]
pub fn options(config: &Config, env: &Environment, global: &GlobalArgs) -> TuiOptions {
    TuiOptions {
        theme: config.theme.clone().unwrap_or_default(),
        theme_dir: config
            .path
            .as_deref()
            .and_then(|p| p.parent())
            .map(|d| d.join("themes")),
        keymap: config
            .keymap
            .iter()
            .map(|e| KeymapOverride {
                key: e.key.clone(),
                command: e.command.clone(),
                origin: Some(format!(
                    "{}:{}:{}",
                    config
                        .path
                        .as_deref()
                        .map_or_else(|| "config.toml".to_owned(), |p| p.display().to_string()),
                    e.line,
                    e.column
                )),
            })
            .collect(),
        environment: Banner {
            name: env.name.clone(),
            profile: env.settings.profile.clone(),
            account: env.settings.account_id.clone(),
            region: env.settings.region.clone(),
            colour: env.settings.colour.clone(),
            frozen: false,
        },
        read_only: env.settings.read_only,
        mouse: global.mouse_or(config.mouse),
        ascii: global.ascii_or(config.ascii),
        no_colour: global.no_color || tui::theme::no_colour_requested(),
    }
}

/// What the TUI starts from.
#[derive(Debug)]
pub enum Start {
    /// A fleet already in memory (empty for the demo, or a snapshot with no summary).
    Fleet(Box<FleetState>),
    /// The summary of the cached snapshot: the first frame shows it, and the model thread
    /// loads the snapshot itself from the store before anything else.
    Summary(Box<StoredSummary>),
}

/// Runs the TUI on `ctx` until the user quits: the cached fleet (or its summary) shows at
/// once, and the model thread refreshes it from AWS through the context's backend unless
/// `--offline`.
///
/// # Errors
/// Theme and keymap errors (before the terminal is touched) and terminal failures.
pub fn run(
    options: &TuiOptions,
    ctx: Arc<Context>,
    start: Start,
    store: Option<Store>,
) -> Result<(), TuiError> {
    // Validate theme and keymap before starting any thread or network call.
    tui::settings(options)?;
    // The first frame needs the aggregates only; the model thread loads the model (when
    // only the summary was read) and builds the device table, and sends it right after.
    let mut initial = match &start {
        Start::Fleet(state) => tui::feed::overview(&state.summary(), UnixTime::now()),
        Start::Summary(stored) => tui::feed::overview(&stored.summary, UnixTime::now()),
    };
    let (updates_tx, updates_rx) = mpsc::sync_channel::<TuiUpdate>(8);
    let (requests_tx, requests_rx) = mpsc::channel::<TuiRequest>();
    let env = ctx.env();
    // The account was compared with the caller's before the console opened (online only).
    let account = (!ctx.offline())
        .then(|| env.settings.account_id.clone())
        .flatten();
    let recorder = match store.as_ref() {
        Some(store) => {
            match Recorder::open(store.path(), env, account, UnixTime::now())
                .and_then(|recorder| recorder.dress(&mut initial, true).map(|()| recorder))
            {
                Ok(recorder) => Some(recorder),
                Err(e) => {
                    let _ = updates_tx.try_send(TuiUpdate::Notice(SafeText::from_string(format!(
                        "audit log and triage unavailable: {e}"
                    ))));
                    None
                }
            }
        }
        None => None,
    };
    let (drained_tx, drained_rx) = mpsc::channel::<()>();
    let requests = Requests {
        rx: requests_rx,
        drained: drained_tx,
    };
    // Not joined: after the user quits, the process ends without waiting for calls in
    // flight. A snapshot being saved is one SQLite transaction, so it is kept or dropped whole.
    std::thread::spawn(move || {
        model_thread(
            start,
            &ctx,
            Stores { store, recorder },
            &updates_tx,
            &requests,
        );
    });
    let result = tui::run(options, initial, updates_rx, Some(&requests_tx));
    // A decision made just before quitting is written to the audit log before the process
    // ends: wait until the model thread has answered every request (or has stopped).
    drop(requests_tx);
    let _ = drained_rx.recv_timeout(DRAIN_WAIT);
    result
}

/// The snapshot cache and the audit/triage recorder (each its own connection).
struct Stores {
    store: Option<Store>,
    recorder: Option<Recorder>,
}

fn model_thread(
    start: Start,
    ctx: &Arc<Context>,
    stores: Stores,
    updates: &mpsc::SyncSender<TuiUpdate>,
    requests: &Requests,
) {
    let Stores {
        mut store,
        mut recorder,
    } = stores;
    let mut state = match start {
        Start::Fleet(state) => *state,
        Start::Summary(stored) => load_fleet(store.as_ref(), &ctx.env().name, &stored, updates),
    };
    let mut screen = Screen::new(&mut state);
    if updates
        .send(TuiUpdate::Devices(Arc::clone(screen.table())))
        .is_err()
    {
        return;
    }
    // A load places records without the look-up tables; build them before the first detail
    // or update asks.
    state.prepare_lookups();
    if ctx.offline() {
        if let Some(store) = store.as_ref() {
            campaigns::send_stored(store, &ctx.env().name, updates);
            operations::send_stored(store, &ctx.env().name, updates);
        }
        serve_requests(&state, &mut recorder, updates, requests);
        return;
    }
    let runtime = match ctx.runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = updates.try_send(TuiUpdate::Notice(SafeText::from_string(e.to_string())));
            serve_requests(&state, &mut recorder, updates, requests);
            return;
        }
    };
    let env = ctx.env();
    // What operations read back comes to the pump, which applies it like any update.
    let (results_tx, mut results) = tokio_mpsc::unbounded_channel();
    // Campaigns are read and driven beside everything else, from the first moment.
    let (steps_tx, steps_rx) = tokio_mpsc::unbounded_channel();
    runtime.spawn(campaigns::follow(
        Arc::clone(ctx),
        updates.clone(),
        steps_rx,
    ));
    match ctx.store() {
        Ok(journal) => {
            runtime.spawn(operations::follow(
                journal,
                env.name.clone(),
                updates.clone(),
            ));
        }
        Err(e) => {
            let _ = updates.try_send(TuiUpdate::Notice(SafeText::from_string(format!(
                "operations journal: {e}"
            ))));
        }
    }
    let ops = act::Ops {
        ctx: Arc::clone(ctx),
        results: results_tx,
        steps: steps_tx,
    };
    runtime.block_on(async {
        // Before the load, so every entry made while the fleet is on screen names the caller.
        if let Some(recorder) = recorder.as_mut()
            && let Some(identity) = ctx.caller_identity().await
        {
            recorder.set_identity(identity.arn.clone(), identity.account.clone());
        }
        let backend = match ctx.aws().await {
            Ok(backend) => backend,
            Err(e) => {
                let _ = updates.try_send(TuiUpdate::Notice(SafeText::from_string(e.to_string())));
                return;
            }
        };
        let (tx, rx) = tokio_mpsc::channel::<BackendUpdate>(64);
        let mut request = feed::snapshot_request(&state);
        // Sources remembered as unavailable are not asked until their time has passed.
        request.outages = store
            .as_ref()
            .and_then(|store| store.source_outages(&env.name, UnixTime::now()).ok())
            .unwrap_or_default();
        let load = backend.load_snapshot(request, tx);
        let apply = pump(
            &mut state,
            &mut screen,
            &mut recorder,
            rx,
            &mut results,
            updates,
            requests,
            &ops,
        );
        let (loaded, open) = tokio::join!(load, apply);
        if let Some(store) = store.as_mut() {
            let saved = store
                .save(&env.name, &state, UnixTime::now())
                .and_then(|_| store.set_source_outages(&env.name, &loaded.outages));
            if let Err(e) = saved {
                let _ = updates.try_send(TuiUpdate::Notice(SafeText::from_string(e.to_string())));
            }
        }
        if open.is_none() {
            return;
        }
        // Live status as it comes, and the polled sources again every POLL_EVERY, into one
        // channel; neither ends it (a live failure is shown once and the polling goes on).
        let (tx, rx) = tokio_mpsc::channel::<BackendUpdate>(LIVE_QUEUE);
        let live = async {
            if let Err(e) = backend.follow_live(tx.clone()).await {
                let _ = updates.try_send(TuiUpdate::Notice(SafeText::from_string(format!(
                    "live status: {e}"
                ))));
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            () = live => {}
            () = poll(backend, &tx, loaded.outages) => {}
            _ = pump(&mut state, &mut screen, &mut recorder, rx, &mut results, updates, requests, &ops) => {}
        }
    });
    serve_requests(&state, &mut recorder, updates, requests);
}

/// The cached fleet whose summary is on screen. When the store holds a newer snapshot than
/// the summary (another fleetid saved in between), the screen gets that snapshot's picture;
/// when it cannot be read, the fleet starts empty and the screen says why.
fn load_fleet(
    store: Option<&Store>,
    environment: &str,
    shown: &StoredSummary,
    updates: &mpsc::SyncSender<TuiUpdate>,
) -> FleetState {
    let loaded = store.map(|store| store.load(environment)).transpose();
    match loaded {
        Ok(Some(Some(snapshot))) => {
            if snapshot.state.baseline() != Some(shown.version) {
                let overview = tui::feed::overview(&snapshot.state.summary(), UnixTime::now());
                let _ = updates.send(TuiUpdate::Snapshot(Box::new(overview)));
            }
            snapshot.state
        }
        Ok(_) => FleetState::default(),
        Err(e) => {
            let _ = updates.send(TuiUpdate::Notice(SafeText::from_string(format!(
                "the cached fleet: {e}"
            ))));
            FleetState::default()
        }
    }
}

/// Loads the sources that have no live feed (Device Defender, CloudWatch) every
/// [`POLL_EVERY`], into `tx`, skipping those remembered as unavailable (`outages`, carried
/// from one poll to the next). Runs until the receiver is gone.
async fn poll(
    backend: &AwsBackend,
    tx: &tokio_mpsc::Sender<BackendUpdate>,
    mut outages: Vec<SourceOutage>,
) {
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        if tx.is_closed() {
            return;
        }
        let request = SnapshotRequest {
            sources: POLLED.to_vec(),
            outages,
            ..SnapshotRequest::default()
        };
        outages = backend.load_snapshot(request, tx.clone()).await.outages;
    }
}

/// Applies backend updates and what operations read back, and answers requests, until the
/// backend channel closes (returns the receiver, still usable for live events) or the UI is
/// gone (returns `None`).
#[allow(clippy::too_many_arguments)] // the model thread's parts, each borrowed as it needs
async fn pump(
    state: &mut FleetState,
    screen: &mut Screen,
    recorder: &mut Option<Recorder>,
    mut rx: tokio_mpsc::Receiver<BackendUpdate>,
    results: &mut tokio_mpsc::UnboundedReceiver<FleetUpdate>,
    updates: &mpsc::SyncSender<TuiUpdate>,
    requests: &Requests,
    ops: &act::Ops,
) -> Option<tokio_mpsc::Receiver<BackendUpdate>> {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            update = rx.recv() => {
                let Some(update) = update else {
                    screen.send(state, updates, |s| dress(recorder.as_ref(), s))?;
                    return Some(rx);
                };
                screen.apply(state, update);
            }
            Some(result) = results.recv() => {
                screen.apply_result(state, result);
                // Sent at once: the operator is looking at these rows.
                screen.send(state, updates, |s| dress(recorder.as_ref(), s))?;
            }
            _ = tick.tick() => {
                if !answer(state, recorder, updates, requests, Some(ops)) {
                    return None;
                }
            }
        }
        if screen.due() {
            screen.send(state, updates, |s| dress(recorder.as_ref(), s))?;
        }
    }
}

/// Adds the stored triage to an overview on its way to the screen.
fn dress(recorder: Option<&Recorder>, snapshot: &mut FleetSnapshot) {
    if let Some(recorder) = recorder {
        // Without the audit page, dressing only sets triage and cannot fail.
        let _ = recorder.dress(snapshot, false);
    }
}
