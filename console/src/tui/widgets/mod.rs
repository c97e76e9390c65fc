//! Reusable pieces of the screen: tables that render only what is visible, the expiry
//! calendar, the CA tree, the environment banner, and the overlays (help, palette, confirm).

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

/// A short age: `12s`, `5m`, `3h`, `2d`; `never` for none.
#[must_use]
pub fn age(now: i64, then: Option<i64>) -> String {
    let Some(then) = then else {
        return "never".to_owned();
    };
    let secs = (now - then).max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// The civil date (year, month, day) of a day number (days since 1970-01-01).
#[must_use]
pub fn civil_date(day: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `2026-11-25` for a Unix time.
#[must_use]
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_date(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-25 08:30` for a Unix time (UTC).
#[must_use]
pub fn date_time(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        date(unix),
        secs / 3_600,
        secs % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_795_600_000), "2026-11-25");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date_time(1_795_600_000 + 3_660), "2026-11-25 10:47");
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(age(100, Some(88)), "12s");
        assert_eq!(age(10_000, Some(0)), "2h");
        assert_eq!(age(0, None), "never");
        assert_eq!(age(0, Some(50)), "0s");
    }

    #[test]
    fn centred_rects_fit_inside() {
        let area = Rect::new(0, 0, 10, 5);
        assert_eq!(centered(area, 40, 40), area);
        assert_eq!(centered(area, 4, 3), Rect::new(3, 1, 4, 3));
    }
}
