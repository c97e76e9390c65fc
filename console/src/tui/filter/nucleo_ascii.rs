//! nucleo-matcher's fuzzy score (an `Atom` of kind fuzzy, smart case, `Config::DEFAULT`)
//! computed straight on ASCII bytes: the library's prefilter, its greedy score for a
//! consecutive match, its single-character search and its optimal-alignment matrix, step for
//! step, with character classes and bonuses read from tables and no slab, haystack copy or
//! per-call set-up. A million device rows are mostly short ASCII fields scored with short
//! patterns, where that set-up was most of the library's time. In fields of up to 64 bytes
//! (every device's certificate id and nearly every thing name) a character's places are one
//! 64-bit mask found eight bytes at a time ([`bytes`]): a one-character pattern's best place
//! comes from it, and longer patterns get the prefilter and the matrix from those places
//! ([`places`], in one pass for two characters); longer fields are searched byte by byte and
//! scored column by column.
//!
//! The scores equal the library's (`tests` compares them on device-like text, both cases and
//! every length); a pattern that is not ASCII is left to the library
//! ([`NucleoAscii::new`] gives `None`), as is text that is not ASCII (the caller's part).

use std::cmp::max;

mod bytes;
mod places;

use bytes::Wanted;
use places::{MAX_FIELD, Places};

const SCORE_MATCH: u16 = 16;
const PENALTY_GAP_START: u16 = 3;
const PENALTY_GAP_EXTENSION: u16 = 1;
const BONUS_BOUNDARY: u16 = SCORE_MATCH / 2;
const BONUS_CAMEL123: u16 = BONUS_BOUNDARY - PENALTY_GAP_START;
const BONUS_NON_WORD: u16 = BONUS_BOUNDARY;
const BONUS_CONSECUTIVE: u16 = PENALTY_GAP_START + PENALTY_GAP_EXTENSION;
const BONUS_FIRST_CHAR_MULTIPLIER: u16 = 2;
/// `Config::DEFAULT`'s bonuses after white space and after one of its delimiters.
const BONUS_BOUNDARY_WHITE: u16 = BONUS_BOUNDARY + 2;
const BONUS_BOUNDARY_DELIMITER: u16 = BONUS_BOUNDARY + 1;
/// Bounds well inside those of the library's matrix (100 KiB of cells in a slab of its own
/// size; it scores longer alignments greedily instead): text beyond them goes to the library.
const MAX_MATRIX_CELLS: usize = 32 * 1024;
const MAX_TEXT: usize = 1024;

/// nucleo's character classes, in its order (a class above `DELIMITER` is a word character).
const WHITESPACE: u8 = 0;
const NON_WORD: u8 = 1;
const DELIMITER: u8 = 2;
const LOWER: u8 = 3;
const UPPER: u8 = 4;
const NUMBER: u8 = 6;
/// The class before a text's first character (`Config::DEFAULT`'s `initial_char_class`).
const INITIAL: u8 = WHITESPACE;

const fn class_of(byte: u8) -> u8 {
    match byte {
        b'a'..=b'z' => LOWER,
        b'A'..=b'Z' => UPPER,
        b'0'..=b'9' => NUMBER,
        b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' => WHITESPACE,
        // `Config::DEFAULT`'s delimiters.
        b'/' | b',' | b':' | b';' | b'|' => DELIMITER,
        _ => NON_WORD,
    }
}

const fn bonus_of(prev: u8, class: u8) -> u16 {
    if class > DELIMITER {
        match prev {
            WHITESPACE => return BONUS_BOUNDARY_WHITE,
            DELIMITER => return BONUS_BOUNDARY_DELIMITER,
            NON_WORD => return BONUS_BOUNDARY,
            _ => {}
        }
    }
    if (prev == LOWER && class == UPPER) || (prev != NUMBER && class == NUMBER) {
        BONUS_CAMEL123
    } else if class == WHITESPACE {
        BONUS_BOUNDARY_WHITE
    } else if class == NON_WORD {
        BONUS_NON_WORD
    } else {
        0
    }
}

/// The class of every byte.
const CLASSES: [u8; 256] = {
    let mut table = [NON_WORD; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = class_of(byte as u8);
        byte += 1;
    }
    table
};

/// The bonus for a character of class `[1]` after one of class `[0]`.
const BONUSES: [[u16; 8]; 8] = {
    let mut table = [[0; 8]; 8];
    let mut prev = 0;
    while prev < 8 {
        let mut class = 0;
        while class < 8 {
            table[prev][class] = bonus_of(prev as u8, class as u8);
            class += 1;
        }
        prev += 1;
    }
    table
};

fn class(byte: u8) -> u8 {
    CLASSES[usize::from(byte)]
}

/// The bonus of the character at `i` of `text`.
fn bonus_at(text: &[u8], i: usize) -> u16 {
    let prev = if i == 0 { INITIAL } else { class(text[i - 1]) };
    BONUSES[usize::from(prev)][usize::from(class(text[i]))]
}

/// One cell of the matrix's current row: the best score of an alignment that matches the
/// row's pattern character here (0: none), and the bonus its consecutive run carries.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    score: u16,
    consecutive: u16,
}

impl Cell {
    /// The cell of the pattern's first character at a column of bonus `bonus`.
    fn first(bonus: u16) -> Self {
        Self {
            score: bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH,
            consecutive: bonus,
        }
    }
}

/// The library's cell for the next pattern character at a column, from the gap score `p`
/// before it, the column's bonus and the cell of the current character one column back.
fn next_cell(p: u16, bonus: u16, diagonal: Cell) -> Cell {
    if diagonal.score == 0 {
        return Cell {
            score: p + bonus + SCORE_MATCH,
            consecutive: bonus,
        };
    }
    let mut consecutive = max(diagonal.consecutive, BONUS_CONSECUTIVE);
    if bonus >= BONUS_BOUNDARY && bonus > consecutive {
        consecutive = bonus;
    }
    let matched = diagonal.score + max(consecutive, bonus);
    let skipped = p + bonus;
    if matched > skipped {
        Cell {
            score: matched + SCORE_MATCH,
            consecutive,
        }
    } else {
        Cell {
            score: skipped + SCORE_MATCH,
            consecutive: bonus,
        }
    }
}

/// The gap score after a column, from the gap and match scores before it.
fn gap(p: u16, m: u16) -> u16 {
    max(
        m.saturating_sub(PENALTY_GAP_START),
        p.saturating_sub(PENALTY_GAP_EXTENSION),
    )
}

/// One ASCII pattern prepared, with the matrix's scratch row.
#[derive(Debug, Clone)]
pub struct NucleoAscii {
    needle: Box<[u8]>,
    /// Smart case: the pattern has no upper-case letter.
    ignore_case: bool,
    row: Vec<Cell>,
    bonus: Vec<u16>,
    /// Each pattern character's place in the greedy match: [`prefilter`]'s for the text
    /// being scored.
    offsets: Vec<usize>,
    /// The pattern prepared for fields of at most [`MAX_FIELD`] bytes.
    places: Option<Places>,
}

impl NucleoAscii {
    /// Prepares `pattern`; `None` when it is empty or not ASCII (the library's part).
    #[must_use]
    pub fn new(pattern: &str) -> Option<Self> {
        if pattern.is_empty() || !pattern.is_ascii() {
            return None;
        }
        Some(Self {
            needle: pattern.as_bytes().into(),
            ignore_case: !pattern.bytes().any(|b| b.is_ascii_uppercase()),
            row: Vec::new(),
            bonus: Vec::new(),
            offsets: vec![0; pattern.len()],
            places: Places::new(pattern.as_bytes()),
        })
    }

    /// The library's score of ASCII `text` of a length that [`Self::fits`]; `has_upper`: it
    /// has an upper-case letter (which a pattern without one matches as lower case); `inner`:
    /// its [`inner_bonus`]. `None`: no match.
    #[inline]
    pub fn score(&mut self, text: &[u8], has_upper: bool, inner: u8) -> Option<u16> {
        if self.ignore_case && has_upper {
            self.score_in::<true>(text, inner)
        } else {
            self.score_in::<false>(text, inner)
        }
    }

    /// A score no match of the pattern in a text exceeds, from the text's first byte (0 when
    /// it is empty) and what [`Self::score`] takes besides the text, without reading the text:
    /// every character of a match earns [`SCORE_MATCH`] and a bonus no greater than the best
    /// of the text's (the first character twice), and a consecutive run carries at most the
    /// best of those and [`BONUS_CONSECUTIVE`]; gaps only take away.
    #[must_use]
    #[inline]
    pub fn bound(&self, first: u8, has_upper: bool, inner: u8) -> u16 {
        if self.ignore_case && has_upper {
            bound::<true>(&self.needle, first, inner)
        } else {
            bound::<false>(&self.needle, first, inner)
        }
    }

    /// Whether every alignment of the pattern in `len` bytes fits the library's matrix
    /// (which it leaves for a greedy score), with room to spare: then [`Self::score`] equals
    /// the library's for any text of that length. A device's fields always fit.
    #[must_use]
    pub fn fits(&self, len: usize) -> bool {
        len <= MAX_TEXT && len.saturating_mul(self.needle.len()) <= MAX_MATRIX_CELLS
    }

    fn score_in<const FOLD: bool>(&mut self, text: &[u8], inner: u8) -> Option<u16> {
        let needle = &*self.needle;
        let (n, m) = (text.len(), needle.len());
        if m > n {
            return None;
        }
        if m == n {
            let equal = text.iter().zip(needle).all(|(&t, &p)| fold::<FOLD>(t) == p);
            return equal.then(|| greedy_score::<FOLD>(text, needle, 0, n));
        }
        if m == 1 {
            return single::<FOLD>(text, needle[0]);
        }
        if m == 2 && n <= MAX_FIELD {
            let bound = || bound::<FOLD>(needle, text[0], inner);
            return places::pair::<FOLD>(text, [needle[0], needle[1]], bound);
        }
        let mut by_places = self.places.as_mut().filter(|_| n <= MAX_FIELD);
        let (start, greedy_end, end) = match &mut by_places {
            Some(places) => places.prefilter::<FOLD>(text, needle, &mut self.offsets)?,
            None => prefilter::<FOLD>(text, needle, &mut self.offsets)?,
        };
        let bound = || bound::<FOLD>(needle, text[0], inner);
        if let Some(greedy) = greedy_if_best::<FOLD>(text, needle, [start, greedy_end, end], bound)
        {
            return Some(greedy);
        }
        if let Some(places) = by_places {
            return Some(places.matrix::<FOLD>(text, &self.offsets, end));
        }
        Some(self.optimal::<FOLD>(text, start, end))
    }

    /// The library's matrix over `text[start..end]`, after [`prefilter`] of `text` left its
    /// greedy places in `offsets`.
    fn optimal<const FOLD: bool>(&mut self, text: &[u8], start: usize, end: usize) -> u16 {
        let needle = &*self.needle;
        let m = needle.len();
        let hay = &text[start..end];
        let len = hay.len();
        // Each character's first place in the greedy match, as the prefilter left it, from
        // `start` on.
        for place in &mut self.offsets {
            *place -= start;
        }
        let width = len + 1 - m;
        // Every column's bonus, and the first character's cells in the row (each later row
        // reads the one before at `col - idx` and leaves its own there; no row reads a
        // column past `width - 1 + idx`).
        self.bonus.clear();
        self.row.clear();
        let mut prev = if start == 0 {
            INITIAL
        } else {
            class(text[start - 1])
        };
        for (col, &c) in hay.iter().enumerate() {
            let class = class(c);
            let b = BONUSES[usize::from(prev)][usize::from(class)];
            self.bonus.push(b);
            prev = class;
            if col < width {
                self.row.push(if fold::<FOLD>(c) == needle[0] {
                    Cell::first(b)
                } else {
                    Cell::default()
                });
            }
        }
        let bonus = &self.bonus;
        let row = &mut self.row;
        for idx in 0..m - 1 {
            let (row_off, next_off) = (self.offsets[idx], self.offsets[idx + 1] - 1);
            let next = needle[idx + 1];
            let (mut p, mut last) = (0u16, 0u16);
            for col in row_off..next_off {
                p = gap(p, last);
                last = row[col - idx].score;
            }
            // The library stops where the row ends: at column `width - 1 + idx`.
            for col in next_off..(len - 1).min(width + idx) {
                p = gap(p, last);
                let cell = row[col - idx];
                row[col - idx] = if fold::<FOLD>(hay[col + 1]) == next {
                    next_cell(p, bonus[col + 1], cell)
                } else {
                    Cell::default()
                };
                last = cell.score;
            }
        }
        let last_row = self.offsets[m - 1] + 1 - m;
        row[last_row..].iter().map(|c| c.score).max().unwrap_or(0)
    }
}

/// The greedy match's score when the library's answer is that (the prefilter found `needle`
/// from `start` to `greedy_end` and its last character last ending at `end`): the match
/// spans every place the matrix could use, or it is consecutive and reaches `bound`, which
/// no other match can beat. `None`: the matrix decides.
#[inline]
fn greedy_if_best<const FOLD: bool>(
    text: &[u8],
    needle: &[u8],
    [start, greedy_end, end]: [usize; 3],
    bound: impl FnOnce() -> u16,
) -> Option<u16> {
    let m = needle.len();
    if end - start != m && greedy_end - start != m {
        return None;
    }
    let greedy = greedy_score::<FOLD>(text, needle, start, greedy_end);
    (end - start == m || greedy >= bound()).then_some(greedy)
}

/// [`NucleoAscii::bound`] of `needle`.
fn bound<const FOLD: bool>(needle: &[u8], first: u8, inner: u8) -> u16 {
    let inner = u16::from(inner);
    let best = if fold::<FOLD>(first) == needle[0] {
        max(
            BONUSES[usize::from(INITIAL)][usize::from(class(first))],
            inner,
        )
    } else {
        inner
    };
    // The pattern is no longer than a text it matches, and texts are short (`fits`).
    let m = u16::try_from(needle.len()).unwrap_or(u16::MAX);
    (SCORE_MATCH * m)
        .saturating_add(best * BONUS_FIRST_CHAR_MULTIPLIER)
        .saturating_add((m - 1).saturating_mul(max(best, BONUS_CONSECUTIVE)))
}

/// The highest bonus of any character of ASCII `text` but its first (see
/// [`NucleoAscii::bound`]).
#[must_use]
pub fn inner_bonus(text: &[u8]) -> u8 {
    let best = text
        .windows(2)
        .map(|w| BONUSES[usize::from(class(w[0]))][usize::from(class(w[1]))])
        .max()
        .unwrap_or(0);
    // Bonuses are at most `BONUS_BOUNDARY_WHITE`.
    u8::try_from(best).unwrap_or(u8::MAX)
}

fn fold<const FOLD: bool>(byte: u8) -> u8 {
    if FOLD {
        byte.to_ascii_lowercase()
    } else {
        byte
    }
}

/// The first place of `c` (a pattern character) in `text`, an upper-case letter standing for
/// its lower case when `FOLD`.
fn find<const FOLD: bool>(c: u8, text: &[u8]) -> Option<usize> {
    match FOLD && c.is_ascii_lowercase() {
        true => memchr::memchr2(c, c.to_ascii_uppercase(), text),
        false => memchr::memchr(c, text),
    }
}

/// The last place of `c` in `text`, as [`find`].
fn rfind<const FOLD: bool>(c: u8, text: &[u8]) -> Option<usize> {
    match FOLD && c.is_ascii_lowercase() {
        true => memchr::memrchr2(c, c.to_ascii_uppercase(), text),
        false => memchr::memrchr(c, text),
    }
}

/// The best place of a one-character pattern: the library's `substring_match_1_ascii`, from
/// the character's places as a mask in fields of up to [`MAX_FIELD`] bytes.
fn single<const FOLD: bool>(text: &[u8], c: u8) -> Option<u16> {
    let wanted = Wanted::new::<FOLD>(c);
    let best = if text.len() <= MAX_FIELD {
        places::each(wanted.mask(text))
            .map(|i| bonus_at(text, i))
            .max()
    } else if FOLD && c.is_ascii_lowercase() {
        memchr::memchr2_iter(c, c.to_ascii_uppercase(), text)
            .map(|i| bonus_at(text, i))
            .max()
    } else {
        memchr::memchr_iter(c, text)
            .map(|i| bonus_at(text, i))
            .max()
    };
    best.map(|bonus| Cell::first(bonus).score)
}

/// The library's prefilter: the first place of the pattern's first character (leaving room
/// for the rest), the end of the greedy match from there, and the end of the last place of
/// the last character after it; `places` gets each character's place in the greedy match.
fn prefilter<const FOLD: bool>(
    text: &[u8],
    needle: &[u8],
    places: &mut [usize],
) -> Option<(usize, usize, usize)> {
    let start = find::<FOLD>(needle[0], &text[..text.len() - needle.len() + 1])?;
    places[0] = start;
    let mut greedy_end = start + 1;
    for (k, &c) in needle.iter().enumerate().skip(1) {
        greedy_end += find::<FOLD>(c, &text[greedy_end..])? + 1;
        places[k] = greedy_end - 1;
    }
    let last = needle[needle.len() - 1];
    let end = greedy_end + rfind::<FOLD>(last, &text[greedy_end..]).map_or(0, |i| i + 1);
    Some((start, greedy_end, end))
}

/// The library's `calculate_score` of the match of `needle` from `start` to `end`.
fn greedy_score<const FOLD: bool>(text: &[u8], needle: &[u8], start: usize, end: usize) -> u16 {
    let mut first_bonus = bonus_at(text, start);
    let mut score = SCORE_MATCH + first_bonus * BONUS_FIRST_CHAR_MULTIPLIER;
    let mut next = 1.min(needle.len() - 1);
    let mut in_gap = false;
    let mut consecutive = 1;
    for i in start + 1..end {
        if fold::<FOLD>(text[i]) == needle[next] {
            let mut bonus = bonus_at(text, i);
            if consecutive == 0 {
                first_bonus = bonus;
            } else {
                if bonus >= BONUS_BOUNDARY && bonus > first_bonus {
                    first_bonus = bonus;
                }
                bonus = max(max(bonus, first_bonus), BONUS_CONSECUTIVE);
            }
            score += SCORE_MATCH + bonus;
            in_gap = false;
            consecutive += 1;
            next = (next + 1).min(needle.len() - 1);
        } else {
            let penalty = if in_gap {
                PENALTY_GAP_EXTENSION
            } else {
                PENALTY_GAP_START
            };
            score = score.saturating_sub(penalty);
            in_gap = true;
            consecutive = 0;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
    use nucleo_matcher::{Config, Matcher, Utf32Str};
    use proptest::prelude::*;

    fn library(text: &str, pattern: &str) -> Option<u16> {
        let atom = Atom::new(
            pattern,
            CaseMatching::Smart,
            Normalization::Smart,
            AtomKind::Fuzzy,
            false,
        );
        atom.score(
            Utf32Str::Ascii(text.as_bytes()),
            &mut Matcher::new(Config::DEFAULT),
        )
    }

    fn ported(text: &str, pattern: &str) -> Option<u16> {
        let mut scorer = NucleoAscii::new(pattern)?;
        let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
        let inner = inner_bonus(text.as_bytes());
        let score = scorer.score(text.as_bytes(), has_upper, inner);
        if let Some(score) = score {
            let first = text.bytes().next().unwrap_or(0);
            assert!(score <= scorer.bound(first, has_upper, inner));
        }
        score
    }

    #[test]
    fn device_names_score_as_the_library_scores_them() {
        let texts = [
            "thermostat-euw1-0000042-9f3a1c",
            "9f3a1c0b5d7e2f40",
            "Meter_EU/west:0042;a|b c",
            "camelCaseThing99",
            "aaaaaaaaaa",
            "0000000000",
            "a",
        ];
        let patterns = [
            "t",
            "e",
            "0",
            "00",
            "000",
            "eu",
            "euw1",
            "d9f3",
            "thermo",
            "tEu",
            "T",
            "a",
            "aa",
            "aaaa",
            "cct",
            "Case",
            "0042",
            "w:0",
            "9f",
            "zz",
            "thermostat-euw1-0000042-9f3a1c",
        ];
        for text in texts {
            for pattern in patterns {
                assert_eq!(
                    ported(text, pattern),
                    library(text, pattern),
                    "{pattern:?} in {text:?}"
                );
            }
        }
    }

    #[test]
    fn patterns_that_are_not_ascii_or_empty_are_left_to_the_library() {
        assert!(NucleoAscii::new("é").is_none());
        assert!(NucleoAscii::new("").is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn every_score_equals_the_librarys(
            text in "[a-cA-C0-2 ./_:-]{1,40}",
            pattern in "[a-cA-C0-2 ./_:-]{1,6}",
        ) {
            prop_assert_eq!(ported(&text, &pattern), library(&text, &pattern));
        }

        #[test]
        fn fields_past_the_places_limit_score_as_the_library_scores_them(
            text in "[a-cA-C0-2 ./_:-]{60,130}",
            pattern in "[a-cA-C0-2 ./_:-]{1,6}",
        ) {
            prop_assert_eq!(ported(&text, &pattern), library(&text, &pattern));
        }

        #[test]
        fn a_prefix_typed_on_scores_as_the_library_scores_it(
            text in "[a-cA-C0-2 ./_:-]{1,30}",
            cut in 1usize..30,
        ) {
            let pattern = &text[..cut.min(text.len())];
            prop_assert_eq!(ported(&text, pattern), library(&text, pattern));
            let lower = pattern.to_ascii_lowercase();
            prop_assert_eq!(ported(&text, &lower), library(&text, &lower));
        }

        #[test]
        fn device_like_scores_equal_the_librarys(
            text in "[a-z]{3,10}-[a-z]{2,4}[0-9]-[0-9]{7}-[0-9a-f]{6}|[0-9a-f]{16}|[0-9a-f]{64}",
            pattern in "[a-z0-9-]{1,8}|[0-9a-f]{1,5}",
        ) {
            prop_assert_eq!(ported(&text, &pattern), library(&text, &pattern));
        }
    }
}
