//! JSON text that is safe to print on a terminal and still exact.
//!
//! JSON is an encoding, not a terminal: values keep what the device or the registry sent, so a
//! script can hand a thing name back to fleetid or compare it with AWS's own output. serde_json
//! escapes only C0 controls, `"` and `\`; DEL, C1 (`U+009B` is CSI on its own), bidirectional
//! controls, separators and invisible characters it writes as they are. This encoder escapes
//! every code point [`SafeText`](crate::safe_text::SafeText) neutralizes as `\uXXXX` too, so
//! `cat` of the output cannot drive the terminal, while a JSON reader gets the exact value back.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::safe_text::is_neutralized;

/// serde_json's formatter `F` with every neutralized code point written as an escape.
struct TerminalSafe<F>(F);

impl<F: Formatter> Formatter for TerminalSafe<F> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_neutralized(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// `value` as indented JSON in which no code point a terminal could act on appears
/// unescaped.
///
/// # Errors
/// serde_json's error when `value` cannot be written as JSON (a map with non-string keys).
pub fn to_terminal_safe_json(value: &impl Serialize) -> serde_json::Result<String> {
    write(value, TerminalSafe(PrettyFormatter::new()))
}

/// [`to_terminal_safe_json`] on one line (JSON lines, as `anomalies --follow` writes them).
///
/// # Errors
/// serde_json's error when `value` cannot be written as JSON (a map with non-string keys).
pub fn to_terminal_safe_json_line(value: &impl Serialize) -> serde_json::Result<String> {
    write(value, TerminalSafe(CompactFormatter))
}

fn write(value: &impl Serialize, formatter: impl Formatter) -> serde_json::Result<String> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    value.serialize(&mut serializer)?;
    // serde_json writes UTF-8, and every escape written here is ASCII.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn neutralized_code_points_are_escaped_and_the_value_is_kept() {
        let name = "dev\u{1b}[2J\u{9b}1m\u{202E}gnp.exe\u{200B}\u{2028}\u{E0041}";
        let text = to_terminal_safe_json(&json!({ "thing": name })).unwrap();
        assert_eq!(
            text,
            "{\n  \"thing\": \"dev\\u001b[2J\\u009b1m\\u202egnp.exe\\u200b\\u2028\\udb40\\udc41\"\n}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["thing"], name);
    }

    #[test]
    fn ordinary_text_is_written_as_serde_json_writes_it() {
        let value = json!({ "a": ["Zähler-東京", 1, null], "b": { "c": true } });
        assert_eq!(
            to_terminal_safe_json(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(
            to_terminal_safe_json_line(&value).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    proptest! {
        #[test]
        fn the_text_is_safe_and_reads_back_exactly(
            key in "\\PC{0,4}[\u{0}-\u{9f}\u{2000}-\u{206f}]{0,3}",
            value in any::<String>(),
        ) {
            let original = json!({ key.clone(): [value.clone()] });
            let text = to_terminal_safe_json(&original).unwrap();
            prop_assert!(!text.chars().filter(|&c| c != '\n').any(is_neutralized), "{text:?}");
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &original);
            let line = to_terminal_safe_json_line(&original).unwrap();
            prop_assert!(!line.chars().any(is_neutralized), "{line:?}");
            let back: Value = serde_json::from_str(&line).unwrap();
            prop_assert_eq!(back, original);
        }
    }
}
