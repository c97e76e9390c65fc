//! The `?` overlay: every binding from the keymap, filtered as you type.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row};

use super::input::{InputEvent, TextInput};
use super::table::{Scroll, render_table};
use super::{Paint, centered};
use crate::tui::action::Outcome;
use crate::tui::keymap::{Command, HelpEntry, Keymap};

/// The help overlay's state.
#[derive(Debug, Clone)]
pub struct HelpOverlay {
    entries: Vec<HelpEntry>,
    /// Per entry, why the console would refuse its command now.
    refused: Vec<Option<&'static str>>,
    filter: TextInput,
    shown: Vec<usize>,
    scroll: Scroll,
}

impl HelpOverlay {
    /// Help for `keymap`, unfiltered; commands the session would refuse (read-only, frozen)
    /// say so.
    #[must_use]
    pub fn new(keymap: &Keymap, read_only: bool, frozen: bool) -> Self {
        let entries = keymap.help_entries();
        let refused = entries
            .iter()
            .map(|e| Command::from_name(e.command).and_then(|c| c.refusal(read_only, frozen)))
            .collect();
        let shown = (0..entries.len()).collect();
        Self {
            entries,
            refused,
            filter: TextInput::default(),
            shown,
            scroll: Scroll::default(),
        }
    }

    /// The entries that match the filter, in help order.
    #[must_use]
    pub fn shown(&self) -> Vec<&HelpEntry> {
        self.shown.iter().map(|i| &self.entries[*i]).collect()
    }

    fn refilter(&mut self) {
        let matcher = crate::model::FuzzyScore;
        let query = self.filter.text();
        self.shown = (0..self.entries.len())
            .filter(|i| {
                let e = &self.entries[*i];
                let haystack = format!("{} {} {}", e.keys, e.command, e.description);
                query.is_empty() || matcher.of(&haystack, query).is_some()
            })
            .collect();
        self.scroll.select(0, self.shown.len());
    }

    /// Typing filters; arrows scroll; Esc closes.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Up => {
                self.scroll.apply(Command::Up, self.shown.len());
                return Outcome::Consumed;
            }
            KeyCode::Down => {
                self.scroll.apply(Command::Down, self.shown.len());
                return Outcome::Consumed;
            }
            KeyCode::PageUp => {
                self.scroll.apply(Command::PageUp, self.shown.len());
                return Outcome::Consumed;
            }
            KeyCode::PageDown => {
                self.scroll.apply(Command::PageDown, self.shown.len());
                return Outcome::Consumed;
            }
            _ => {}
        }
        match self.filter.handle_key(key) {
            InputEvent::Cancel | InputEvent::Submit => Outcome::Close,
            InputEvent::Changed => {
                self.refilter();
                Outcome::Consumed
            }
            InputEvent::Complete | InputEvent::Unchanged => Outcome::Consumed,
        }
    }

    /// Draws the overlay centred over `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let popup = centered(area, 76, area.height.saturating_sub(2).max(8));
        frame.render_widget(Clear, popup);
        let block = paint.block(" Keys (type to filter, Esc closes) ", true);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [input_area, table_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let prompt = Line::from(vec![
            Span::styled("filter: ", paint.theme.style("ui.text.dim")),
            Span::styled(self.filter.text().to_owned(), paint.theme.style("ui.input")),
        ]);
        frame.render_widget(Paragraph::new(prompt), input_area);
        let key_style = paint.theme.style("ui.help.key");
        let dim = paint.theme.style("ui.text.dim");
        render_table(
            frame,
            table_area,
            paint,
            ratatui::widgets::Block::new(),
            Row::new(["keys", "command", "what it does"]),
            &[
                Constraint::Length(16),
                Constraint::Length(15),
                Constraint::Min(10),
            ],
            self.shown.len(),
            &self.scroll,
            |i| {
                let e = &self.entries[self.shown[i]];
                let what = match self.refused[self.shown[i]] {
                    Some(why) => Line::from(vec![
                        Span::styled(why, paint.theme.style("ui.read-only")),
                        Span::styled(format!(" {}", e.description), dim),
                    ]),
                    None => Line::raw(e.description),
                };
                Row::new(vec![
                    Cell::from(Span::styled(e.keys.clone(), key_style)),
                    Cell::from(e.command),
                    Cell::from(what),
                ])
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::KeyModifiers;

    use super::*;

    #[test]
    fn a_read_only_session_marks_what_it_would_refuse() {
        let help = HelpOverlay::new(&Keymap::default(), true, false);
        let refused = |name: &str| {
            let i = help.entries.iter().position(|e| e.command == name);
            i.and_then(|i| help.refused[i])
        };
        assert_eq!(refused("revoke"), Some("refused: read-only"));
        assert_eq!(refused("halt"), Some("refused: read-only"));
        assert_eq!(refused("view-devices"), None);
        let frozen = HelpOverlay::new(&Keymap::default(), false, true);
        let at = |name: &str| frozen.entries.iter().position(|e| e.command == name);
        assert_eq!(
            at("promote").and_then(|i| frozen.refused[i]),
            Some("refused: frozen")
        );
        assert_eq!(at("halt").and_then(|i| frozen.refused[i]), None);
    }

    #[test]
    fn typing_filters_the_bindings() {
        let mut help = HelpOverlay::new(&Keymap::default(), false, false);
        let all = help.shown().len();
        for c in "revoke".chars() {
            help.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let shown = help.shown();
        assert!(shown.len() < all);
        assert_eq!(shown[0].command, "revoke");
        assert_eq!(
            help.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            Outcome::Close
        );
    }
}
