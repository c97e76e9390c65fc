//! The anomaly feed: live, newest first, with severity and source; acknowledge, suppress for
//! a while, jump to the device. Triage shows at once here and goes to the model side as an
//! [`Action::Triage`], which keeps it in the store and records it in the audit log; rows
//! arrive with the stored triage when the console starts.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::tui::action::{Action, Outcome};
use crate::tui::data::{AnomalyRow, FleetSnapshot, Triage, TriageChange, UnixSeconds};
use crate::tui::keymap::Command;
use crate::tui::widgets::table::{Scroll, render_table};
use crate::tui::widgets::{Paint, age};

/// Selection, filter and triage decisions.
#[derive(Debug, Clone, Default)]
pub struct AnomalyView {
    scroll: Scroll,
    triage: HashMap<u64, Triage>,
    filter: String,
}

impl AnomalyView {
    /// Sets the `/` filter (substring of thing, kind, source or detail, case-insensitive).
    pub fn set_filter(&mut self, text: &str) {
        text.clone_into(&mut self.filter);
        self.scroll.select(0, 0);
    }

    /// The filter text.
    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    fn triage_of(&self, row: &AnomalyRow) -> Triage {
        self.triage.get(&row.id).copied().unwrap_or(row.triage)
    }

    /// The rows shown: not suppressed now, matching the filter.
    #[must_use]
    pub fn visible<'a>(
        &self,
        snapshot: &'a FleetSnapshot,
        now: UnixSeconds,
    ) -> Vec<&'a AnomalyRow> {
        let needle = self.filter.to_lowercase();
        snapshot
            .anomalies
            .iter()
            .filter(|row| !matches!(self.triage_of(row), Triage::Suppressed(until) if until > now))
            .filter(|row| {
                needle.is_empty()
                    || [
                        row.thing.raw(),
                        row.kind.raw(),
                        row.source.label(),
                        row.detail.raw(),
                    ]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect()
    }

    /// Suppresses the selected anomaly until `until`; returns the change, if an anomaly was
    /// selected.
    pub fn suppress_selected(
        &mut self,
        snapshot: &FleetSnapshot,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Option<TriageChange> {
        let row = *self.visible(snapshot, now).get(self.scroll.selected())?;
        Some(self.set_triage(row, Triage::Suppressed(until)))
    }

    fn set_triage(&mut self, row: &AnomalyRow, triage: Triage) -> TriageChange {
        self.triage.insert(row.id, triage);
        TriageChange {
            anomaly: row.id,
            thing: row.thing.raw().into(),
            kind: row.kind.raw().into(),
            triage,
        }
    }

    /// Moves; `a` toggles acknowledged; `s` asks how long to suppress; Enter opens the
    /// device.
    pub fn handle(
        &mut self,
        command: Command,
        snapshot: &FleetSnapshot,
        now: UnixSeconds,
    ) -> Outcome {
        let rows = self.visible(snapshot, now);
        if self.scroll.apply(command, rows.len()) {
            return Outcome::Consumed;
        }
        let Some(row) = rows.get(self.scroll.selected()).copied() else {
            return Outcome::Ignored;
        };
        match command {
            Command::Acknowledge => {
                let next = match self.triage_of(row) {
                    Triage::Acknowledged => Triage::Open,
                    _ => Triage::Acknowledged,
                };
                Outcome::Action(Action::Triage(self.set_triage(row, next)))
            }
            Command::Suppress => Outcome::Action(Action::PaletteWith("suppress 24h".to_owned())),
            Command::Open => Outcome::Action(Action::OpenDevice(row.thing.raw().into())),
            _ => Outcome::Ignored,
        }
    }

    /// Draws the feed.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let rows = self.visible(snapshot, paint.now);
        let hidden = snapshot.anomalies.len() - rows.len();
        let title = format!(
            " Anomalies: {} shown, {hidden} hidden (a: ack, s: suppress, Enter: device) ",
            rows.len()
        );
        let header = Row::new(["sev", "age", "source", "thing", "kind", "state", "detail"]);
        let widths = [
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Min(10),
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
                let state = match self.triage_of(row) {
                    Triage::Acknowledged => "ack",
                    Triage::Suppressed(until) if until > paint.now => "supp",
                    // A suppression that has ended shows the anomaly as new again.
                    Triage::Open | Triage::Suppressed(_) => "new",
                };
                Row::new(vec![
                    Cell::from(Span::styled(
                        row.severity.label(),
                        paint.theme.style(row.severity.scope()),
                    )),
                    Cell::from(age(paint.now, Some(row.at))),
                    Cell::from(row.source.label()),
                    Cell::from(row.thing.safe().into_owned()),
                    Cell::from(row.kind.safe().into_owned()),
                    Cell::from(state),
                    Cell::from(row.detail.safe().into_owned()),
                ])
            },
        );
    }
}
