//! Puts a scan's hits (in row order) into display order: best fuzzy score first by a stable
//! counting sort on the score (ties stay in row order), or by a sort key through the table's
//! precomputed ranks (a bitmap over ranks read in order), with no comparison sort of the hits.

use std::sync::Arc;

use crate::tui::data::DeviceTable;

use super::SortKey;
use super::index::sort_order;
use super::scan::Hit;

/// Widest score range the counting sort takes; wider ones (never seen with skim's scores on
/// names of sane length) fall back to a comparison sort.
const COUNTING_RANGE: i64 = 1 << 16;

/// Row indices of `hits` in display order. `ranked`: a fuzzy text was matched.
#[must_use]
pub fn display_order(table: &DeviceTable, hits: &[Hit], sort: SortKey, ranked: bool) -> Arc<[u32]> {
    match sort_order(table, sort) {
        None if ranked => by_score(hits).into(),
        None => hits.iter().map(|h| h.row).collect(),
        Some(sorted) if hits.len() == table.len() => Arc::clone(&sorted.order),
        Some(sorted) => by_rank(&sorted.order, &sorted.rank, hits).into(),
    }
}

/// Best score first, ties in the order given (row order): the order of a sort by
/// `(Reverse(score), row)`.
fn by_score(hits: &[Hit]) -> Vec<u32> {
    let (Some(low), Some(high)) = (
        hits.iter().map(|h| h.score).min(),
        hits.iter().map(|h| h.score).max(),
    ) else {
        return Vec::new();
    };
    let span = i64::from(high) - i64::from(low);
    if span >= COUNTING_RANGE {
        let mut sorted = hits.to_vec();
        sorted.sort_unstable_by_key(|h| (std::cmp::Reverse(h.score), h.row));
        return sorted.into_iter().map(|h| h.row).collect();
    }
    let span = usize::try_from(span).unwrap_or(0) + 1;
    // Bucket 0 holds the best score.
    // `high - score` lies in `0..span`, and `span` is below `COUNTING_RANGE`.
    let bucket = |h: &Hit| (high - h.score) as usize;
    let mut starts = vec![0usize; span + 1];
    for hit in hits {
        starts[bucket(hit) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut out = vec![0u32; hits.len()];
    for hit in hits {
        let slot = &mut starts[bucket(hit)];
        out[*slot] = hit.row;
        *slot += 1;
    }
    out
}

/// `hits` in the order of `order`, through each row's `rank` in it.
fn by_rank(order: &[u32], rank: &[u32], hits: &[Hit]) -> Vec<u32> {
    if hits.len().saturating_mul(32) < order.len() {
        // Few hits: sorting their ranks is cheaper than a pass over the bitmap.
        let mut ranks: Vec<u32> = hits.iter().map(|h| rank[h.row as usize]).collect();
        ranks.sort_unstable();
        return ranks.into_iter().map(|r| order[r as usize]).collect();
    }
    let mut bits = vec![0u64; order.len().div_ceil(64)];
    for hit in hits {
        let r = rank[hit.row as usize] as usize;
        bits[r / 64] |= 1 << (r % 64);
    }
    let mut out = Vec::with_capacity(hits.len());
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

    proptest! {
        #[test]
        fn counting_sort_equals_a_comparison_sort(scores in prop::collection::vec(-300i32..300, 0..400)) {
            let hits = hits(&scores);
            let mut expected = hits.clone();
            expected.sort_unstable_by_key(|h| (std::cmp::Reverse(h.score), h.row));
            let expected: Vec<u32> = expected.into_iter().map(|h| h.row).collect();
            prop_assert_eq!(by_score(&hits), expected);
        }

        #[test]
        fn ordering_by_rank_keeps_the_orders_sequence(
            keys in prop::collection::vec(0u8..20, 1..300),
            pick in prop::collection::vec(any::<bool>(), 300),
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
            prop_assert_eq!(by_rank(&order, &rank, &chosen), expected);
        }
    }

    #[test]
    fn a_wide_score_range_falls_back_to_a_comparison_sort() {
        let hits = hits(&[0, i32::MAX, i32::MIN, 5]);
        assert_eq!(by_score(&hits), vec![1, 3, 0, 2]);
    }
}
