//! Making text from devices and the registry safe for a terminal: no control characters, no
//! escape sequences, no bidirectional overrides that could make a line read differently.

use std::borrow::Cow;

/// The character shown in place of anything unsafe.
pub const REPLACEMENT: char = '\u{FFFD}';

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `text` with every control character (C0, DEL, C1 — ESC included), bidi override and
/// directional mark replaced by U+FFFD. Borrowed when nothing needed replacing.
#[must_use]
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_unsafe) {
        Cow::Owned(
            text.chars()
                .map(|c| if is_unsafe(c) { REPLACEMENT } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// [`sanitize`], owned.
#[must_use]
pub fn clean(text: &str) -> String {
    sanitize(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_replaced() {
        let hostile = "dev\u{1b}]0;pwned\u{7}-1\r\n\u{9b}31m\u{202E}gnp.exe";
        let safe = sanitize(hostile);
        assert!(!safe.chars().any(is_unsafe), "{safe:?}");
        assert_eq!(
            safe,
            "dev\u{FFFD}]0;pwned\u{FFFD}-1\u{FFFD}\u{FFFD}\u{FFFD}31m\u{FFFD}gnp.exe"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        assert!(matches!(
            sanitize("CN=dev-0001, O=Acme ü"),
            Cow::Borrowed(_)
        ));
    }
}
