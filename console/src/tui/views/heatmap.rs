//! The expiry heatmap: a calendar of weeks x days shaded by how many certificates expire,
//! one cohort at a time (all, each CA, group, firmware), with drill-down from a day to its
//! certificates.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::human::{count, date};
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{CohortKind, DAY, DeviceQuery, FleetSnapshot};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;
use crate::tui::widgets::heatmap::{legend, render_calendar, weekday};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Which cohort is shown and which day is under the cursor.
#[derive(Debug, Clone, Default)]
pub struct HeatmapView {
    series: usize,
    cursor: usize,
}

impl HeatmapView {
    /// Selects the cohort series named `name` (palette `cohort <name>`); `false` if none.
    pub fn select_cohort(&mut self, snapshot: &FleetSnapshot, name: &str) -> bool {
        let found =
            snapshot.heatmap.series.iter().position(|s| {
                s.name == name || format!("{} {}", s.kind.label(), s.name.raw()) == name
            });
        if let Some(index) = found {
            self.series = index;
        }
        found.is_some()
    }

    /// Arrows move by day (up/down) and week (left/right); `c` cycles cohorts; Enter drills
    /// down to the devices expiring that day.
    pub fn handle(&mut self, command: Command, snapshot: &FleetSnapshot) -> Outcome {
        let series = &snapshot.heatmap.series;
        let days = series.get(self.series).map_or(0, |s| s.per_day.len());
        let last = days.saturating_sub(1);
        match command {
            Command::Up => self.cursor = self.cursor.saturating_sub(1),
            Command::Down => self.cursor = (self.cursor + 1).min(last),
            Command::Left => self.cursor = self.cursor.saturating_sub(7),
            Command::Right => self.cursor = (self.cursor + 7).min(last),
            Command::Top => self.cursor = 0,
            Command::Bottom => self.cursor = last,
            Command::Cohort if !series.is_empty() => {
                self.series = (self.series + 1) % series.len();
            }
            Command::Open => {
                let Some(selected) = series.get(self.series) else {
                    return Outcome::Consumed;
                };
                let cohort = (selected.kind != CohortKind::All)
                    .then(|| (selected.kind, selected.name.raw().into()));
                let day = snapshot.heatmap.start_day + i64::try_from(self.cursor).unwrap_or(0);
                return Outcome::Action(Action::ShowDevices(DeviceQuery {
                    text: String::new(),
                    expires_day: Some(day),
                    cohort,
                }));
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    /// The cohort names, for palette completion (`cohort CA acme-root`).
    #[must_use]
    pub fn cohort_names(snapshot: &FleetSnapshot) -> Vec<String> {
        snapshot
            .heatmap
            .series
            .iter()
            .map(|s| format!("cohort {} {}", s.kind.label(), s.name.safe()))
            .collect()
    }

    /// Draws the calendar, its legend and the day under the cursor.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let heatmap = &snapshot.heatmap;
        let Some(series) = heatmap
            .series
            .get(self.series.min(heatmap.series.len().saturating_sub(1)))
        else {
            let block = paint.block(" Expiry ", true);
            frame.render_widget(
                Paragraph::new("no certificates loaded yet").block(block),
                area,
            );
            return;
        };
        let cohort = if series.kind == CohortKind::All {
            "whole fleet".to_owned()
        } else {
            format!("{} {}", series.kind.label(), series.name.safe())
        };
        let title = format!(
            " Expiry by day: {cohort} (c: next cohort, {}/{}) ",
            self.series + 1,
            heatmap.series.len()
        );
        let block = paint.block(title, true);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [calendar, info] =
            Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(inner);
        let cursor = self.cursor.min(series.per_day.len().saturating_sub(1));
        render_calendar(
            frame,
            calendar,
            paint,
            &series.per_day,
            heatmap.start_day,
            cursor,
        );

        let max = series.per_day.iter().copied().max().unwrap_or(0);
        let day = heatmap.start_day + i64::try_from(cursor).unwrap_or(0);
        let expiring = series.per_day.get(cursor).copied().unwrap_or(0);
        let window = |days: usize| -> u64 {
            series
                .per_day
                .iter()
                .take(days)
                .map(|n| u64::from(*n))
                .sum()
        };
        let lines = vec![
            legend(paint, max),
            Line::from(format!(
                "{} {}: {} {}   (Enter: list them)",
                date(day * DAY),
                WEEKDAYS[weekday(day)],
                count(u64::from(expiring), "certificate"),
                if expiring == 1 { "expires" } else { "expire" },
            ))
            .style(paint.theme.style("ui.title")),
            Line::from(format!(
                "next 7 d: {}   30 d: {}   90 d: {}   365 d: {}",
                window(7),
                window(30),
                window(90),
                window(365)
            )),
        ];
        frame.render_widget(Paragraph::new(lines), info);
    }
}
