//! Where one pattern character is in a field of at most 64 bytes, as a 64-bit mask, eight
//! bytes at a time in ordinary integer arithmetic, inline in the scorer's loop. Device fields
//! are 16 to 40 bytes; iterating the places of a character there with `memchr` called its
//! vector routines once per place, which cost more than the search (measured with
//! `benches/filter_keystrokes.rs`, docs/benchmarks.md). Longer fields are still searched
//! with `memchr`.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// Bit 5 of every byte: setting it maps exactly the upper-case letters onto the lower-case.
const CASE_BIT: u64 = 0x2020_2020_2020_2020;
/// Gathers the top bit of each byte, shifted down to the byte's low bit, into the top byte.
const GATHER: u64 = 0x0102_0408_1020_4080;

/// The top bit of every byte of `word` that is zero.
fn zero_bytes(word: u64) -> u64 {
    // Per byte: the low seven bits plus 0x7f carry into the top bit unless all are zero;
    // with the byte's own top bit, a byte is zero when neither is set. No byte carries into
    // the next.
    !(((word & LOW7) + LOW7) | word | LOW7)
}

/// The bytes of `text` from `at` on, fewer than eight, little-endian, the missing ones zero.
fn tail_word(text: &[u8], at: usize) -> u64 {
    if text.len() >= 8 {
        // The last eight bytes, shifted down to start at `at`: no copy to a buffer.
        let last: [u8; 8] = text[text.len() - 8..].try_into().unwrap_or_default();
        u64::from_le_bytes(last) >> (8 * (at + 8 - text.len()))
    } else {
        text[at..]
            .iter()
            .rev()
            .fold(0, |word, &b| word << 8 | u64::from(b))
    }
}

/// The top bit of each of the first `n` bytes (all eight from 8 on).
fn first_bytes(n: usize) -> u64 {
    if n >= 8 { u64::MAX } else { (1 << (8 * n)) - 1 }
}

/// One pattern character to look for; an upper-case letter in the text stands for its lower
/// case when the search folds case and the character is a lower-case letter.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    every_byte: u64,
    case: u64,
}

impl Wanted {
    /// `c`, folding case when `FOLD`.
    pub fn new<const FOLD: bool>(c: u8) -> Self {
        Self {
            every_byte: u64::from_le_bytes([c; 8]),
            case: if FOLD && c.is_ascii_lowercase() {
                CASE_BIT
            } else {
                0
            },
        }
    }

    /// The top bit of each byte of `word` that is the character.
    fn in_word(self, word: u64) -> u64 {
        zero_bytes((word | self.case) ^ self.every_byte)
    }

    /// Its places in `text` (at most 64 bytes) as a mask, byte `i` at bit `i`.
    pub fn mask(self, text: &[u8]) -> u64 {
        debug_assert!(text.len() <= 64);
        let gather = |bits: u64| (bits >> 7).wrapping_mul(GATHER) >> 56;
        let words = text.chunks_exact(8);
        let rest = words.remainder().len();
        let full = text.len() - rest;
        // From the last word down, shifting up as it goes: a chain the compiler keeps in
        // integer registers (a loop over words in order it turns into slower vector code).
        let mut mask = if rest == 0 {
            0
        } else {
            gather(self.in_word(tail_word(text, full)) & first_bytes(rest))
        };
        for word in words.rev() {
            let bits = self.in_word(u64::from_le_bytes(word.try_into().unwrap_or_default()));
            mask = mask << 8 | gather(bits);
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(text: &[u8], c: u8, fold: bool) -> Vec<usize> {
        text.iter()
            .enumerate()
            .filter(|(_, b)| {
                **b == c || (fold && c.is_ascii_lowercase() && b.to_ascii_lowercase() == c)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn check(text: &[u8], c: u8, fold: bool) -> Result<(), TestCaseError> {
        let wanted = if fold {
            Wanted::new::<true>(c)
        } else {
            Wanted::new::<false>(c)
        };
        let expected = naive(text, c, fold);
        let mask = expected.iter().fold(0u64, |mask, i| mask | 1 << i);
        prop_assert_eq!(wanted.mask(text), mask);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn places_are_where_the_character_is(
            text in prop::collection::vec(any::<u8>(), 0..=64),
            c in any::<u8>(),
            fold in any::<bool>(),
        ) {
            check(&text, c, fold)?;
        }

        #[test]
        fn ascii_text_with_the_character_and_its_case(
            text in "[a-dA-D0-2 _-]{0,64}",
            c in prop::sample::select(b"abAB0_ \0".to_vec()),
            fold in any::<bool>(),
        ) {
            check(text.as_bytes(), c, fold)?;
        }
    }
}
