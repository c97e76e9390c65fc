//! Which code points never reach a terminal as themselves, and the one they are shown as.
//!
//! Three kinds of code point can make a terminal do something, or make one name look like
//! another:
//! - controls (C0, DEL, C1): ESC starts every CSI and OSC sequence, and C1 `U+009B` / `U+009D`
//!   are CSI and OSC on their own;
//! - bidirectional controls, which reorder what follows them (`U+061C`, `U+200E`/`U+200F`,
//!   `U+202A`–`U+202E`, `U+2066`–`U+2069`), and the line and paragraph separators
//!   `U+2028`/`U+2029`;
//! - invisible characters: every format character (general category Cf: zero-width space,
//!   joiners, word joiner, soft hyphen, BOM, tags, ...) and the other default-ignorable code
//!   points (combining grapheme joiner, Hangul fillers, variation selectors, ...), which draw
//!   nothing and so let `admin` and `adm\u{200B}in` look alike.

/// The character shown in place of a neutralized one: visible, so two names that differ only
/// in an invisible character still look different.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Format characters (Cf, Unicode 16) and default-ignorable code points that are not controls.
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{115F}', '\u{1160}'),   // Hangul fillers
    ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
    ('\u{180B}', '\u{180F}'),   // Mongolian variation selectors and vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, (non-)joiner, LRM, RLM
    ('\u{2028}', '\u{2029}'),   // line and paragraph separators
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates, deprecated
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FE00}', '\u{FE0F}'),   // variation selectors
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
    ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
    ('\u{FFF0}', '\u{FFFB}'),   // unassigned specials, interlinear annotation
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1345F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol format controls
    ('\u{E0000}', '\u{E0FFF}'), // tags and variation selectors supplement
];

/// True for every code point that is shown as [`REPLACEMENT`] instead of itself.
#[must_use]
pub fn is_neutralized(c: char) -> bool {
    if c.is_control() {
        return true;
    }
    // Everything below U+00AD is printable ASCII or Latin-1: the common case returns here.
    if c < '\u{00AD}' {
        return false;
    }
    INVISIBLE
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_are_sorted_and_disjoint_for_the_binary_search() {
        for pair in INVISIBLE.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
    }

    #[test]
    fn controls_are_neutralized() {
        let c0 = '\u{0}'..='\u{1F}';
        let c1 = '\u{80}'..='\u{9F}';
        for c in c0.chain(['\u{7F}']).chain(c1) {
            assert!(is_neutralized(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn bidi_controls_and_separators_are_neutralized() {
        let listed = ['\u{061C}', '\u{200E}', '\u{200F}', '\u{2028}', '\u{2029}']
            .into_iter()
            .chain('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}');
        for c in listed {
            assert!(is_neutralized(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn zero_width_and_format_characters_are_neutralized() {
        let invisible = [
            '\u{00AD}',
            '\u{034F}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{2061}',
            '\u{2064}',
            '\u{206F}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{E0100}',
        ];
        for c in invisible {
            assert!(is_neutralized(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn printable_text_is_kept() {
        let kept =
            "Zähler-東京 dev_0001:α/β café ﷺ 👍 \u{FFFD} ~ \u{A0}\u{AC}\u{AE}\u{2010}\u{2070}";
        for c in kept.chars() {
            assert!(!is_neutralized(c), "{:04X}", u32::from(c));
        }
    }
}
