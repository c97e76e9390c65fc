//! Scrolling over long lists: keeps the selection visible and renders only
//! `rows[offset..offset + height]`, so a million rows cost what a screenful costs.

use std::cell::Cell;
use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Row, Table, TableState};

use super::Paint;
use crate::tui::keymap::Command;

/// Selection and scroll offset of a list of `len` rows.
#[derive(Debug, Default, Clone)]
pub struct Scroll {
    selected: usize,
    offset: Cell<usize>,
    page: Cell<usize>,
}

impl Scroll {
    /// The selected row.
    #[must_use]
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// Selects `row`, clamped to `len`.
    pub fn select(&mut self, row: usize, len: usize) {
        self.selected = row.min(len.saturating_sub(1));
    }

    /// Applies a movement command; `true` when it was one.
    pub fn apply(&mut self, command: Command, len: usize) -> bool {
        let page = self.page.get().max(1);
        let target = match command {
            Command::Up => self.selected.saturating_sub(1),
            Command::Down => self.selected.saturating_add(1),
            Command::PageUp => self.selected.saturating_sub(page),
            Command::PageDown => self.selected.saturating_add(page),
            Command::Top => 0,
            Command::Bottom => usize::MAX,
            _ => return false,
        };
        self.select(target, len);
        true
    }

    /// Scrolls by `delta` rows (mouse wheel).
    pub fn scroll_by(&mut self, delta: isize, len: usize) {
        self.select(self.selected.saturating_add_signed(delta), len);
    }

    /// The rows visible in `height` lines, moving the offset just enough to show the
    /// selection.
    pub fn visible(&self, len: usize, height: usize) -> Range<usize> {
        self.page.set(height);
        if len == 0 || height == 0 {
            return 0..0;
        }
        let selected = self.selected.min(len - 1);
        let mut offset = self.offset.get().min(len.saturating_sub(height));
        if selected < offset {
            offset = selected;
        } else if selected >= offset + height {
            offset = selected + 1 - height;
        }
        self.offset.set(offset);
        offset..(offset + height).min(len)
    }
}

/// Draws a table of `len` rows inside `block`, building only the visible ones with `row`.
#[allow(clippy::too_many_arguments)]
pub fn render_table<'a>(
    frame: &mut Frame,
    area: Rect,
    paint: &Paint,
    block: Block<'a>,
    header: Row<'a>,
    widths: &[Constraint],
    len: usize,
    scroll: &Scroll,
    row: impl Fn(usize) -> Row<'a>,
) {
    let inner = block.inner(area);
    // One line for the header.
    let height = usize::from(inner.height.saturating_sub(1));
    let range = scroll.visible(len, height);
    let start = range.start;
    let rows: Vec<Row<'a>> = range.map(row).collect();
    let mut state = TableState::default();
    if len > 0 {
        state.select(Some(scroll.selected().min(len - 1) - start));
    }
    let table = Table::new(rows, widths.iter().copied())
        .header(header.style(paint.theme.style("ui.header")))
        .block(block)
        .style(paint.theme.style("ui.text"))
        .row_highlight_style(paint.theme.style("ui.selection"))
        .highlight_symbol(">")
        .column_spacing(1);
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_selection() {
        let mut scroll = Scroll::default();
        assert_eq!(scroll.visible(1_000_000, 10), 0..10);
        scroll.apply(Command::Bottom, 1_000_000);
        assert_eq!(scroll.visible(1_000_000, 10), 999_990..1_000_000);
        scroll.apply(Command::PageUp, 1_000_000);
        assert_eq!(scroll.selected(), 999_989);
        assert_eq!(scroll.visible(1_000_000, 10), 999_989..999_999);
        scroll.apply(Command::Top, 1_000_000);
        assert_eq!(scroll.visible(1_000_000, 10), 0..10);
    }

    #[test]
    fn empty_and_tiny_lists_are_safe() {
        let mut scroll = Scroll::default();
        assert_eq!(scroll.visible(0, 10), 0..0);
        scroll.apply(Command::Down, 0);
        assert_eq!(scroll.selected(), 0);
        assert_eq!(scroll.visible(3, 0), 0..0);
        scroll.apply(Command::Bottom, 3);
        assert_eq!(scroll.visible(3, 10), 0..3);
    }

    #[test]
    fn a_shrinking_list_clamps_the_offset() {
        let mut scroll = Scroll::default();
        scroll.apply(Command::Bottom, 100);
        assert_eq!(scroll.visible(100, 10), 90..100);
        scroll.select(scroll.selected(), 5);
        assert_eq!(scroll.visible(5, 10), 0..5);
    }
}
