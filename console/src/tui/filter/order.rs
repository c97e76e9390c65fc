//! Puts a scan's hits (chunk by chunk, in row order) into display order: best fuzzy score
//! first by a stable counting sort on the score (ties stay in row order), or by a sort key
//! through the table's precomputed ranks (a bitmap over ranks read in order), with no
//! comparison sort of the hits. The counting sort takes each chunk's [`Histogram`], counted by
//! the scan thread, so it reads the hits once. (Placing them on two threads, each filling its
//! own half of the result, was slower at a million hits: each thread reads every hit.)

use std::sync::Arc;

use crate::tui::data::DeviceTable;

use super::SortKey;
use super::index::sort_order;
use super::scan::{ChunkHits, Hit};

/// Widest score range the counting sort takes; wider ones (never seen with skim's scores on
/// names of sane length) fall back to a comparison sort.
const COUNTING_RANGE: i64 = 1 << 16;

/// How many hits of one chunk have each score, from the lowest up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    low: i32,
    counts: Vec<usize>,
}

impl Histogram {
    /// The histogram of `hits`; `None` when there are none or their scores spread wider than
    /// [`COUNTING_RANGE`].
    #[must_use]
    pub fn of(hits: &[Hit]) -> Option<Self> {
        let low = hits.iter().map(|h| h.score).min()?;
        let high = hits.iter().map(|h| h.score).max()?;
        let span = usize::try_from(i64::from(high) - i64::from(low))
            .ok()
            .filter(|&span| (span as i64) < COUNTING_RANGE)?;
        let mut counts = vec![0; span + 1];
        for hit in hits {
            counts[offset(hit.score, low)] += 1;
        }
        Some(Self { low, counts })
    }

    fn high(&self) -> i32 {
        // `counts` spans less than `COUNTING_RANGE` scores.
        self.low + (self.counts.len() as i32 - 1)
    }
}

/// `score`'s place above `low` (no lower, and less than [`COUNTING_RANGE`] above it: within one
/// histogram, or within the range [`by_score`] checked).
fn offset(score: i32, low: i32) -> usize {
    (i64::from(score) - i64::from(low)) as usize
}

/// Row indices of `chunks`' hits in display order. `ranked`: a fuzzy text was matched.
#[must_use]
pub fn display_order(
    table: &DeviceTable,
    chunks: &[ChunkHits],
    sort: SortKey,
    ranked: bool,
) -> Arc<[u32]> {
    let total: usize = chunks.iter().map(|c| c.hits.len()).sum();
    match sort_order(table, sort) {
        None if ranked => by_score(chunks, total),
        None => super::scan::rows(chunks).into(),
        Some(sorted) if total == table.len() => Arc::clone(&sorted.order),
        Some(sorted) => by_rank(&sorted.order, &sorted.rank, chunks, total).into(),
    }
}

/// Best score first, ties in row order: the order of a sort by `(Reverse(score), row)`.
fn by_score(chunks: &[ChunkHits], total: usize) -> Arc<[u32]> {
    let counted: Option<Vec<&Histogram>> = chunks
        .iter()
        .filter(|c| !c.hits.is_empty())
        .map(|c| c.histogram.as_ref())
        .collect();
    let Some(counted) = counted else {
        return by_comparison(chunks, total);
    };
    let (Some(low), Some(high)) = (
        counted.iter().map(|h| h.low).min(),
        counted.iter().map(|h| h.high()).max(),
    ) else {
        return Arc::from([]);
    };
    if i64::from(high) - i64::from(low) >= COUNTING_RANGE {
        return by_comparison(chunks, total);
    }
    // The result holds every hit of a better score first, and a score's hits chunk by chunk:
    // `starts[c][j]` is where chunk `c`'s hits of its `j`-th score begin.
    let mut next = vec![0; offset(high, low) + 1];
    for histogram in &counted {
        for (j, &count) in histogram.counts.iter().enumerate() {
            next[offset(high, histogram.low + j as i32)] += count;
        }
    }
    let mut placed = 0;
    for slot in &mut next {
        (*slot, placed) = (placed, placed + *slot);
    }
    let starts: Vec<Vec<usize>> = chunks
        .iter()
        .map(|chunk| {
            // A chunk without hits has no histogram.
            let Some(histogram) = &chunk.histogram else {
                return Vec::new();
            };
            let mut starts = Vec::with_capacity(histogram.counts.len());
            for (j, &count) in histogram.counts.iter().enumerate() {
                let slot = &mut next[offset(high, histogram.low + j as i32)];
                starts.push(*slot);
                *slot += count;
            }
            starts
        })
        .collect();
    let mut order: Arc<[u32]> = std::iter::repeat_n(0, total).collect();
    let Some(slots) = Arc::get_mut(&mut order) else {
        // Just made, so never shared.
        return order;
    };
    for (chunk, mut starts) in chunks.iter().zip(starts) {
        let Some(histogram) = &chunk.histogram else {
            continue;
        };
        for hit in &chunk.hits {
            let at = &mut starts[offset(hit.score, histogram.low)];
            slots[*at] = hit.row;
            *at += 1;
        }
    }
    order
}

/// [`by_score`]'s order by a comparison sort, for scores spread too wide to count.
fn by_comparison(chunks: &[ChunkHits], total: usize) -> Arc<[u32]> {
    let mut sorted = Vec::with_capacity(total);
    for chunk in chunks {
        sorted.extend_from_slice(&chunk.hits);
    }
    sorted.sort_unstable_by_key(|h| (std::cmp::Reverse(h.score), h.row));
    sorted.into_iter().map(|h| h.row).collect()
}

/// The hits of `chunks` (`total` of them) in the order of `order`, through each row's `rank`
/// in it.
fn by_rank(order: &[u32], rank: &[u32], chunks: &[ChunkHits], total: usize) -> Vec<u32> {
    let hits = || chunks.iter().flat_map(|c| &c.hits);
    if total.saturating_mul(32) < order.len() {
        // Few hits: sorting their ranks is cheaper than a pass over the bitmap.
        let mut ranks: Vec<u32> = hits().map(|h| rank[h.row as usize]).collect();
        ranks.sort_unstable();
        return ranks.into_iter().map(|r| order[r as usize]).collect();
    }
    let mut bits = vec![0u64; order.len().div_ceil(64)];
    for hit in hits() {
        let r = rank[hit.row as usize] as usize;
        bits[r / 64] |= 1 << (r % 64);
    }
    let mut out = Vec::with_capacity(total);
    for (w, &word) in bits.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            out.push(order[w * 64 + word.trailing_zeros() as usize]);
            word &= word - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hits(scores: &[i32]) -> Vec<Hit> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &score)| Hit {
                score,
                row: u32::try_from(i).unwrap_or(u32::MAX),
            })
            .collect()
    }

    /// `hits` in chunks of `size`, each counted as the scan counts it.
    fn chunked(hits: &[Hit], size: usize) -> Vec<ChunkHits> {
        hits.chunks(size)
            .map(|chunk| ChunkHits {
                hits: chunk.to_vec(),
                histogram: Histogram::of(chunk),
            })
            .collect()
    }

    fn compared(hits: &[Hit]) -> Vec<u32> {
        let mut expected = hits.to_vec();
        expected.sort_unstable_by_key(|h| (std::cmp::Reverse(h.score), h.row));
        expected.into_iter().map(|h| h.row).collect()
    }

    proptest! {
        #[test]
        fn counting_sort_equals_a_comparison_sort(
            scores in prop::collection::vec(-300i32..300, 0..400),
            size in 1usize..120,
        ) {
            let hits = hits(&scores);
            let chunks = chunked(&hits, size);
            prop_assert_eq!(by_score(&chunks, hits.len()).to_vec(), compared(&hits));
        }

        #[test]
        fn ordering_by_rank_keeps_the_orders_sequence(
            keys in prop::collection::vec(0u8..20, 1..300),
            pick in prop::collection::vec(any::<bool>(), 300),
            size in 1usize..120,
        ) {
            let mut order: Vec<u32> = (0..keys.len() as u32).collect();
            order.sort_by_key(|&i| keys[i as usize]);
            let mut rank = vec![0; order.len()];
            for (p, &r) in order.iter().enumerate() {
                rank[r as usize] = p as u32;
            }
            let chosen: Vec<Hit> = hits(&vec![0; keys.len()])
                .into_iter()
                .filter(|h| pick[h.row as usize])
                .collect();
            let expected: Vec<u32> = order.iter().copied().filter(|&r| pick[r as usize]).collect();
            let chunks = chunked(&chosen, size);
            prop_assert_eq!(by_rank(&order, &rank, &chunks, chosen.len()), expected);
        }
    }

    #[test]
    fn a_wide_score_range_falls_back_to_a_comparison_sort() {
        let hits = hits(&[0, i32::MAX, i32::MIN, 5]);
        for size in 1..=4 {
            let chunks = chunked(&hits, size);
            assert_eq!(by_score(&chunks, 4).to_vec(), vec![1, 3, 0, 2]);
        }
    }

    #[test]
    fn chunks_close_apart_but_far_from_each_other_fall_back_too() {
        let hits = hits(&[0, 1, 1 << 20, (1 << 20) + 3]);
        let chunks = chunked(&hits, 2);
        assert!(chunks.iter().all(|c| c.histogram.is_some()));
        assert_eq!(by_score(&chunks, 4).to_vec(), vec![3, 2, 1, 0]);
    }
}
