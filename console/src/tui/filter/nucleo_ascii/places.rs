//! The library's prefilter and matrix for fields of at most 64 bytes, computed from where the
//! pattern's characters are instead of byte by byte: each distinct character's places in the
//! field as one 64-bit mask ([`Wanted::mask`]), the prefilter's places as bit operations on
//! them, and the matrix's cells only at the places of each row's character. A two-character
//! pattern, the second key of most queries, takes both in one pass ([`pair`]).
//!
//! Why the matrix may skip the other columns: a row's cell is zero wherever its character is
//! not, and the gap score a row hands to the next one starts three below a cell and loses one
//! a column (never below zero), so the next row's cell at `j` needs only the cell one column
//! back (the diagonal) and the best `score + place` among the row's cells at or before
//! `j - 2`: its gap score is that best less `j + 1`.

use std::cmp::max;

use super::bytes::Wanted;
use super::{Cell, bonus_at, greedy_if_best, next_cell};

/// The longest field scored from places.
pub const MAX_FIELD: usize = 64;

/// Most distinct characters of a needle whose prefilter looks up their places (measured on a
/// million device rows: five and more were slower than searching byte by byte).
const FEW_DISTINCT: usize = 4;

/// The bits below `n` (every bit from 64 on).
fn below(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1 << n) - 1 }
}

/// The bits from `from` (below 64) up to, not including, `to`.
fn between(from: usize, to: usize) -> u64 {
    below(to) & !below(from)
}

/// The place of the lowest bit of a non-zero mask.
fn lowest(mask: u64) -> usize {
    mask.trailing_zeros() as usize
}

/// The places of `mask`'s bits, lowest first.
#[inline]
pub(super) fn each(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let place = lowest(mask);
            mask &= mask - 1;
            place
        })
    })
}

/// The cells of one row of the matrix at its character's places `at` (the field's `text`),
/// handed to `cell` with their place, from the previous row's places `prev_at` and its cell at
/// each of them (`prev`). Why that is all a cell needs: the module's doc.
#[inline]
fn next_row(
    text: &[u8],
    prev_at: u64,
    prev: impl Fn(usize) -> Cell,
    at: u64,
    mut cell: impl FnMut(usize, Cell),
) {
    // The previous row's places not yet folded into `best` (those before `j - 1`).
    let mut behind = prev_at;
    let mut best = 0u16;
    for j in each(at) {
        while behind != 0 && lowest(behind) + 2 <= j {
            let i = lowest(behind);
            best = max(best, prev(i).score + i as u16);
            behind &= behind - 1;
        }
        let gap = best.saturating_sub(j as u16 + 1);
        let diagonal = if prev_at >> (j - 1) & 1 == 1 {
            prev(j - 1)
        } else {
            Cell::default()
        };
        cell(j, next_cell(gap, bonus_at(text, j), diagonal));
    }
}

/// The library's score of a two-character `needle` in `text` (longer than two bytes, at most
/// [`MAX_FIELD`]): [`Places::prefilter`] and [`Places::matrix`] in one pass over the places of
/// its two characters, without the matrix's rows (the first row's cells are made from their
/// place's bonus as the second row reaches them). `bound`: the field's bound, asked only when
/// the greedy match is consecutive.
pub fn pair<const FOLD: bool>(
    text: &[u8],
    needle: [u8; 2],
    bound: impl FnOnce() -> u16,
) -> Option<u16> {
    let n = text.len();
    let firsts = Wanted::new::<FOLD>(needle[0]).mask(text);
    let seconds = if needle[1] == needle[0] {
        firsts
    } else {
        Wanted::new::<FOLD>(needle[1]).mask(text)
    };
    let start = firsts & below(n - 1);
    if start == 0 {
        return None;
    }
    let start = lowest(start);
    let later = seconds & !below(start + 1);
    if later == 0 {
        return None;
    }
    let greedy_end = lowest(later) + 1;
    let end = 64 - seconds.leading_zeros() as usize;
    if let Some(greedy) = greedy_if_best::<FOLD>(text, &needle, [start, greedy_end, end], bound) {
        return Some(greedy);
    }
    // The first row ends one column before `end`; its cells are made as the second reaches them.
    let first = |i: usize| Cell::first(bonus_at(text, i));
    let mut score = 0;
    next_row(
        text,
        firsts & between(start, end - 1),
        first,
        later & below(end),
        |_, cell| score = max(score, cell.score),
    );
    Some(score)
}

/// The places of the pattern's characters in the field being scored, each distinct
/// character looked up once, on first use.
#[derive(Debug, Clone)]
struct Lookup {
    /// The pattern's distinct characters.
    distinct: Vec<u8>,
    /// For each pattern character, its index in `distinct`.
    slot: Vec<usize>,
    /// The field's places of each distinct character, valid where `known` has its bit.
    masks: Vec<u64>,
    known: u64,
}

impl Lookup {
    /// The places of pattern character `k` in `text`, the field being scored.
    fn of<const FOLD: bool>(&mut self, text: &[u8], k: usize) -> u64 {
        let d = self.slot[k];
        if self.known & 1 << d == 0 {
            self.masks[d] = Wanted::new::<FOLD>(self.distinct[d]).mask(text);
            self.known |= 1 << d;
        }
        self.masks[d]
    }
}

/// One pattern prepared for scoring fields from places, with the matrix's two rows.
#[derive(Debug, Clone)]
pub struct Places {
    lookup: Lookup,
    /// One cell per place in the field.
    rows: [[Cell; MAX_FIELD]; 2],
}

impl Places {
    /// Prepares `needle` (ASCII, not empty); `None` when it has more distinct characters than
    /// one mask can tell apart.
    pub fn new(needle: &[u8]) -> Option<Self> {
        let mut distinct = Vec::new();
        let mut slot = Vec::with_capacity(needle.len());
        for c in needle {
            let index = distinct.iter().position(|d| d == c).unwrap_or_else(|| {
                distinct.push(*c);
                distinct.len() - 1
            });
            slot.push(index);
        }
        (distinct.len() <= 64).then(|| Self {
            lookup: Lookup {
                masks: vec![0; distinct.len()],
                distinct,
                slot,
                known: 0,
            },
            rows: [[Cell::default(); MAX_FIELD]; 2],
        })
    }

    /// The library's prefilter of `needle` (two characters or more) in `text` (longer than
    /// the needle, at most [`MAX_FIELD`] bytes): the first place of its first character that
    /// leaves room for the rest, the end of the greedy match from there, and the end of the
    /// last place of its last character; `places` gets each character's place in the greedy
    /// match. From the places of a needle of up to [`FEW_DISTINCT`] distinct characters;
    /// longer ones byte by byte, where a field usually holds their first characters early,
    /// and an early miss spares looking up the rest.
    pub fn prefilter<const FOLD: bool>(
        &mut self,
        text: &[u8],
        needle: &[u8],
        places: &mut [usize],
    ) -> Option<(usize, usize, usize)> {
        let lookup = &mut self.lookup;
        lookup.known = 0;
        if lookup.distinct.len() > FEW_DISTINCT {
            return super::prefilter::<FOLD>(text, needle, places);
        }
        let (n, m) = (text.len(), places.len());
        let first = lookup.of::<FOLD>(text, 0) & below(n + 1 - m);
        if first == 0 {
            return None;
        }
        let mut at = lowest(first);
        places[0] = at;
        for (k, place) in places.iter_mut().enumerate().skip(1) {
            let later = lookup.of::<FOLD>(text, k) & !below(at + 1);
            if later == 0 {
                return None;
            }
            at = lowest(later);
            *place = at;
        }
        let end = 64 - lookup.of::<FOLD>(text, m - 1).leading_zeros() as usize;
        Some((places[0], at + 1, end))
    }

    /// The library's matrix over `text[places[0]..end]`, after [`Self::prefilter`] of `text`
    /// gave `end` and left the greedy match (each row's first place) in `places`; computed at
    /// the places of each row's character.
    pub fn matrix<const FOLD: bool>(&mut self, text: &[u8], places: &[usize], end: usize) -> u16 {
        let m = places.len();
        // Row `k` has cells from its greedy place up to where the rest of the pattern still
        // fits before `end`.
        let lookup = &mut self.lookup;
        let mut row_places =
            |k: usize| lookup.of::<FOLD>(text, k) & between(places[k], end + 1 + k - m);
        let [prev, next] = &mut self.rows;
        let (mut prev, mut next) = (prev, next);
        let mut prev_at = row_places(0);
        for i in each(prev_at) {
            prev[i] = Cell::first(bonus_at(text, i));
        }
        for k in 1..m {
            let next_at = row_places(k);
            next_row(
                text,
                prev_at,
                |i| prev[i],
                next_at,
                |j, cell| next[j] = cell,
            );
            std::mem::swap(&mut prev, &mut next);
            prev_at = next_at;
        }
        each(prev_at).map(|j| prev[j].score).max().unwrap_or(0)
    }
}
