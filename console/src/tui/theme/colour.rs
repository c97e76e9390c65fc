//! Colour and modifier names as written in theme files.

use ratatui::style::{Color, Modifier};

/// The 16 ANSI colour names a theme may use (and `reset`, the terminal's own colour).
const ANSI: [(&str, Color); 17] = [
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark-gray", Color::DarkGray),
    ("light-red", Color::LightRed),
    ("light-green", Color::LightGreen),
    ("light-yellow", Color::LightYellow),
    ("light-blue", Color::LightBlue),
    ("light-magenta", Color::LightMagenta),
    ("light-cyan", Color::LightCyan),
    ("white", Color::White),
];

/// Parses an ANSI colour name or `#rrggbb`; `None` for anything else.
#[must_use]
pub fn parse_literal(text: &str) -> Option<Color> {
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let value = u32::from_str_radix(hex, 16).ok()?;
        let [_, r, g, b] = value.to_be_bytes();
        return Some(Color::Rgb(r, g, b));
    }
    ANSI.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, colour)| *colour)
}

/// Parses a modifier name (`bold`, `dim`, `italic`, `underlined`, `reversed`).
#[must_use]
pub fn parse_modifier(text: &str) -> Option<Modifier> {
    Some(match text {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed-out" => Modifier::CROSSED_OUT,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_ansi_names_parse() {
        assert_eq!(parse_literal("#ff0080"), Some(Color::Rgb(255, 0, 128)));
        assert_eq!(parse_literal("light-red"), Some(Color::LightRed));
        assert_eq!(parse_literal("Dark-Gray"), Some(Color::DarkGray));
    }

    #[test]
    fn malformed_colours_are_refused() {
        for bad in ["#ff00", "#gg0000", "purpel", "", "#ff00801"] {
            assert_eq!(parse_literal(bad), None, "{bad}");
        }
    }

    #[test]
    fn modifiers_parse_and_unknown_ones_do_not() {
        assert_eq!(parse_modifier("reversed"), Some(Modifier::REVERSED));
        assert_eq!(parse_modifier("blink-fast"), None);
    }
}
