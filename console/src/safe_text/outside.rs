//! Text as a device or the registry sent it, held by the TUI's records: exact, for look-ups,
//! search and requests, and never on screen as it is.

use std::borrow::Borrow;
use std::fmt;

use super::SafeText;

/// Text from outside, kept exact. It has no `Display`, no `Deref` to `str` and does not turn
/// into ratatui text: a view can draw it only through [`OutsideText::safe`], so drawing it
/// raw does not compile. [`OutsideText::raw`] is for keys, search and requests.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutsideText(Box<str>);

impl OutsideText {
    /// The text neutralized for a terminal.
    #[must_use]
    pub fn safe(&self) -> SafeText<'_> {
        SafeText::new(&self.0)
    }

    /// The exact text: for look-ups, search and requests, never for the screen.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.0
    }
}

impl From<&str> for OutsideText {
    fn from(text: &str) -> Self {
        Self(text.into())
    }
}

impl From<String> for OutsideText {
    fn from(text: String) -> Self {
        Self(text.into())
    }
}

impl From<Box<str>> for OutsideText {
    fn from(text: Box<str>) -> Self {
        Self(text)
    }
}

impl Borrow<str> for OutsideText {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for OutsideText {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for OutsideText {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// Escaped as a string literal (for test failures and logs), never raw.
impl fmt::Debug for OutsideText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_gets_it_neutralized_and_look_ups_get_it_exact() {
        let name = OutsideText::from("dev\u{1b}[2J\u{202E}x");
        assert_eq!(name.safe(), "dev\u{FFFD}[2J\u{FFFD}x");
        assert_eq!(name.raw(), "dev\u{1b}[2J\u{202E}x");
        let mut set = std::collections::HashSet::new();
        set.insert(name);
        assert!(set.contains("dev\u{1b}[2J\u{202E}x"));
        assert!(!format!("{set:?}").contains('\u{1b}'));
    }
}
