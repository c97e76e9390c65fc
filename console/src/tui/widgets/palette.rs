//! The `:` command palette: type a command, see fuzzy-ranked completions, Tab completes,
//! Enter runs.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph};

use super::input::{InputEvent, TextInput};
use super::{Paint, centered};
use crate::tui::action::{Action, Outcome};

/// How many completions the palette shows.
const SHOWN: usize = 8;

/// The palette's state.
#[derive(Debug, Clone)]
pub struct CommandPalette {
    candidates: Vec<String>,
    /// Per candidate, why the console would refuse it now.
    refused: Vec<Option<&'static str>>,
    input: TextInput,
    ranked: Vec<usize>,
    selected: usize,
}

impl CommandPalette {
    /// A palette completing from `candidates`, with `text` already typed.
    #[must_use]
    pub fn new(candidates: Vec<String>, text: &str) -> Self {
        let mut palette = Self {
            refused: vec![None; candidates.len()],
            candidates,
            input: TextInput::with_text(text),
            ranked: Vec::new(),
            selected: 0,
        };
        palette.rerank();
        palette
    }

    /// Marks the candidates the console would refuse now (read-only, frozen), with why.
    #[must_use]
    pub fn with_refusals(mut self, why: impl Fn(&str) -> Option<&'static str>) -> Self {
        self.refused = self.candidates.iter().map(|c| why(c)).collect();
        self
    }

    /// The completions in rank order.
    #[must_use]
    pub fn completions(&self) -> Vec<&str> {
        self.ranked
            .iter()
            .map(|i| self.candidates[*i].as_str())
            .collect()
    }

    /// The typed text.
    #[must_use]
    pub fn text(&self) -> &str {
        self.input.text()
    }

    fn rerank(&mut self) {
        let matcher = crate::model::FuzzyScore;
        let query = self.input.text().trim();
        let mut scored: Vec<(i64, usize)> = self
            .candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                if query.is_empty() {
                    Some((0, i))
                } else {
                    matcher.of(c, query).map(|score| (score, i))
                }
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.ranked = scored.into_iter().map(|(_, i)| i).collect();
        self.selected = 0;
    }

    /// Typing reranks; Up/Down choose; Tab completes; Enter runs what is typed (or the
    /// chosen completion when what is typed is only part of one); Esc closes.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                return Outcome::Consumed;
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.ranked.len().saturating_sub(1));
                return Outcome::Consumed;
            }
            _ => {}
        }
        match self.input.handle_key(key) {
            InputEvent::Cancel => Outcome::Close,
            InputEvent::Changed => {
                self.rerank();
                Outcome::Consumed
            }
            InputEvent::Complete => {
                if let Some(choice) = self.ranked.get(self.selected) {
                    let text = self.candidates[*choice].clone();
                    self.input.set(&text);
                    self.rerank();
                }
                Outcome::Consumed
            }
            InputEvent::Submit => {
                let typed = self.input.text().trim();
                let exact =
                    self.candidates.iter().any(|c| c == typed) || typed.split_once(' ').is_some();
                let text = match self.ranked.get(self.selected) {
                    Some(choice) if !exact => self.candidates[*choice].clone(),
                    _ => typed.to_owned(),
                };
                if text.is_empty() {
                    Outcome::Close
                } else {
                    Outcome::Action(Action::Run(text))
                }
            }
            InputEvent::Unchanged => Outcome::Consumed,
        }
    }

    /// Draws the palette near the top of `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let height = u16::try_from(self.ranked.len().min(SHOWN)).unwrap_or(0) + 3;
        let mut popup = centered(area, 60, height);
        popup.y = area.y + 1.min(area.height.saturating_sub(popup.height));
        frame.render_widget(Clear, popup);
        let block = paint.block(" : command (Tab completes, Enter runs) ", true);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        if inner.height == 0 {
            return;
        }
        let prompt = Line::from(vec![
            Span::styled(": ", paint.theme.style("ui.help.key")),
            Span::styled(self.input.text().to_owned(), paint.theme.style("ui.input")),
        ]);
        frame.render_widget(Paragraph::new(prompt), Rect { height: 1, ..inner });
        let list_area = Rect {
            y: inner.y + 1,
            height: inner.height - 1,
            ..inner
        };
        let items: Vec<ListItem> = self
            .ranked
            .iter()
            .take(SHOWN)
            .map(|i| match self.refused[*i] {
                Some(why) => ListItem::new(Line::from(vec![
                    Span::raw(format!("{}  ", self.candidates[*i])),
                    Span::styled(why, paint.theme.style("ui.read-only")),
                ])),
                None => ListItem::new(self.candidates[*i].clone()),
            })
            .collect();
        let mut state = ListState::default().with_selected(Some(self.selected.min(SHOWN)));
        let list = List::new(items).highlight_style(paint.theme.style("ui.selection"));
        frame.render_stateful_widget(list, list_area, &mut state);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::KeyModifiers;

    use super::*;

    fn press(palette: &mut CommandPalette, code: KeyCode) -> Outcome {
        palette.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn candidates() -> Vec<String> {
        [
            "view-devices",
            "view-dashboard",
            "quit",
            "theme mono",
            "theme default",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn refused_candidates_are_marked_and_still_complete() {
        let palette = CommandPalette::new(vec!["revoke".into(), "quit".into()], "")
            .with_refusals(|c| (c == "revoke").then_some("refused: read-only"));
        assert_eq!(palette.refused, vec![Some("refused: read-only"), None]);
        // Marked, not hidden: the command still completes (and is refused when run).
        assert_eq!(palette.completions(), vec!["revoke", "quit"]);
    }

    #[test]
    fn fuzzy_completion_ranks_and_tab_completes() {
        let mut palette = CommandPalette::new(candidates(), "");
        for c in "vdev".chars() {
            press(&mut palette, KeyCode::Char(c));
        }
        assert_eq!(palette.completions()[0], "view-devices");
        press(&mut palette, KeyCode::Tab);
        assert_eq!(palette.text(), "view-devices");
        assert_eq!(
            press(&mut palette, KeyCode::Enter),
            Outcome::Action(Action::Run("view-devices".to_owned()))
        );
    }

    #[test]
    fn enter_on_a_partial_word_runs_the_best_completion() {
        let mut palette = CommandPalette::new(candidates(), "mono");
        assert_eq!(
            press(&mut palette, KeyCode::Enter),
            Outcome::Action(Action::Run("theme mono".to_owned()))
        );
    }

    #[test]
    fn typed_arguments_run_as_typed() {
        let mut palette = CommandPalette::new(candidates(), "suppress 3d");
        assert_eq!(
            press(&mut palette, KeyCode::Enter),
            Outcome::Action(Action::Run("suppress 3d".to_owned()))
        );
        assert_eq!(press(&mut palette, KeyCode::Esc), Outcome::Close);
    }
}
