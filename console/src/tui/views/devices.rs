//! The device table: stays fast at a million rows (renders only the visible ones; filtering
//! and sorting run on the filter thread), `/` fuzzy filter, sort, marks for multi-row actions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::human::{date, relative};
use crate::safe_text::SafeText;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{
    BlastRadius, CohortKind, Confirmable, DAY, DeviceQuery, DeviceTable, Look, MutationRequest,
    OpKind,
};
use crate::tui::filter::{FilterJob, FilterResult, SortKey};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;
use crate::tui::widgets::table::{Scroll, render_table};

/// The table's state. The rows shown are `table` through `matches`, both from the same
/// filter result, so a new table shows only once its filter has run. Rows patched in place
/// show at the next frame; when the query or the order reads what changed (a group or
/// firmware cohort, the order by status) the filter runs again. Marks and the selection
/// stay on their devices through a new table and through such a run.
#[derive(Debug, Clone, Default)]
pub struct DeviceView {
    scroll: Scroll,
    table: Arc<DeviceTable>,
    matches: Option<Arc<[u32]>>,
    query: DeviceQuery,
    sort: SortKey,
    marks: BTreeMap<Box<str>, u32>,
    generation: u64,
    job: Option<FilterJob>,
    running: bool,
    loading: bool,
    /// The table's cells version the rows shown were filtered at.
    cells_seen: u64,
    /// The selected row's thing and table index, kept while a run the user did not ask for
    /// (a new table, changed cells) is under way, to select it again in its result.
    follow: Option<(Box<str>, usize)>,
}

impl DeviceView {
    /// Rows shown now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.matches.as_ref().map_or(self.table.len(), |m| m.len())
    }

    /// Whether no row is shown.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table index of shown row `i`.
    fn index(&self, i: usize) -> usize {
        self.matches.as_ref().map_or(i, |m| m[i] as usize)
    }

    /// The thing names shown, in order (for tests and the tmux check).
    #[must_use]
    pub fn shown_things(&self, limit: usize) -> Vec<&str> {
        (0..self.len().min(limit))
            .map(|i| self.table.thing(self.index(i)).raw())
            .collect()
    }

    /// The current query.
    #[must_use]
    pub fn query(&self) -> &DeviceQuery {
        &self.query
    }

    /// Whether a filter run is outstanding.
    #[must_use]
    pub fn filtering(&self) -> bool {
        self.running || self.job.is_some()
    }

    fn needs_filter(&self) -> bool {
        !self.query.is_empty() || self.sort != SortKey::Natural
    }

    fn schedule(&mut self, table: Arc<DeviceTable>) {
        self.cells_seen = table.cells_version();
        self.generation += 1;
        self.job = Some(FilterJob {
            generation: self.generation,
            table,
            query: self.query.clone(),
            sort: self.sort,
        });
    }

    /// Whether the table is still being built by the model side.
    pub fn set_loading(&mut self, loading: bool) {
        self.loading = loading;
    }

    /// A new table from the backend: shown at once when unfiltered, else after filtering.
    /// The selection and the marks stay on their devices.
    pub fn set_table(&mut self, table: &Arc<DeviceTable>) {
        if Arc::ptr_eq(&self.table, table) {
            return;
        }
        self.follow = self.follow.take().or_else(|| self.selected_row());
        if self.needs_filter() {
            self.schedule(Arc::clone(table));
        } else {
            self.table = Arc::clone(table);
            self.cells_seen = self.table.cells_version();
            self.matches = None;
            self.follow_marks();
            self.reselect();
        }
    }

    /// Rows of the table changed in place: when the query or the order reads them, the
    /// filter runs again (after any run under way), keeping the selection on its device.
    pub fn cells_changed(&mut self) {
        let version = self.table.cells_version();
        if version == self.cells_seen || self.filtering() {
            return;
        }
        self.cells_seen = version;
        let reads_cells = self.sort == SortKey::Status
            || matches!(
                self.query.cohort,
                Some((CohortKind::Group | CohortKind::Firmware, _))
            );
        if reads_cells {
            self.follow = self.selected_row();
            self.schedule(Arc::clone(&self.table));
        }
    }

    /// The selected row's thing and table index.
    fn selected_row(&self) -> Option<(Box<str>, usize)> {
        if self.is_empty() {
            return None;
        }
        let index = self.index(self.scroll.selected().min(self.len() - 1));
        Some((self.table.thing(index).raw().into(), index))
    }

    /// Selects the followed row again, where it is now (the same table index when its thing
    /// is still there, else the first row of that thing); unchanged when it is gone.
    fn reselect(&mut self) {
        if self.filtering() {
            // Its result selects it.
            return;
        }
        let Some((thing, index)) = self.follow.take() else {
            return;
        };
        let table = &self.table;
        let same = |i: usize| table.thing(i).raw() == &*thing;
        let target = if index < table.len() && same(index) {
            Some(index)
        } else {
            (0..table.len()).find(|&i| same(i))
        };
        let Some(target) = target else { return };
        let position = match &self.matches {
            None => Some(target),
            Some(rows) => rows.iter().position(|&r| r as usize == target),
        };
        if let Some(position) = position {
            self.scroll.select(position, self.len());
        }
    }

    /// Replaces the query (drill-down) and schedules a filter run.
    pub fn set_query(&mut self, query: DeviceQuery) {
        self.follow = None;
        self.query = query;
        self.scroll.select(0, 0);
        self.refilter();
    }

    /// Replaces the query's text (the `/` input) and schedules a filter run.
    pub fn set_text(&mut self, text: &str) {
        if self.query.text != text {
            self.follow = None;
            text.clone_into(&mut self.query.text);
            self.scroll.select(0, 0);
            self.refilter();
        }
    }

    fn refilter(&mut self) {
        if self.needs_filter() {
            self.schedule(Arc::clone(&self.table));
        } else {
            self.generation += 1;
            self.job = None;
            self.running = false;
            self.matches = None;
        }
    }

    /// The filter run to start, if one is due (the app hands it to the filter thread).
    pub fn take_job(&mut self) -> Option<FilterJob> {
        let job = self.job.take();
        self.running |= job.is_some();
        job
    }

    /// A filter result: applied when it is the newest, dropped otherwise.
    pub fn apply(&mut self, result: FilterResult) -> bool {
        if result.generation != self.generation {
            return false;
        }
        self.running = !result.complete;
        let new_table = !Arc::ptr_eq(&self.table, &result.table);
        self.table = result.table;
        self.matches = result.rows;
        self.scroll.select(self.scroll.selected(), self.len());
        if new_table {
            self.follow_marks();
        }
        if result.complete {
            self.reselect();
        }
        true
    }

    /// Marks on rows that moved in a new table follow their thing; marks whose thing is gone
    /// are dropped.
    fn follow_marks(&mut self) {
        let table = &self.table;
        let moved: BTreeSet<Box<str>> = self
            .marks
            .iter()
            .filter(|(name, index)| {
                (**index as usize) >= table.len() || table.thing(**index as usize).raw() != &***name
            })
            .map(|(name, _)| name.clone())
            .collect();
        if moved.is_empty() {
            return;
        }
        for name in &moved {
            self.marks.remove(name);
        }
        for i in 0..table.len() {
            let thing = table.thing(i).raw();
            if moved.contains(thing) && !self.marks.contains_key(thing) {
                self.marks
                    .insert(thing.into(), u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
    }

    fn request(&self, kind: OpKind) -> Option<MutationRequest> {
        let indices: Vec<usize> = if self.marks.is_empty() {
            if self.is_empty() {
                return None;
            }
            vec![self.index(self.scroll.selected().min(self.len() - 1))]
        } else {
            self.marks.values().map(|i| *i as usize).collect()
        };
        let rows: Vec<_> = indices.iter().map(|i| self.table.row(*i)).collect();
        let groups: BTreeSet<u32> = rows.iter().map(|r| r.group).collect();
        let things = rows.len() as u64;
        Some(MutationRequest {
            kind,
            things: rows.iter().map(|r| r.thing.clone()).collect(),
            radius: BlastRadius {
                certs: things,
                things,
                groups: groups.len() as u64,
                #[allow(clippy::cast_precision_loss)]
                fleet_percent: things as f64 * 100.0 / self.table.len().max(1) as f64,
                online: rows.iter().filter(|r| r.online == Some(true)).count() as u64,
            },
        })
    }

    /// Moves, marks, sorts, opens the detail, or opens the confirmation for an action.
    pub fn handle(&mut self, command: Command) -> Outcome {
        let len = self.len();
        if self.scroll.apply(command, len) {
            return Outcome::Consumed;
        }
        match command {
            Command::Sort => {
                self.sort = self.sort.next();
                // The selected device stays selected in the new order.
                self.follow = self.selected_row();
                self.refilter();
                self.reselect();
                Outcome::Consumed
            }
            Command::Mark if len > 0 => {
                let index = self.index(self.scroll.selected().min(len - 1));
                let name: Box<str> = self.table.thing(index).raw().into();
                if self.marks.remove(&name).is_none() {
                    self.marks
                        .insert(name, u32::try_from(index).unwrap_or(u32::MAX));
                }
                self.scroll.apply(Command::Down, len);
                Outcome::Consumed
            }
            Command::Open if len > 0 => {
                let index = self.index(self.scroll.selected().min(len - 1));
                Outcome::Action(Action::OpenDevice(self.table.thing(index).raw().into()))
            }
            Command::Revoke => self.request(OpKind::Revoke).map_or(Outcome::Consumed, |r| {
                Outcome::Action(Action::Confirm(Confirmable::Mutation(r)))
            }),
            Command::Quarantine => self
                .request(OpKind::Quarantine)
                .map_or(Outcome::Consumed, |r| {
                    Outcome::Action(Action::Confirm(Confirmable::Mutation(r)))
                }),
            Command::Restore => self
                .request(OpKind::Restore)
                .map_or(Outcome::Consumed, |r| {
                    Outcome::Action(Action::Confirm(Confirmable::Mutation(r)))
                }),
            _ => Outcome::Ignored,
        }
    }

    /// Scrolls by mouse wheel.
    pub fn scroll_by(&mut self, delta: isize) {
        let len = self.len();
        self.scroll.scroll_by(delta, len);
    }

    fn title(&self) -> String {
        let mut parts = vec![format!("{} of {}", self.len(), self.table.len())];
        if !self.query.text.is_empty() {
            parts.push(format!("filter \"{}\"", SafeText::new(&self.query.text)));
        }
        if let Some(day) = self.query.expires_day {
            parts.push(format!("expiring {}", date(day * DAY)));
        }
        if let Some((kind, name)) = &self.query.cohort {
            parts.push(format!("{} {}", kind.label(), SafeText::new(name)));
        }
        if self.sort != SortKey::Natural {
            parts.push(format!("sort {}", self.sort.label()));
        }
        if !self.marks.is_empty() {
            parts.push(format!("{} marked", self.marks.len()));
        }
        if self.filtering() {
            parts.push("filtering...".to_owned());
        }
        if self.loading {
            parts.push("loading devices...".to_owned());
        }
        format!(" Devices: {} ", parts.join(", "))
    }

    /// Draws the visible rows only.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let wide = area.width >= 120;
        let mut header = vec!["", "thing", "status", "expires", "when", "CA"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Min(14),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(11),
            Constraint::Length(19),
        ];
        if wide {
            header.extend(["group", "firmware", "online", "certificate"]);
            widths.extend([
                Constraint::Length(13),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(16),
            ]);
        }
        let mark_style = paint.theme.style("ui.mark");
        render_table(
            frame,
            area,
            paint,
            paint.block(self.title(), true),
            Row::new(header),
            &widths,
            self.len(),
            &self.scroll,
            |i| {
                let row = self.table.row(self.index(i));
                let marked = self.marks.contains_key(row.thing.raw());
                let expires_in = row
                    .expires
                    .map_or_else(|| "?".to_owned(), |t| relative(paint.now, t));
                let mut cells = vec![
                    Cell::from(Span::styled(if marked { "*" } else { " " }, mark_style)),
                    Cell::from(row.thing.safe().into_owned()),
                    Cell::from(Span::styled(
                        row.state.label(),
                        paint.theme.style(row.state.scope()),
                    )),
                    Cell::from(row.expires.map_or_else(|| "unknown".to_owned(), date)),
                    Cell::from(expires_in),
                    Cell::from(self.table.name(row.ca).safe().into_owned()),
                ];
                if wide {
                    let (online, scope) = match row.online {
                        Some(true) => ("yes", "live.online"),
                        Some(false) => ("no", "live.offline"),
                        None => ("?", "ui.text.dim"),
                    };
                    cells.extend([
                        Cell::from(self.table.name(row.group).safe().into_owned()),
                        Cell::from(self.table.name(row.firmware).safe().into_owned()),
                        Cell::from(Span::styled(online, paint.theme.style(scope))),
                        Cell::from(row.cert.safe().into_owned()),
                    ]);
                }
                let row = Row::new(cells);
                if marked { row.style(mark_style) } else { row }
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::model::CertStatus;
    use crate::safe_text::OutsideText;
    use crate::tui::data::DeviceRow;
    use crate::tui::filter::run_job;

    fn row(thing: &str, state: CertStatus) -> DeviceRow {
        DeviceRow {
            thing: thing.into(),
            cert: format!("{thing}-cert").into(),
            state,
            expires: Some(1_800_000_000),
            ca: 0,
            group: 0,
            firmware: 0,
            online: None,
        }
    }

    fn table(things: &[&str]) -> Arc<DeviceTable> {
        Arc::new(DeviceTable::new(
            things.iter().map(|t| row(t, CertStatus::Active)).collect(),
            vec!["-".into()],
        ))
    }

    /// Runs the view's pending filter job, if any, and applies its result.
    fn filter(view: &mut DeviceView) -> bool {
        let Some(job) = view.take_job() else {
            return false;
        };
        let latest = AtomicU64::new(job.generation);
        let result = run_job(&job, &latest).unwrap_or_else(|| panic!("not cancelled"));
        view.apply(result)
    }

    fn selected(view: &DeviceView) -> &str {
        view.table.thing(view.index(view.scroll.selected())).raw()
    }

    #[test]
    fn marks_and_the_selection_follow_their_devices_into_a_new_table() {
        let mut view = DeviceView::default();
        view.set_table(&table(&["a", "b", "c", "d"]));
        view.handle(Command::Down);
        view.handle(Command::Mark);
        assert_eq!(selected(&view), "c");
        // A certificate came first: every row moved one down.
        view.set_table(&table(&["new", "a", "b", "c", "d"]));
        assert_eq!(selected(&view), "c");
        let request = view
            .request(OpKind::Revoke)
            .unwrap_or_else(|| panic!("marked"));
        assert_eq!(request.things, vec![OutsideText::from("b")]);
        // Sorted by thing, and a table without "b": the mark is dropped, "c" stays selected.
        view.handle(Command::Sort);
        assert!(filter(&mut view));
        view.set_table(&table(&["d", "c", "new", "a"]));
        assert!(filter(&mut view));
        assert_eq!(selected(&view), "c");
        assert!(view.marks.is_empty());
        assert_eq!(view.shown_things(4), ["a", "c", "d", "new"]);
    }

    #[test]
    fn patched_rows_filter_again_only_when_the_query_reads_them() {
        let shown = table(&["a", "b", "c"]);
        let mut view = DeviceView::default();
        view.set_table(&shown);
        // A text query reads no cells: a patch shows at the next frame, no run.
        view.set_text("b");
        assert!(filter(&mut view));
        assert!(shown.patch(1, row("b", CertStatus::Revoked).cells()));
        view.cells_changed();
        assert!(!filter(&mut view));
        assert_eq!(view.table.row(1).state, CertStatus::Revoked);

        // Ordered by status, the patched row moves, and the selection stays on it.
        view.set_text("");
        for _ in 0..3 {
            view.handle(Command::Sort);
        }
        assert_eq!(view.sort, SortKey::Status);
        assert!(filter(&mut view));
        assert_eq!(view.shown_things(3), ["a", "c", "b"]);
        view.scroll.select(0, view.len());
        assert!(shown.patch(0, row("a", CertStatus::Inactive).cells()));
        view.cells_changed();
        assert!(filter(&mut view), "the order reads the status");
        assert_eq!(view.shown_things(3), ["c", "a", "b"]);
        assert_eq!(selected(&view), "a");
        // Nothing changed since: no run.
        view.cells_changed();
        assert!(!filter(&mut view));
    }
}
