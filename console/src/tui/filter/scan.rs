//! The scan: rows (all of them, or the candidates a previous run left) against the query's
//! constraints and fuzzy text, in fixed chunks that the available cores take in turn. Chunk
//! results are kept per chunk, in chunk order, so the hits come out in row order whatever the
//! number of threads, and a thread checks for cancellation before every chunk. The thread that
//! scanned a chunk also counts its hits per score ([`Histogram`]), while they are in its cache,
//! for the ordering that follows.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::tui::data::{CohortKind, DAY, DeviceTable};

use super::fuzzy::{FieldScorer, FuzzyScorer};
use super::index::SearchText;
use super::order::Histogram;

/// Rows per chunk: the unit of work sharing and of cancellation checks.
pub const CHUNK: usize = 16_384;

/// A matching row and its fuzzy score (0 without text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The fuzzy score, higher is better.
    pub score: i32,
    /// The row index.
    pub row: u32,
}

/// The hits of one chunk of rows, in row order.
#[derive(Debug, Clone, Default)]
pub struct ChunkHits {
    /// The hits.
    pub hits: Vec<Hit>,
    /// How many hits have each score, when the text was ranked and the scores lie close
    /// enough together to count.
    pub histogram: Option<Histogram>,
}

/// The row ids of `chunks`' hits, in row order.
#[must_use]
pub fn rows(chunks: &[ChunkHits]) -> Vec<u32> {
    let mut rows = Vec::with_capacity(chunks.iter().map(|c| c.hits.len()).sum());
    for chunk in chunks {
        rows.extend(chunk.hits.iter().map(|h| h.row));
    }
    rows
}

/// One scan's query, resolved against its table.
#[derive(Debug)]
pub struct Scan<'a> {
    /// The table.
    pub table: &'a DeviceTable,
    /// The table's search text; `None` when there is no text to match.
    pub search: Option<&'a SearchText>,
    /// The fuzzy text (trimmed; empty for none).
    pub text: &'a str,
    /// Which scorer ranks the text's matches.
    pub scorer: FuzzyScorer,
    /// [`char_mask`] of the text.
    ///
    /// [`char_mask`]: super::index::char_mask
    pub mask: u64,
    /// Only certificates expiring on this day.
    pub expires_day: Option<i64>,
    /// Only this cohort (index into the table's names; `u32::MAX` matches nothing).
    pub cohort: Option<(CohortKind, u32)>,
}

/// The chunk results of a scan in progress.
#[derive(Debug)]
pub struct Chunks {
    slots: Vec<OnceLock<ChunkHits>>,
}

impl Chunks {
    /// Whether less than half of the chunks are finished.
    #[must_use]
    pub fn mostly_ahead(&self) -> bool {
        2 * self.slots.iter().filter(|s| s.get().is_some()).count() < self.slots.len()
    }

    /// Every chunk finished so far, in row order.
    #[must_use]
    pub fn finished(&self) -> Vec<ChunkHits> {
        self.slots.iter().filter_map(|s| s.get().cloned()).collect()
    }
}

impl Scan<'_> {
    #[inline]
    fn hit(&self, scorer: &mut FieldScorer, i: usize) -> Option<Hit> {
        if self.expires_day.is_some() || self.cohort.is_some() {
            if let Some(day) = self.expires_day
                && self.table.expires(i).map(|t| t.div_euclid(DAY)) != Some(day)
            {
                return None;
            }
            let in_cohort = match self.cohort {
                None | Some((CohortKind::All, _)) => true,
                Some((CohortKind::Ca, name)) => self.table.ca(i) == name,
                Some((CohortKind::Group, name)) => self.table.cells(i).group == name,
                Some((CohortKind::Firmware, name)) => self.table.cells(i).firmware == name,
            };
            if !in_cohort {
                return None;
            }
        }
        let score = match self.search {
            Some(search) if !scorer.is_empty() => {
                let [thing_mask, cert_mask] = search.masks(i);
                let possible = |mask: u64| mask & self.mask == self.mask;
                if !possible(thing_mask) && !possible(cert_mask) {
                    return None;
                }
                let best = if search.is_ascii(i) {
                    let [thing, cert] = search.fields(i);
                    let thing = possible(thing_mask)
                        .then(|| scorer.score_ascii(thing))
                        .flatten();
                    // The row's score is the better field's: a certificate id that cannot
                    // beat its thing's name is not scored.
                    let beaten =
                        || thing.is_some_and(|t| scorer.bound(cert).is_some_and(|b| b <= t));
                    let cert = (possible(cert_mask) && !beaten())
                        .then(|| scorer.score_ascii(cert))
                        .flatten();
                    thing.max(cert)
                } else {
                    scorer
                        .score(self.table.thing(i).raw())
                        .max(scorer.score(self.table.cert(i).raw()))
                }?;
                i32::try_from(best).unwrap_or(i32::MAX)
            }
            _ => 0,
        };
        Some(Hit {
            score,
            row: u32::try_from(i).unwrap_or(u32::MAX),
        })
    }

    fn chunk(&self, scorer: &mut FieldScorer, candidates: Option<&[u32]>, k: usize) -> ChunkHits {
        let start = k * CHUNK;
        // Broad queries match most rows: no regrowing on the way.
        let mut hits = Vec::with_capacity(CHUNK);
        match candidates {
            Some(rows) => {
                let end = rows.len().min(start + CHUNK);
                for &i in &rows[start..end] {
                    hits.extend(self.hit(scorer, i as usize));
                }
            }
            None => {
                for i in start..self.table.len().min(start + CHUNK) {
                    hits.extend(self.hit(scorer, i));
                }
            }
        }
        let ranked = self.search.is_some() && !self.text.is_empty();
        ChunkHits {
            histogram: ranked.then(|| Histogram::of(&hits)).flatten(),
            hits,
        }
    }

    /// Scans `candidates` (ascending row indices; `None` = every row) on up to `threads`
    /// threads, the calling one included. `cancelled` is checked before every chunk;
    /// `progress` runs on the calling thread after each chunk it finished. The hits, in row
    /// order, chunk by chunk; `None` when cancelled.
    pub fn run(
        &self,
        candidates: Option<&[u32]>,
        threads: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
        progress: &mut dyn FnMut(&Chunks),
    ) -> Option<Vec<ChunkHits>> {
        let len = candidates.map_or(self.table.len(), <[u32]>::len);
        let count = len.div_ceil(CHUNK);
        let chunks = Chunks {
            slots: (0..count).map(|_| OnceLock::new()).collect(),
        };
        let next = AtomicUsize::new(0);
        let stopped = AtomicBool::new(false);
        let work = |progress: &mut dyn FnMut(&Chunks)| {
            let mut scorer = FieldScorer::new(self.scorer, self.text);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count || stopped.load(Ordering::Relaxed) {
                    return;
                }
                if cancelled() {
                    stopped.store(true, Ordering::Relaxed);
                    return;
                }
                let hits = self.chunk(&mut scorer, candidates, k);
                // Each chunk number is handed out once, so the slot is empty.
                let _ = chunks.slots[k].set(hits);
                progress(&chunks);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.min(count) {
                // Without a helper thread the calling one does all the chunks.
                let _ = std::thread::Builder::new()
                    .name("fleetid-filter-scan".to_owned())
                    .spawn_scoped(scope, || work(&mut |_| {}));
            }
            work(progress);
        });
        if stopped.load(Ordering::Relaxed) {
            return None;
        }
        Some(
            chunks
                .slots
                .into_iter()
                .map(|s| s.into_inner().unwrap_or_default())
                .collect(),
        )
    }
}
