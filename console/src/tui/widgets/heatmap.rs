//! The expiry calendar: weeks across, weekdays down, each day shaded by how many
//! certificates expire on it. Shades differ in glyph as well as colour, so the calendar reads
//! the same with no colour at all.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Glyphs, Paint};
use crate::human::civil_date;

const UNICODE_SHADES: [&str; 5] = ["·", "░", "▒", "▓", "█"];
const ASCII_SHADES: [&str; 5] = [".", ":", "o", "O", "#"];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Day of the week of a day number, Monday = 0 (1970-01-01 was a Thursday).
#[must_use]
pub fn weekday(day: i64) -> usize {
    usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0)
}

/// The shade (0 = none, 4 = the busiest days) of `count` relative to `max`.
#[must_use]
pub fn shade(count: u32, max: u32) -> usize {
    if count == 0 || max == 0 {
        return 0;
    }
    let level = (u64::from(count) * 4).div_ceil(u64::from(max));
    usize::try_from(level.clamp(1, 4)).unwrap_or(4)
}

/// The glyphs for shades 0..=4.
#[must_use]
pub fn shades(glyphs: Glyphs) -> [&'static str; 5] {
    match glyphs {
        Glyphs::Unicode => UNICODE_SHADES,
        Glyphs::Ascii => ASCII_SHADES,
    }
}

/// How many weeks fit in `width` columns (4 for the weekday labels, 2 per week).
#[must_use]
pub fn weeks_that_fit(width: u16) -> usize {
    usize::from(width.saturating_sub(4) / 2)
}

/// Draws the calendar of `per_day` (day `start_day + i`) with the day `cursor` highlighted.
/// Uses 8 lines: month labels, then Monday to Sunday.
pub fn render_calendar(
    frame: &mut Frame,
    area: Rect,
    paint: &Paint,
    per_day: &[u32],
    start_day: i64,
    cursor: usize,
) {
    let weeks = weeks_that_fit(area.width).min(per_day.len().div_ceil(7) + 1);
    if weeks == 0 || area.height == 0 {
        return;
    }
    let max = per_day.iter().copied().max().unwrap_or(0);
    let first_monday = start_day - i64::try_from(weekday(start_day)).unwrap_or(0);
    let glyph_set = shades(paint.glyphs);
    let dim = paint.theme.style("ui.text.dim");

    let mut months = String::from("    ");
    let mut last_month = 0;
    for week in 0..weeks {
        let day = first_monday + i64::try_from(week * 7).unwrap_or(0);
        let (_, month, _) = civil_date(day);
        if month != last_month && months.chars().count() <= 4 + week * 2 {
            let label = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
            while months.chars().count() < 4 + week * 2 {
                months.push(' ');
            }
            months.push_str(label);
            last_month = month;
        }
    }
    let mut lines = vec![Line::styled(months, dim)];
    for (row, name) in WEEKDAYS.iter().enumerate() {
        let mut spans = vec![Span::styled(format!("{name} "), dim)];
        for week in 0..weeks {
            let day = first_monday + i64::try_from(week * 7 + row).unwrap_or(0);
            let index = usize::try_from(day - start_day).ok();
            let (glyph, mut style) = match index.and_then(|i| per_day.get(i).map(|c| (i, *c))) {
                Some((_, count)) => {
                    let level = shade(count, max);
                    (
                        glyph_set[level],
                        paint.theme.style(&format!("heatmap.{level}")),
                    )
                }
                None => (" ", Style::new()),
            };
            if index == Some(cursor) {
                style = style.patch(paint.theme.style("ui.cursor"));
            }
            spans.push(Span::styled(glyph, style));
            spans.push(Span::raw(" "));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The legend line: each shade's glyph with the count range it stands for.
#[must_use]
pub fn legend<'a>(paint: &Paint, max: u32) -> Line<'a> {
    let glyph_set = shades(paint.glyphs);
    let mut spans = vec![Span::styled("less ", paint.theme.style("ui.text.dim"))];
    for (level, glyph) in glyph_set.iter().enumerate() {
        spans.push(Span::styled(
            *glyph,
            paint.theme.style(&format!("heatmap.{level}")),
        ));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        format!("more (max {max}/day)"),
        paint.theme.style("ui.text.dim"),
    ));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_monday_based() {
        assert_eq!(weekday(0), 3); // 1970-01-01, a Thursday
        assert_eq!(weekday(20_782), 2); // 2026-11-25, a Wednesday
    }

    #[test]
    fn shades_scale_to_the_busiest_day() {
        assert_eq!(shade(0, 10), 0);
        assert_eq!(shade(1, 10), 1);
        assert_eq!(shade(5, 10), 2);
        assert_eq!(shade(10, 10), 4);
        assert_eq!(shade(u32::MAX, u32::MAX), 4);
    }
}
