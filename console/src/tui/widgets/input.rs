//! A one-line text input for the filter, the palette, the help filter and confirmations.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEvent {
    /// The text changed.
    Changed,
    /// Enter.
    Submit,
    /// Esc.
    Cancel,
    /// Tab (completion).
    Complete,
    /// Cursor moved or nothing happened.
    Unchanged,
}

/// The text being typed and the cursor (a char index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    text: String,
    cursor: usize,
}

impl TextInput {
    /// An input holding `text`, cursor at the end.
    #[must_use]
    pub fn with_text(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            cursor: text.chars().count(),
        }
    }

    /// The text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        *self = Self::with_text(text);
    }

    /// The cursor position in chars.
    #[must_use]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies a key: printable characters insert, Backspace/Delete/arrows/Home/End edit,
    /// ctrl-u clears, ctrl-w deletes a word.
    pub fn handle_key(&mut self, key: KeyEvent) -> InputEvent {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => InputEvent::Submit,
            KeyCode::Esc => InputEvent::Cancel,
            KeyCode::Tab => InputEvent::Complete,
            KeyCode::Char('u') if ctrl => {
                self.set("");
                InputEvent::Changed
            }
            KeyCode::Char('w') if ctrl => {
                let end = self.byte_at(self.cursor);
                let head = self.text[..end].trim_end();
                let start = head.rfind(' ').map_or(0, |i| i + 1);
                self.text.replace_range(start..end, "");
                self.cursor = self.text[..start].chars().count();
                InputEvent::Changed
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                InputEvent::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
                InputEvent::Changed
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
                InputEvent::Changed
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                InputEvent::Unchanged
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.text.chars().count());
                InputEvent::Unchanged
            }
            KeyCode::Home => {
                self.cursor = 0;
                InputEvent::Unchanged
            }
            KeyCode::End => {
                self.cursor = self.text.chars().count();
                InputEvent::Unchanged
            }
            _ => InputEvent::Unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut TextInput, code: KeyCode) -> InputEvent {
        input.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn typing_editing_and_submitting() {
        let mut input = TextInput::default();
        for c in "dév-1".chars() {
            assert_eq!(press(&mut input, KeyCode::Char(c)), InputEvent::Changed);
        }
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Backspace);
        assert_eq!(input.text(), "dév1");
        press(&mut input, KeyCode::Home);
        press(&mut input, KeyCode::Delete);
        assert_eq!(input.text(), "év1");
        assert_eq!(press(&mut input, KeyCode::Enter), InputEvent::Submit);
        assert_eq!(press(&mut input, KeyCode::Esc), InputEvent::Cancel);
    }

    #[test]
    fn ctrl_w_deletes_the_last_word() {
        let mut input = TextInput::with_text("suppress 24h");
        input.handle_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(input.text(), "suppress ");
        assert_eq!(input.cursor(), 9);
    }
}
