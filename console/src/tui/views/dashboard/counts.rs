//! The dashboard's boxes of numbers: certificates by status, the expiry calendar of the coming
//! weeks with the expired and expiring sums, and connected devices over the last hour.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::bar;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::freshness::{self, title};
use super::online::OnlineHistory;
use crate::human::{count, share};
use crate::model::{CertStatus, Source};
use crate::tui::data::{FleetSnapshot, Look};
use crate::tui::widgets::heatmap::{render_calendar, shades, weekday};
use crate::tui::widgets::{Glyphs, Paint};

/// Weeks of the calendar shown at least (at 80 columns), and at most.
const WEEKS: (usize, usize) = (8, 53);

/// Width of the sums beside the calendar (`next 90 d   199`).
const SUMS: u16 = 17;

/// The sparkline's bars in characters every terminal has.
const ASCII_BARS: bar::Set<'static> = bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "=",
    five_eighths: "=",
    half: "-",
    three_eighths: "-",
    one_quarter: ".",
    one_eighth: ".",
    empty: " ",
};

/// `label      count   share`, the count in `style`.
fn row(label: &str, value: u64, style: Style, extra: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!("{label:<10}")),
        Span::styled(format!("{value:>7}"), style),
        Span::raw(format!("{extra:>9}")),
    ])
}

/// The dashboard's lines of certificate statuses: one each, the three waiting ones together
/// (they share a label; the first names the line).
const STATUS_LINES: [&[CertStatus]; 5] = [
    &[CertStatus::Active],
    &[CertStatus::Inactive],
    &[CertStatus::Revoked],
    &[
        CertStatus::PendingActivation,
        CertStatus::PendingTransfer,
        CertStatus::RegisterInactive,
    ],
    &[CertStatus::Unknown],
];

/// Certificates by status, each with its share of all.
pub fn certificates(frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
    let d = &snapshot.dashboard;
    let fresh = freshness::of(snapshot, Source::Certificates);
    let all = d.status_counts.total();
    let mut lines: Vec<Line> = STATUS_LINES
        .iter()
        .map(|statuses| {
            let n = statuses.iter().map(|s| d.status_counts.get(*s)).sum();
            let shown = statuses[0];
            row(
                shown.label(),
                n,
                paint.theme.style(shown.scope()),
                &share(n, all),
            )
        })
        .collect();
    if area.height > 8 {
        lines.push(Line::raw(""));
        lines.push(row(
            "all",
            all,
            paint.theme.style("ui.text"),
            &share(all, all),
        ));
    }
    let block = paint.block(title(paint, "Certificates", fresh, area.width), false);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(paint.theme.style("ui.text")),
        area,
    );
}

/// How many weeks of calendar fit beside the sums in a box `width` wide.
fn weeks_for(width: u16) -> usize {
    let calendar = width.saturating_sub(2 + 1 + SUMS + 4);
    usize::from(calendar / 2).clamp(WEEKS.0, WEEKS.1)
}

/// The coming weeks of the whole fleet's expiry calendar, with the sums beside it.
pub fn expiry(frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
    let d = &snapshot.dashboard;
    let weeks = weeks_for(area.width);
    let name = format!("Expiry, next {weeks} weeks");
    let fresh = freshness::of(snapshot, Source::Certificates);
    let block = paint.block(title(paint, &name, fresh, area.width), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(series) = snapshot.heatmap.series.first() else {
        frame.render_widget(Paragraph::new("no certificates loaded yet"), inner);
        return;
    };
    let calendar_width = u16::try_from(4 + 2 * weeks).unwrap_or(u16::MAX);
    let [calendar, _, sums] = Layout::horizontal([
        Constraint::Length(calendar_width),
        Constraint::Min(1),
        Constraint::Length(SUMS),
    ])
    .areas(inner);
    // The days the calendar's columns cover: from today to the Sunday of the last week.
    let days = (weeks * 7).saturating_sub(weekday(snapshot.heatmap.start_day));
    let shown = &series.per_day[..series.per_day.len().min(days)];
    // No cursor: the dashboard only shows; `2` opens the calendar to move in it.
    render_calendar(
        frame,
        calendar,
        paint,
        shown,
        snapshot.heatmap.start_day,
        usize::MAX,
    );

    let text = paint.theme.style("ui.text");
    let sum_line = |label: &str, n: u64, scope: &str| {
        Line::from(vec![
            Span::raw(format!("{label:<10}")),
            Span::styled(format!("{n:>7}"), paint.theme.style(scope)),
        ])
    };
    let warn = |n: u64, scope: &'static str| if n > 0 { scope } else { "ui.text" };
    let mut lines = vec![
        sum_line("expired", d.expired, warn(d.expired, "severity.high")),
        sum_line(
            "next 7 d",
            d.expiring[0],
            warn(d.expiring[0], "severity.medium"),
        ),
        sum_line("next 30 d", d.expiring[1], "ui.text"),
        sum_line("next 90 d", d.expiring[2], "ui.text"),
        Line::raw(""),
    ];
    let dim = paint.theme.style("ui.text.dim");
    let mut legend = vec![Span::styled("less ", dim)];
    for (level, glyph) in shades(paint.glyphs).iter().enumerate() {
        legend.push(Span::styled(
            *glyph,
            paint.theme.style(&format!("heatmap.{level}")),
        ));
    }
    legend.push(Span::styled(" more", dim));
    lines.push(Line::from(legend));
    let max = u64::from(shown.iter().copied().max().unwrap_or(0));
    lines.push(Line::styled(format!("max {max}/day"), dim));
    frame.render_widget(Paragraph::new(lines).style(text), sums);
}

/// Connected devices over the last hour, and now.
pub fn connected(
    frame: &mut Frame,
    area: Rect,
    paint: &Paint,
    snapshot: &FleetSnapshot,
    history: &OnlineHistory,
) {
    let d = &snapshot.dashboard;
    let fresh = freshness::of(snapshot, Source::Live);
    let block = paint.block(
        title(paint, "Connected, last hour", fresh, area.width),
        false,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // With room, a line of what the live stream brought: every status message is counted
    // (docs/tui.md, "Dashboard").
    let live_line = u16::from(inner.height >= 4);
    let [spark, live, summary] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(live_line),
        Constraint::Length(1),
    ])
    .areas(inner);
    if live_line > 0 {
        frame.render_widget(
            Paragraph::new(Line::styled(
                live_counts(&snapshot.live),
                paint.theme.style("ui.text.dim"),
            )),
            live,
        );
    }
    let latest = (snapshot.taken_at, d.online);
    let columns = history.columns(paint.now, usize::from(spark.width), latest);
    let highest = columns.iter().flatten().copied().max().unwrap_or(0);
    let bars = match paint.glyphs {
        Glyphs::Unicode => bar::NINE_LEVELS,
        Glyphs::Ascii => ASCII_BARS,
    };
    // Scaled to the whole fleet, so the height reads as the share connected.
    frame.render_widget(
        Sparkline::default()
            .data(columns)
            .max(d.things.max(highest).max(1))
            .bar_set(bars)
            .style(paint.theme.style("live.online")),
        spark,
    );

    let text = match d.online {
        Some(online) => {
            let now = format!(
                "{online} of {} online ({})",
                count(d.things, "thing"),
                share(online, d.things)
            );
            match history.range(paint.now, latest) {
                Some((low, high)) if low != high => {
                    let with_range = format!("{now}, hour {low}..{high}");
                    if with_range.chars().count() <= usize::from(summary.width) {
                        with_range
                    } else {
                        now
                    }
                }
                _ => now,
            }
        }
        None => format!("{}, online unknown", count(d.things, "thing")),
    };
    frame.render_widget(
        Paragraph::new(Line::styled(text, paint.theme.style("ui.text"))),
        summary,
    );
}

/// `status: 12,345 received, all applied`, or what was not and why.
fn live_counts(live: &crate::tui::data::LiveCounts) -> String {
    let received = count(live.received, "status message");
    if live.applied == live.received {
        return format!("{received}, all applied");
    }
    let mut text = format!("{received}: {} applied", live.applied);
    if live.unknown_thing > 0 {
        text.push_str(&format!(", {} of unknown things", live.unknown_thing));
    }
    if live.unreadable > 0 {
        text.push_str(&format!(", {} unreadable", live.unreadable));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_counts_say_what_was_not_applied_and_why() {
        use crate::tui::data::LiveCounts;
        let all = LiveCounts {
            received: 3,
            applied: 3,
            ..LiveCounts::default()
        };
        assert_eq!(live_counts(&all), "3 status messages, all applied");
        let some = LiveCounts {
            received: 10,
            applied: 7,
            unknown_thing: 2,
            unreadable: 1,
        };
        assert_eq!(
            live_counts(&some),
            "10 status messages: 7 applied, 2 of unknown things, 1 unreadable"
        );
    }

    #[test]
    fn every_status_is_counted_on_exactly_one_line_under_its_own_label() {
        for status in CertStatus::ALL {
            let lines: Vec<&&[CertStatus]> = STATUS_LINES
                .iter()
                .filter(|line| line.contains(&status))
                .collect();
            assert_eq!(lines.len(), 1, "{status}");
            assert_eq!(lines[0][0].label(), status.label(), "{status}");
            assert_eq!(lines[0][0].scope(), status.scope(), "{status}");
        }
    }
}
