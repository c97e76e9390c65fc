//! Text from outside — devices, the registry, AWS error messages, files — made safe for a
//! terminal: [`SafeText`] is the only form in which such text reaches the screen, the tables,
//! CSV and stderr.
//!
//! Every constructor neutralizes (see [`neutralize`] for which code points and why), so a
//! `SafeText` in hand is proof that the text was cleaned. The renderers take `SafeText`, not
//! `&str`: handing them a raw string from the model does not compile. The TUI's records hold
//! outside text as [`OutsideText`], which a view can draw only through its `safe()`. JSON is an encoding, not
//! a terminal: it keeps exact values and escapes the same code points (`render::json`).

mod neutralize;
mod outside;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

pub use neutralize::{REPLACEMENT, is_neutralized};
pub use outside::OutsideText;

/// One line of text with every control, bidirectional control, separator and invisible format
/// character replaced by [`REPLACEMENT`]. Borrows its input when nothing needed replacing.
///
/// There is no `From<&str>` or `From<String>`: making one is a visible [`SafeText::new`] or
/// [`SafeText::from_string`], and both clean.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeText<'a>(Cow<'a, str>);

impl<'a> SafeText<'a> {
    /// `text`, neutralized; borrowed when it was safe already.
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        if text.chars().any(is_neutralized) {
            Self(Cow::Owned(replaced(text)))
        } else {
            Self(Cow::Borrowed(text))
        }
    }

    /// The text, safe to print.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Number of characters (what a table aligns by).
    #[must_use]
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }

    /// True when there is no text.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same text, owned.
    #[must_use]
    pub fn into_owned(self) -> SafeText<'static> {
        SafeText(Cow::Owned(self.0.into_owned()))
    }

    /// The first `max` characters, the last of them `…` when the text was longer.
    #[must_use]
    pub fn cut(&self, max: usize) -> SafeText<'_> {
        if max == 0 || self.0.chars().nth(max).is_none() {
            return SafeText(Cow::Borrowed(&self.0));
        }
        let mut cut: String = self.0.chars().take(max - 1).collect();
        cut.push('…');
        SafeText(Cow::Owned(cut))
    }

    /// The parts joined by `separator`: safe pieces make a safe whole.
    #[must_use]
    pub fn join<'p>(
        parts: impl IntoIterator<Item = SafeText<'p>>,
        separator: &SafeText<'_>,
    ) -> SafeText<'static> {
        let mut joined = String::new();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                joined.push_str(separator.as_str());
            }
            joined.push_str(part.as_str());
        }
        SafeText(Cow::Owned(joined))
    }

    /// The text as a `Cow`, for the terminal layer (ratatui) to take without copying.
    #[must_use]
    pub fn into_cow(self) -> Cow<'a, str> {
        self.0
    }
}

impl SafeText<'static> {
    /// `text`, neutralized; keeps the allocation when it was safe already. For text built with
    /// `format!`: whatever went into it, the result is cleaned as a whole.
    #[must_use]
    pub fn from_string(text: String) -> Self {
        if text.chars().any(is_neutralized) {
            Self(Cow::Owned(replaced(&text)))
        } else {
            Self(Cow::Owned(text))
        }
    }

    /// Each line of `text` (split at `\n`, a `\r` before it dropped), neutralized: for
    /// multi-line messages whose line breaks are meant.
    #[must_use]
    pub fn lines(text: &str) -> Vec<Self> {
        text.lines()
            .map(|line| SafeText::new(line).into_owned())
            .collect()
    }
}

fn replaced(text: &str) -> String {
    text.chars()
        .map(|c| if is_neutralized(c) { REPLACEMENT } else { c })
        .collect()
}

impl fmt::Display for SafeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for SafeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for SafeText<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SafeText<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// The exit to the terminal layer: ratatui's `Span::raw`, `Span::styled` and `Line::styled` take
/// anything that becomes a `Cow<str>`.
impl<'a> From<SafeText<'a>> for Cow<'a, str> {
    fn from(text: SafeText<'a>) -> Self {
        text.0
    }
}

impl<'a> From<SafeText<'a>> for ratatui::text::Line<'a> {
    fn from(text: SafeText<'a>) -> Self {
        Self::raw(text.0)
    }
}

/// Also makes a table `Cell` (ratatui builds cells from anything that becomes `Text`).
impl<'a> From<SafeText<'a>> for ratatui::text::Text<'a> {
    fn from(text: SafeText<'a>) -> Self {
        Self::raw(text.0)
    }
}
