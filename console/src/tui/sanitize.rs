//! Makes device-supplied text safe for the terminal: no escape sequences, no control
//! characters, no bidirectional overrides that could disguise a name.

use std::borrow::Cow;

/// The replacement for every unsafe character.
pub const REPLACEMENT: char = '\u{fffd}';

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters (C0, DEL, C1 — which covers ESC and CSI) and bidi
/// controls replaced by U+FFFD; borrowed when nothing needed replacing.
#[must_use]
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(unsafe_char) {
        Cow::Owned(
            text.chars()
                .map(|c| if unsafe_char(c) { REPLACEMENT } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_neutralised() {
        let hostile = "dev\u{1b}[2J\u{1b}]0;pwned\u{7}-1\r\n\u{9b}31m";
        let shown = clean(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("dev\u{fffd}[2J"));
    }

    #[test]
    fn bidi_overrides_are_replaced() {
        assert_eq!(clean("abc\u{202e}gpj.exe"), "abc\u{fffd}gpj.exe");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(clean("thing-42 ✓"), Cow::Borrowed(_)));
    }
}
