//! The fuzzy scorers a filter run can use, behind one per-thread type: the byte-level port
//! of skim's V2 algorithm ([`super::score`]) and helix's nucleo-matcher, the library itself
//! or its score computed straight on ASCII fields ([`super::nucleo_ascii`], the same scores).
//! All take smart case (case-sensitive when the pattern has an upper-case letter) and the
//! whole text as one fuzzy pattern (no `^`, `$`, `!` or word splitting). skim's and nucleo's
//! scores differ in scale and in what they reward, so a result's order depends on the
//! scorer; which rows match does not (both ask for the pattern as a subsequence, nucleo also
//! folding accents in text that is not ASCII).

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::index::AsciiField;
use super::nucleo_ascii::NucleoAscii;
use super::score::Scorer;

/// Which scorer ranks the fuzzy matches. nucleo's scores by default: measured side by side
/// on the same million rows (`benches/filter_keystrokes.rs`, docs/benchmarks.md) the library
/// took about half the time of the skim port per keystroke, and its score computed on the
/// ASCII fields directly less again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FuzzyScorer {
    /// The port of skim's V2 scorer (fuzzy-matcher's `SkimMatcherV2`).
    SkimPort,
    /// nucleo-matcher's `Atom` (fuzzy, smart case, smart normalization) on every field.
    Nucleo,
    /// The same scores, computed by [`NucleoAscii`] where pattern and field are ASCII.
    #[default]
    NucleoAscii,
}

impl FuzzyScorer {
    /// Its name in benchmark output.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::SkimPort => "skim-port",
            Self::Nucleo => "nucleo",
            Self::NucleoAscii => "nucleo-ascii",
        }
    }
}

/// nucleo-matcher prepared for one pattern, with its scratch space, and the same pattern for
/// ASCII fields when it is ASCII and wanted.
pub struct NucleoScorer {
    matcher: Matcher,
    atom: Atom,
    chars: Vec<char>,
    ascii: Option<NucleoAscii>,
}

impl std::fmt::Debug for NucleoScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NucleoScorer")
            .field("atom", &self.atom)
            .finish_non_exhaustive()
    }
}

impl NucleoScorer {
    /// Prepares `pattern` (non-empty); `direct`: ASCII fields are scored by [`NucleoAscii`].
    #[must_use]
    pub fn new(pattern: &str, direct: bool) -> Self {
        Self {
            ascii: direct.then(|| NucleoAscii::new(pattern)).flatten(),
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

    /// The score of an ASCII field, `None` when it does not match.
    #[inline]
    pub fn score_ascii(&mut self, field: AsciiField<'_>) -> Option<i64> {
        if let Some(ascii) = &mut self.ascii
            && ascii.fits(field.bytes.len())
        {
            return ascii
                .score(field.bytes, field.has_upper, field.inner)
                .map(i64::from);
        }
        self.atom
            .score(Utf32Str::Ascii(field.bytes), &mut self.matcher)
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
                Self::Nucleo(Box::new(NucleoScorer::new(pattern, false)))
            }
            FuzzyScorer::NucleoAscii if !pattern.is_empty() => {
                Self::Nucleo(Box::new(NucleoScorer::new(pattern, true)))
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

    /// The score of an ASCII field.
    #[inline]
    pub fn score_ascii(&mut self, field: AsciiField<'_>) -> Option<i64> {
        match self {
            Self::Skim(scorer) => scorer.score_ascii(field.bytes, field.has_upper),
            Self::Nucleo(scorer) => scorer.score_ascii(field),
        }
    }

    /// A score that no match in the ASCII field exceeds, when this scorer can tell without
    /// scoring it or reading its text (so a row's second field need not be read when its
    /// first scored as well).
    #[must_use]
    #[inline]
    pub fn bound(&self, field: AsciiField<'_>) -> Option<i64> {
        match self {
            Self::Nucleo(scorer) => match &scorer.ascii {
                Some(ascii) if ascii.fits(field.bytes.len()) => Some(i64::from(ascii.bound(
                    field.first,
                    field.has_upper,
                    field.inner,
                ))),
                _ => None,
            },
            Self::Skim(_) => None,
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
