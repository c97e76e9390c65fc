//! The device filter, off the UI thread: fuzzy text (nucleo-matcher, or the port of skim's
//! scorer in [`score`]; [`fuzzy`]) plus the drill-down constraints and a sort, over an
//! immutable `Arc<DeviceTable>`. The scan is split over the available cores ([`scan`]) on
//! text kept in one arena ([`index`]); ordering uses a counting sort on the score or
//! precomputed ranks ([`order`]); recent complete results are remembered ([`history`]), so a
//! query seen again is answered without a scan and a query that extends one scans only its
//! matches. A newer job cancels an older one: the scan checks the latest generation before
//! every chunk of rows and the worker skips queued jobs that are already outdated.

pub mod fuzzy;
mod history;
pub mod index;
mod nucleo_ascii;
mod order;
mod scan;
pub mod score;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use super::data::{CohortKind, DeviceQuery, DeviceTable};

pub use fuzzy::FuzzyScorer;
use history::History;
use index::{char_mask, search_text};
use order::display_order;
use scan::{Chunks, Scan, rows};

/// The order of the device table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// As delivered; best fuzzy match first while a text filter is set.
    #[default]
    Natural,
    /// By thing name.
    Thing,
    /// Soonest expiry first (unknown last).
    Expiry,
    /// By certificate status.
    Status,
}

impl SortKey {
    /// The next key in the cycle.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Natural => Self::Thing,
            Self::Thing => Self::Expiry,
            Self::Expiry => Self::Status,
            Self::Status => Self::Natural,
        }
    }

    /// Label for titles.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Natural => "natural",
            Self::Thing => "thing",
            Self::Expiry => "expiry",
            Self::Status => "status",
        }
    }
}

/// One filter run to do.
#[derive(Debug, Clone)]
pub struct FilterJob {
    /// Increases with every job; results of older ones are dropped.
    pub generation: u64,
    /// The table to filter.
    pub table: Arc<DeviceTable>,
    /// What to match.
    pub query: DeviceQuery,
    /// How to order the matches.
    pub sort: SortKey,
}

/// The outcome of a [`FilterJob`].
#[derive(Debug, Clone)]
pub struct FilterResult {
    /// The job's generation.
    pub generation: u64,
    /// The table the indices refer to.
    pub table: Arc<DeviceTable>,
    /// Matching row indices in display order; `None` means every row in table order.
    pub rows: Option<Arc<[u32]>>,
    /// How long the run took.
    pub elapsed: Duration,
    /// `false` for the matches found so far by a run that is still going.
    pub complete: bool,
}

/// How long a run may go before it hands over the matches found so far.
pub const PARTIAL_AFTER: Duration = Duration::from_millis(40);

/// Runs `job` on a fresh [`FilterSession`]; `None` when `latest` moved past its generation
/// before it finished.
#[must_use]
pub fn run_job(job: &FilterJob, latest: &AtomicU64) -> Option<FilterResult> {
    FilterSession::default().run(job, latest, PARTIAL_AFTER, &|_| {})
}

/// Runs `job` on a fresh [`FilterSession`], handing `partial` the matches found so far once
/// the run has taken `partial_after` (see [`FilterSession::run`]).
#[must_use]
pub fn run_job_streaming(
    job: &FilterJob,
    latest: &AtomicU64,
    partial_after: Duration,
    partial: &dyn Fn(FilterResult),
) -> Option<FilterResult> {
    FilterSession::default().run(job, latest, partial_after, partial)
}

/// Runs filter jobs one after the other, remembering recent complete results to restore
/// or narrow them ([`history`]).
#[derive(Debug)]
pub struct FilterSession {
    threads: usize,
    scorer: FuzzyScorer,
    history: History,
}

impl Default for FilterSession {
    /// A session that uses every available core.
    fn default() -> Self {
        Self::with_threads(std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
    }
}

impl FilterSession {
    /// A session whose scans use up to `threads` threads (at least one).
    #[must_use]
    pub fn with_threads(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            scorer: FuzzyScorer::default(),
            history: History::default(),
        }
    }

    /// The same session ranking with `scorer`.
    #[must_use]
    pub fn with_scorer(self, scorer: FuzzyScorer) -> Self {
        Self { scorer, ..self }
    }

    /// Runs `job`, handing `partial` the matches found so far once the run has taken
    /// `partial_after` ([`PARTIAL_AFTER`] in the worker) with less than half of it done, so a
    /// slow query shows results while it finishes. `None` when `latest` moved past the job's generation first.
    #[must_use]
    pub fn run(
        &mut self,
        job: &FilterJob,
        latest: &AtomicU64,
        partial_after: Duration,
        partial: &dyn Fn(FilterResult),
    ) -> Option<FilterResult> {
        let started = Instant::now();
        let table = &job.table;
        // Read before the cells: a result is current while the version stays.
        let cells = table.cells_version();
        let query = DeviceQuery {
            text: job.query.text.trim().to_owned(),
            ..job.query.clone()
        };
        if query.is_empty() && job.sort == SortKey::Natural {
            return Some(FilterResult {
                generation: job.generation,
                table: Arc::clone(table),
                rows: None,
                elapsed: started.elapsed(),
                complete: true,
            });
        }
        let cohort = match &query.cohort {
            None => None,
            Some((CohortKind::All, _)) => Some((CohortKind::All, 0)),
            Some((kind, name)) => {
                let index = table.names.iter().position(|n| n.raw() == &**name);
                // An unknown cohort name matches nothing.
                Some((
                    *kind,
                    index.map_or(u32::MAX, |i| u32::try_from(i).unwrap_or(u32::MAX)),
                ))
            }
        };
        if let Some(rows) = self.history.result(table, &query, job.sort) {
            return Some(result(job, rows, started, true));
        }
        let ranked = !query.text.is_empty();
        let scan = Scan {
            table,
            search: ranked.then(|| search_text(table)),
            text: &query.text,
            scorer: self.scorer,
            mask: char_mask(query.text.as_bytes()),
            expires_day: query.expires_day,
            cohort,
        };
        let candidates = self.history.candidates(table, &query);
        let cancelled = || latest.load(Ordering::Relaxed) != job.generation;
        let mut partial_sent = false;
        let mut progress = |chunks: &Chunks| {
            // Past half-way the complete result is near: handing over first would delay it.
            if !partial_sent && started.elapsed() >= partial_after && chunks.mostly_ahead() {
                partial_sent = true;
                let finished = chunks.finished();
                let sofar = display_order(table, &finished, job.sort, ranked);
                partial(result(job, sofar, started, false));
            }
        };
        let chunks = scan.run(
            candidates.as_deref(),
            self.threads,
            &cancelled,
            &mut progress,
        )?;
        let order = display_order(table, &chunks, job.sort, ranked);
        let matched = rows(&chunks);
        self.history
            .remember(table, query, job.sort, cells, matched, Arc::clone(&order));
        Some(result(job, order, started, true))
    }
}

fn result(job: &FilterJob, rows: Arc<[u32]>, started: Instant, complete: bool) -> FilterResult {
    FilterResult {
        generation: job.generation,
        table: Arc::clone(&job.table),
        rows: Some(rows),
        elapsed: started.elapsed(),
        complete,
    }
}

/// What the filter thread is asked to do.
#[derive(Debug)]
enum Request {
    /// Run a job.
    Run(FilterJob),
    /// Build a new table's search text before its first query needs it.
    Prepare(Arc<DeviceTable>),
}

/// A thread that runs filter jobs, newest first, and hands results to `deliver`.
#[derive(Debug)]
pub struct FilterWorker {
    requests: mpsc::Sender<Request>,
    latest: Arc<AtomicU64>,
}

impl FilterWorker {
    /// Starts the worker. It stops when the worker handle is dropped.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn spawn(deliver: impl Fn(FilterResult) + Send + 'static) -> std::io::Result<Self> {
        Self::spawn_with(FilterSession::default(), deliver)
    }

    /// Starts a worker that runs its jobs in `session` (benchmarks choose its scorer).
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn spawn_with(
        mut session: FilterSession,
        deliver: impl Fn(FilterResult) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (requests, queue) = mpsc::channel::<Request>();
        let latest = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&latest);
        std::thread::Builder::new()
            .name("fleetid-filter".to_owned())
            .spawn(move || {
                while let Ok(request) = queue.recv() {
                    let mut job = match request {
                        Request::Prepare(table) => {
                            let _ = search_text(&table);
                            continue;
                        }
                        Request::Run(job) => job,
                    };
                    // Skip to the newest queued job: the older ones are outdated already.
                    while let Ok(newer) = queue.try_recv() {
                        match newer {
                            Request::Run(newer) => job = newer,
                            Request::Prepare(table) => {
                                let _ = search_text(&table);
                            }
                        }
                    }
                    if let Some(result) = session.run(&job, &seen, PARTIAL_AFTER, &deliver) {
                        deliver(result);
                    }
                }
            })?;
        Ok(Self { requests, latest })
    }

    /// Queues `job`, cancelling any older one still running.
    pub fn submit(&self, job: FilterJob) {
        self.latest.store(job.generation, Ordering::Relaxed);
        // A send error means the worker is gone; the view keeps its previous rows.
        let _ = self.requests.send(Request::Run(job));
    }

    /// Has the thread build `table`'s search text now, while no query waits for it (the
    /// first query on a million rows would otherwise wait about a third of a second more).
    pub fn prepare(&self, table: &Arc<DeviceTable>) {
        let _ = self.requests.send(Request::Prepare(Arc::clone(table)));
    }
}

#[cfg(test)]
mod tests;
