//! Reusable pieces of the screen: tables that render only what is visible, the expiry
//! calendar, the CA tree, the environment banner, the overlays (help, palette, confirm).

pub mod banner;
pub mod confirm;
pub mod heatmap;
pub mod help;
pub mod input;
pub mod palette;
pub mod table;
pub mod tree;

use ratatui::layout::Rect;
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders};

use super::theme::Theme;

/// How borders and glyphs are drawn: Unicode box drawing, or plain ASCII for terminals and
/// fonts that mangle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Glyphs {
    /// Box drawing and block characters.
    #[default]
    Unicode,
    /// `+-|` and `.:o#`.
    Ascii,
}

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// What every render call needs besides its own state.
#[derive(Debug, Clone, Copy)]
pub struct Paint<'a> {
    /// Colours and modifiers.
    pub theme: &'a Theme,
    /// Border and glyph set.
    pub glyphs: Glyphs,
    /// "Now", so ages and countdowns are computed from one clock per frame.
    pub now: i64,
}

impl Paint<'_> {
    /// A bordered block with a title, in the theme's border style.
    #[must_use]
    pub fn block<'t>(&self, title: impl Into<Line<'t>>, focused: bool) -> Block<'t> {
        let border_scope = if focused {
            "ui.border.focused"
        } else {
            "ui.border"
        };
        let set = match self.glyphs {
            Glyphs::Unicode => border::PLAIN,
            Glyphs::Ascii => ASCII_BORDER,
        };
        Block::new()
            .borders(Borders::ALL)
            .border_set(set)
            .border_style(self.theme.style(border_scope))
            .title(title.into().style(self.theme.style("ui.title")))
    }
}

/// `[#####.....]`: `done` of `all` filled, `width` cells between the brackets, in the
/// glyph set's characters (an empty whole draws empty).
#[must_use]
pub fn progress_bar(done: usize, all: usize, width: usize, glyphs: Glyphs) -> String {
    let filled = (done * width).checked_div(all).unwrap_or(0).min(width);
    let (full, empty) = match glyphs {
        Glyphs::Unicode => ("█", "░"),
        Glyphs::Ascii => ("#", "."),
    };
    format!("[{}{}]", full.repeat(filled), empty.repeat(width - filled))
}

/// A rectangle of at most `width` x `height` centred in `area`.
#[must_use]
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_rects_fit_inside() {
        let area = Rect::new(0, 0, 10, 5);
        assert_eq!(centered(area, 40, 40), area);
        assert_eq!(centered(area, 4, 3), Rect::new(3, 1, 4, 3));
    }
}
