//! The audit log from the store: every planned mutation with its decision (confirmed,
//! cancelled, refused) and outcome, and every anomaly triage, newest first, with the chain
//! hash. Older pages are asked for when the selection reaches the last row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::human::{count, timestamp};
use crate::tui::action::Outcome;
use crate::tui::data::{AuditRow, FleetSnapshot};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;
use crate::tui::widgets::table::{Scroll, render_table};

/// Selection and the `/` filter.
#[derive(Debug, Clone, Default)]
pub struct AuditView {
    scroll: Scroll,
    filter: String,
}

impl AuditView {
    /// Whether the selection is on the last row shown (time to ask for an older page).
    #[must_use]
    pub fn at_end(&self, snapshot: &FleetSnapshot) -> bool {
        let shown = self.visible(snapshot).len();
        shown > 0 && self.scroll.selected() + 1 >= shown
    }

    /// Sets the `/` filter (substring of action, target, actor, result or plan).
    pub fn set_filter(&mut self, text: &str) {
        text.clone_into(&mut self.filter);
        self.scroll.select(0, 0);
    }

    /// The filter text.
    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    fn visible<'a>(&self, snapshot: &'a FleetSnapshot) -> Vec<&'a AuditRow> {
        let needle = self.filter.to_lowercase();
        snapshot
            .audit
            .iter()
            .filter(|row| {
                needle.is_empty()
                    || [&row.action, &row.target, &row.actor, &row.result, &row.plan]
                        .iter()
                        .any(|f| f.raw().to_lowercase().contains(&needle))
            })
            .collect()
    }

    /// Moves.
    pub fn handle(&mut self, command: Command, snapshot: &FleetSnapshot) -> Outcome {
        if self.scroll.apply(command, self.visible(snapshot).len()) {
            Outcome::Consumed
        } else {
            Outcome::Ignored
        }
    }

    /// Draws the log.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let rows = self.visible(snapshot);
        let title = format!(
            " Audit log: {} (hash-chained) ",
            count(rows.len() as u64, "entry")
        );
        let header = Row::new([
            "when", "action", "target", "result", "hash", "actor", "plan",
        ]);
        let widths = [
            Constraint::Length(17),
            Constraint::Length(11),
            Constraint::Length(19),
            Constraint::Length(28),
            Constraint::Length(8),
            Constraint::Length(22),
            Constraint::Min(20),
        ];
        render_table(
            frame,
            area,
            paint,
            paint.block(title, true),
            header,
            &widths,
            rows.len(),
            &self.scroll,
            |i| {
                let row = rows[i];
                let result_scope = if row.result.raw().starts_with("confirmed") {
                    "status.active"
                } else if row.result.raw().starts_with("refused") {
                    "severity.high"
                } else {
                    "ui.text"
                };
                Row::new(vec![
                    Cell::from(timestamp(row.at)),
                    Cell::from(row.action.safe().into_owned()),
                    Cell::from(row.target.safe().into_owned()),
                    Cell::from(Span::styled(
                        row.result.safe().into_owned(),
                        paint.theme.style(result_scope),
                    )),
                    Cell::from(row.hash.safe().into_owned()),
                    Cell::from(row.actor.safe().into_owned()),
                    Cell::from(row.plan.safe().into_owned()),
                ])
            },
        );
    }
}
