//! The fuzzy scorers a filter run can use, behind one per-thread type: the byte-level port
//! of skim's V2 algorithm ([`super::score`]) and helix's nucleo-matcher. Both take smart
//! case (case-sensitive when the pattern has an upper-case letter) and the whole text as one
//! fuzzy pattern (no `^`, `$`, `!` or word splitting). Their scores differ in scale and in
//! what they reward, so a result's order depends on the scorer; which rows match does not
//! (both ask for the pattern as a subsequence, nucleo also folding accents in text that is
//! not ASCII).

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::score::Scorer;

/// Which scorer ranks the fuzzy matches. nucleo by default: measured side by side on the
/// same million rows (`benches/filter_keystrokes.rs`, docs/benchmarks.md) it took about
/// half the time of the skim port per keystroke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FuzzyScorer {
    /// The port of skim's V2 scorer (fuzzy-matcher's `SkimMatcherV2`).
    SkimPort,
    /// nucleo-matcher's `Atom` (fuzzy, smart case, smart normalization).
    #[default]
    Nucleo,
}

impl FuzzyScorer {
    /// Its name in benchmark output.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::SkimPort => "skim-port",
            Self::Nucleo => "nucleo",
        }
    }
}

/// nucleo-matcher prepared for one pattern, with its scratch space.
pub struct NucleoScorer {
    matcher: Matcher,
    atom: Atom,
    chars: Vec<char>,
}

impl std::fmt::Debug for NucleoScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NucleoScorer")
            .field("atom", &self.atom)
            .finish_non_exhaustive()
    }
}

impl NucleoScorer {
    /// Prepares `pattern` (non-empty).
    #[must_use]
    pub fn new(pattern: &str) -> Self {
        Self {
            matcher: Matcher::new(Config::DEFAULT),
            atom: Atom::new(
                pattern,
                CaseMatching::Smart,
                Normalization::Smart,
                AtomKind::Fuzzy,
                false,
            ),
            chars: Vec::new(),
        }
    }

    /// The score of ASCII `choice`, `None` when it does not match.
    pub fn score_ascii(&mut self, choice: &[u8]) -> Option<i64> {
        self.atom
            .score(Utf32Str::Ascii(choice), &mut self.matcher)
            .map(i64::from)
    }

    /// The score of any `choice`.
    pub fn score(&mut self, choice: &str) -> Option<i64> {
        let haystack = Utf32Str::new(choice, &mut self.chars);
        self.atom.score(haystack, &mut self.matcher).map(i64::from)
    }
}

/// One thread's scorer for one pattern.
#[derive(Debug)]
pub enum FieldScorer {
    /// The skim port.
    Skim(Scorer),
    /// nucleo-matcher.
    Nucleo(Box<NucleoScorer>),
}

impl FieldScorer {
    /// Prepares `pattern` for `kind`.
    #[must_use]
    pub fn new(kind: FuzzyScorer, pattern: &str) -> Self {
        match kind {
            FuzzyScorer::Nucleo if !pattern.is_empty() => {
                Self::Nucleo(Box::new(NucleoScorer::new(pattern)))
            }
            _ => Self::Skim(Scorer::new(pattern)),
        }
    }

    /// Whether the pattern is empty (everything matches with score 0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Skim(scorer) => scorer.is_empty(),
            Self::Nucleo(_) => false,
        }
    }

    /// The score of an ASCII field; `has_upper`: it has an upper-case letter.
    pub fn score_ascii(&mut self, choice: &[u8], has_upper: bool) -> Option<i64> {
        match self {
            Self::Skim(scorer) => scorer.score_ascii(choice, has_upper),
            Self::Nucleo(scorer) => scorer.score_ascii(choice),
        }
    }

    /// The score of any field.
    pub fn score(&mut self, choice: &str) -> Option<i64> {
        match self {
            Self::Skim(scorer) => scorer.score(choice),
            Self::Nucleo(scorer) => scorer.score(choice),
        }
    }
}
