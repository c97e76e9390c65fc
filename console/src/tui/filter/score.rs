//! Fuzzy scores: skim's V2 algorithm (fuzzy-matcher's `SkimMatcherV2` with its default
//! settings and smart case), score only, ported to ASCII bytes so that a million rows can be
//! scored without a `Vec<char>` per row, a thread-local cache look-up and an allocation per
//! call. A run's score is the same as a freshly made `SkimMatcherV2`'s (a matcher reused
//! across calls can carry a stale bonus cell from the previous call into the next, which makes
//! its scores depend on the order rows are scored in; a fresh one does not). Text that is not
//! ASCII goes to fuzzy-matcher itself.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

const SCORE_MATCH: i32 = 16;
const GAP_START: i32 = -3;
const GAP_EXTENSION: i32 = -1;
const FIRST_CHAR_MULTIPLIER: i32 = 2;
const BONUS_HEAD: i32 = SCORE_MATCH / 2;
const BONUS_BREAK: i32 = SCORE_MATCH / 2 + GAP_EXTENSION;
const BONUS_CAMEL: i32 = SCORE_MATCH / 2 + 2 * GAP_EXTENSION;
const BONUS_CONSECUTIVE: i32 = -(GAP_START + GAP_EXTENSION);
const PENALTY_CASE_MISMATCH: i32 = GAP_EXTENSION * 2;
const NEG_INFINITY: i32 = i16::MIN as i32;

/// skim's character classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Empty,
    Upper,
    Lower,
    Number,
    HardSep,
    SoftSep,
}

/// [`class_of`] of every byte.
const CLASSES: [Class; 256] = {
    let mut table = [Class::Lower; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = class_of(byte as u8);
        byte += 1;
    }
    table
};

fn class(byte: u8) -> Class {
    CLASSES[usize::from(byte)]
}

const fn class_of(byte: u8) -> Class {
    match byte {
        0 => Class::Empty,
        b' ' | b'/' | b'\\' | b'|' | b'(' | b')' | b'[' | b']' | b'{' | b'}' => Class::HardSep,
        b'!'..=b'\'' | b'*'..=b'.' | b':'..=b'@' | b'^'..=b'`' | b'~' => Class::SoftSep,
        b'0'..=b'9' => Class::Number,
        b'A'..=b'Z' => Class::Upper,
        _ => Class::Lower,
    }
}

/// The bonus for matching a character of class `cur` after one of class `prev`.
fn in_place_bonus(prev: Class, cur: Class) -> i32 {
    match (prev, cur) {
        (Class::Empty | Class::HardSep, _) => BONUS_HEAD,
        (Class::SoftSep, _) => BONUS_BREAK,
        (Class::Lower | Class::Number, Class::Upper) => BONUS_CAMEL,
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    m: i32,
    p: i32,
    bonus: i32,
}

const FRESH: Cell = Cell {
    m: NEG_INFINITY,
    p: NEG_INFINITY,
    bonus: 0,
};

/// A pattern prepared for scoring many choices, with scratch space reused between them.
/// One per thread.
#[derive(Debug)]
pub struct Scorer {
    pattern: Box<str>,
    /// The pattern's bytes when it is ASCII.
    ascii: Option<Box<[u8]>>,
    /// The pattern lower-cased, for the subsequence prefilter.
    lower: Box<[u8]>,
    case_sensitive: bool,
    first: Vec<usize>,
    bonuses: Vec<i32>,
    cells: Vec<Cell>,
}

impl Scorer {
    /// Prepares `pattern` (smart case: case-sensitive when it has an ASCII upper-case letter).
    #[must_use]
    pub fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.into(),
            ascii: pattern.is_ascii().then(|| pattern.as_bytes().into()),
            lower: pattern.to_ascii_lowercase().into_bytes().into(),
            case_sensitive: pattern.bytes().any(|b| b.is_ascii_uppercase()),
            first: Vec::new(),
            bonuses: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// Whether the pattern is empty (everything matches with score 0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pattern.is_empty()
    }

    /// The score of `choice`, `None` when the pattern is not a subsequence of it. Equal to
    /// `SkimMatcherV2::default().fuzzy_match(choice, pattern)` on a fresh matcher.
    pub fn score(&mut self, choice: &str) -> Option<i64> {
        if choice.is_ascii() {
            let has_upper = choice.bytes().any(|b| b.is_ascii_uppercase());
            return self.score_ascii(choice.as_bytes(), has_upper);
        }
        if self.ascii.is_some() && !subsequence_lower(choice.as_bytes(), &self.lower) {
            // Necessary for a match in either case mode.
            return None;
        }
        SkimMatcherV2::default().fuzzy_match(choice, &self.pattern)
    }

    /// [`Scorer::score`] of a choice that is all ASCII; `has_upper`: it has an upper-case
    /// letter (without one, and for a case-sensitive pattern, bytes compare as they are).
    pub fn score_ascii(&mut self, choice: &[u8], has_upper: bool) -> Option<i64> {
        if self.pattern.is_empty() {
            return Some(0);
        }
        let Some(pattern) = self.ascii.take() else {
            // A pattern that is not ASCII cannot match ASCII text.
            return None;
        };
        let score = if !self.case_sensitive && has_upper {
            subsequence_lower(choice, &self.lower)
                .then(|| self.matrix::<true>(choice, &pattern))
                .flatten()
        } else {
            // Either the pattern is case-sensitive, or it has no upper case (smart case) and
            // neither has the choice: plain equality either way.
            subsequence_exact(choice, &pattern)
                .then(|| self.matrix::<false>(choice, &pattern))
                .flatten()
        };
        self.ascii = Some(pattern);
        score.map(i64::from)
    }

    /// skim's compressed (two-row) score matrix over bytes.
    /// `FOLD`: compare ignoring ASCII case, with skim's penalty for a case mismatch.
    fn matrix<const FOLD: bool>(&mut self, choice: &[u8], pattern: &[u8]) -> Option<i32> {
        // The first occurrence of each pattern byte in order (skim's `cheap_matches`).
        self.first.clear();
        let mut want = pattern.iter().peekable();
        for (j, &c) in choice.iter().enumerate() {
            match want.peek() {
                Some(&&p) if equal::<FOLD>(c, p) => {
                    self.first.push(j);
                    want.next();
                }
                Some(_) => {}
                None => break,
            }
        }
        if want.peek().is_some() {
            return None;
        }
        let cols = choice.len() + 1;
        self.bonuses.clear();
        self.bonuses.push(0);
        let mut prev = Class::Empty;
        for &c in choice {
            let cur = class(c);
            self.bonuses.push(in_place_bonus(prev, cur));
            prev = cur;
        }
        if let Some(first) = self.bonuses.get_mut(1) {
            *first *= FIRST_CHAR_MULTIPLIER;
        }
        self.cells.clear();
        self.cells.resize(2 * cols, FRESH);
        let bonuses = &self.bonuses[..cols];
        // Row 0 is the even pattern rows' (and the start), row 1 the odd ones'.
        let (even, odd) = self.cells.split_at_mut(cols);
        odd[self.first[0]] = FRESH;
        for cell in even.iter_mut() {
            *cell = Cell {
                p: GAP_EXTENSION,
                ..FRESH
            };
        }
        for (i, &p) in pattern.iter().enumerate() {
            let (cur, prev): (&mut [Cell], &[Cell]) = if i % 2 == 0 {
                (&mut *odd, &*even)
            } else {
                (&mut *even, &*odd)
            };
            let start = self.first[i];
            let (mut last_m, mut last_p) = (cur[start].m, cur[start].p);
            for col in start + 1..cols {
                let c = choice[col - 1];
                let diagonal = prev[col - 1];
                let m = if equal::<FOLD>(c, p) {
                    let penalty = if FOLD && c != p {
                        PENALTY_CASE_MISMATCH
                    } else {
                        0
                    };
                    let match_score = (SCORE_MATCH + penalty).max(0);
                    let in_place = bonuses[col];
                    // skim keeps this bonus in the previous column's cell, where a later
                    // pattern row of the same parity reads it again.
                    let consecutive = cur[col - 1].bonus.max(in_place.max(BONUS_CONSECUTIVE));
                    cur[col - 1].bonus = consecutive;
                    (diagonal.m + consecutive).max(diagonal.p + in_place) + match_score
                } else {
                    cur[col].bonus = 0;
                    NEG_INFINITY
                };
                let p_score = (GAP_START + GAP_EXTENSION + last_m).max(GAP_EXTENSION + last_p);
                cur[col].m = m;
                cur[col].p = p_score;
                last_m = m;
                last_p = p_score;
            }
        }
        let cells = &self.cells;
        let last_row = (pattern.len() & 1) * cols;
        let from = self.first[pattern.len() - 1];
        cells[last_row + from..last_row + cols]
            .iter()
            .map(|cell| cell.m)
            .max()
    }
}

fn equal<const FOLD: bool>(c: u8, p: u8) -> bool {
    if FOLD {
        c.eq_ignore_ascii_case(&p)
    } else {
        c == p
    }
}

/// Whether `needle` is a subsequence of `haystack`, byte for byte.
#[must_use]
pub fn subsequence_exact(haystack: &[u8], needle: &[u8]) -> bool {
    let mut want = needle.iter();
    let Some(mut next) = want.next() else {
        return true;
    };
    for byte in haystack {
        if byte == next {
            match want.next() {
                Some(n) => next = n,
                None => return true,
            }
        }
    }
    false
}

/// Whether `needle` (lower-case) is a subsequence of `haystack`, ignoring ASCII case.
#[must_use]
pub fn subsequence_lower(haystack: &[u8], needle: &[u8]) -> bool {
    let mut want = needle.iter();
    let Some(mut next) = want.next() else {
        return true;
    };
    for &byte in haystack {
        if byte.to_ascii_lowercase() == *next {
            match want.next() {
                Some(n) => next = n,
                None => return true,
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skim(choice: &str, pattern: &str) -> Option<i64> {
        SkimMatcherV2::default().fuzzy_match(choice, pattern)
    }

    #[test]
    fn scores_equal_skims_on_device_like_names() {
        for (choice, pattern) in [
            ("dev-0004217", "dev-00042"),
            ("dev-0004217", "d9"),
            ("3f9ad9e0c1d2b399", "d9"),
            ("FooBar", "fb"),
            ("FooBar", "FB"),
            ("foo/bar.baz", "fbb"),
            ("aaaa", "aa"),
            ("dd9d9", "d9"),
            ("", "a"),
            ("abc", ""),
            ("abc", "abx"),
        ] {
            let mut scorer = Scorer::new(pattern);
            assert_eq!(
                scorer.score(choice),
                skim(choice, pattern),
                "{choice:?} {pattern:?}"
            );
        }
    }

    #[test]
    fn text_that_is_not_ascii_is_scored_by_fuzzy_matcher() {
        let mut scorer = Scorer::new("zü");
        assert_eq!(scorer.score("Zürich"), skim("Zürich", "zü"));
        let mut scorer = Scorer::new("zr");
        assert_eq!(scorer.score("Zürich"), skim("Zürich", "zr"));
    }

    proptest! {
        #[test]
        fn scores_equal_a_fresh_skim_matcher(
            choice in "[a-dA-D0-9 ./_\\-\\(\\[:~\\x00]{0,24}",
            pattern in "[a-dA-D0-9 ./_\\-]{0,5}",
        ) {
            let mut scorer = Scorer::new(&pattern);
            // The scorer is reused: its scratch space must not leak between choices.
            let _ = scorer.score("dd-DD.dd/dd");
            prop_assert_eq!(scorer.score(&choice), skim(&choice, &pattern));
        }

        #[test]
        fn the_prefilter_is_a_necessary_condition(
            choice in "[a-dA-D0-9]{0,16}",
            pattern in "[a-d0-9]{0,4}",
        ) {
            if skim(&choice, &pattern).is_some() {
                prop_assert!(subsequence_lower(choice.as_bytes(), pattern.as_bytes()));
            }
        }
    }
}
