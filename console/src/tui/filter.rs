//! The device filter, off the UI thread: fuzzy text (fuzzy-matcher's skim algorithm) plus
//! the drill-down constraints and a sort, over an immutable `Arc<DeviceTable>`. A newer job
//! cancels an older one: the worker checks the latest generation every few thousand rows and
//! skips queued jobs that are already outdated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::data::{CohortKind, DAY, DeviceQuery, DeviceRow, DeviceTable};

/// How many rows the worker scans between checks for a newer job.
const CANCEL_CHECK_EVERY: usize = 8_192;

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

fn subsequence(haystack: &str, needle: &[u8]) -> bool {
    let mut want = needle.iter().peekable();
    for byte in haystack.bytes() {
        match want.peek() {
            Some(&&c) if byte.to_ascii_lowercase() == c => {
                want.next();
            }
            Some(_) => {}
            None => return true,
        }
    }
    want.peek().is_none()
}

fn matches_constraints(
    row: &DeviceRow,
    query: &DeviceQuery,
    cohort: Option<(CohortKind, u32)>,
) -> bool {
    if let Some(day) = query.expires_day
        && row.expires.map(|t| t.div_euclid(DAY)) != Some(day)
    {
        return false;
    }
    match cohort {
        None | Some((CohortKind::All, _)) => true,
        Some((CohortKind::Ca, name)) => row.ca == name,
        Some((CohortKind::Group, name)) => row.group == name,
        Some((CohortKind::Firmware, name)) => row.firmware == name,
    }
}

/// How long a run may go before it hands over the matches found so far.
pub const PARTIAL_AFTER: Duration = Duration::from_millis(40);

/// Runs `job`; `None` when `latest` moved past its generation before it finished.
#[must_use]
pub fn run_job(job: &FilterJob, latest: &AtomicU64) -> Option<FilterResult> {
    run_job_streaming(job, latest, PARTIAL_AFTER, &|_| {})
}

/// Orders `hits` (score, row) for display.
fn order(hits: &mut Vec<(i64, u32)>, table: &DeviceTable, sort: SortKey, ranked: bool) {
    let rows = &table.rows;
    match sort {
        SortKey::Natural if ranked => {
            hits.sort_unstable_by_key(|&(score, i)| (std::cmp::Reverse(score), i));
        }
        SortKey::Natural => {}
        SortKey::Thing => {
            let mut keyed: Vec<(&str, u32)> = hits
                .iter()
                .map(|&(_, i)| (&*rows[i as usize].thing, i))
                .collect();
            keyed.sort_unstable();
            *hits = keyed.into_iter().map(|(_, i)| (0, i)).collect();
        }
        SortKey::Expiry => {
            for hit in hits.iter_mut() {
                hit.0 = rows[hit.1 as usize].expires.unwrap_or(i64::MAX);
            }
            hits.sort_unstable();
        }
        SortKey::Status => {
            for hit in hits.iter_mut() {
                hit.0 = rows[hit.1 as usize].state as i64;
            }
            hits.sort_unstable();
        }
    }
}

fn result(job: &FilterJob, hits: &[(i64, u32)], started: Instant, complete: bool) -> FilterResult {
    FilterResult {
        generation: job.generation,
        table: Arc::clone(&job.table),
        rows: Some(hits.iter().map(|&(_, i)| i).collect()),
        elapsed: started.elapsed(),
        complete,
    }
}

/// Runs `job`, handing `partial` the matches found so far once the run has taken
/// `partial_after` ([`PARTIAL_AFTER`] in the worker), so a slow query shows results while it
/// finishes.
#[must_use]
pub fn run_job_streaming(
    job: &FilterJob,
    latest: &AtomicU64,
    partial_after: Duration,
    partial: &dyn Fn(FilterResult),
) -> Option<FilterResult> {
    let started = Instant::now();
    let table = &job.table;
    let text = job.query.text.trim();
    if job.query.is_empty() && job.sort == SortKey::Natural {
        return Some(FilterResult {
            generation: job.generation,
            table: Arc::clone(table),
            rows: None,
            elapsed: started.elapsed(),
            complete: true,
        });
    }
    let cohort = match &job.query.cohort {
        None => None,
        Some((CohortKind::All, _)) => Some((CohortKind::All, 0)),
        Some((kind, name)) => {
            let index = table.names.iter().position(|n| n == name);
            // An unknown cohort name matches nothing.
            Some((
                *kind,
                index.map_or(u32::MAX, |i| u32::try_from(i).unwrap_or(u32::MAX)),
            ))
        }
    };
    let matcher = SkimMatcherV2::default();
    let needle: Vec<u8> = text.to_ascii_lowercase().into_bytes();
    let ascii_needle = text.is_ascii();
    let ranked = !text.is_empty();
    let mut hits: Vec<(i64, u32)> = Vec::new();
    let mut partial_sent = false;
    for (i, row) in table.rows.iter().enumerate() {
        if i % CANCEL_CHECK_EVERY == 0 && i > 0 {
            if latest.load(Ordering::Relaxed) != job.generation {
                return None;
            }
            if !partial_sent && started.elapsed() >= partial_after {
                partial_sent = true;
                let mut sofar = hits.clone();
                order(&mut sofar, table, job.sort, ranked);
                partial(result(job, &sofar, started, false));
            }
        }
        if !matches_constraints(row, &job.query, cohort) {
            continue;
        }
        let score = if text.is_empty() {
            0
        } else {
            let mut best = None;
            for field in [&*row.thing, &*row.cert] {
                // The subsequence test is a cheap necessary condition for a skim match.
                if ascii_needle && !subsequence(field, &needle) {
                    continue;
                }
                if let Some(score) = matcher.fuzzy_match(field, text) {
                    best = best.max(Some(score));
                }
            }
            let Some(score) = best else { continue };
            score
        };
        hits.push((score, u32::try_from(i).unwrap_or(u32::MAX)));
    }
    order(&mut hits, table, job.sort, ranked);
    Some(result(job, &hits, started, true))
}

/// A thread that runs filter jobs, newest first, and hands results to `deliver`.
#[derive(Debug)]
pub struct FilterWorker {
    jobs: mpsc::Sender<FilterJob>,
    latest: Arc<AtomicU64>,
}

impl FilterWorker {
    /// Starts the worker. It stops when the worker handle is dropped.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn spawn(deliver: impl Fn(FilterResult) + Send + 'static) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<FilterJob>();
        let latest = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&latest);
        std::thread::Builder::new()
            .name("fleetid-filter".to_owned())
            .spawn(move || {
                while let Ok(mut job) = queue.recv() {
                    // Skip to the newest queued job: the older ones are outdated already.
                    while let Ok(newer) = queue.try_recv() {
                        job = newer;
                    }
                    if let Some(result) = run_job_streaming(&job, &seen, PARTIAL_AFTER, &deliver) {
                        deliver(result);
                    }
                }
            })?;
        Ok(Self { jobs, latest })
    }

    /// Queues `job`, cancelling any older one still running.
    pub fn submit(&self, job: FilterJob) {
        self.latest.store(job.generation, Ordering::Relaxed);
        // A send error means the worker is gone; the view keeps its previous rows.
        let _ = self.jobs.send(job);
    }
}

#[cfg(test)]
mod tests;
