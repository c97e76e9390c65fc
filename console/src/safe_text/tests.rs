use std::borrow::Cow;

use proptest::prelude::*;

use super::*;

fn neutralized(text: &str) -> String {
    SafeText::new(text).as_str().to_owned()
}

#[test]
fn escape_sequences_lose_their_escape() {
    // CSI (clear screen), OSC (set the window title, BEL-terminated), OSC 8 hyperlink with ST.
    let hostile = "a\u{1b}[2Jb\u{1b}]0;pwned\u{7}c\u{1b}]8;;http://x\u{1b}\\d";
    assert_eq!(
        neutralized(hostile),
        "a\u{FFFD}[2Jb\u{FFFD}]0;pwned\u{FFFD}c\u{FFFD}]8;;http://x\u{FFFD}\\d"
    );
}

#[test]
fn c1_controls_and_line_breaks_are_replaced() {
    // U+009B is CSI and U+009D is OSC on their own; U+0085 is NEL.
    assert_eq!(
        neutralized("x\u{9b}31my\u{9d}0;t\u{85}z\r\n\t"),
        "x\u{FFFD}31my\u{FFFD}0;t\u{FFFD}z\u{FFFD}\u{FFFD}\u{FFFD}"
    );
}

#[test]
fn bidi_controls_cannot_reorder_a_name() {
    // With U+202E (right-to-left override) before it, "gnp.exe" reads "exe.png" on screen.
    assert_eq!(neutralized("dev-1\u{202E}gnp.exe"), "dev-1\u{FFFD}gnp.exe");
    assert_eq!(
        neutralized("\u{2067}a\u{2069}\u{061C}b\u{200E}c\u{200F}"),
        "\u{FFFD}a\u{FFFD}\u{FFFD}b\u{FFFD}c\u{FFFD}"
    );
}

#[test]
fn separators_cannot_start_a_new_line() {
    assert_eq!(neutralized("a\u{2028}b\u{2029}c"), "a\u{FFFD}b\u{FFFD}c");
}

#[test]
fn an_invisible_character_cannot_make_two_names_look_alike() {
    for hidden in [
        '\u{200B}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{00AD}',
        '\u{E0061}',
    ] {
        let lookalike = format!("adm{hidden}in");
        assert_eq!(neutralized(&lookalike), "adm\u{FFFD}in");
        assert_ne!(neutralized(&lookalike), neutralized("admin"));
    }
}

#[test]
fn ordinary_non_ascii_text_stays_readable_and_borrowed() {
    let text = "Zähler-東京 CN=dev-0001, O=Acme ü";
    let safe = SafeText::new(text);
    assert_eq!(safe, text);
    assert!(matches!(Cow::from(safe), Cow::Borrowed(_)));
}

#[test]
fn from_string_cleans_what_format_put_together() {
    let name = "x\u{1b}[31m";
    let safe = SafeText::from_string(format!("thing {name} gone"));
    assert_eq!(safe, "thing x\u{FFFD}[31m gone");
}

#[test]
fn lines_keep_meant_line_breaks_only() {
    let lines = SafeText::lines("first\r\nsecond\u{1b}[K\nthird\u{2028}x");
    let lines: Vec<&str> = lines.iter().map(SafeText::as_str).collect();
    assert_eq!(lines, ["first", "second\u{FFFD}[K", "third\u{FFFD}x"]);
}

#[test]
fn cut_marks_where_text_was_cut() {
    let safe = SafeText::new("abcdef");
    assert_eq!(safe.cut(4), "abc…");
    assert_eq!(safe.cut(6), "abcdef");
    assert_eq!(SafeText::new("東京東京").cut(3), "東京…");
}

#[test]
fn join_and_display_give_the_clean_text() {
    let parts = [SafeText::new("a\u{7}"), SafeText::new("b")];
    let joined = SafeText::join(parts, &SafeText::new(", "));
    assert_eq!(joined.to_string(), "a\u{FFFD}, b");
    assert_eq!(format!("[{:<4}]", SafeText::new("x")), "[x   ]");
}

/// Arbitrary strings weighted towards the code points that matter: ASCII, ESC, C1, bidi,
/// separators, zero-width and tag characters, and anything else.
fn hostile_text() -> impl Strategy<Value = String> {
    let interesting = prop_oneof![
        4 => proptest::char::range(' ', '~'),
        1 => Just('\u{1b}'),
        1 => proptest::char::range('\u{0}', '\u{9f}'),
        1 => proptest::char::range('\u{200B}', '\u{206F}'),
        1 => prop::sample::select(vec!['\u{061C}', '\u{FEFF}', '\u{00AD}', '\u{E0041}', '\u{FE0F}']),
        2 => any::<char>(),
    ];
    proptest::collection::vec(interesting, 0..40).prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #[test]
    fn no_neutralized_code_point_survives(text in hostile_text()) {
        let safe = SafeText::new(&text);
        prop_assert!(!safe.as_str().chars().any(is_neutralized), "{:?}", safe);
        prop_assert!(!safe.as_str().contains('\u{1b}'), "{:?}", safe);
        // One character for one: widths and positions stay where they were.
        prop_assert_eq!(safe.char_count(), text.chars().count());
        let owned = SafeText::from_string(text.clone());
        prop_assert_eq!(owned.as_str(), safe.as_str());
    }

    #[test]
    fn safe_text_passes_through_unchanged(text in hostile_text()) {
        let kept: String = text.chars().filter(|&c| !is_neutralized(c)).collect();
        let safe = SafeText::new(&kept);
        prop_assert_eq!(safe.as_str(), kept.as_str());
    }
}
