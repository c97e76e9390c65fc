//! Key chords as written in keymaps (`ctrl-d`, `G`, `pagedown`, `?`) and as shown in help.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key with its modifiers, normalised so that `G` and `shift-g` are the same chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    code: ChordCode,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

/// The key itself, in an order-able form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ChordCode {
    Char(char),
    Named(Named),
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Named {
    Esc,
    Enter,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

const NAMES: [(&str, Named); 15] = [
    ("esc", Named::Esc),
    ("enter", Named::Enter),
    ("tab", Named::Tab),
    ("backtab", Named::BackTab),
    ("backspace", Named::Backspace),
    ("delete", Named::Delete),
    ("insert", Named::Insert),
    ("up", Named::Up),
    ("down", Named::Down),
    ("left", Named::Left),
    ("right", Named::Right),
    ("pageup", Named::PageUp),
    ("pagedown", Named::PageDown),
    ("home", Named::Home),
    ("end", Named::End),
];

const ALIASES: [(&str, &str); 6] = [
    ("escape", "esc"),
    ("return", "enter"),
    ("ret", "enter"),
    ("pgup", "pageup"),
    ("pgdn", "pagedown"),
    ("del", "delete"),
];

impl KeyChord {
    /// The chord a terminal key event stands for, or `None` for keys keymaps cannot name.
    #[must_use]
    pub fn from_event(event: KeyEvent) -> Option<Self> {
        let code = match event.code {
            KeyCode::Char(c) => ChordCode::Char(c),
            KeyCode::F(n) => ChordCode::F(n),
            KeyCode::Esc => ChordCode::Named(Named::Esc),
            KeyCode::Enter => ChordCode::Named(Named::Enter),
            KeyCode::Tab => ChordCode::Named(Named::Tab),
            KeyCode::BackTab => ChordCode::Named(Named::BackTab),
            KeyCode::Backspace => ChordCode::Named(Named::Backspace),
            KeyCode::Delete => ChordCode::Named(Named::Delete),
            KeyCode::Insert => ChordCode::Named(Named::Insert),
            KeyCode::Up => ChordCode::Named(Named::Up),
            KeyCode::Down => ChordCode::Named(Named::Down),
            KeyCode::Left => ChordCode::Named(Named::Left),
            KeyCode::Right => ChordCode::Named(Named::Right),
            KeyCode::PageUp => ChordCode::Named(Named::PageUp),
            KeyCode::PageDown => ChordCode::Named(Named::PageDown),
            KeyCode::Home => ChordCode::Named(Named::Home),
            KeyCode::End => ChordCode::Named(Named::End),
            _ => return None,
        };
        Some(Self::normalised(
            code,
            event.modifiers.contains(KeyModifiers::CONTROL),
            event.modifiers.contains(KeyModifiers::ALT),
            event.modifiers.contains(KeyModifiers::SHIFT),
        ))
    }

    /// Parses `q`, `G`, `?`, `-`, `ctrl-d`, `alt-x`, `shift-tab`, `pagedown`, `f5`, `space`.
    ///
    /// # Errors
    /// A reason fit for a message (`unknown key name "pgnd"`).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty key".to_owned());
        }
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let prefix = ["ctrl-", "c-", "alt-", "a-", "m-", "shift-", "s-"]
                .into_iter()
                .find(|p| lower.starts_with(p) && rest.len() > p.len());
            let Some(prefix) = prefix else { break };
            match prefix {
                "ctrl-" | "c-" => ctrl = true,
                "shift-" | "s-" => shift = true,
                _ => alt = true,
            }
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => ChordCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                let name = ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == lower)
                    .map_or(lower.as_str(), |(_, name)| name);
                if name == "space" {
                    ChordCode::Char(' ')
                } else if let Some(named) = NAMES.iter().find(|(n, _)| *n == name) {
                    ChordCode::Named(named.1)
                } else if let Some(n) = name
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=24).contains(n))
                {
                    ChordCode::F(n)
                } else {
                    return Err(format!("unknown key name \"{rest}\""));
                }
            }
        };
        Ok(Self::normalised(code, ctrl, alt, shift))
    }

    fn normalised(code: ChordCode, ctrl: bool, alt: bool, shift: bool) -> Self {
        let (code, shift) = match code {
            // A shifted letter arrives as its upper case; `shift-g` means `G`.
            ChordCode::Char(c) if c.is_alphabetic() && (shift || c.is_uppercase()) => {
                (ChordCode::Char(c.to_uppercase().next().unwrap_or(c)), false)
            }
            // Printable symbols already carry their shift (`?`, `:`); terminals disagree on
            // whether they also report SHIFT, so it is ignored.
            ChordCode::Char(c) => (ChordCode::Char(c), false),
            ChordCode::Named(Named::Tab) if shift => (ChordCode::Named(Named::BackTab), false),
            ChordCode::Named(Named::BackTab) => (ChordCode::Named(Named::BackTab), false),
            other => (other, shift),
        };
        Self {
            code,
            ctrl,
            alt,
            shift,
        }
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            ChordCode::Char(' ') => f.write_str("space"),
            ChordCode::Char(c) => write!(f, "{c}"),
            ChordCode::F(n) => write!(f, "f{n}"),
            ChordCode::Named(named) => {
                let name = NAMES
                    .iter()
                    .find(|(_, n)| *n == named)
                    .map_or("?", |(name, _)| name);
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chord(text: &str) -> KeyChord {
        KeyChord::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn shifted_letters_are_their_upper_case() {
        assert_eq!(chord("shift-g"), chord("G"));
        assert_eq!(chord("G").to_string(), "G");
        let event = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyChord::from_event(event), Some(chord("G")));
    }

    #[test]
    fn modifiers_and_names_round_trip() {
        for text in [
            "ctrl-d", "alt-x", "pagedown", "f5", "space", "backtab", "?", "-", "esc",
        ] {
            assert_eq!(chord(text).to_string(), text);
        }
        assert_eq!(chord("C-d"), chord("ctrl-d"));
        assert_eq!(chord("shift-tab"), chord("backtab"));
        assert_eq!(chord("PgDn"), chord("pagedown"));
    }

    #[test]
    fn events_map_to_the_parsed_chord() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(KeyChord::from_event(ctrl_c), Some(chord("ctrl-c")));
        let question = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(KeyChord::from_event(question), Some(chord("?")));
    }

    #[test]
    fn bad_keys_are_reported() {
        assert_eq!(
            KeyChord::parse("pgnd"),
            Err("unknown key name \"pgnd\"".to_owned())
        );
        assert!(KeyChord::parse("").is_err());
        assert!(KeyChord::parse("f99").is_err());
        assert!(KeyChord::parse("ctrl-").is_err());
    }
}
